"""Code lists the rules check values against, each behind one function so that its source can be switched.

ISO 4217 currency codes come from the ``iso4217`` package (the ISO maintenance agency's table, republished
with each amendment; factur-x depends on it too). Only current alpha-3 codes count: a withdrawn code such as
``DEM`` is no currency an invoice can be paid in today.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _iso4217_codes() -> frozenset[str]:
    """The current ISO 4217 alpha-3 codes (``EUR``, ``CHF``, ``USD``, …); the one place that knows the source."""
    from iso4217 import Currency

    return frozenset(currency.code for currency in Currency)


def is_iso4217_currency(code: str) -> bool:
    """Whether ``code`` is a current ISO 4217 alpha-3 currency code, exactly as written (``eur`` is not)."""
    return code in _iso4217_codes()
