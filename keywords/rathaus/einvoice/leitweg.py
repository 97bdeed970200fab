"""Leitweg-ID: the routing id of German public buyers (BT-10 "Buyer reference" in XRechnung).

Structure: ``Grobadressierung-Feinadressierung-Prüfziffer``

- Grobadressierung: 2 to 12 digits (federal state, district, municipality key),
- Feinadressierung: optional, 1 to 30 letters or digits (the office inside the authority),
- Prüfziffer: 2 digits, ISO 7064 MOD 97-10 over the other two parts (as for the IBAN: letters count
  as 10 … 35, ``98 - (number·100 mod 97)``; a correct ID gives remainder 1 over all three parts).

This is a syntactic check only: it cannot tell whether an authority really uses the ID.
"""

from __future__ import annotations

import re

from rathaus.einvoice.errors import InvalidLeitwegIdError

_COARSE = re.compile(r"\d{2,12}")
_FINE = re.compile(r"[0-9A-Za-z]{1,30}")
_CHECK = re.compile(r"\d{2}")


def _digits(text: str) -> str:
    """Letters as two-digit numbers (A=10 … Z=35), digits as they are."""
    return "".join(str(int(ch, 36)) for ch in text)


def _mod97(text: str) -> int:
    return int(_digits(text)) % 97


def _check_parts(coarse: str, fine: str) -> None:
    if not _COARSE.fullmatch(coarse):
        raise InvalidLeitwegIdError(
            f"{coarse}-{fine}" if fine else coarse,
            f"die Grobadressierung '{coarse}' muss aus 2 bis 12 Ziffern bestehen",
        )
    if fine and not _FINE.fullmatch(fine):
        raise InvalidLeitwegIdError(
            f"{coarse}-{fine}", f"die Feinadressierung '{fine}' darf nur 1 bis 30 Buchstaben oder Ziffern enthalten"
        )


def leitweg_check_digits(coarse: str, fine: str = "") -> str:
    """The two check digits for a Grobadressierung and an optional Feinadressierung.

    >>> leitweg_check_digits("04011000", "1234512345")
    '06'

    Raises :class:`InvalidLeitwegIdError` when a part does not have the allowed form.
    """
    coarse, fine = str(coarse).strip(), str(fine or "").strip()
    _check_parts(coarse, fine)
    return f"{98 - _mod97(coarse + fine + '00'):02d}"


def make_leitweg_id(coarse: str, fine: str = "") -> str:
    """A complete Leitweg-ID with check digits: ``make_leitweg_id("06631000", "RECHNUNG")``."""
    coarse, fine = str(coarse).strip(), str(fine or "").strip()
    digits = leitweg_check_digits(coarse, fine)
    return f"{coarse}-{fine.upper()}-{digits}" if fine else f"{coarse}-{digits}"


def check_leitweg_id(leitweg_id: str) -> str:
    """Return the Leitweg-ID normalised (trimmed, letters upper case) or raise :class:`InvalidLeitwegIdError`.

    The German reason names what is wrong: the number of parts, a part's form, or the check digits
    (then with the digits that would be correct, which helps to spot a typo in the other parts).
    """
    text = str(leitweg_id or "").strip()
    if not text:
        raise InvalidLeitwegIdError(text, "sie ist leer")
    parts = text.split("-")
    if len(parts) not in (2, 3):
        raise InvalidLeitwegIdError(
            text, "sie muss aus zwei oder drei durch '-' getrennten Teilen bestehen"
        )
    coarse, fine, check = (parts[0], "", parts[1]) if len(parts) == 2 else parts
    _check_parts(coarse, fine)
    if not _CHECK.fullmatch(check):
        raise InvalidLeitwegIdError(text, f"die Prüfziffer '{check}' muss aus genau 2 Ziffern bestehen")
    if _mod97(coarse + fine + check) != 1:
        expected = leitweg_check_digits(coarse, fine)
        raise InvalidLeitwegIdError(text, f"die Prüfziffer '{check}' passt nicht (erwartet '{expected}')")
    return f"{coarse}-{fine.upper()}-{check}" if fine else f"{coarse}-{check}"


def is_valid_leitweg_id(leitweg_id: str) -> bool:
    """``True`` when :func:`check_leitweg_id` accepts the ID."""
    try:
        check_leitweg_id(leitweg_id)
    except InvalidLeitwegIdError:
        return False
    return True
