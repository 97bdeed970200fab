"""UBL 2.1 Invoice and CreditNote (XRechnung UBL syntax binding) to :class:`Invoice`.

Paths follow the EN 16931 UBL syntax binding; ``cac:InvoiceLine``/``cac:CreditNoteLine`` and their
quantities are read alike. Only top-level lines count as invoice lines (XRechnung's sub-lines in the
extension are details of their parent).
"""

from __future__ import annotations

from typing import Any

from rathaus.einvoice._xml import Values
from rathaus.einvoice.model import AllowanceCharge, Invoice, InvoiceLine, VatBreakdown

_SELLER = "cac:AccountingSupplierParty/cac:Party"
_BUYER = "cac:AccountingCustomerParty/cac:Party"
_TOTALS = "cac:LegalMonetaryTotal"


def _tax_total(
    v: Values, root: Any, currency: str | None, tax_currency: str | None
) -> tuple[Any | None, list[Any]]:
    """The ``cac:TaxTotal`` that holds BT-110 (in the invoice currency), and the VAT breakdown entries.

    Without one in the invoice currency: one without ``currencyID``, else any but BT-111 (in the VAT
    currency); the rules then report that BT-110 is not in the invoice currency (BR-CO-15).
    """
    totals = v.nodes(root, "cac:TaxTotal")
    in_currency = [t for t in totals if v.node(t, "cbc:TaxAmount[@currencyID = $c]", c=currency) is not None] \
        if currency else []
    without_id = [t for t in totals if v.node(t, "cbc:TaxAmount/@currencyID") is None]
    not_bt_111 = [t for t in totals if v.node(t, "cbc:TaxAmount[@currencyID = $tc]", tc=tax_currency or "") is None]
    candidates = in_currency or without_id or (not_bt_111 if currency else totals)
    with_breakdown = [t for t in candidates if v.nodes(t, "cac:TaxSubtotal")]
    chosen = (with_breakdown or candidates or [None])[0]
    subtotals = v.nodes(chosen, "cac:TaxSubtotal") if chosen is not None else []
    if not subtotals:
        subtotals = v.nodes(root, "cac:TaxTotal/cac:TaxSubtotal")
    return chosen, subtotals


