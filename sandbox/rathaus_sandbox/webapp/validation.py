"""Checks the sandbox apps' forms share."""

from __future__ import annotations

import re
from datetime import date

_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


def parse_date(text: str | None) -> date | None:
    """``TT.MM.JJJJ`` -> date, or None when the text is no valid date."""
    match = _DATE.match((text or "").strip())
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None
