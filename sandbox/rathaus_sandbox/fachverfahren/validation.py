"""Server-side checks of the new-case form, with the German messages a clerk would see."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ..webapp.validation import parse_date
from .fields import FIELDS, Field

_MONTH = re.compile(r"^(\d{2})\.(\d{4})$")
_PLZ = re.compile(r"^\d{5}$")
_AMOUNT = re.compile(r"^\d{1,3}(\.\d{3})*(,\d{1,2})?$|^\d+(,\d{1,2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def parse_month(text: str) -> date | None:
    """``MM.JJJJ`` -> first day of that month, or None."""
    match = _MONTH.match(text.strip())
    if not match:
        return None
    month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, 1)
    except ValueError:
        return None


def parse_amount(text: str) -> Decimal | None:
    """German decimal ``1.234,56`` -> Decimal, or None."""
    text = text.strip()
    if not _AMOUNT.match(text):
        return None
    try:
        return Decimal(text.replace(".", "").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern rules this out
        return None


def normalize_iban(text: str) -> str:
    """Upper case without blanks."""
    return re.sub(r"\s+", "", text).upper()


def iban_is_valid(text: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    iban = normalize_iban(text)
    if not _IBAN.match(iban):
        return False
    if iban.startswith("DE") and len(iban) != 22:
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def validate_case(form: Mapping[str, str], today: date | None = None) -> dict[str, str]:
    """Check the submitted values; returns field name -> German message (empty when all is well).

    ``form`` maps field names to submitted strings; checkboxes are present ("ja") when ticked.
    """
    today = today or datetime.now().date()
    errors: dict[str, str] = {}

    def value(name: str) -> str:
        return (form.get(name) or "").strip()

    for f in FIELDS:
        if f.required and not value(f.name):
            errors[f.name] = _required_message(f)

    for f in FIELDS:
        text = value(f.name)
        if not text or f.name in errors:
            continue
        message = _format_message(f, text, today)
        if message:
            errors[f.name] = message

    if "antragsteller_lebt_mit_kind" not in errors and not value("antragsteller_lebt_mit_kind"):
        errors["antragsteller_lebt_mit_kind"] = (
            "Unterhaltsvorschuss setzt voraus, dass das Kind bei der antragstellenden Person lebt."
        )

    if value("elternteil_anschrift_bekannt") == "ja" and not value("elternteil_anschrift"):
        errors.setdefault(
            "elternteil_anschrift", "Bitte geben Sie die Anschrift des anderen Elternteils an."
        )

    birth = parse_date(value("kind_geburtsdatum"))
    start = parse_month(value("leistung_beginn"))
    if birth and start and "kind_geburtsdatum" not in errors and "leistung_beginn" not in errors:
        if _age_on(birth, start) >= 18:
            errors["kind_geburtsdatum"] = (
                "Das Kind ist zum Leistungsbeginn bereits 18 Jahre alt: kein Anspruch auf Unterhaltsvorschuss."
            )
        elif start < date(birth.year, birth.month, 1):
            errors["leistung_beginn"] = "Der Leistungsbeginn liegt vor der Geburt des Kindes."
    return errors


def _required_message(f: Field) -> str:
    if f.kind in ("select", "radio"):
        return f"Bitte wählen Sie „{f.label}“ aus."
    return f"Bitte füllen Sie das Pflichtfeld „{f.label}“ aus."


def _format_message(f: Field, text: str, today: date) -> str | None:
    checks = {
        "date": _check_date,
        "month": _check_month,
        "plz": lambda t, _: None if _PLZ.match(t) else "Die Postleitzahl muss aus genau 5 Ziffern bestehen.",
        "iban": lambda t, _: None if iban_is_valid(t) else "Die IBAN ist ungültig (Prüfziffer falsch).",
        "amount": lambda t, _: None if parse_amount(t) is not None else (
            "Bitte geben Sie einen Betrag in Euro an, z. B. 123,45."
        ),
        "email": lambda t, _: None if _EMAIL.match(t) else "Bitte geben Sie eine gültige E-Mail-Adresse an.",
    }
    check = checks.get(f.kind)
    if check:
        return check(text, today)
    if f.kind in ("select", "radio") and text not in {v for v, _ in f.choices}:
        return f"Der Wert für „{f.label}“ ist nicht zulässig."
    return None


def _check_date(text: str, today: date) -> str | None:
    parsed = parse_date(text)
    if parsed is None:
        return "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ an."
    if parsed > today:
        return "Das Datum darf nicht in der Zukunft liegen."
    if parsed.year < 1900:
        return "Das Datum ist nicht plausibel."
    return None


def _check_month(text: str, today: date) -> str | None:
    parsed = parse_month(text)
    if parsed is None:
        return "Bitte geben Sie den Monat im Format MM.JJJJ an."
    if parsed.year < 2000 or parsed.year > today.year + 1:
        return "Der Leistungsbeginn ist nicht plausibel."
    return None
