"""Invoices the project makes itself from the official XRechnung test suite, one change each.

``invalid()`` gives at least one invalid invoice per rule family (EN 16931 core BR-nn, BR-CO, BR-CL, BR-DEC,
BR-<VAT category>, XRechnung BR-DE, CII syntax rules CII-SR, XML Schema, no matching scenario); ``valid()``
gives valid invoices the built-in rules once rejected (XRechnung extension with a third party payment, a CII
invoice whose VAT total is only in the VAT currency). The corpus itself stays read-only in
``../shared/corpora/xrechnung-testsuite/``; these are built in memory.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "xrechnung-testsuite"
KOSIT = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "kosit-xrechnung-config"

NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EXTENSION = (
    "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
    "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0"
)
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_SUMS = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


@dataclass(frozen=True)
class Variant:
    """One invoice made from a corpus file: its name, syntax, bytes and what was changed."""

    name: str
    family: str
    data: bytes
    change: str


def _first(root, path: str):
    found = root.xpath(path, namespaces=NS)
    assert found, path
    return found[0]


def _remove(path: str) -> Callable:
    def edit(root):
        for node in root.xpath(path, namespaces=NS):
            node.getparent().remove(node)
    return edit


def _set(path: str, text: str) -> Callable:
    def edit(root):
        node = _first(root, path)
        if isinstance(node, etree._ElementUnicodeResult):
            node.getparent().set(node.attrname, text)
        else:
            node.text = text
    return edit


def _add(path: str, delta: str) -> Callable:
    def edit(root):
        node = _first(root, path)
        node.text = str(Decimal(node.text) + Decimal(delta))
    return edit


def _duplicate(path: str) -> Callable:
    def edit(root):
        node = _first(root, path)
        node.addnext(copy.deepcopy(node))
    return edit


def _insert_before(path: str, xml: str) -> Callable:
    def edit(root):
        node = _first(root, path)
        node.addprevious(etree.fromstring(xml))
    return edit


def _changed(case: str, syntax: str, *edits: Callable) -> bytes:
    root = etree.fromstring((CORPUS / f"{case}-INVOICE_{syntax}.xml").read_bytes())
    for edit in edits:
        edit(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


_CBC = f'xmlns:cbc="{NS["cbc"]}"'
_RAM = f'xmlns:ram="{NS["ram"]}"'


def invalid() -> list[Variant]:
    """Invalid invoices, at least one per rule family."""
    seller = "cac:AccountingSupplierParty/cac:Party"
    line_tax = (
        "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem[1]/ram:SpecifiedLineTradeSettlement"
    )
    cases = [
        ("BR-CO-16", "BR-CO", "01.01a", "ubl", "Zahlbetrag +1", _add("cac:LegalMonetaryTotal/cbc:PayableAmount", "1")),
        ("BR-CO-10", "BR-CO", "01.01a", "uncefact", "Positionssumme +1", _add(f"{_SUMS}/ram:LineTotalAmount", "1")),
        ("two-BT-110", "BR-CO", "01.01a", "ubl", "zweiter TaxTotal in EUR", _duplicate("cac:TaxTotal")),
        ("BR-09", "BR", "01.01a", "ubl", "Land des Verkäufers fehlt",
         _remove(f"{seller}/cac:PostalAddress/cac:Country")),
        ("BR-CL-01", "BR-CL", "01.01a", "ubl", "Rechnungsart 999", _set("cbc:InvoiceTypeCode", "999")),
        ("BR-CL-06", "BR-CL", "01.01a", "uncefact", "Steuerfälligkeit mit Code 99",
         _insert_before(f"{_SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent",
                        f"<ram:DueDateTypeCode {_RAM}>99</ram:DueDateTypeCode>")),
        ("BR-CL-24", "BR-CL", "01.15a", "ubl", "MIME-Code text/html einer Anlage",
         _set("cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject/@mimeCode",
              "text/html")),
        ("BR-DEC-23", "BR-DEC", "01.01a", "ubl", "Positionsbetrag mit drei Nachkommastellen",
         _set("cac:InvoiceLine[1]/cbc:LineExtensionAmount", "288.791")),
        ("BR-O", "BR-O", "01.01a", "ubl", "Position 1 in Kategorie O",
         _set("cac:InvoiceLine[1]/cac:Item/cac:ClassifiedTaxCategory/cbc:ID", "O")),
        ("BR-DE-1", "BR-DE", "01.01a", "ubl", "keine Zahlungsanweisungen", _remove("cac:PaymentMeans")),
        ("BR-DE-3", "BR-DE", "01.01a", "ubl", "Ort des Verkäufers fehlt",
         _remove(f"{seller}/cac:PostalAddress/cbc:CityName")),
        ("CII-SR-452", "CII-SR", "01.01a", "uncefact", "zwei Zahlungsbedingungen",
         _duplicate(f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms")),
        ("CII-SR-454", "CII-SR", "01.01a", "uncefact", "zwei Steuerangaben in Position 1",
         _duplicate(f"{line_tax}/ram:ApplicableTradeTax")),
        ("SCHEMA", "SCHEMA", "01.01a", "ubl", "unbekanntes Element",
         _insert_before("cbc:IssueDate", f"<cbc:Unbekannt {_CBC}>x</cbc:Unbekannt>")),
        ("XRechnung-1.2", "NO-SCENARIO", "01.01a", "ubl", "Spezifikationskennung XRechnung 1.2",
         _set("cbc:CustomizationID", "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_1.2")),
    ]
    return [
        Variant(f"{name}_{syntax}", family, _changed(case, syntax, *edits), change)
        for name, family, case, syntax, change, *edits in cases
    ]


def valid() -> list[Variant]:
    """Valid invoices that the built-in rules once rejected, and one accepted with a warning only."""
    payment = (
        f'<cac:PrepaidPayment xmlns:cac="{NS["cac"]}" {_CBC}><cbc:ID>Gutschein</cbc:ID>'
        '<cbc:PaidAmount currencyID="EUR">100.00</cbc:PaidAmount>'
        "<cbc:InstructionID>Zahlung durch Dritte</cbc:InstructionID></cac:PrepaidPayment>"
    )

    def vat_only_in_tax_currency(root):
        _remove(f"{_SUMS}/ram:TaxTotalAmount[@currencyID = 'EUR']")(root)
        basis = _first(root, f"{_SUMS}/ram:TaxBasisTotalAmount").text
        _set(f"{_SUMS}/ram:GrandTotalAmount", basis)(root)
        _set(f"{_SUMS}/ram:DuePayableAmount", basis)(root)

    return [
        Variant("extension-third-party-payment_ubl", "BR-DEX", _changed(
            "01.01a", "ubl", _set("cbc:CustomizationID", EXTENSION), _insert_before("cac:TaxTotal", payment),
            _add("cac:LegalMonetaryTotal/cbc:PayableAmount", "100"),
        ), "XRechnung-Extension mit Zahlung durch Dritte (BR-DEX-09)"),
        Variant("vat-only-in-tax-currency_uncefact", "BR-CO", _changed("02.01a", "uncefact", vat_only_in_tax_currency),
                "CII, Umsatzsteuer nur in der Steuerwährung GBP, Gesamtbetrag = Nettobetrag"),
        Variant("unit-code-warning_ubl", "BR-CL", _changed(
            "01.01a", "ubl", _set("cac:InvoiceLine[1]/cbc:InvoicedQuantity/@unitCode", "QQQ"),
        ), "Mengeneinheit QQQ: BR-CL-23 ist in XRechnung nur eine Warnung"),
    ]
