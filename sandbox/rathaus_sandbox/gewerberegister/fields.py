"""The forms of the sandbox Gewerberegister: Anmeldung (new entry), Ummeldung (change), Abmeldung (close).

Field names follow ``processes/gewerbeanzeige/FIELDS.md`` with the dot replaced by an underscore
(``inhaber.geburtsdatum`` -> ``inhaber_geburtsdatum``). Labels repeat ("Straße und Hausnummer" of the
owner and of the premises), so the name is the unambiguous key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One input of a register form."""

    name: str
    label: str
    kind: str = "text"  # text, date, plz, number, email, select, radio, checkbox, textarea
    tab: str = "inhaber"
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, visible label)
    hint: str = ""


TABS: tuple[tuple[str, str], ...] = (
    ("inhaber", "Inhaber:in"),
    ("betrieb", "Betrieb"),
    ("taetigkeit", "Tätigkeit"),
    ("eingang", "Eingang & Bemerkungen"),
)

GESCHLECHT = (("w", "weiblich"), ("m", "männlich"), ("d", "divers"))
RECHTSFORMEN = (
    ("Einzelunternehmen", "Einzelunternehmen"),
    ("e.K.", "eingetragene:r Kaufmann/Kauffrau (e.K.)"),
    ("GbR", "Gesellschaft bürgerlichen Rechts (GbR)"),
    ("OHG", "Offene Handelsgesellschaft (OHG)"),
    ("KG", "Kommanditgesellschaft (KG)"),
    ("GmbH", "Gesellschaft mit beschränkter Haftung (GmbH)"),
    ("UG", "Unternehmergesellschaft (haftungsbeschränkt)"),
    ("AG", "Aktiengesellschaft (AG)"),
    ("eG", "eingetragene Genossenschaft (eG)"),
    ("sonstige", "sonstige Rechtsform"),
)
BETRIEBSARTEN = (
    ("industrie", "Industrie"),
    ("handwerk", "Handwerk"),
    ("handel", "Handel"),
    ("sonstiges", "Sonstiges"),
)
ANMELDEGRUENDE = (
    ("neugruendung", "Neugründung"),
    ("uebernahme", "Übernahme (Kauf, Pacht, Erbfolge)"),
    ("zuzug", "Zuzug aus einem anderen Meldebezirk"),
    ("rechtsformwechsel", "Wechsel der Rechtsform oder Gesellschaftereintritt"),
)
UMMELDEARTEN = (
    ("verlegung", "Verlegung der Betriebsstätte"),
    ("taetigkeitswechsel", "Wechsel der Tätigkeit"),
    ("taetigkeitserweiterung", "Ausdehnung der Tätigkeit"),
    ("sonstige", "sonstige Änderung"),
)
ABMELDEGRUENDE = (
    ("aufgabe", "vollständige Aufgabe"),
    ("verlegung", "Verlegung in einen anderen Meldebezirk"),
    ("uebergabe", "Übergabe an Nachfolger:in (Verkauf, Verpachtung)"),
    ("insolvenz", "Insolvenz"),
    ("tod", "Tod der Inhaberin / des Inhabers"),
    ("sonstiges", "sonstiger Grund"),
)
EINGANGSKANAELE = (
    ("email", "E-Mail"),
    ("online", "Online-Dienst"),
    ("post", "Post"),
    ("persoenlich", "persönlich"),
)
STATUS = (("angemeldet", "angemeldet"), ("abgemeldet", "abgemeldet"))

#: The fields of the Eingang tab, shared by all three forms.
_EINGANG: tuple[Field, ...] = (
    Field("eingang_datum", "Eingang der Anzeige am", "date", tab="eingang", required=True, hint="TT.MM.JJJJ"),
    Field("eingang_kanal", "Eingang über", "select", tab="eingang", required=True, choices=EINGANGSKANAELE),
    Field("eingang_referenz", "Eingangsreferenz (Message-ID, Posteingangsnummer)", tab="eingang"),
    Field("bemerkungen", "Bemerkungen", "textarea", tab="eingang"),
)

