"""The trade notices GewA1, GewA2 and GewA3: their form fields, how they become case data, and the checks.

Pure functions over plain data, so that the rules are unit-tested without a robot, a mailbox or a browser.
The field list is the one source for the sample PDFs (``samples/generate.py``), the reading and the
register's form data; ``FIELDS.md`` documents it for the people who build the forms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rathaus.errors import BusinessError
from rathaus.files import fold_text
from robot.utils import DotDict

GEWA1, GEWA2, GEWA3 = "GewA1", "GewA2", "GewA3"
FORMS = (GEWA1, GEWA2, GEWA3)

#: Titles of the forms as the Gewerbeanzeigenverordnung names them.
FORM_TITLES = {
    GEWA1: "Gewerbe-Anmeldung (GewA 1)",
    GEWA2: "Gewerbe-Ummeldung (GewA 2)",
    GEWA3: "Gewerbe-Abmeldung (GewA 3)",
}
#: What happened, in the words of a receipt or notification.
OPERATIONS = {GEWA1: "Anmeldung", GEWA2: "Ummeldung", GEWA3: "Abmeldung"}

RECHTSFORMEN = ("Einzelunternehmen", "e.K.", "GbR", "OHG", "KG", "GmbH", "UG", "AG", "eG", "sonstige")
BETRIEBSARTEN = ("industrie", "handwerk", "handel", "sonstiges")
ANMELDEGRUENDE = ("neugruendung", "uebernahme", "zuzug", "rechtsformwechsel")
UMMELDEARTEN = ("verlegung", "taetigkeitswechsel", "taetigkeitserweiterung", "sonstige")
ABMELDEGRUENDE = ("aufgabe", "verlegung", "uebergabe", "insolvenz", "tod", "sonstiges")

#: Readable words for the export values of choice and radio fields (letters, notifications).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "inhaber.geschlecht": {"w": "weiblich", "m": "männlich", "d": "divers"},
    "betrieb.art": {"industrie": "Industrie", "handwerk": "Handwerk", "handel": "Handel", "sonstiges": "Sonstiges"},
    "anmeldung.grund": {
        "neugruendung": "Neugründung", "uebernahme": "Übernahme", "zuzug": "Zuzug aus einem anderen Meldebezirk",
        "rechtsformwechsel": "Wechsel der Rechtsform",
    },
    "ummeldung.art": {
        "verlegung": "Verlegung der Betriebsstätte", "taetigkeitswechsel": "Wechsel der Tätigkeit",
        "taetigkeitserweiterung": "Ausdehnung der Tätigkeit", "sonstige": "sonstige Änderung",
    },
    "abmeldung.grund": {
        "aufgabe": "vollständige Aufgabe", "verlegung": "Verlegung in einen anderen Meldebezirk",
        "uebergabe": "Übergabe an Nachfolger:in", "insolvenz": "Insolvenz", "tod": "Tod der Inhaberin / des Inhabers",
        "sonstiges": "sonstiger Grund",
    },
}


@dataclass(frozen=True)
class Field:
    """One field of the GewA forms: which forms have it and in which it must be filled."""

    name: str
    label: str
    kind: str = "text"
    options: tuple[str, ...] = ()
    forms: tuple[str, ...] = FORMS
    required: tuple[str, ...] = ()

    @property
    def short_label(self) -> str:
        """The label without its format hint: ``Geburtsdatum`` for ``Geburtsdatum (TT.MM.JJJJ)``."""
        return _HINT.sub("", self.label)


_ALL = FORMS
_HINT = re.compile(r" \((TT\.MM\.JJJJ|z\. B\. [^)]*)\)")
#: The three forms' fields in the order of the PDFs (see FIELDS.md).
FIELDS: tuple[Field, ...] = (
    Field("formular", "Formular (GewA1, GewA2 oder GewA3)", required=_ALL),
    Field("inhaber.name", "Name", required=_ALL),
    Field("inhaber.vorname", "Vorname", required=_ALL),
    Field("inhaber.geburtsname", "Geburtsname"),
    Field("inhaber.geschlecht", "Geschlecht", "radio", ("w", "m", "d")),
    Field("inhaber.geburtsdatum", "Geburtsdatum (TT.MM.JJJJ)", required=_ALL),
    Field("inhaber.geburtsort", "Geburtsort", required=(GEWA1,)),
    Field("inhaber.staatsangehoerigkeit", "Staatsangehörigkeit", required=(GEWA1,)),
    Field("inhaber.strasse", "Straße und Hausnummer (Wohnung)", required=(GEWA1,)),
    Field("inhaber.plz", "Postleitzahl (Wohnung)", required=(GEWA1,)),
    Field("inhaber.ort", "Ort (Wohnung)", required=(GEWA1,)),
    Field("inhaber.telefon", "Telefon"),
    Field("inhaber.email", "E-Mail"),
    Field("betrieb.name", "Name des Betriebs / Firma", required=_ALL),
    Field("betrieb.rechtsform", "Rechtsform", "choice", RECHTSFORMEN, required=(GEWA1,)),
    Field("betrieb.registergericht", "Registergericht"),
    Field("betrieb.registernummer", "Registernummer (z. B. HRB 12345)"),
    Field("betrieb.strasse", "Straße und Hausnummer (Betriebsstätte)", required=_ALL),
    Field("betrieb.plz", "Postleitzahl (Betriebsstätte)", required=_ALL),
    Field("betrieb.ort", "Ort (Betriebsstätte)", required=_ALL),
    Field("betrieb.taetigkeit", "Angemeldete Tätigkeit", required=(GEWA1, GEWA2)),
    Field("betrieb.art", "Art des Betriebs", "radio", BETRIEBSARTEN, required=_ALL),
    Field("betrieb.nebenerwerb", "Im Nebenerwerb", "checkbox"),
    Field("betrieb.beschaeftigte", "Zahl der Beschäftigten", required=(GEWA1, GEWA2)),
    Field("betrieb.beginn", "Beginn der Tätigkeit (TT.MM.JJJJ)", required=(GEWA1,)),
    Field("anmeldung.grund", "Grund der Anmeldung", "choice", ANMELDEGRUENDE, forms=(GEWA1,)),
    Field("ummeldung.art", "Art der Änderung", "choice", UMMELDEARTEN, forms=(GEWA2,), required=(GEWA2,)),
    Field("ummeldung.datum", "Änderung wirksam ab (TT.MM.JJJJ)", forms=(GEWA2,), required=(GEWA2,)),
    Field("ummeldung.bisherige_anschrift", "Bisherige Betriebsstätte", forms=(GEWA2,)),
    Field("ummeldung.bisherige_taetigkeit", "Bisherige Tätigkeit", forms=(GEWA2,)),
    Field("abmeldung.datum", "Betriebsaufgabe zum (TT.MM.JJJJ)", forms=(GEWA3,), required=(GEWA3,)),
    Field("abmeldung.grund", "Grund der Abmeldung", "choice", ABMELDEGRUENDE, forms=(GEWA3,), required=(GEWA3,)),
    Field("erklaerung.ort", "Ort"),
    Field("erklaerung.datum", "Datum (TT.MM.JJJJ)"),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
#: Fields that hold a date TT.MM.JJJJ.
DATE_FIELDS = ("inhaber.geburtsdatum", "betrieb.beginn", "ummeldung.datum", "abmeldung.datum", "erklaerung.datum")


def fields_of(form: str) -> tuple[Field, ...]:
    """The fields of one form (``GewA1``, ``GewA2`` or ``GewA3``), in PDF order."""
    return tuple(f for f in FIELDS if form in f.forms)


class Falldaten(DotDict):
    """Case data with attribute access whose text form hides the personal data it holds.

    Robot logs assigned values with their ``repr``; an owner's name, birth date and address must not
    land in logs by default, so this type shows only how many entries it has.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, value in self.items():
            if isinstance(value, Mapping) and not isinstance(value, Falldaten):
                self[key] = Falldaten(value)

    def __repr__(self) -> str:
        return f"<Falldaten: {len(self)} Einträge>"

    __str__ = __repr__


