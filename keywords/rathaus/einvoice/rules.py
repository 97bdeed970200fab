"""Business rules of EN 16931 and XRechnung that the library checks, with German findings.

Not a replacement for the KoSIT validator (see docs/adr/0007-e-invoices.md): it checks the mandatory
terms a receiving authority needs, the currencies (ISO 4217 codes, every amount in the invoice currency),
the arithmetic of the totals, and the decimals of amounts. Sums are
compared the way the standard's Schematron does: the computed value rounded to two decimals (XPath
``round``: halves towards +∞) must equal the stated amount exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, localcontext
from pathlib import Path

from rathaus.einvoice.codelists import is_iso4217_currency
from rathaus.einvoice.errors import EInvoiceError, InvalidInvoiceError
from rathaus.einvoice.model import Finding, Invoice, german_amount, round_amount

#: Our own rule (no EN 16931 / XRechnung rule says it; Peppol BIS has it as PEPPOL-EN16931-R051): every
#: amount's currencyID is the invoice currency BT-5, except the VAT total in the VAT currency (BT-111).
RATHAUS_CURRENCY = "RATHAUS-CURRENCY"

#: Every rule id this module can report, with what it requires.
RULES: dict[str, str] = {
    "BR-01": "Spezifikationskennung (BT-24) vorhanden",
    "BR-02": "Rechnungsnummer (BT-1) vorhanden",
    "BR-03": "Rechnungsdatum (BT-2) vorhanden",
    "BR-04": "Rechnungsart (BT-3) vorhanden",
    "BR-05": "Währung (BT-5) vorhanden",
    "BR-06": "Name des Verkäufers (BT-27) vorhanden",
    "BR-07": "Name des Käufers (BT-44) vorhanden",
    "BR-12": "Summe der Positionsbeträge (BT-106) vorhanden",
    "BR-13": "Gesamtbetrag ohne Umsatzsteuer (BT-109) vorhanden",
    "BR-14": "Gesamtbetrag mit Umsatzsteuer (BT-112) vorhanden",
    "BR-15": "Zahlbetrag (BT-115) vorhanden",
    "BR-16": "mindestens eine Rechnungsposition (BG-25)",
    "BR-21": "jede Position hat eine Positionsnummer (BT-126)",
    "BR-22": "jede Position hat eine Menge (BT-129)",
    "BR-23": "jede Position hat eine Mengeneinheit (BT-130)",
    "BR-24": "jede Position hat einen Nettobetrag (BT-131)",
    "BR-25": "jede Position hat einen Artikelnamen (BT-153)",
    "BR-53": "mit Steuerwährung (BT-6) auch Umsatzsteuer in Steuerwährung (BT-111)",
    "BR-CL-04": "Währung (BT-5) ist ein Code nach ISO 4217",
    "BR-CL-05": "Steuerwährung (BT-6) ist, wenn angegeben, ein Code nach ISO 4217",
    "BR-CO-10": "BT-106 = Summe der Positionsbeträge (BT-131)",
    "BR-CO-11": "BT-107 = Summe der Nachlässe auf Belegebene (BT-92)",
    "BR-CO-12": "BT-108 = Summe der Zuschläge auf Belegebene (BT-99)",
    "BR-CO-13": "BT-109 = BT-106 − BT-107 + BT-108",
    "BR-CO-14": "BT-110 = Summe der Steuerbeträge je Kategorie (BT-117)",
    "BR-CO-15": "BT-112 = BT-109 + BT-110; BT-110 in der Rechnungswährung (BT-5)",
    "BR-CO-16": "BT-115 = BT-112 − BT-113 + BT-114",
    "BR-CO-18": "mindestens eine Umsatzsteueraufschlüsselung (BG-23)",
    "BR-DEC-09": "BT-106 höchstens zwei Nachkommastellen",
    "BR-DEC-10": "BT-107 höchstens zwei Nachkommastellen",
    "BR-DEC-11": "BT-108 höchstens zwei Nachkommastellen",
    "BR-DEC-12": "BT-109 höchstens zwei Nachkommastellen",
    "BR-DEC-13": "BT-110 höchstens zwei Nachkommastellen",
    "BR-DEC-14": "BT-112 höchstens zwei Nachkommastellen",
    "BR-DEC-16": "BT-113 höchstens zwei Nachkommastellen",
    "BR-DEC-17": "BT-114 höchstens zwei Nachkommastellen",
    "BR-DEC-18": "BT-115 höchstens zwei Nachkommastellen",
    "BR-DEC-23": "BT-131 höchstens zwei Nachkommastellen",
    "BR-DE-15": "Käuferreferenz / Leitweg-ID (BT-10) vorhanden (nur XRechnung)",
    "BR-DEX-09": "XRechnung-Extension: BT-115 = BT-112 − BT-113 + BT-114 + Summe der Zahlungen durch Dritte",
    RATHAUS_CURRENCY: "alle Beträge in der Rechnungswährung (BT-5), nur BT-111 in der Steuerwährung (BT-6)",
}

_ZERO = Decimal(0)

_MANDATORY: tuple[tuple[str, str, str], ...] = (
    ("BR-01", "specification_id", "Spezifikationskennung (BT-24)"),
    ("BR-02", "number", "Rechnungsnummer (BT-1)"),
    ("BR-03", "issue_date", "Rechnungsdatum (BT-2)"),
    ("BR-04", "type_code", "Rechnungsart (BT-3)"),
    ("BR-05", "currency", "Währung (BT-5)"),
    ("BR-06", "seller_name", "Name des Verkäufers (BT-27)"),
    ("BR-07", "buyer_name", "Name des Käufers (BT-44)"),
    ("BR-DE-15", "buyer_reference", "Käuferreferenz / Leitweg-ID (BT-10)"),
    ("BR-12", "line_total", "Summe der Positionsbeträge (BT-106)"),
    ("BR-13", "net_total", "Gesamtbetrag ohne Umsatzsteuer (BT-109)"),
    ("BR-14", "gross_total", "Gesamtbetrag mit Umsatzsteuer (BT-112)"),
    ("BR-15", "payable_amount", "Zahlbetrag (BT-115)"),
)

_LINE_MANDATORY: tuple[tuple[str, str, str], ...] = (
    ("BR-21", "id", "Positionsnummer (BT-126)"),
    ("BR-22", "quantity", "Menge (BT-129)"),
    ("BR-23", "unit", "Mengeneinheit (BT-130)"),
    ("BR-24", "net_amount", "Nettobetrag (BT-131)"),
    ("BR-25", "name", "Artikelname (BT-153)"),
)

_DECIMALS: tuple[tuple[str, str, str], ...] = (
    ("BR-DEC-09", "line_total", "Summe der Positionsbeträge"),
    ("BR-DEC-10", "allowance_total", "Summe der Nachlässe"),
    ("BR-DEC-11", "charge_total", "Summe der Zuschläge"),
    ("BR-DEC-12", "net_total", "Nettobetrag"),
    ("BR-DEC-13", "tax_total", "Umsatzsteuer"),
    ("BR-DEC-14", "gross_total", "Gesamtbetrag mit Steuer"),
    ("BR-DEC-16", "prepaid_amount", "Vorauszahlung"),
    ("BR-DEC-17", "rounding_amount", "Rundungsbetrag"),
    ("BR-DEC-18", "payable_amount", "Zahlbetrag"),
)

Check = Callable[[Invoice], Iterator[tuple[str, str]]]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _too_precise(value: Decimal | None) -> bool:
    return value is not None and value.as_tuple().exponent < -2  # type: ignore[operator]


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((value for value in values if value is not None), _ZERO)


def _g(value: Decimal | None) -> str:
    return german_amount(value)


def _vat_total_not_once_in_currency(invoice: Invoice) -> str | None:
    """EN 16931's Schematron checks inside BR-CO-15 that BT-110 is stated exactly once in the invoice currency
    (CII: or that there is no VAT at all, BT-112 = BT-109); the reason when it is not."""
    currency, stated = invoice.currency or "", invoice.tax_total_currencies
    if stated.count(currency) == 1 or _cii_without_vat(invoice):
        return None
    if stated.count(currency) > 1:
        return f"Umsatzsteuer (BT-110) ist {stated.count(currency)}-mal in {currency} angegeben statt einmal."
    if stated:
        return (
            f"Umsatzsteuer (BT-110) ist nicht in der Rechnungswährung {currency} angegeben, "
            f"nur in {', '.join(dict.fromkeys(stated))}."
        )
    if invoice.vat_breakdown or invoice.tax_total is not None:
        return f"Umsatzsteuer (BT-110) ist nicht in der Rechnungswährung {currency} angegeben."
    return None


def _cii_without_vat(invoice: Invoice) -> bool:
    """CII's BR-CO-15 also holds when BT-112 equals BT-109, whatever BT-110 says (an invoice without VAT)."""
    return invoice.syntax == "CII" and invoice.gross_total is not None and invoice.gross_total == invoice.net_total