def read(root: Any, source: str, attachment: str | None = None) -> Invoice:
    v = Values(source)
    currency = v.code(root, "cbc:DocumentCurrencyCode")
    tax_currency = v.code(root, "cbc:TaxCurrencyCode")
    tax_total, subtotals = _tax_total(v, root, currency, tax_currency)
    tax_currencies, amount_currencies = v.currencies(root, v.nodes(root, "cac:TaxTotal/cbc:TaxAmount"))
    lines = tuple(
        InvoiceLine(
            id=v.text(line, "cbc:ID"),
            name=v.text(line, "cac:Item/cbc:Name"),
            quantity=v.amount(line, "cbc:InvoicedQuantity | cbc:CreditedQuantity", "BT-129 (Menge)"),
            unit=v.code(line, "cbc:InvoicedQuantity/@unitCode | cbc:CreditedQuantity/@unitCode"),
            net_amount=v.amount(line, "cbc:LineExtensionAmount", "BT-131 (Nettobetrag der Position)"),
            price=v.amount(line, "cac:Price/cbc:PriceAmount", "BT-146 (Einzelpreis)"),
            vat_category=v.code(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
            vat_rate=v.amount(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", "BT-152 (Steuersatz)"),
        )
        for line in v.nodes(root, "cac:InvoiceLine | cac:CreditNoteLine")
    )
    breakdown = tuple(
        VatBreakdown(
            category=v.code(sub, "cac:TaxCategory/cbc:ID"),
            rate=v.amount(sub, "cac:TaxCategory/cbc:Percent", "BT-119 (Steuersatz)"),
            taxable_amount=v.amount(sub, "cbc:TaxableAmount", "BT-116 (Steuerbemessungsgrundlage)"),
            tax_amount=v.amount(sub, "cbc:TaxAmount", "BT-117 (Steuerbetrag der Kategorie)"),
            exemption_reason=v.text(sub, "cac:TaxCategory/cbc:TaxExemptionReason"),
            exemption_reason_code=v.code(sub, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
        )
        for sub in subtotals
    )
    allowances_charges = tuple(
        AllowanceCharge(
            is_charge=v.indicator(item, "cbc:ChargeIndicator", "ChargeIndicator (Nachlass/Zuschlag)"),
            amount=v.amount(item, "cbc:Amount", "BT-92/BT-99 (Betrag des Nachlasses/Zuschlags)"),
            reason=v.text(item, "cbc:AllowanceChargeReason"),
            vat_category=v.code(item, "cac:TaxCategory/cbc:ID"),
            vat_rate=v.amount(item, "cac:TaxCategory/cbc:Percent", "BT-96/BT-103 (Steuersatz)"),
        )
        for item in v.nodes(root, "cac:AllowanceCharge")
    )
    return Invoice(
        number=v.text(root, "cbc:ID"),
        issue_date=v.iso_date(root, "cbc:IssueDate", "BT-2 (Rechnungsdatum)"),
        type_code=v.code(root, "cbc:InvoiceTypeCode | cbc:CreditNoteTypeCode"),
        currency=currency,
        seller_name=v.text(root, f"{_SELLER}/cac:PartyLegalEntity/cbc:RegistrationName"),
        buyer_name=v.text(root, f"{_BUYER}/cac:PartyLegalEntity/cbc:RegistrationName"),
        buyer_reference=v.text(root, "cbc:BuyerReference"),
        line_total=v.amount(root, f"{_TOTALS}/cbc:LineExtensionAmount", "BT-106 (Summe der Positionen)"),
        allowance_total=v.amount(root, f"{_TOTALS}/cbc:AllowanceTotalAmount", "BT-107 (Summe der Nachlässe)"),
        charge_total=v.amount(root, f"{_TOTALS}/cbc:ChargeTotalAmount", "BT-108 (Summe der Zuschläge)"),
        net_total=v.amount(root, f"{_TOTALS}/cbc:TaxExclusiveAmount", "BT-109 (Nettobetrag)"),
        tax_total=v.amount(tax_total, "cbc:TaxAmount", "BT-110 (Umsatzsteuer)") if tax_total is not None else None,
        gross_total=v.amount(root, f"{_TOTALS}/cbc:TaxInclusiveAmount", "BT-112 (Gesamtbetrag)"),
        prepaid_amount=v.amount(root, f"{_TOTALS}/cbc:PrepaidAmount", "BT-113 (Vorauszahlung)"),
        rounding_amount=v.amount(root, f"{_TOTALS}/cbc:PayableRoundingAmount", "BT-114 (Rundungsbetrag)"),
        payable_amount=v.amount(root, f"{_TOTALS}/cbc:PayableAmount", "BT-115 (Zahlbetrag)"),
        due_date=v.iso_date(root, "cbc:DueDate | cac:PaymentMeans/cbc:PaymentDueDate", "BT-9 (Fälligkeitsdatum)"),
        lines=lines,
        vat_breakdown=breakdown,
        allowances_charges=allowances_charges,
        syntax="UBL",
        source=source,
        specification_id=v.text(root, "cbc:CustomizationID"),
        seller_vat_id=v.text(root, f"{_SELLER}/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID"),
        seller_tax_number=v.text(
            root, f"{_SELLER}/cac:PartyTaxScheme[not(cac:TaxScheme/cbc:ID = 'VAT')]/cbc:CompanyID"
        ),
        seller_email=v.text(root, f"{_SELLER}/cbc:EndpointID[@schemeID = 'EM']"),
        seller_contact_name=v.text(root, f"{_SELLER}/cac:Contact/cbc:Name"),
        seller_contact_email=v.text(root, f"{_SELLER}/cac:Contact/cbc:ElectronicMail"),
        tax_currency=tax_currency,
        tax_total_currencies=tax_currencies,
        amount_currencies=amount_currencies,
        attachment=attachment,
        third_party_payments=tuple(
            amount for amount in (
                v.amount(payment, "cbc:PaidAmount", "BT-DEX-002 (Betrag der Zahlung durch Dritte)")
                for payment in v.nodes(root, "cac:PrepaidPayment")
            ) if amount is not None
        ),
    )
