"""Server-side checks of the entry form, with the German messages a clerk in the finance office would see."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from ..webapp.validation import parse_date
from .fields import FIELDS, WAEHRUNGEN

_AMOUNT = re.compile(r"^-?(\d{1,3}(\.\d{3})*|\d+)(,\d{1,2})?$")
_DIGITS = re.compile(r"^\d+$")
_LEITWEG = re.compile(r"^(\d{2,12})(?:-([A-Za-z0-9]{1,30}))?-(\d{2})$")


def parse_amount(text: str) -> Decimal | None:
    """German decimal ``1.234,56`` (optionally negative) -> Decimal, or None."""
    text = text.strip()
    if not _AMOUNT.match(text):
        return None
    try:
        return Decimal(text.replace(".", "").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern rules this out
        return None


def format_amount(value: Decimal | str) -> str:
    """Decimal -> German ``1.234,56``."""
    number = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if number < 0 else ""
    whole, _, cents = f"{abs(number):.2f}".partition(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return sign + ".".join([whole, *groups]) + "," + cents


def leitweg_check_digits(base: str) -> str:
    """ISO 7064 MOD 97-10 check digits of a Leitweg-ID without its check digits and hyphens."""
    digits = "".join(str(int(ch, 36)) for ch in base.upper())
    return f"{98 - int(digits + '00') % 97:02d}"


def leitweg_message(text: str) -> str | None:
    """German message when ``text`` is no valid Leitweg-ID, else None."""
    match = _LEITWEG.match(text.strip())
    if not match:
        return "Bitte eine Leitweg-ID im Format Grobadressierung-Feinadressierung-Prüfziffer angeben."
    coarse, fine, check = match.groups()
    if leitweg_check_digits(coarse + (fine or "")) != check:
        return "Die Prüfziffer der Leitweg-ID stimmt nicht. Bitte die Leitweg-ID der Rechnung prüfen."
    return None


def validate_entry(form: Mapping[str, str], today: date | None = None) -> dict[str, str]:
    """Check the submitted values; returns field name -> German message (empty when all is well)."""
    errors: dict[str, str] = {}
    for field in FIELDS:
        value = (form.get(field.name) or "").strip()
        if field.required and not value:
            errors[field.name] = "Pflichtangabe fehlt."
        elif len(value) > field.max_length:
            errors[field.name] = f"Höchstens {field.max_length} Zeichen."
    for check in (_check_accounting, _check_dates, _check_amounts):
        for name, message in check(form, today or date.today()).items():
            errors.setdefault(name, message)
    return errors


def _check_accounting(form: Mapping[str, str], _today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not re.fullmatch(r"\d{4}", form.get("buchungskreis", "").strip()):
        errors["buchungskreis"] = "Der Buchungskreis besteht aus 4 Ziffern."
    kostenstelle = form.get("kostenstelle", "").strip()
    if not (_DIGITS.match(kostenstelle) and 4 <= len(kostenstelle) <= 10):
        errors["kostenstelle"] = "Die Kostenstelle besteht aus 4 bis 10 Ziffern."
    message = leitweg_message(form.get("leitweg_id", ""))
    if message:
        errors["leitweg_id"] = message
    if form.get("waehrung") not in {code for code, _ in WAEHRUNGEN}:
        errors["waehrung"] = "Bitte eine Währung aus der Liste wählen."
    return errors


def _check_dates(form: Mapping[str, str], today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    dates = {}
    for name in ("rechnungsdatum", "faelligkeit"):
        text = (form.get(name) or "").strip()
        if not text:
            continue
        parsed = parse_date(text)
        if parsed is None:
            errors[name] = "Bitte ein Datum im Format TT.MM.JJJJ angeben."
        else:
            dates[name] = parsed
    if "rechnungsdatum" in dates and dates["rechnungsdatum"] > today:
        errors["rechnungsdatum"] = "Das Rechnungsdatum liegt in der Zukunft."
    if "rechnungsdatum" in dates and "faelligkeit" in dates and dates["faelligkeit"] < dates["rechnungsdatum"]:
        errors["faelligkeit"] = "Die Fälligkeit liegt vor dem Rechnungsdatum."
    return errors


def _check_amounts(form: Mapping[str, str], _today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    amounts = {}
    for name in ("netto", "steuer", "brutto", "zahlbetrag"):
        parsed = parse_amount(form.get(name, ""))
        if parsed is None:
            errors[name] = "Bitte einen Betrag wie 1.234,56 angeben."
        else:
            amounts[name] = parsed
    if {"netto", "steuer", "brutto"} <= amounts.keys() and amounts["netto"] + amounts["steuer"] != amounts["brutto"]:
        errors["brutto"] = (
            f"Der Bruttobetrag muss Netto + Steuer ergeben ({format_amount(amounts['netto'] + amounts['steuer'])})."
        )
    count = form.get("positionen", "").strip()
    if not _DIGITS.match(count) or int(count) < 1:
        errors["positionen"] = "Bitte die Anzahl der Rechnungspositionen angeben (mindestens 1)."
    return errors