#: The Anmeldung form: one register entry.
ANMELDUNG: tuple[Field, ...] = (
    Field("inhaber_name", "Name", required=True),
    Field("inhaber_vorname", "Vorname", required=True),
    Field("inhaber_geburtsname", "Geburtsname"),
    Field("inhaber_geschlecht", "Geschlecht", "radio", choices=GESCHLECHT),
    Field("inhaber_geburtsdatum", "Geburtsdatum", "date", required=True, hint="TT.MM.JJJJ"),
    Field("inhaber_geburtsort", "Geburtsort", required=True),
    Field("inhaber_staatsangehoerigkeit", "Staatsangehörigkeit", required=True),
    Field("inhaber_strasse", "Straße und Hausnummer (Wohnung)", required=True),
    Field("inhaber_plz", "PLZ (Wohnung)", "plz", required=True),
    Field("inhaber_ort", "Ort (Wohnung)", required=True),
    Field("inhaber_telefon", "Telefon"),
    Field("inhaber_email", "E-Mail", "email"),
    Field("betrieb_name", "Name des Betriebs / Firma", tab="betrieb", required=True),
    Field("betrieb_rechtsform", "Rechtsform", "select", tab="betrieb", required=True, choices=RECHTSFORMEN),
    Field("betrieb_registergericht", "Registergericht", tab="betrieb", hint="z. B. Amtsgericht Offenbach am Main"),
    Field("betrieb_registernummer", "Registernummer", tab="betrieb", hint="z. B. HRB 12345"),
    Field("betrieb_strasse", "Straße und Hausnummer (Betriebsstätte)", tab="betrieb", required=True),
    Field("betrieb_plz", "PLZ (Betriebsstätte)", "plz", tab="betrieb", required=True),
    Field("betrieb_ort", "Ort (Betriebsstätte)", tab="betrieb", required=True),
    Field("betrieb_taetigkeit", "Angemeldete Tätigkeit", "textarea", tab="taetigkeit", required=True),
    Field("betrieb_art", "Art des Betriebs", "radio", tab="taetigkeit", required=True, choices=BETRIEBSARTEN),
    Field("betrieb_nebenerwerb", "Tätigkeit im Nebenerwerb", "checkbox", tab="taetigkeit"),
    Field("betrieb_beschaeftigte", "Zahl der Beschäftigten", "number", tab="taetigkeit", required=True),
    Field("betrieb_beginn", "Beginn der Tätigkeit", "date", tab="taetigkeit", required=True, hint="TT.MM.JJJJ"),
    Field("anmeldung_grund", "Grund der Anmeldung", "select", tab="taetigkeit", required=True,
          choices=ANMELDEGRUENDE),
    *_EINGANG,
)

#: The Ummeldung form: what changes, from when, and the register values after the change.
UMMELDUNG: tuple[Field, ...] = (
    Field("ummeldung_art", "Art der Änderung", "select", tab="aenderung", required=True, choices=UMMELDEARTEN),
    Field("ummeldung_datum", "Änderung wirksam ab", "date", tab="aenderung", required=True, hint="TT.MM.JJJJ"),
    Field("betrieb_strasse", "Straße und Hausnummer (Betriebsstätte)", tab="aenderung", required=True),
    Field("betrieb_plz", "PLZ (Betriebsstätte)", "plz", tab="aenderung", required=True),
    Field("betrieb_ort", "Ort (Betriebsstätte)", tab="aenderung", required=True),
    Field("betrieb_taetigkeit", "Tätigkeit nach der Änderung", "textarea", tab="aenderung", required=True),
    Field("betrieb_art", "Art des Betriebs", "radio", tab="aenderung", required=True, choices=BETRIEBSARTEN),
    Field("betrieb_beschaeftigte", "Zahl der Beschäftigten", "number", tab="aenderung", required=True),
    *_EINGANG,
)

#: The Abmeldung form.
ABMELDUNG: tuple[Field, ...] = (
    Field("abmeldung_datum", "Betriebsaufgabe zum", "date", tab="abmeldung", required=True, hint="TT.MM.JJJJ"),
    Field("abmeldung_grund", "Grund der Abmeldung", "select", tab="abmeldung", required=True,
          choices=ABMELDEGRUENDE),
    *_EINGANG,
)

#: Columns of a register entry (the Anmeldung's fields without the Eingang tab).
ENTRY_FIELDS: tuple[Field, ...] = tuple(f for f in ANMELDUNG if f.tab != "eingang")
#: Fields an Ummeldung may change.
CHANGEABLE = ("betrieb_strasse", "betrieb_plz", "betrieb_ort", "betrieb_taetigkeit", "betrieb_art",
              "betrieb_beschaeftigte")
#: Labels of all register fields; where forms share a field, the Anmeldung's label wins.
LABELS: dict[str, str] = {f.name: f.label for f in (*ABMELDUNG, *UMMELDUNG, *ANMELDUNG)}
CHOICE_LABELS: dict[str, dict[str, str]] = {
    f.name: dict(f.choices) for f in (*ANMELDUNG, *UMMELDUNG, *ABMELDUNG) if f.choices
}

SEARCH_FIELDS: tuple[tuple[str, str], ...] = (
    ("registernummer", "Registernummer"),
    ("inhaber_name", "Name der Inhaberin / des Inhabers"),
    ("inhaber_vorname", "Vorname"),
    ("inhaber_geburtsdatum", "Geburtsdatum"),
    ("betrieb_name", "Name des Betriebs"),
    ("betrieb_beginn", "Beginn der Tätigkeit"),
)
SUCHARTEN = (("beginnt", "beginnt mit"), ("genau", "genau gleich"))


def fields_of_tab(fields: tuple[Field, ...], tab: str) -> list[Field]:
    """The fields of ``fields`` shown on one tab, in form order."""
    return [f for f in fields if f.tab == tab]
