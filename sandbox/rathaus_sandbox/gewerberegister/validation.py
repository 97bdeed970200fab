"""Server-side checks of the register forms, with the German messages a clerk would see."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from ..webapp.validation import parse_date
from .fields import ABMELDUNG, ANMELDUNG, CHANGEABLE, UMMELDUNG, Field

_PLZ = re.compile(r"^\d{5}$")
_NUMBER = re.compile(r"^\d{1,6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REGISTER = re.compile(r"^(HRA|HRB|GnR|PR|VR|GsR)\s?\d{1,7}(\s?[A-Z]{1,2})?$")
#: Earliest plausible start of a business and latest day ahead that an entry may name.
_EARLIEST = date(1950, 1, 1)
_DAYS_AHEAD = 366
_ADULT = 18


def age_on(birth: date, day: date) -> int:
    """Full years of a person born on ``birth`` on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _value(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _required_message(f: Field) -> str:
    if f.kind in ("select", "radio"):
        return f"Bitte wählen Sie „{f.label}“ aus."
    return f"Bitte füllen Sie das Pflichtfeld „{f.label}“ aus."


def _check_date(text: str) -> str | None:
    parsed = parse_date(text)
    if parsed is None:
        return "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ an."
    return "Das Datum ist nicht plausibel." if parsed.year < 1900 else None


_FORMAT_CHECKS = {
    "date": _check_date,
    "plz": lambda t: None if _PLZ.match(t) else "Die Postleitzahl muss aus genau 5 Ziffern bestehen.",
    "number": lambda t: None if _NUMBER.match(t) else "Bitte geben Sie eine ganze Zahl ab 0 an.",
    "email": lambda t: None if _EMAIL.match(t) else "Bitte geben Sie eine gültige E-Mail-Adresse an.",
}


def _format_message(f: Field, text: str) -> str | None:
    check = _FORMAT_CHECKS.get(f.kind)
    if check:
        return check(text)
    if f.kind in ("select", "radio") and text not in {v for v, _ in f.choices}:
        return f"Der Wert für „{f.label}“ ist nicht zulässig."
    return None


def _common(fields: tuple[Field, ...], form: Mapping[str, str], today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    for f in fields:
        text = _value(form, f.name)
        if f.required and not text:
            errors[f.name] = _required_message(f)
        elif text:
            message = _format_message(f, text)
            if message:
                errors[f.name] = message
    received = parse_date(_value(form, "eingang_datum"))
    if received and "eingang_datum" not in errors and received > today:
        errors["eingang_datum"] = "Der Eingang der Anzeige kann nicht in der Zukunft liegen."
    return errors


def _check_day(errors: dict[str, str], name: str, day: date | None, today: date, what: str) -> None:
    if day is None or name in errors:
        return
    if day < _EARLIEST:
        errors[name] = f"{what} vor {_EARLIEST:%Y} ist nicht plausibel."
    elif (day - today).days > _DAYS_AHEAD:
        errors[name] = f"{what} liegt mehr als ein Jahr in der Zukunft."


def validate_anmeldung(form: Mapping[str, str], today: date | None = None) -> dict[str, str]:
    """Check a new entry; returns field name -> German message (empty when all is well)."""
    today = today or datetime.now().date()
    errors = _common(ANMELDUNG, form, today)
    birth = parse_date(_value(form, "inhaber_geburtsdatum"))
    start = parse_date(_value(form, "betrieb_beginn"))
    if birth and "inhaber_geburtsdatum" not in errors and birth >= today:
        errors["inhaber_geburtsdatum"] = "Das Geburtsdatum muss in der Vergangenheit liegen."
    _check_day(errors, "betrieb_beginn", start, today, "Ein Beginn")
    dates_valid = not {"inhaber_geburtsdatum", "betrieb_beginn"} & set(errors)
    if birth and start and dates_valid and age_on(birth, start) < _ADULT:
        errors["inhaber_geburtsdatum"] = (
            "Die Person ist zum Beginn der Tätigkeit minderjährig: Bitte die Ermächtigung des "
            "Familiengerichts (§ 112 BGB) prüfen; der Eintrag ist der Sachbearbeitung vorbehalten."
        )
    court, number = _value(form, "betrieb_registergericht"), _value(form, "betrieb_registernummer")
    if number and not _REGISTER.match(number):
        errors["betrieb_registernummer"] = (
            "Die Registernummer hat nicht die Form „HRB 12345“ (HRA, HRB, GnR, PR, VR, GsR)."
        )
    elif number and not court:
        errors["betrieb_registergericht"] = "Zur Registernummer fehlt das Registergericht."
    elif court and not number:
        errors["betrieb_registernummer"] = "Zum Registergericht fehlt die Registernummer."
    return errors


def validate_ummeldung(
    form: Mapping[str, str], entry: Mapping[str, str], today: date | None = None
) -> dict[str, str]:
    """Check a change of the entry ``entry``; returns field name -> German message."""
    today = today or datetime.now().date()
    errors = _common(UMMELDUNG, form, today)
    if entry.get("status") != "angemeldet":
        errors["status"] = (
            f"Der Betrieb ist zum {entry.get('abmeldung_datum')} abgemeldet; eine Ummeldung ist nicht mehr möglich."
        )
        return errors
    day = parse_date(_value(form, "ummeldung_datum"))
    _check_day(errors, "ummeldung_datum", day, today, "Eine Änderung")
    start = parse_date(entry.get("betrieb_beginn"))
    if day and start and "ummeldung_datum" not in errors and day < start:
        errors["ummeldung_datum"] = (
            f"Die Änderung liegt vor dem Beginn der Tätigkeit am {entry.get('betrieb_beginn')}."
        )
    if not errors and all(_value(form, name) == str(entry.get(name) or "").strip() for name in CHANGEABLE):
        errors["ummeldung_art"] = "Die Ummeldung ändert keine Angabe des Eintrags. Bitte die neuen Angaben eintragen."
    return errors


def validate_abmeldung(
    form: Mapping[str, str], entry: Mapping[str, str], today: date | None = None
) -> dict[str, str]:
    """Check closing the entry ``entry``; returns field name -> German message."""
    today = today or datetime.now().date()
    errors = _common(ABMELDUNG, form, today)
    if entry.get("status") != "angemeldet":
        errors["status"] = f"Der Betrieb ist bereits zum {entry.get('abmeldung_datum')} abgemeldet."
        return errors
    end = parse_date(_value(form, "abmeldung_datum"))
    _check_day(errors, "abmeldung_datum", end, today, "Eine Betriebsaufgabe")
    start = parse_date(entry.get("betrieb_beginn"))
    if end and start and "abmeldung_datum" not in errors and end < start:
        errors["abmeldung_datum"] = (
            f"Die Betriebsaufgabe liegt vor dem Beginn der Tätigkeit am {entry.get('betrieb_beginn')}."
        )
    return errors
