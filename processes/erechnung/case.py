"""The case data of an e-invoice (work item variable ``fall``) and the clerk's corrections of its routing.

The invoice file stays the original: every attempt reads and checks it again, so what is booked and archived is
what the supplier sent. What the robot read is kept in ``fall`` on the first attempt (``fall.schema.yaml``); a
clerk may correct the routing there: the Leitweg-ID (BT-10, which names the receiving office), the Buchungskreis
and the Kostenstelle. :func:`route_by_case` applies such a correction to a check result: a corrected Leitweg-ID
replaces the invoice's for routing (the invoice's Leitweg findings no longer count; the corrected ID must have
valid check digits and name one of the city's offices), a corrected Buchungskreis or Kostenstelle replaces the
office's. The other fields of ``fall`` describe the invoice and are not corrections: they are restored from the
file.

The routing of ``fall`` always applies: a Leitweg-ID there that differs from the invoice's is a correction. The
robot keeps the routing it applied in ``fall`` and in the variable ``zuordnung``; comparing ``fall`` with
``zuordnung`` tells what the clerk changed since, so that a clerk who changes only the Leitweg-ID gets the
Buchungskreis and Kostenstelle of the new office, not those of the old one, while a Buchungskreis or Kostenstelle
the clerk set stays on later attempts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rathaus.einvoice.errors import InvalidLeitwegIdError
from rathaus.einvoice.leitweg import check_leitweg_id
from rathaus.einvoice.model import amount_text
from rathaus.errors import BusinessError

from erechnung.checks import LEITWEG_RULES, InvoiceCheck
from erechnung.routing import LeitwegDirectory

#: the fields of ``fall`` a clerk may correct: the routing
ROUTING_FIELDS = ("leitweg_id", "buchungskreis", "kostenstelle")
#: the fields of ``fall`` that describe the invoice as it came (restored from the file on every attempt)
INVOICE_FIELDS = ("rechnungsnummer", "rechnungsdatum", "verkaeufer", "zahlbetrag", "waehrung")


def case_data(check: InvoiceCheck) -> dict[str, Any]:
    """``fall`` as read from the invoice: its key data and the routing of its own Leitweg-ID (``None`` if none)."""
    invoice, office = check.invoice, check.office
    return {
        "rechnungsnummer": invoice.number if invoice else None,
        "rechnungsdatum": invoice.issue_date.strftime("%d.%m.%Y") if invoice and invoice.issue_date else None,
        "verkaeufer": invoice.seller_name if invoice else None,
        "leitweg_id": (office.leitweg_id if office else _text(invoice.buyer_reference)) if invoice else None,
        "buchungskreis": office.buchungskreis if office else None,
        "kostenstelle": office.kostenstelle if office else None,
        "zahlbetrag": amount_text(invoice.payable_amount) if invoice else None,
        "waehrung": invoice.currency if invoice else None,
    }


def routing_of(case: Mapping[str, Any]) -> dict[str, Any]:
    """The routing part of ``fall``: what the robot remembers as ``zuordnung``."""
    return {name: case.get(name) for name in ROUTING_FIELDS}


@dataclass(frozen=True)
class RoutedCheck:
    """A check result with the clerk's routing applied, and the case data to keep."""

    check: InvoiceCheck
    #: ``fall`` to keep: the invoice's own data and the routing that applies
    case: dict[str, Any]
    #: the routing fields that differ from the invoice's own (a clerk's corrections), in the order of ``ROUTING_FIELDS``
    corrected: tuple[str, ...]
    #: fields describing the invoice that the clerk changed: not taken, restored from the file
    ignored: tuple[str, ...]