_FORM_NAME = re.compile(r"^\s*gew\s*a\s*([123])\s*$", re.IGNORECASE)
_PLZ = re.compile(r"^\d{5}$")
_COUNT = re.compile(r"^\d{1,6}$")


def form_kind(value: Any) -> str | None:
    """``GewA1``/``GewA2``/``GewA3`` for the value of the form field ``formular`` (``GewA 1``, ``gewa1``)."""
    match = _FORM_NAME.match(str(value or ""))
    return f"GewA{match.group(1)}" if match else None


def parse_date(value: Any) -> date | None:
    """``TT.MM.JJJJ`` -> date, or None."""
    if not value:
        return None
    try:
        return datetime.strptime(str(value).strip(), "%d.%m.%Y").date()
    except ValueError:
        return None


def age_on(birth: date, day: date) -> int:
    """Full years of a person born on ``birth`` on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _folded(value: Any) -> str:
    """A form or register value compared case-, accent- and blank-insensitively (``Straße`` = ``STRASSE``)."""
    return fold_text(value or "", collapse_spaces=True)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _kept(value: Any, field: Field) -> Any:
    """An entry as the case data keeps it: a checkbox ``True``/``False``, anything else stripped text or ``None``."""
    if field.kind == "checkbox":
        return bool(value)
    if value is None or isinstance(value, bool):
        return None
    return str(value).strip() or None


def _problems(fields: Mapping[str, Any], form: str) -> list[str]:
    """Labels of the form's empty required fields and of entries in the wrong format."""
    problems = [f"{field.short_label} fehlt" for field in fields_of(form)
                if form in field.required and _empty(fields.get(field.name))]
    for name in DATE_FIELDS:
        value = fields.get(name)
        if not _empty(value) and parse_date(value) is None:
            problems.append(f"{FIELDS_BY_NAME[name].short_label} ist kein gültiges Datum (TT.MM.JJJJ)")
    for name in ("inhaber.plz", "betrieb.plz"):
        value = fields.get(name)
        if not _empty(value) and not _PLZ.match(str(value).strip()):
            problems.append(f"{FIELDS_BY_NAME[name].short_label} hat nicht 5 Ziffern")
    employees = fields.get("betrieb.beschaeftigte")
    if not _empty(employees) and not _COUNT.match(str(employees).strip()):
        problems.append("Zahl der Beschäftigten ist keine ganze Zahl")
    for field in fields_of(form):
        value = fields.get(field.name)
        if field.options and not _empty(value) and str(value).strip() not in field.options:
            problems.append(f"{field.short_label} hat keinen zulässigen Wert")
    return problems


