"""The new-case form of the sandbox UVG-Fachverfahren: tabs, fields, labels and choices.

Field names follow ``processes/unterhaltsvorschuss/FIELDS.md`` with the dot replaced by an underscore
(``kind.geburtsdatum`` -> ``kind_geburtsdatum``). Labels repeat across tabs ("Name", "Vorname",
"Geburtsdatum"), so the name is the unambiguous key.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    """One input of the new-case form."""

    name: str
    label: str
    kind: str = "text"  # text, date, month, plz, iban, amount, email, select, radio, checkbox, textarea, file
    tab: str = "antragsteller"
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, visible label)
    hint: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def stored(self) -> bool:
        """Whether the value is stored in a column of its own (the upload is stored as a file name)."""
        return self.kind != "file"


TABS: tuple[tuple[str, str], ...] = (
    ("antragsteller", "Antragsteller:in"),
    ("kind", "Kind"),
    ("elternteil", "Anderer Elternteil"),
    ("einkommen", "Einkommen des Kindes"),
    ("leistung", "Leistung & Bankverbindung"),
    ("anlagen", "Anlagen & Bemerkungen"),
)

FAMILIENSTAND = (
    ("ledig", "ledig"),
    ("verheiratet", "verheiratet"),
    ("geschieden", "geschieden"),
    ("verwitwet", "verwitwet"),
    ("getrennt", "dauernd getrennt lebend"),
)
GESCHLECHT = (("w", "weiblich"), ("m", "männlich"), ("d", "divers"))
JA_NEIN = (("ja", "ja"), ("nein", "nein"))
EINGANG = (
    ("online", "Online-Dienst"),
    ("email", "E-Mail"),
    ("post", "Post"),
    ("persoenlich", "persönlich"),
)

FIELDS: tuple[Field, ...] = (
    # Antragsteller:in
    Field("antragsteller_name", "Name", required=True),
    Field("antragsteller_vorname", "Vorname", required=True),
    Field("antragsteller_geburtsdatum", "Geburtsdatum", "date", required=True, hint="TT.MM.JJJJ"),
    Field("antragsteller_strasse", "Straße und Hausnummer", required=True),
    Field("antragsteller_plz", "PLZ", "plz", required=True),
    Field("antragsteller_ort", "Ort", required=True),
    Field("antragsteller_familienstand", "Familienstand", "select", required=True, choices=FAMILIENSTAND),
    Field("antragsteller_staatsangehoerigkeit", "Staatsangehörigkeit", required=True),
    Field("antragsteller_email", "E-Mail", "email"),
    Field("antragsteller_telefon", "Telefon"),
    Field("antragsteller_lebt_mit_kind", "Ich lebe mit dem Kind in einem Haushalt", "checkbox"),
    # Kind
    Field("kind_name", "Name", tab="kind", required=True),
    Field("kind_vorname", "Vorname", tab="kind", required=True),
    Field("kind_geburtsdatum", "Geburtsdatum", "date", tab="kind", required=True, hint="TT.MM.JJJJ"),
    Field("kind_geburtsort", "Geburtsort", tab="kind", required=True),
    Field("kind_geschlecht", "Geschlecht", "radio", tab="kind", required=True, choices=GESCHLECHT),
    # Anderer Elternteil
    Field("elternteil_name", "Name", tab="elternteil"),
    Field("elternteil_vorname", "Vorname", tab="elternteil"),
    Field("elternteil_anschrift_bekannt", "Anschrift bekannt", "radio", tab="elternteil", required=True,
          choices=JA_NEIN),
    Field("elternteil_anschrift", "Anschrift", tab="elternteil"),
    Field("elternteil_vaterschaft_festgestellt", "Vaterschaft festgestellt", "radio", tab="elternteil",
          required=True, choices=JA_NEIN),
    # Einkommen des Kindes
    Field("einkommen_waisenrente", "Waisenrente (EUR monatlich)", "amount", tab="einkommen", hint="z. B. 0,00"),
    Field("einkommen_unterhalt", "Erhaltene Unterhaltszahlungen (EUR monatlich)", "amount", tab="einkommen",
          hint="z. B. 150,00"),
    # Leistung & Bankverbindung
    Field("leistung_beginn", "Leistungsbeginn", "month", tab="leistung", required=True, hint="MM.JJJJ"),
    Field("antragsteller_iban", "IBAN", "iban", tab="leistung", required=True),
    Field("kontoinhaber", "Kontoinhaber:in", tab="leistung"),
    Field("eingangskanal", "Eingang über", "select", tab="leistung", required=True, choices=EINGANG),
    # Anlagen & Bemerkungen
    Field("anlagen_geburtsurkunde", "Geburtsurkunde liegt vor", "checkbox", tab="anlagen"),
    Field("anlagen_unterhaltstitel", "Unterhaltstitel liegt vor", "checkbox", tab="anlagen"),
    Field("anlage_datei", "Anlage hochladen", "file", tab="anlagen"),
    Field("erklaerung_ort", "Ort der Unterschrift", tab="anlagen"),
    Field("erklaerung_datum", "Datum der Unterschrift", "date", tab="anlagen", hint="TT.MM.JJJJ"),
    Field("bemerkungen", "Bemerkungen", "textarea", tab="anlagen"),
)

FIELDS_BY_NAME = {f.name: f for f in FIELDS}
STORED_FIELDS = tuple(f for f in FIELDS if f.stored)


def fields_of_tab(tab: str) -> list[Field]:
    """The fields shown on one tab, in form order."""
    return [f for f in FIELDS if f.tab == tab]


# ----- the 40-field exercise form (benchmark page) -----

BUNDESLAENDER = (
    "Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen",
    "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz", "Saarland",
    "Sachsen", "Sachsen-Anhalt", "Schleswig-Holstein", "Thüringen",
)

_UEBUNG_LABELS = (
    "Name", "Vorname", "Geburtsname", "Geburtsdatum", "Geburtsort", "Staatsangehörigkeit", "Straße",
    "Hausnummer", "PLZ", "Ort", "Ortsteil", "Telefon", "Mobiltelefon", "E-Mail", "Beruf", "Arbeitgeber",
    "Steuer-ID", "Rentenversicherungsnummer", "Krankenkasse", "Versichertennummer", "IBAN", "BIC",
    "Kreditinstitut", "Kontoinhaber:in", "Name des Kindes", "Vorname des Kindes", "Geburtsdatum des Kindes",
    "Schule oder Kita", "Klasse oder Gruppe", "Zuständiges Jugendamt", "Aktenzeichen des Jugendamts",
    "Name des anderen Elternteils", "Vorname des anderen Elternteils", "Letzte bekannte Anschrift",
    "Arbeitgeber des anderen Elternteils", "Unterhaltsbetrag", "Zahlungseingang am", "Bemerkung zur Zahlung",
    "Rückrufwunsch",
)


@dataclass(frozen=True)
class ExerciseField:
    """One field of the 40-field exercise form."""

    name: str
    label: str
    kind: str  # text or select
    implicit_label: bool  # label wraps the input instead of pointing to it with for=


def exercise_fields() -> list[ExerciseField]:
    """40 fields: 39 text inputs and the select 'Bundesland' (field 10); every fifth label wraps its input."""
    result: list[ExerciseField] = []
    labels = list(_UEBUNG_LABELS)
    for number in range(1, 41):
        name = f"feld_{number:02d}"
        if number == 11:
            result.append(ExerciseField(name, "Bundesland", "select", implicit_label=False))
            continue
        label = labels.pop(0)
        result.append(ExerciseField(name, label, "text", implicit_label=number % 5 == 0))
    return result