def route_by_case(
    check: InvoiceCheck,
    case: Mapping[str, Any],
    recorded: Mapping[str, Any] | None,
    directory: LeitwegDirectory,
    city_name: str = "",
) -> RoutedCheck:
    """Apply the routing of ``case`` (``fall``), a clerk's corrections included, to ``check``.

    ``recorded`` is the routing the robot last kept (``zuordnung``), ``None`` on the first attempt (then the
    values read from the file): what differs from it, the clerk changed since. Raises a :class:`BusinessError`
    (``LEITWEG_KORREKTUR``, German, for the clerk) when a corrected Leitweg-ID is malformed or names none of the
    city's offices.
    """
    read = case_data(check)
    base = dict(recorded) if recorded is not None else routing_of(read)
    changed = {name for name in ROUTING_FIELDS if name in case and _key(case.get(name)) != _key(base.get(name))}
    ignored = tuple(name for name in INVOICE_FIELDS if name in case and _text(case.get(name)) != read[name])
    routed = check
    leitweg_id = _text(case.get("leitweg_id")) if "leitweg_id" in case else read["leitweg_id"]
    rerouted = check.invoice is not None and _key(leitweg_id) != _key(read["leitweg_id"])
    if rerouted:
        routed = _with_leitweg_id(check, leitweg_id, directory, city_name or directory.city)
    corrected = ["leitweg_id"] if rerouted else []
    if routed.office is not None:
        overrides = {}
        for name in ("buchungskreis", "kostenstelle"):
            value = _text(case.get(name))
            if "leitweg_id" in changed and name not in changed:
                value = None  # a new Leitweg-ID brings its office's, unless the clerk changed this one too
            if value and value != getattr(routed.office, name):
                overrides[name] = value
        if overrides:
            routed = replace(routed, office=replace(routed.office, **overrides))
            corrected += list(overrides)
    kept = {**read, **{name: _text(case.get(name)) for name in ROUTING_FIELDS if name in case}}
    if routed.office is not None:
        kept.update(leitweg_id=routed.office.leitweg_id, buchungskreis=routed.office.buchungskreis,
                    kostenstelle=routed.office.kostenstelle)
    if corrected:
        routed = replace(routed, corrected=tuple(corrected))
    return RoutedCheck(routed, kept, tuple(corrected), ignored)


def _with_leitweg_id(check: InvoiceCheck, leitweg_id: str | None, directory: LeitwegDirectory,
                     city_name: str) -> InvoiceCheck:
    """``check`` routed by the clerk's Leitweg-ID: the invoice's Leitweg findings dropped, the office replaced."""
    label = check.label
    if not leitweg_id:
        raise BusinessError(
            f"{label}: Die Leitweg-ID im Fall ist leer. Bitte die Leitweg-ID der empfangenden Stelle eintragen und "
            "erneut versuchen.",
            code="LEITWEG_KORREKTUR",
        )
    try:
        normalized = check_leitweg_id(leitweg_id)
    except InvalidLeitwegIdError as error:
        raise BusinessError(
            f"{label}: Die korrigierte Leitweg-ID '{_short(leitweg_id)}' ist ungültig: {error.reason}. Bitte im Fall "
            "korrigieren und erneut versuchen.",
            code="LEITWEG_KORREKTUR",
        ) from None
    office = directory.find(normalized)
    if office is None:
        known = ", ".join(f"{o.leitweg_id} ({o.bezeichnung})" for o in directory)
        raise BusinessError(
            f"{label}: Die korrigierte Leitweg-ID '{normalized}' gehört zu keinem Rechnungsempfänger der "
            f"{city_name}. Bitte im Fall eine dieser Leitweg-IDs eintragen und erneut versuchen: {known}.",
            code="LEITWEG_KORREKTUR",
        )
    findings = tuple(finding for finding in check.findings if finding.rule not in LEITWEG_RULES)
    return replace(check, findings=findings, office=office)


def _text(value: Any) -> str | None:
    """A field's value as stripped text, ``None`` when empty."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _key(value: Any) -> str:
    """A routing value for comparison: blanks and case do not matter (``06631009-ebf-30`` is ``06631009-EBF-30``)."""
    return "".join(str(value or "").split()).upper()


def _short(text: Any) -> str:
    return " ".join(str(text).split())[:60]
