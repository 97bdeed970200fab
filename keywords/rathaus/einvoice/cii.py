"""UN/CEFACT Cross Industry Invoice D16B (XRechnung CII, ZUGFeRD 2.x / Factur-X) to :class:`Invoice`.

Paths follow the EN 16931 CII syntax binding. Lines with a ``ParentLineID`` are sub-lines (XRechnung
extension) and do not count as invoice lines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rathaus.einvoice._xml import Values
from rathaus.einvoice.model import AllowanceCharge, Invoice, InvoiceLine, VatBreakdown

_DOC = "rsm:ExchangedDocument"
_TX = "rsm:SupplyChainTradeTransaction"
_AGREEMENT = f"{_TX}/ram:ApplicableHeaderTradeAgreement"
_SELLER = f"{_AGREEMENT}/ram:SellerTradeParty"
_SETTLEMENT = f"{_TX}/ram:ApplicableHeaderTradeSettlement"
_SUMS = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
_LINE_SETTLEMENT = "ram:SpecifiedLineTradeSettlement"
_LINES = f"{_TX}/ram:IncludedSupplyChainTradeLineItem[not(ram:AssociatedDocumentLineDocument/ram:ParentLineID)]"
_CONTACT = f"{_SELLER}/ram:DefinedTradeContact"


def _tax_total(v: Values, root: Any, currency: str | None, tax_currency: str | None) -> Decimal | None:
    """BT-110 is the ``TaxTotalAmount`` in the invoice currency (BT-111 the one in the VAT currency).

    Without one in the invoice currency, the one without ``currencyID`` is taken, else the first one that
    is not in the VAT currency, as the UBL mapping does; the rules then report that BT-110 is not in the
    invoice currency (BR-CO-15).
    """
    term = "BT-110 (Umsatzsteuer)"
    if not currency:
        return v.amount(root, f"{_SUMS}/ram:TaxTotalAmount", term)
    for path in (
        f"{_SUMS}/ram:TaxTotalAmount[@currencyID = $c]",
        f"{_SUMS}/ram:TaxTotalAmount[not(@currencyID)]",
        f"{_SUMS}/ram:TaxTotalAmount[not(@currencyID = $t)]",
    ):
        if v.node(root, path, c=currency, t=tax_currency or "") is not None:
            return v.amount(root, path, term, c=currency, t=tax_currency or "")
    return None


def read(root: Any, source: str, attachment: str | None = None) -> Invoice:
    v = Values(source)
    currency = v.code(root, f"{_SETTLEMENT}/ram:InvoiceCurrencyCode")
    tax_currency = v.code(root, f"{_SETTLEMENT}/ram:TaxCurrencyCode")
    tax_currencies, amount_currencies = v.currencies(root, v.nodes(root, f"{_SUMS}/ram:TaxTotalAmount"))
    lines = tuple(
        InvoiceLine(
            id=v.text(line, "ram:AssociatedDocumentLineDocument/ram:LineID"),
            name=v.text(line, "ram:SpecifiedTradeProduct/ram:Name"),
            quantity=v.amount(line, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", "BT-129 (Menge)"),
            unit=v.code(line, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode"),
            net_amount=v.amount(
                line,
                f"{_LINE_SETTLEMENT}/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                "BT-131 (Nettobetrag der Position)",
            ),
            price=v.amount(
                line, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
                "BT-146 (Einzelpreis)",
            ),
            vat_category=v.code(line, f"{_LINE_SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode"),
            vat_rate=v.amount(
                line, f"{_LINE_SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent", "BT-152 (Steuersatz)"
            ),
        )
        for line in v.nodes(root, _LINES)
    )
    breakdown = tuple(
        VatBreakdown(
            category=v.code(tax, "ram:CategoryCode"),
            rate=v.amount(tax, "ram:RateApplicablePercent", "BT-119 (Steuersatz)"),
            taxable_amount=v.amount(tax, "ram:BasisAmount", "BT-116 (Steuerbemessungsgrundlage)"),
            tax_amount=v.amount(tax, "ram:CalculatedAmount", "BT-117 (Steuerbetrag der Kategorie)"),
            exemption_reason=v.text(tax, "ram:ExemptionReason"),
            exemption_reason_code=v.code(tax, "ram:ExemptionReasonCode"),
        )
        for tax in v.nodes(root, f"{_SETTLEMENT}/ram:ApplicableTradeTax")
    )
    allowances_charges = tuple(
        AllowanceCharge(
            is_charge=v.indicator(item, "ram:ChargeIndicator/udt:Indicator", "ChargeIndicator (Nachlass/Zuschlag)"),
            amount=v.amount(item, "ram:ActualAmount", "BT-92/BT-99 (Betrag des Nachlasses/Zuschlags)"),
            reason=v.text(item, "ram:Reason"),
            vat_category=v.code(item, "ram:CategoryTradeTax/ram:CategoryCode"),
            vat_rate=v.amount(item, "ram:CategoryTradeTax/ram:RateApplicablePercent", "BT-96/BT-103 (Steuersatz)"),
        )
        for item in v.nodes(root, f"{_SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge")
    )
    return Invoice(
        number=v.text(root, f"{_DOC}/ram:ID"),
        issue_date=v.cii_date(root, f"{_DOC}/ram:IssueDateTime/udt:DateTimeString", "BT-2 (Rechnungsdatum)"),
        type_code=v.code(root, f"{_DOC}/ram:TypeCode"),
        currency=currency,
        seller_name=v.text(root, f"{_SELLER}/ram:Name"),
        buyer_name=v.text(root, f"{_AGREEMENT}/ram:BuyerTradeParty/ram:Name"),
        buyer_reference=v.text(root, f"{_AGREEMENT}/ram:BuyerReference"),
        line_total=v.amount(root, f"{_SUMS}/ram:LineTotalAmount", "BT-106 (Summe der Positionen)"),
        allowance_total=v.amount(root, f"{_SUMS}/ram:AllowanceTotalAmount", "BT-107 (Summe der Nachlässe)"),
        charge_total=v.amount(root, f"{_SUMS}/ram:ChargeTotalAmount", "BT-108 (Summe der Zuschläge)"),
        net_total=v.amount(root, f"{_SUMS}/ram:TaxBasisTotalAmount", "BT-109 (Nettobetrag)"),
        tax_total=_tax_total(v, root, currency, tax_currency),
        gross_total=v.amount(root, f"{_SUMS}/ram:GrandTotalAmount", "BT-112 (Gesamtbetrag)"),
        prepaid_amount=v.amount(root, f"{_SUMS}/ram:TotalPrepaidAmount", "BT-113 (Vorauszahlung)"),
        rounding_amount=v.amount(root, f"{_SUMS}/ram:RoundingAmount", "BT-114 (Rundungsbetrag)"),
        payable_amount=v.amount(root, f"{_SUMS}/ram:DuePayableAmount", "BT-115 (Zahlbetrag)"),
        due_date=v.cii_date(
            root, f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
            "BT-9 (Fälligkeitsdatum)",
        ),
        lines=lines,
        vat_breakdown=breakdown,
        allowances_charges=allowances_charges,
        syntax="CII",
        source=source,
        specification_id=v.text(
            root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
        ),
        seller_vat_id=v.text(root, f"{_SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID = 'VA']"),
        seller_tax_number=v.text(root, f"{_SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID = 'FC']"),
        seller_email=v.text(root, f"{_SELLER}/ram:URIUniversalCommunication/ram:URIID[@schemeID = 'EM']"),
        seller_contact_name=v.text(root, f"{_CONTACT}/ram:PersonName | {_CONTACT}/ram:DepartmentName"),
        seller_contact_email=v.text(root, f"{_CONTACT}/ram:EmailURIUniversalCommunication/ram:URIID"),
        tax_currency=tax_currency,
        tax_total_currencies=tax_currencies,
        amount_currencies=amount_currencies,
        attachment=attachment,
    )
