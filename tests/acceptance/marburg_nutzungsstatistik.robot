*** Settings ***
Documentation       The Marburg robot for usage statistics (eGovSAD), end to end: realistic exports of two
...                 platforms in a folder, the robot run through ``rathaus run`` as a city runs it, and the
...                 open data it publishes checked against its schemas and against the figures of the exports.
Library             Collections
Library             OperatingSystem
Library             NutzungsstatistikEnvironment.py
Library             nutzungsstatistik.keywords.Nutzungsstatistik
Suite Setup         Drop Sample Exports Of Marburg
Suite Teardown      Remove Everything


*** Variables ***
${ROBOT}        marburg/nutzungsstatistik
${BASIS}        nutzungsstatistik-marburg-2025
${BAD}          civento_export_2025-05_korrektur.csv
${SHARE}        civento_export_2025-12_freigabe.csv


*** Test Cases ***
The Robot Publishes The Exports As Open Data And Sets The Malformed One Aside
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Lauf ${ROBOT} beendet.
    Should Contain    ${output}    Exporte gelesen: 3
    ${rows}=    Expected Rows    marburg
    Should Contain    ${output}    Monatswerte: ${rows} neu, 0 ersetzt, 0 unverändert
    Should Contain    ${output}    Veröffentlicht: ${BASIS}.csv, ${BASIS}.json, ${BASIS}.png, ${BASIS}.svg
    Should Contain    ${output}    Fehlerhafte Exporte: 1 (${BAD})
    Should Contain    ${output}    Zeile 4, Spalte 'Aufrufe'

The Published Files Match Their Schemas
    ${folder}=    Publication Folder    marburg
    ${checked}=    Validate Published Statistics    ${folder}    marburg
    Should Be Equal As Integers    ${checked}    6
    Published JSON Should Match Its JSON Schema    marburg
    ${rows}=    Published CSV Should Match Its Table Schema    marburg
    Should Be Equal As Integers    ${rows}    84

The Published Figures Match The Exports
    ${rows}=    Published Figures Should Match The Exports    marburg
    Should Be Equal As Integers    ${rows}    84

The Chart Is Published As PNG And SVG With Metadata
    Charts Should Be A PNG And An SVG    marburg
    Metadata Should Name Publisher Licence And Period    marburg    Universitätsstadt Marburg

Read Exports Are Filed And The Malformed One Waits With A Note
    ${left}=    Files In Export Folder    marburg
    Should Be Empty    ${left}
    ${filed}=    Files In Export Folder    marburg    verarbeitet
    Length Should Be    ${filed}    3
    ${aside}=    Files In Export Folder    marburg    fehlerhaft
    Should Be Equal    ${aside}    ${{['${BAD}', '${BAD}.fehler.txt']}}
    ${note}=    Note Of Malformed Export    marburg    ${BAD}
    Should Contain    ${note}    Zeile 4, Spalte 'Aufrufe': 'k. A.' ist keine Anzahl
    Should Contain    ${note}    wieder in den Exportordner

The Log Holds No Rows Of The Exports
    ${checked}=    Log Should Hold No Rows Of The Exports    marburg
    Should Be True    ${checked} > 1000

The Same Exports Again Change No Published File
    ${before}=    Checksums Of Publication    marburg
    Drop The Same Exports Again    marburg
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Exporte gelesen: 3
    Should Contain    ${output}    Monatswerte: 0 neu, 0 ersetzt, 84 unverändert
    Should Contain    ${output}    Veröffentlichung unverändert
    ${after}=    Checksums Of Publication    marburg
    Dictionaries Should Be Equal    ${before}    ${after}
    Published Figures Should Match The Exports    marburg

A Later Export For A Published Month Replaces It Without Counting Twice
    ${rows}=    Drop Correction Export    marburg    month=3
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Exporte gelesen: 1
    Should Contain    ${output}    Monatswerte: 0 neu, ${rows} ersetzt, 0 unverändert
    Should Contain    ${output}    Veröffentlicht: ${BASIS}.csv, ${BASIS}.json, ${BASIS}.png, ${BASIS}.svg
    ${compared}=    Published Figures Should Match The Exports    marburg
    Should Be Equal As Integers    ${compared}    84
    Published JSON Should Match Its JSON Schema    marburg

