"""The figures the process publishes: one row per month, online service and platform.

Everything else (parsers, publication, chart, schemas) is built on the names defined here, so that the
columns of the CSV, the keys of the JSON and the fields of both schemas cannot drift apart; a unit test
checks the schema files against these tuples.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

#: Payment types of completed applications, in column order. ``keine``: free of charge.
ZAHLUNGSARTEN = ("keine", "kreditkarte", "paypal", "lastschrift", "rechnung")
#: Authentication types of completed applications, in column order. ``ohne``: anonymous.
AUTHENTIFIZIERUNGEN = ("bundid", "elster", "ohne")
#: The three base figures per month and service.
GRUNDZAHLEN = ("aufrufe", "abgeschlossen", "abgebrochen")
#: All figures of one row, in column order.
KENNZAHLEN = (
    *GRUNDZAHLEN,
    *(f"zahlung_{art}" for art in ZAHLUNGSARTEN),
    *(f"authentifizierung_{art}" for art in AUTHENTIFIZIERUNGEN),
)
#: The key of a row: a new export for the same key replaces the published figures.
SCHLUESSELSPALTEN = ("monat", "onlinedienst", "plattform")
#: Columns of the published CSV, in their stable order.
SPALTEN = (*SCHLUESSELSPALTEN, *KENNZAHLEN)

#: German labels of the payment and authentication types, for messages and the chart.
BEZEICHNUNGEN = {
    "keine": "keine (gebührenfrei)",
    "kreditkarte": "Kreditkarte",
    "paypal": "PayPal",
    "lastschrift": "SEPA-Lastschrift",
    "rechnung": "Rechnung",
    "bundid": "BundID",
    "elster": "ELSTER",
    "ohne": "ohne Anmeldung",
}

Kennzahlen = dict[str, int]


class Schluessel(NamedTuple):
    """Month (``JJJJ-MM``), online service and platform of one row; rows sort by these in this order."""

    monat: str
    onlinedienst: str
    plattform: str

    @property
    def jahr(self) -> int:
        return int(self.monat[:4])


def leer() -> Kennzahlen:
    """All figures zero, in column order."""
    return dict.fromkeys(KENNZAHLEN, 0)


def addiere(ziel: Kennzahlen, werte: Kennzahlen) -> None:
    """Adds ``werte`` to ``ziel`` figure by figure."""
    for name in KENNZAHLEN:
        ziel[name] += werte.get(name, 0)


# --- months -------------------------------------------------------------------------------------------

MONATSNAMEN = {
    "januar": 1, "jan": 1, "jänner": 1, "februar": 2, "feb": 2, "märz": 3, "maerz": 3, "mär": 3, "mrz": 3,
    "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
    "dezember": 12, "dez": 12,
}
#: Short German month names for the chart's axis.
MONATSKUERZEL = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")

_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]*)?")
_DE_MONTH = re.compile(r"(\d{1,2})\.(\d{4})")
_DE_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_NAMED_MONTH = re.compile(r"([^\W\d_]+)\.?\s*(\d{4})")


def _month(year: int, month: int) -> str | None:
    if 2000 <= year <= 2099 and 1 <= month <= 12:
        return f"{year:04d}-{month:02d}"
    return None


def _valid_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)  # an export repeats its months and days in every row
def parse_monat(text: str) -> str | None:
    """The month (``JJJJ-MM``) that a month or date cell of an export names, or ``None``.

    Understands ``2025-03``, ``2025-03-14`` (also with a time), ``03.2025``, ``14.03.2025``,
    ``März 2025`` and the usual short names (``Mrz 2025``, ``Okt. 2025``); years 2000 to 2099.
    """
    value = " ".join(text.split())
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
        return _month(year, month) if _valid_day(year, month, day) else None
    if match := _ISO_MONTH.fullmatch(value):
        return _month(int(match[1]), int(match[2]))
    if match := _DE_DATE.fullmatch(value):
        day, month, year = (int(part) for part in match.groups())
        return _month(year, month) if _valid_day(year, month, day) else None
    if match := _DE_MONTH.fullmatch(value):
        return _month(int(match[2]), int(match[1]))
    if match := _NAMED_MONTH.fullmatch(value):
        number = MONATSNAMEN.get(match[1].casefold())
        return _month(int(match[2]), number) if number else None
    return None


# --- counts -------------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_GERMAN = re.compile(r"(\d{1,3}(?:\.\d{3})+|\d+)(?:,0+)?")
_PLAIN = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?")


def parse_anzahl(text: str, deutsch: bool) -> int | None:
    """A count (whole number, at least 0) from an export cell, or ``None`` when the cell is no count.

    German exports write ``1.234`` or ``1 234`` for 1234 and sometimes ``12,0``; plain exports ``1234``,
    ``1,234`` or ``12.0``. Fractions, signs, letters and empty cells are not counts.
    """
    if text.isascii() and text.isdigit():  # most cells: plain digits
        return int(text)
    value = _SPACES.sub("", text)
    match = (_GERMAN if deutsch else _PLAIN).fullmatch(value)
    if not match:
        return None
    return int(match[1].replace("." if deutsch else ",", ""))