def case_from_fields(fields: Mapping[str, Any], case: str) -> Falldaten:
    """The case data (work item variable ``fall``) of a GewA form's ``name -> value`` mapping, nothing checked yet.

    Holds ``formular`` and, nested by group, every field of that form (FIELDS.md): texts stripped or ``None``
    when empty, checkboxes ``True``/``False``; the shape is that of ``fall.schema.yaml``. Raises a
    :class:`BusinessError` (``KEIN_GEWERBEFORMULAR``) when the fields are not those of a GewA form. The robot
    keeps the result in the work item before :func:`notice_from_case` checks it, so that a clerk sees and
    corrects what the form said.
    """
    form = form_kind(fields.get("formular"))
    if form is None or "inhaber.name" not in fields:
        raise BusinessError(
            f"Gewerbeanzeige {case}: Die PDF-Datei ist kein Formular GewA1, GewA2 oder GewA3 (Formularfeld "
            "'formular' fehlt oder ist unbekannt). Bitte die Mail prüfen und die Anzeige beim Absender anfordern.",
            code="KEIN_GEWERBEFORMULAR",
        )
    data: dict[str, Any] = {"formular": form}
    for field in fields_of(form):
        if field.name != "formular":
            group, _, key = field.name.partition(".")
            data.setdefault(group, {})[key] = _kept(fields.get(field.name), field)
    return Falldaten(data)


def _entry(data: Mapping[str, Any], name: str) -> Any:
    """The entry ``group.key`` of nested case data; a group that is missing or no mapping counts as empty."""
    group, _, key = name.partition(".")
    section = data.get(group)
    return section.get(key) if isinstance(section, Mapping) else None