def _tax_total_in_currency(invoice: Invoice) -> bool:
    return bool(invoice.currency) and invoice.currency in invoice.tax_total_currencies


def _mandatory(invoice: Invoice) -> Iterator[tuple[str, str]]:
    for rule, attribute, term in _MANDATORY:
        if rule.startswith("BR-DE-") and invoice.specification_id and not invoice.is_xrechnung:
            continue  # the BR-DE rules are XRechnung's; a ZUGFeRD or plain EN 16931 invoice need not follow them
        if _missing(getattr(invoice, attribute)):
            yield rule, f"{term} fehlt."


def _currencies(invoice: Invoice) -> Iterator[tuple[str, str]]:
    currency, tax_currency = invoice.currency, invoice.tax_currency
    if not _missing(currency) and not is_iso4217_currency(currency):  # type: ignore[arg-type]
        yield "BR-CL-04", f"Währung (BT-5) '{currency}' ist kein Währungscode nach ISO 4217 (z. B. EUR)."
    if not _missing(tax_currency) and not is_iso4217_currency(tax_currency):  # type: ignore[arg-type]
        yield "BR-CL-05", f"Steuerwährung (BT-6) '{tax_currency}' ist kein Währungscode nach ISO 4217 (z. B. EUR)."
    stated = invoice.tax_total_currencies
    if not _missing(tax_currency) and tax_currency not in stated:
        yield "BR-53", f"Umsatzsteuer in der Steuerwährung {tax_currency} (BT-111) fehlt, obwohl BT-6 angegeben ist."
    if _missing(currency):
        return  # BR-05
    finding = _vat_total_not_once_in_currency(invoice)
    if finding:
        yield "BR-CO-15", finding
    else:
        for other in dict.fromkeys(stated):
            if other not in (currency, tax_currency):
                yield RATHAUS_CURRENCY, (
                    f"Ein Steuergesamtbetrag ist in {other} angegeben, weder in der Rechnungswährung {currency} "
                    f"(BT-5) noch in einer Steuerwährung (BT-6)."
                )
    foreign: dict[str, list[str]] = {}
    for element, other in invoice.amount_currencies:
        if other != currency:
            foreign.setdefault(other, []).append(element)
    for other, elements in foreign.items():
        shown = ", ".join(elements[:5]) + (", …" if len(elements) > 5 else "")
        yield RATHAUS_CURRENCY, f"Beträge in {other} statt in der Rechnungswährung {currency} (BT-5): {shown}."


