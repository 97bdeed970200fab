"""The UVG application: its form fields, how they become case data, and the intake checks.

Pure functions over plain data, so that checks are unit-tested without a robot, a mailbox or a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rathaus.errors import BusinessError
from rathaus.files import fold_text
from robot.utils import DotDict


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"
    options: tuple[str, ...] = ()
    required: bool = False


#: The application form, in the order of the PDF (see FIELDS.md).
FIELDS: tuple[Field, ...] = (
    Field("antragsteller.name", "Name", required=True),
    Field("antragsteller.vorname", "Vorname", required=True),
    Field("antragsteller.geburtsdatum", "Geburtsdatum (TT.MM.JJJJ)", required=True),
    Field("antragsteller.strasse", "Straße und Hausnummer", required=True),
    Field("antragsteller.plz", "Postleitzahl", required=True),
    Field("antragsteller.ort", "Wohnort", required=True),
    Field("antragsteller.familienstand", "Familienstand", "choice",
          ("ledig", "verheiratet", "geschieden", "verwitwet", "getrennt")),
    Field("antragsteller.staatsangehoerigkeit", "Staatsangehörigkeit"),
    Field("antragsteller.iban", "IBAN", required=True),
    Field("antragsteller.email", "E-Mail"),
    Field("antragsteller.telefon", "Telefon"),
    Field("antragsteller.lebt_mit_kind", "Das Kind lebt bei mir", "checkbox"),
    Field("kind.name", "Name des Kindes", required=True),
    Field("kind.vorname", "Vorname des Kindes", required=True),
    Field("kind.geburtsdatum", "Geburtsdatum des Kindes (TT.MM.JJJJ)", required=True),
    Field("kind.geburtsort", "Geburtsort des Kindes"),
    Field("kind.geschlecht", "Geschlecht des Kindes", "radio", ("w", "m", "d")),
    Field("elternteil.name", "Name des anderen Elternteils"),
    Field("elternteil.vorname", "Vorname des anderen Elternteils"),
    Field("elternteil.anschrift_bekannt", "Anschrift bekannt", "radio", ("ja", "nein")),
    Field("elternteil.anschrift", "Anschrift des anderen Elternteils"),
    Field("elternteil.vaterschaft_festgestellt", "Vaterschaft festgestellt", "radio", ("ja", "nein")),
    Field("einkommen.waisenrente", "Waisenrente monatlich (EUR)"),
    Field("einkommen.unterhalt", "Unterhalt monatlich (EUR)"),
    Field("leistung.beginn", "Leistung ab (MM.JJJJ)", required=True),
    Field("anlagen.geburtsurkunde", "Geburtsurkunde liegt bei", "checkbox"),
    Field("anlagen.unterhaltstitel", "Unterhaltstitel liegt bei", "checkbox"),
    Field("erklaerung.ort", "Ort"),
    Field("erklaerung.datum", "Datum (TT.MM.JJJJ)"),
)

#: What a clerk calls each enclosure; the key is the checkbox under ``anlagen.``.
ENCLOSURES = {
    "geburtsurkunde": "Geburtsurkunde des Kindes",
    "unterhaltstitel": "Unterhaltstitel (Urteil, Beschluss oder Urkunde)",
}


class Falldaten(DotDict):
    """Case data with attribute access whose text form hides the personal data it holds.

    Robot logs assigned values with their ``repr``; a case's names, dates and IBAN must not land in
    logs by default, so this type shows only how many entries it has.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, value in self.items():
            if isinstance(value, Mapping) and not isinstance(value, Falldaten):
                self[key] = Falldaten(value)

    def __repr__(self) -> str:
        return f"<Falldaten: {len(self)} Einträge>"

    __str__ = __repr__


def parse_date(value: str | None, fmt: str = "%d.%m.%Y") -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), fmt).date()
    except ValueError:
        return None


def case_from_fields(fields: Mapping[str, Any], case: str) -> Falldaten:
    """The case data of an application form: every field of :data:`FIELDS`, nested by group, nothing checked yet.

    Texts are stripped (``""`` when empty), checkboxes ``True``/``False``, radio buttons and choices their value or
    ``None``; the shape is that of ``fall.schema.yaml``. Raises a :class:`BusinessError` (``KEIN_ANTRAGSFORMULAR``)
    when the fields are not those of the UVG form. The robot keeps the result in the work item (``fall``) before
    it checks it, so that a clerk sees and corrects what the form said.
    """
    if "kind.geburtsdatum" not in fields or "antragsteller.name" not in fields:
        raise BusinessError(
            f"Antrag {case}: Die PDF-Datei ist kein Antrag auf Unterhaltsvorschuss (Formularfelder fehlen). "
            "Bitte die Mail prüfen und den Antrag beim Absender anfordern.",
            code="KEIN_ANTRAGSFORMULAR",
        )
    data: dict[str, dict[str, Any]] = {}
    for field in FIELDS:
        group, _, key = field.name.partition(".")
        value = fields.get(field.name)
        if field.kind == "checkbox":
            value = bool(value)
        elif field.kind == "text":
            value = str(value).strip() if value is not None else ""
        elif isinstance(value, str):
            value = value.strip() or None
        data.setdefault(group, {})[key] = value
    return Falldaten(data)


