"""The entry form of the Rechnungseingangsbuch: fields, labels, choices and search criteria."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One input of the entry form; ``name`` is the form field name and the database column."""

    name: str
    label: str
    kind: str = "text"  # text, date, amount, count, select, textarea
    required: bool = False
    group: str = "rechnung"
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    max_length: int = 200


#: Currencies the finance system books (ISO 4217); the invoice's own currency must be one of them.
WAEHRUNGEN: tuple[tuple[str, str], ...] = (
    ("EUR", "EUR – Euro"),
    ("CHF", "CHF – Schweizer Franken"),
    ("USD", "USD – US-Dollar"),
    ("GBP", "GBP – Pfund Sterling"),
)

GROUPS: tuple[tuple[str, str], ...] = (
    ("kontierung", "Kontierung"),
    ("rechnung", "Rechnung"),
    ("betraege", "Beträge"),
    ("ablage", "Ablage"),
)

FIELDS: tuple[Field, ...] = (
    Field("buchungskreis", "Buchungskreis", required=True, group="kontierung", hint="4 Ziffern", max_length=4),
    Field("kostenstelle", "Kostenstelle", required=True, group="kontierung", hint="4 bis 10 Ziffern", max_length=10),
    Field("leitweg_id", "Leitweg-ID", required=True, group="kontierung", hint="z. B. 06631009-FB20-27",
          max_length=46),
    Field("lieferant", "Lieferant", required=True),
    Field("rechnungsnummer", "Rechnungsnummer", required=True, max_length=60),
    Field("rechnungsdatum", "Rechnungsdatum", kind="date", required=True, hint="TT.MM.JJJJ"),
    Field("faelligkeit", "Fälligkeit", kind="date", hint="TT.MM.JJJJ"),
    Field("waehrung", "Währung", kind="select", required=True, choices=WAEHRUNGEN),
    Field("netto", "Nettobetrag", kind="amount", required=True, group="betraege", hint="1.234,56"),
    Field("steuer", "Umsatzsteuer", kind="amount", required=True, group="betraege", hint="1.234,56"),
    Field("brutto", "Bruttobetrag", kind="amount", required=True, group="betraege", hint="1.234,56"),
    Field("zahlbetrag", "Zahlbetrag", kind="amount", required=True, group="betraege", hint="1.234,56"),
    Field("positionen", "Anzahl Positionen", kind="count", required=True, group="betraege"),
    Field("archiv_referenz", "Archiv-Referenz", group="ablage", max_length=300),
    Field("bemerkung", "Bemerkung", kind="textarea", group="ablage", max_length=1000),
)

FIELDS_BY_NAME = {f.name: f for f in FIELDS}

SEARCH_FIELDS: tuple[tuple[str, str], ...] = (
    ("lieferant", "Lieferant (enthält)"),
    ("rechnungsnummer", "Rechnungsnummer (genau)"),
    ("leitweg_id", "Leitweg-ID"),
    ("belegnummer", "Belegnummer"),
)


def fields_of_group(group: str) -> list[Field]:
    """The fields shown in one section of the form."""
    return [f for f in FIELDS if f.group == group]