def _lines(invoice: Invoice) -> Iterator[tuple[str, str]]:
    if not invoice.lines:
        yield "BR-16", "Die Rechnung hat keine Position (BG-25)."
    for index, line in enumerate(invoice.lines, start=1):
        name = f"Position {line.id}" if line.id else f"Position Nr. {index} (ohne Positionsnummer)"
        for rule, attribute, term in _LINE_MANDATORY:
            if _missing(getattr(line, attribute)):
                yield rule, f"{name}: {term} fehlt."
        if _too_precise(line.net_amount):
            yield "BR-DEC-23", f"{name}: Nettobetrag {_g(line.net_amount)} hat mehr als zwei Nachkommastellen."
    if not invoice.vat_breakdown:
        yield "BR-CO-18", "Die Rechnung hat keine Umsatzsteueraufschlüsselung (BG-23)."


def _decimals(invoice: Invoice) -> Iterator[tuple[str, str]]:
    for rule, attribute, term in _DECIMALS:
        value = getattr(invoice, attribute)
        if _too_precise(value):
            yield rule, f"{term} {_g(value)} hat mehr als zwei Nachkommastellen."


def _arithmetic(invoice: Invoice) -> Iterator[tuple[str, str]]:
    lines_sum = _sum(line.net_amount for line in invoice.lines)
    if invoice.line_total is not None and invoice.lines and invoice.line_total != round_amount(lines_sum):
        yield "BR-CO-10", (
            f"Summe der Positionsbeträge {_g(invoice.line_total)} ≠ Summe der {len(invoice.lines)} "
            f"Positionen {_g(lines_sum)}."
        )
    allowances = [item.amount for item in invoice.allowances_charges if not item.is_charge]
    if (allowances or invoice.allowance_total is not None) and (invoice.allowance_total or _ZERO) != round_amount(
        _sum(allowances)
    ):
        yield "BR-CO-11", (
            f"Summe der Nachlässe {_g(invoice.allowance_total or _ZERO)} ≠ Summe der {len(allowances)} "
            f"Nachlässe auf Belegebene {_g(_sum(allowances))}."
        )
    charges = [item.amount for item in invoice.allowances_charges if item.is_charge]
    if (charges or invoice.charge_total is not None) and (invoice.charge_total or _ZERO) != round_amount(
        _sum(charges)
    ):
        yield "BR-CO-12", (
            f"Summe der Zuschläge {_g(invoice.charge_total or _ZERO)} ≠ Summe der {len(charges)} "
            f"Zuschläge auf Belegebene {_g(_sum(charges))}."
        )
    base = invoice.line_total if invoice.line_total is not None else (lines_sum if invoice.lines else None)
    allowance_total, charge_total = invoice.allowance_total or _ZERO, invoice.charge_total or _ZERO
    if invoice.net_total is not None and base is not None and invoice.net_total != round_amount(
        base - allowance_total + charge_total
    ):
        yield "BR-CO-13", (
            f"Nettobetrag {_g(invoice.net_total)} ≠ Summe der Positionen {_g(base)} − Nachlässe "
            f"{_g(allowance_total)} + Zuschläge {_g(charge_total)}."
        )
    category_tax = _sum(item.tax_amount for item in invoice.vat_breakdown)
    # BR-CO-14 is checked on BT-110 where it is stated: UBL on a TaxTotal with a breakdown, CII on the
    # TaxTotalAmount in the invoice currency; a missing BT-110 is BR-CO-15's finding
    checked = invoice.tax_total is not None and (
        bool(invoice.vat_breakdown) if invoice.syntax == "UBL" else _tax_total_in_currency(invoice)
    )
    if checked and invoice.tax_total != round_amount(category_tax):
        yield "BR-CO-14", (
            f"Umsatzsteuer {_g(invoice.tax_total or _ZERO)} ≠ Summe der Steuerbeträge je Steuerkategorie "
            f"{_g(category_tax)}."
        )
    tax = invoice.tax_total or _ZERO
    if invoice.gross_total is not None and invoice.net_total is not None and invoice.gross_total != round_amount(
        invoice.net_total + tax
    ) and not _cii_without_vat(invoice) and not (invoice.currency and _vat_total_not_once_in_currency(invoice)):
        yield "BR-CO-15", (
            f"Gesamtbetrag mit Steuer {_g(invoice.gross_total)} ≠ Nettobetrag {_g(invoice.net_total)} + "
            f"Steuer {_g(tax)}."
        )
    prepaid, rounding = invoice.prepaid_amount or _ZERO, invoice.rounding_amount or _ZERO
    if invoice.is_extension and invoice.payable_amount is not None and invoice.gross_total is not None:
        # the extension turns BR-CO-16 into information and checks BR-DEX-09 (third party payments) instead
        third = _sum(invoice.third_party_payments)
        if round_amount(invoice.payable_amount - rounding) != round_amount(invoice.gross_total - prepaid + third):
            yield "BR-DEX-09", (
                f"Zahlbetrag {_g(invoice.payable_amount)} ≠ Gesamtbetrag mit Steuer {_g(invoice.gross_total)} − "
                f"Vorauszahlung {_g(prepaid)} + Rundung {_g(rounding)} + Zahlungen durch Dritte {_g(third)}."
            )
    elif invoice.payable_amount is not None and invoice.gross_total is not None and (
        invoice.payable_amount != round_amount(invoice.gross_total - prepaid + rounding)
    ):
        yield "BR-CO-16", (
            f"Zahlbetrag {_g(invoice.payable_amount)} ≠ Gesamtbetrag mit Steuer {_g(invoice.gross_total)} − "
            f"Vorauszahlung {_g(prepaid)} + Rundung {_g(rounding)}."
        )


