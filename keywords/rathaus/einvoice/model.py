"""One model for every e-invoice syntax: UBL 2.1 Invoice/CreditNote and UN/CEFACT CII, plain or inside a PDF.

The fields carry the EN 16931 business terms (BT-…) named in their comments. Amounts are
:class:`~decimal.Decimal` exactly as the invoice states them; a term the invoice leaves out is ``None``,
never a made-up zero, so that validation can tell "missing" from "0". Nothing here imports lxml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

#: The two syntaxes of EN 16931 that XRechnung allows.
SYNTAXES = ("UBL", "CII")

_CENT = Decimal("0.01")

#: What BT-24 (specification identifier) of an XRechnung contains, and what the extension's adds.
XRECHNUNG_MARK = "urn:xeinkauf.de:kosit:xrechnung"
EXTENSION_MARK = "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung"


def round_amount(value: Decimal) -> Decimal:
    """Round to two decimals the way the standard's Schematron does (XPath ``round(x * 100) div 100``).

    XPath rounds halves towards positive infinity: ``2.345`` becomes ``2.35`` and ``-2.345`` becomes
    ``-2.34``.
    """
    return value.quantize(_CENT, rounding=ROUND_HALF_UP if value >= 0 else ROUND_HALF_DOWN)


def amount_text(value: Decimal | None) -> str | None:
    """An amount as a plain decimal string with at least two decimals: ``"1234.50"``, ``"-5.00"``.

    More decimals than two are kept as stated (``"0.125"``), so nothing is lost; no exponent notation.
    """
    if value is None:
        return None
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(_CENT)
    return f"{value:f}"


def german_amount(value: Decimal | None) -> str:
    """An amount as a clerk reads it: ``1.234,50``; more than two stated decimals are kept."""
    if value is None:
        return "–"
    text = amount_text(value) or ""
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{'.'.join(groups)},{fraction}"


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice line (BG-25)."""

    id: str | None  # BT-126
    name: str | None  # BT-153 item name
    quantity: Decimal | None  # BT-129
    unit: str | None  # BT-130 (UN/ECE Rec 20 code, e.g. "H87" piece, "HUR" hour)
    net_amount: Decimal | None  # BT-131
    price: Decimal | None = None  # BT-146 item net price
    vat_category: str | None = None  # BT-151
    vat_rate: Decimal | None = None  # BT-152


@dataclass(frozen=True)
class VatBreakdown:
    """One VAT category of the VAT breakdown (BG-23)."""

    category: str | None  # BT-118, e.g. "S" standard rate, "E" exempt, "AE" reverse charge
    rate: Decimal | None  # BT-119 percent
    taxable_amount: Decimal | None  # BT-116
    tax_amount: Decimal | None  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_reason_code: str | None = None  # BT-121


@dataclass(frozen=True)
class AllowanceCharge:
    """A document level allowance (BG-20) or charge (BG-21)."""

    is_charge: bool
    amount: Decimal | None  # BT-92 / BT-99
    reason: str | None = None  # BT-97 / BT-104
    vat_category: str | None = None  # BT-95 / BT-102
    vat_rate: Decimal | None = None  # BT-96 / BT-103