def notice_from_case(data: Mapping[str, Any], case: str) -> Falldaten:
    """The notice to check and enter from case data (``fall``, as read or as a clerk corrected it), or a
    :class:`BusinessError` naming what is missing or wrong.

    Only the fields of the form named by ``formular`` are taken, normalised as :func:`case_from_fields` does.
    Raises ``KEIN_GEWERBEFORMULAR`` when ``formular`` is missing or unknown and ``PFLICHTANGABEN_FEHLEN`` listing
    the labels of empty required fields and of entries in the wrong format (values are never repeated in
    messages: they are personal data). The clerk corrects them in the control room and tries again.
    """
    form = form_kind(data.get("formular"))
    if form is None:
        raise BusinessError(
            f"Gewerbeanzeige {case}: In den Falldaten fehlt das Formular (GewA1, GewA2 oder GewA3) oder es ist "
            "unbekannt. Bitte die Falldaten im Kontrollraum korrigieren und erneut versuchen.",
            code="KEIN_GEWERBEFORMULAR",
        )
    fields = {field.name: _kept(_entry(data, field.name), field) for field in fields_of(form)
              if field.name != "formular"}
    problems = _problems({"formular": form, **fields}, form)
    if problems:
        raise BusinessError(
            f"Gewerbeanzeige {case} ({form}): {'; '.join(problems)}. Bitte bei der anzeigenden Person nachfragen, "
            "die Angaben im Kontrollraum korrigieren und erneut versuchen (oder die Anzeige von Hand erfassen).",
            code="PFLICHTANGABEN_FEHLEN",
        )
    notice: dict[str, Any] = {"formular": form}
    for name, value in fields.items():
        group, _, key = name.partition(".")
        notice.setdefault(group, {})[key] = value
    return Falldaten(notice)


def notice_from_fields(fields: Mapping[str, Any], case: str) -> Falldaten:
    """Build the checked notice from a GewA form's ``name -> value`` mapping, or fail naming what's wrong.

    :func:`case_from_fields` followed by :func:`notice_from_case`.
    """
    return notice_from_case(case_from_fields(fields, case), case)


def _days(rules: Mapping[str, Any], key: str, default: int) -> int:
    return int(rules.get(key, default))


def check_notice(notice: Mapping[str, Any], case: str, rules: Mapping[str, Any], today: date | None = None) -> None:
    """Check the dates of a notice; raise a :class:`BusinessError` for a clerk when one is implausible.

    ``rules`` is the ``pruefung`` section of a city's configuration: ``mindestalter`` (owner's age at the
    start), ``tage_zurueck`` and ``tage_voraus`` (how far the start, change or end may lie in the past or
    future).
    """
    today = today or date.today()
    form = notice["formular"]
    owner = notice["inhaber"]
    business = notice["betrieb"]
    back, ahead = _days(rules, "tage_zurueck", 365), _days(rules, "tage_voraus", 90)
    minimum_age = _days(rules, "mindestalter", 18)
    birth = parse_date(owner["geburtsdatum"])
    if birth is None or birth >= today or age_on(birth, today) > 110:
        raise BusinessError(
            f"Gewerbeanzeige {case} ({form}): Das Geburtsdatum ist nicht plausibel. Bitte bei der anzeigenden "
            "Person nachfragen.",
            code="DATUM_UNPLAUSIBEL",
        )
    day_name, day_value = {
        GEWA1: ("Beginn der Tätigkeit", business.get("beginn")),
        GEWA2: ("Änderung wirksam ab", notice.get("ummeldung", {}).get("datum")),
        GEWA3: ("Betriebsaufgabe zum", notice.get("abmeldung", {}).get("datum")),
    }[form]
    day = parse_date(day_value)
    if day is None:
        raise BusinessError(f"Gewerbeanzeige {case} ({form}): {day_name} fehlt.", code="PFLICHTANGABEN_FEHLEN")
    if (today - day).days > back or (day - today).days > ahead:
        raise BusinessError(
            f"Gewerbeanzeige {case} ({form}): Das Datum '{day_name}' ({day:%d.%m.%Y}) liegt mehr als {back} Tage "
            f"zurück oder mehr als {ahead} Tage voraus. Bitte durch die Sachbearbeitung prüfen lassen.",
            code="DATUM_UNPLAUSIBEL",
        )
    if form == GEWA1 and age_on(birth, day) < minimum_age:
        raise BusinessError(
            f"Gewerbeanzeige {case} ({form}): Die anzeigende Person ist zum Beginn der Tätigkeit jünger als "
            f"{minimum_age} Jahre. Minderjährige brauchen die Ermächtigung des Familiengerichts (§ 112 BGB); "
            "bitte durch die Sachbearbeitung prüfen lassen.",
            code="MINDERJAEHRIG",
        )
    start = parse_date(business.get("beginn"))
    if form == GEWA3 and start is not None and day < start:
        raise BusinessError(
            f"Gewerbeanzeige {case} ({form}): Die Betriebsaufgabe ({day:%d.%m.%Y}) liegt vor dem Beginn der "
            f"Tätigkeit ({start:%d.%m.%Y}). Bitte bei der anzeigenden Person nachfragen.",
            code="ENDE_VOR_BEGINN",
        )