def application_from_case(data: Mapping[str, Any], case: str) -> Falldaten:
    """The application of case data (``fall``), or a :class:`BusinessError` naming what is missing or wrong.

    Raises ``PFLICHTANGABEN_FEHLEN`` listing the labels of empty required fields and malformed dates; such a
    case goes to a clerk, who corrects the data in the control room and tries again.
    """
    def value_of(name: str) -> Any:
        group, _, key = name.partition(".")
        section = data.get(group) if isinstance(data, Mapping) else None
        return section.get(key) if isinstance(section, Mapping) else None

    problems: list[str] = []
    for field in FIELDS:
        value = value_of(field.name)
        if field.required and (value is None or (isinstance(value, str) and not value.strip())):
            problems.append(f"{field.label} fehlt")
    for name, fmt, label in (
        ("antragsteller.geburtsdatum", "%d.%m.%Y", "Geburtsdatum"),
        ("kind.geburtsdatum", "%d.%m.%Y", "Geburtsdatum des Kindes"),
        ("leistung.beginn", "%m.%Y", "Leistung ab"),
    ):
        value = value_of(name)
        if value and parse_date(str(value), fmt) is None:
            problems.append(f"{label} '{value}' ist kein gültiges Datum")
    if problems:
        raise BusinessError(
            f"Antrag {case}: {'; '.join(problems)}. Bitte beim Antragsteller nachfragen, die Angaben im "
            "Kontrollraum korrigieren und erneut versuchen.",
            code="PFLICHTANGABEN_FEHLEN",
        )
    result: dict[str, dict[str, Any]] = {}
    for field in FIELDS:
        group, _, key = field.name.partition(".")
        value = value_of(field.name)
        result.setdefault(group, {})[key] = value.strip() if isinstance(value, str) else value
    return Falldaten(result)


def application_from_fields(fields: Mapping[str, Any], case: str) -> Falldaten:
    """Build nested case data from a form's ``name -> value`` mapping, or fail naming what's missing.

    :func:`case_from_fields` followed by :func:`application_from_case`.
    """
    return application_from_case(case_from_fields(fields, case), case)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_application(
    application: Mapping[str, Any],
    enclosure_files: Iterable[str | Path],
    case: str,
    *,
    max_age: int = 18,
    required_enclosures: Sequence[str] = ("geburtsurkunde",),
) -> list[str]:
    """Check an application; return the missing enclosures (empty when complete).

    Raises a :class:`BusinessError` when the application cannot succeed as it is: the child is too
    old at the benefit start (``KIND_ZU_ALT``) or does not live with the applicant
    (``KIND_LEBT_NICHT_BEIM_ANTRAGSTELLER``). Missing enclosures are returned instead, because the
    robot still enters the case and asks for them (Nachforderung).
    """
    child = application["kind"]
    birth = parse_date(child["geburtsdatum"])
    start_month = parse_date(application["leistung"]["beginn"], "%m.%Y")
    if birth is None or start_month is None:
        raise BusinessError(f"Antrag {case}: Geburtsdatum oder Leistungsbeginn fehlt.", code="PFLICHTANGABEN_FEHLEN")
    if age_on(birth, start_month) >= max_age:
        raise BusinessError(
            f"Antrag {case}: Das Kind ist zum Leistungsbeginn {start_month:%m.%Y} bereits {max_age} Jahre "
            "oder älter; Unterhaltsvorschuss ist nicht möglich. Bitte den Antrag durch die Sachbearbeitung "
            "bescheiden lassen.",
            code="KIND_ZU_ALT",
        )
    if birth > date.today():
        raise BusinessError(
            f"Antrag {case}: Das Geburtsdatum des Kindes liegt in der Zukunft. Bitte beim Antragsteller nachfragen.",
            code="PFLICHTANGABEN_FEHLEN",
        )
    if not application["antragsteller"].get("lebt_mit_kind"):
        raise BusinessError(
            f"Antrag {case}: Laut Antrag lebt das Kind nicht bei der antragstellenden Person. Bitte durch die "
            "Sachbearbeitung prüfen lassen.",
            code="KIND_LEBT_NICHT_BEIM_ANTRAGSTELLER",
        )
    names = [fold_text(Path(name).name) for name in enclosure_files]
    missing = []
    for key in required_enclosures:
        ticked = bool(application.get("anlagen", {}).get(key))
        attached = any(key in name for name in names)
        if not (ticked and attached):
            missing.append(ENCLOSURES[key])
    return missing


_IBAN_RE = re.compile(r"\s+")


def normalize_iban(iban: str) -> str:
    return _IBAN_RE.sub("", iban).upper()