@dataclass(frozen=True, repr=False)
class Invoice:
    """An e-invoice read from XRechnung (UBL or CII) or ZUGFeRD/Factur-X, in one model.

    ``repr`` shows only the number and syntax: invoices may carry personal names (sole traders,
    contact persons), and Robot Framework logs assigned values with their ``repr``.
    """

    number: str | None  # BT-1
    issue_date: date | None  # BT-2
    type_code: str | None  # BT-3, e.g. "380" invoice, "381" credit note, "384" corrected invoice
    currency: str | None  # BT-5
    seller_name: str | None  # BT-27
    buyer_name: str | None  # BT-44
    buyer_reference: str | None  # BT-10, the Leitweg-ID for public buyers in Germany
    line_total: Decimal | None  # BT-106 sum of invoice line net amounts
    allowance_total: Decimal | None  # BT-107
    charge_total: Decimal | None  # BT-108
    net_total: Decimal | None  # BT-109 invoice total without VAT
    tax_total: Decimal | None  # BT-110 total VAT in the invoice currency
    gross_total: Decimal | None  # BT-112 invoice total with VAT
    prepaid_amount: Decimal | None  # BT-113
    rounding_amount: Decimal | None  # BT-114
    payable_amount: Decimal | None  # BT-115 amount due for payment
    due_date: date | None  # BT-9
    lines: tuple[InvoiceLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    allowances_charges: tuple[AllowanceCharge, ...]
    syntax: str  # "UBL" or "CII"
    source: str  # file name the invoice came from (the PDF's name for an embedded invoice)
    specification_id: str | None = None  # BT-24, e.g. "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:…"
    seller_vat_id: str | None = None  # BT-31
    seller_tax_number: str | None = None  # BT-32
    seller_email: str | None = None  # BT-34 when its scheme is "EM" (e-mail)
    seller_contact_name: str | None = None  # BT-41
    seller_contact_email: str | None = None  # BT-43
    tax_currency: str | None = None  # BT-6
    #: currencyIDs of the document level VAT totals (BT-110 and, with BT-6, BT-111), as stated, in order
    tax_total_currencies: tuple[str, ...] = ()
    #: (element, currencyID) of every other amount that states a currency, each pair once, in document order
    amount_currencies: tuple[tuple[str, str], ...] = ()
    attachment: str | None = None  # name of the XML file inside the PDF, None for plain XML
    #: BT-DEX-002 third party payment amounts (XRechnung extension, UBL ``cac:PrepaidPayment/cbc:PaidAmount``)
    third_party_payments: tuple[Decimal, ...] = ()

    def __repr__(self) -> str:
        return f"Invoice(number={self.number!r}, syntax={self.syntax!r})"

    __str__ = __repr__

    @property
    def is_xrechnung(self) -> bool:
        """Whether BT-24 names XRechnung (standard, extension or CVD): only then do the BR-DE rules apply."""
        return XRECHNUNG_MARK in (self.specification_id or "")

    @property
    def is_extension(self) -> bool:
        """Whether BT-24 names the XRechnung extension (sub-lines, third party payment, ...)."""
        return EXTENSION_MARK in (self.specification_id or "")

    @property
    def line_count(self) -> int:
        """Number of invoice lines."""
        return len(self.lines)

    @property
    def reply_address(self) -> str | None:
        """Where to send a rejection: the seller's contact e-mail (BT-43), else its e-mail address (BT-34)."""
        return self.seller_contact_email or self.seller_email

    @property
    def label(self) -> str:
        """How messages name the invoice: ``Rechnung 4711 (rechnung.xml)``."""
        if self.number:
            return f"Rechnung {self.number} ({self.source})"
        return f"Rechnung ohne Nummer ({self.source})"

    def summary(self) -> InvoiceSummary:
        """The invoice's key data as a JSON-ready dictionary.

        Keys: ``number``, ``issue_date`` (ISO ``YYYY-MM-DD``), ``currency``, ``seller_name``,
        ``buyer_reference``, ``net_total`` (BT-109), ``tax_total`` (BT-110), ``payable_amount``
        (BT-115), ``line_count`` and ``syntax`` (``UBL``/``CII``). Amounts are decimal strings with at
        least two decimals (``"1234.50"``) so that nothing is lost to binary floating point; a term the
        invoice leaves out is ``None``.
        """
        return InvoiceSummary(
            number=self.number,
            issue_date=self.issue_date.isoformat() if self.issue_date else None,
            currency=self.currency,
            seller_name=self.seller_name,
            buyer_reference=self.buyer_reference,
            net_total=amount_text(self.net_total),
            tax_total=amount_text(self.tax_total),
            payable_amount=amount_text(self.payable_amount),
            line_count=self.line_count,
            syntax=self.syntax,
        )


class InvoiceSummary(dict):  # type: ignore[type-arg]
    """The dictionary of :meth:`Invoice.summary`; its text form hides the values (Robot logs it)."""

    def __repr__(self) -> str:
        return f"<Rechnungsübersicht {self.get('number')} ({self.get('syntax')})>"

    __str__ = __repr__


@dataclass(frozen=True)
class Finding:
    """One violated business rule: the rule id, what is wrong, and which invoice.

    ``text`` is the German sentence without the invoice (``Rechnungsnummer (BT-1) fehlt.``);
    ``message`` names the invoice (``Rechnung 4711 (rechnung.xml): Rechnungsnummer (BT-1) fehlt.``).
    ``str(finding)`` puts the rule id in front: ``[BR-02] Rechnung …``. A file that is no e-invoice has
    no invoice to name (``invoice`` empty); its ``text`` names the file itself.
    """

    rule: str
    text: str
    invoice: str = ""

    @property
    def message(self) -> str:
        return f"{self.invoice}: {self.text}" if self.invoice else self.text

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """``{"rule": …, "message": …, "text": …}``, JSON-ready, for work items and Robot."""
        return {"rule": self.rule, "message": self.message, "text": self.text}
