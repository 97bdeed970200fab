Language: German

*** Einstellungen ***
Dokumentation       Universitätsstadt Marburg: Gewerbeanzeigen aus dem Postfach gewerbe@marburg.de.
...                 Prozess 'gewerbeanzeige' (verantwortlich: Offenbach), eingestellt in der config.yaml daneben.
Ressource           gewerbeanzeige/steps/gewerbeanzeige.resource
Suitevorbereitung    Gewerbeanzeigen-Robot Starten    ${CURDIR}/config.yaml


*** Aufgaben ***
Gewerbeanzeigen aus dem Postfach übernehmen
    Gewerbeanzeigen Aus Dem Postfach Übernehmen

Gewerbeanzeigen bearbeiten
    Alle Gewerbeanzeigen Bearbeiten