#: Outcomes of comparing a notice with the register.
ENTER, OWN, PRESENT = "eintragen", "eigener", "vorhanden"


def compare_with_entry(notice: Mapping[str, Any], entry: Mapping[str, Any] | None, case: str) -> str:
    """Decide what to do with a notice given the register entry the search found (``None``: none).

    Returns ``eintragen`` (enter it), ``eigener`` (this very notice is in the register already: an earlier
    run was interrupted after entering it) or ``vorhanden`` (the register has it from another notice).
    Raises a :class:`BusinessError` when the notice does not fit the register: an Ummeldung or Abmeldung
    for a business the register does not know or has closed, or an Abmeldung before the registered start.
    """
    form = notice["formular"]
    if entry is None:
        if form == GEWA1:
            return ENTER
        raise BusinessError(
            f"Gewerbeanzeige {case} ({form}): Im Gewerberegister gibt es keinen Betrieb dieser Person mit diesem "
            "Namen. Bitte den Betrieb von Hand suchen (anderer Name, Zuzug?) und die Anzeige zuordnen.",
            code="BETRIEB_UNBEKANNT",
        )
    history = str(entry.get("vorgaenge") or "")
    if case and case in history:
        return OWN
    if form == GEWA1:
        return PRESENT
    if form == GEWA2:
        return _compare_change(notice, entry, case)
    return _compare_closing(notice, entry, case)


def _compare_change(notice: Mapping[str, Any], entry: Mapping[str, Any], case: str) -> str:
    if str(entry.get("status") or "") != "angemeldet":
        raise BusinessError(
            f"Gewerbeanzeige {case} (GewA2): Der Betrieb {entry.get('registernummer')} ist im Gewerberegister "
            "abgemeldet; eine Ummeldung ist nicht möglich. Bitte durch die Sachbearbeitung klären lassen.",
            code="BETRIEB_ABGEMELDET",
        )
    business = notice["betrieb"]
    keys = ("strasse", "plz", "ort", "taetigkeit")
    if all(_folded(business.get(k)) == _folded(entry.get(f"betrieb_{k}")) for k in keys):
        return PRESENT
    return ENTER


def _compare_closing(notice: Mapping[str, Any], entry: Mapping[str, Any], case: str) -> str:
    number = entry.get("registernummer")
    end = parse_date(notice["abmeldung"]["datum"])
    if str(entry.get("status") or "") != "angemeldet":
        if parse_date(entry.get("abmeldung_datum")) == end:
            return PRESENT
        raise BusinessError(
            f"Gewerbeanzeige {case} (GewA3): Der Betrieb {number} ist bereits zum {entry.get('abmeldung_datum')} "
            "abgemeldet. Bitte durch die Sachbearbeitung klären lassen.",
            code="BETRIEB_BEREITS_ABGEMELDET",
        )
    start = parse_date(entry.get("betrieb_beginn"))
    if end is not None and start is not None and end < start:
        raise BusinessError(
            f"Gewerbeanzeige {case} (GewA3): Die Betriebsaufgabe ({end:%d.%m.%Y}) liegt vor dem im Gewerberegister "
            f"eingetragenen Beginn der Tätigkeit ({start:%d.%m.%Y}) des Betriebs {number}. Bitte bei der "
            "anzeigenden Person nachfragen.",
            code="ENDE_VOR_BEGINN",
        )
    return ENTER


def shown(name: str, value: Any) -> str:
    """A field's value as a letter shows it: choice words, ``ja``/``nein``, ``–`` for empty."""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if _empty(value):
        return "–"
    return VALUE_LABELS.get(name, {}).get(str(value), str(value))