#: The checks in the order their findings are listed.
CHECKS: tuple[Check, ...] = (_mandatory, _currencies, _lines, _decimals, _arithmetic)


def invoice_findings(invoice: Invoice) -> list[Finding]:
    """Every violated rule of :data:`RULES`, in a stable order; an empty list for a valid invoice."""
    # the reader bounds every value (rathaus.einvoice._xml); the wide context keeps even sums of many exact
    with localcontext(prec=60):
        return [Finding(rule, text, invoice.label) for check in CHECKS for rule, text in check(invoice)]


def validate_invoice(invoice: Invoice) -> Invoice:
    """Return the invoice when it breaks none of the rules, else raise :class:`InvalidInvoiceError`.

    The error's message lists every finding with its rule id on one German line, e.g.
    ``rechnung.xml: Rechnung 4711 ungültig – [BR-CO-15] Gesamtbetrag mit Steuer 119,00 ≠ Nettobetrag
    100,00 + Steuer 20,00. Bitte weisen Sie …``; ``error.findings`` and ``error.rules`` give them singly.
    """
    findings = invoice_findings(invoice)
    if findings:
        raise InvalidInvoiceError(invoice.source, invoice.number, findings)
    return invoice


def check_file(path: str | Path) -> tuple[Invoice | None, list[Finding]]:
    """Read and check a file without raising for the invoice's own faults.

    Returns the invoice (``None`` when the file is no readable e-invoice) and its findings; a file that
    cannot be read gives one finding with the problem's id (``SYNTAX-XML``, ``PDF-NO-INVOICE``, …).
    """
    from rathaus.einvoice.reader import read_invoice

    try:
        invoice = read_invoice(path)
    except EInvoiceError as error:
        return None, error.findings
    return invoice, invoice_findings(invoice)