A Run Without Exports Publishes Nothing
    ${before}=    Checksums Of Publication    marburg
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Exporte gelesen: 0
    Should Contain    ${output}    Keine neuen Exporte
    ${after}=    Checksums Of Publication    marburg
    Dictionaries Should Be Equal    ${before}    ${after}

Another City Publishes Its Own Figures With The Same Process
    Drop Sample Exports    giessen    bad=${False}
    ${output}=    Run City Robot    giessen/nutzungsstatistik
    Should Contain    ${output}    Veröffentlicht: nutzungsstatistik-giessen-2025.csv
    Published Figures Should Match The Exports    giessen
    Published CSV Should Match Its Table Schema    giessen
    Metadata Should Name Publisher Licence And Period    giessen    Universitätsstadt Gießen

A Damaged Publication Stops The Run And Loses No Export
    Drop Sample Exports    fulda    bad=${False}
    Run City Robot    fulda/nutzungsstatistik
    Drop The Same Exports Again    fulda
    Damage Published JSON    fulda
    ${output}=    Run City Robot    fulda/nutzungsstatistik    expected_rc=1
    Should Contain    ${output}    Lauf fulda/nutzungsstatistik mit Fehlern beendet.
    Should Contain    ${output}    Veröffentlichung fehlgeschlagen: Die veröffentlichte Datei
    Should Contain    ${output}    passt nicht zum Schema
    Should Contain    ${output}    Die Exporte bleiben im Exportordner
    ${left}=    Files In Export Folder    fulda
    Length Should Be    ${left}    3

An Export That Cannot Be Read Waits And Goes Aside After The Limit, The Others Are Published
    [Documentation]    A file in the export folder that fails with an I/O error (as on a broken share) is no
    ...    error of the export: the good exports are published all the same, the unreadable one stays in the
    ...    folder and the run fails, naming it. After ``pruefung.max_fehlversuche`` such runs in a row it goes to
    ...    ``fehlerhaft`` with a note, and the run after that ends without error.
    Drop Sample Exports    offenbach    bad=${False}
    Drop Export With IO Error    offenbach    ${SHARE}
    ${output}=    Run City Robot    offenbach/nutzungsstatistik    expected_rc=1    pruefung__max_fehlversuche=${2}
    Should Contain    ${output}    Exporte gelesen: 3
    Should Contain    ${output}    Veröffentlicht: nutzungsstatistik-offenbach-2025.csv
    Should Contain    ${output}    Wegen eines unerwarteten Fehlers nicht gelesen: 1 (${SHARE})
    Should Contain    ${output}    Input/output error
    Should Contain    ${output}    (Fehlversuch 1 von 2)
    Published Figures Should Match The Exports    offenbach
    ${count}=    Unexpected Failures    offenbach    Export ${SHARE}
    Should Be Equal As Integers    ${count}    1
    ${left}=    Files In Export Folder    offenbach
    Should Be Equal    ${left}    ${{['${SHARE}']}}
    ${output}=    Run City Robot    offenbach/nutzungsstatistik    pruefung__max_fehlversuche=${2}
    Should Contain    ${output}    Fehlerhafte Exporte: 1 (${SHARE})
    Should Contain    ${output}    Export ${SHARE}: Die Verarbeitung ist 2-mal hintereinander
    ${aside}=    Files In Export Folder    offenbach    fehlerhaft
    Should Be Equal    ${aside}    ${{['${SHARE}', '${SHARE}.fehler.txt']}}
    ${note}=    Note Of Malformed Export    offenbach    ${SHARE}
    Should Contain    ${note}    2-mal hintereinander mit einem unerwarteten Fehler
    ${count}=    Unexpected Failures    offenbach    Export ${SHARE}
    Should Be Equal As Integers    ${count}    0
    ${output}=    Run City Robot    offenbach/nutzungsstatistik
    Should Contain    ${output}    Exporte gelesen: 0


*** Keywords ***
Drop Sample Exports Of Marburg
    ${count}=    Drop Sample Exports    marburg
    Should Be Equal As Integers    ${count}    4
