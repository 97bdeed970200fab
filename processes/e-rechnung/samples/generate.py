"""Generate realistic sample mails with e-invoices for the process 'e-rechnung'.

Fictional suppliers invoice a city's receiving offices (Leitweg-IDs from
``resources/cities/<city>/leitweg.yaml``) for office supplies, street lighting, IT services and cleaning,
as XRechnung in UBL and in CII syntax and as ZUGFeRD/Factur-X PDF (a visible invoice drawn with
reportlab, the CII XML embedded with the factur-x library). The set also holds every kind of bad input
the robot must handle: a sum that does not add up, a missing Leitweg-ID, a Leitweg-ID with wrong check
digits, one of another city, malformed XML, an invoice sent twice, a PDF without e-invoice, and a mail
without attachment. Deterministic for a given ``--seed``.

    python processes/e-rechnung/samples/generate.py --out var/beispiele --maildir var/fulda/rechnung --city fulda
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml
from rathaus_sandbox.samples import deliver, write_mail_devdata

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "processes"))  # the 'erechnung' package, for devdata

CITIES = ("fulda", "giessen", "limburg", "marburg", "offenbach", "wetzlar")
XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Supplier:
    """A fictional company that invoices the city."""

    key: str
    name: str
    street: str
    postcode: str
    town: str
    vat_id: str
    contact: str
    phone: str
    domain: str
    iban: str

    @property
    def email(self) -> str:
        return f"rechnung@{self.domain}"


@dataclass(frozen=True)
class Line:
    """One invoice line: quantity × net price at a VAT rate."""

    name: str
    quantity: Decimal
    unit: str  # UN/ECE Rec 20: H87 piece, HUR hour, MON month, LS lump sum, MTK m², XPK package
    price: Decimal
    rate: Decimal = Decimal("19")

    @property
    def net(self) -> Decimal:
        return _round(self.quantity * self.price)


@dataclass(frozen=True)
class SampleInvoice:
    """An invoice to one receiving office; totals follow EN 16931 unless ``gross_error`` is set."""

    number: str
    issue_date: date
    supplier: Supplier
    buyer: str
    buyer_street: str
    buyer_postcode: str
    buyer_town: str
    leitweg_id: str | None
    lines: tuple[Line, ...]
    payment_days: int = 30
    currency: str = "EUR"
    #: added to the gross total and the amount due: an arithmetic error (BR-CO-15)
    gross_error: Decimal = Decimal("0")

    @property
    def due_date(self) -> date:
        return self.issue_date + timedelta(days=self.payment_days)

    @property
    def net_total(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal("0"))

    def vat_groups(self) -> list[tuple[Decimal, Decimal, Decimal]]:
        """(rate, taxable amount, tax amount) per VAT rate, highest rate first."""
        groups: dict[Decimal, Decimal] = {}
        for line in self.lines:
            groups[line.rate] = groups.get(line.rate, Decimal("0")) + line.net
        return [(rate, base, _round(base * rate / 100)) for rate, base in sorted(groups.items(), reverse=True)]

    @property
    def tax_total(self) -> Decimal:
        return sum((tax for _rate, _base, tax in self.vat_groups()), Decimal("0"))

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.tax_total + self.gross_error


@dataclass
class Attachment:
    name: str
    data: bytes
    maintype: str
    subtype: str


@dataclass
class Sample:
    """One sample mail: what it is, what the robot should do with it, and its attachments."""

    key: str
    description: str
    expected: str  # erfasst, vorhanden, abgelehnt, sachbearbeitung (one entry per invoice or mail)
    supplier: Supplier
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    #: rule ids the rejection must name
    rules: tuple[str, ...] = ()
    #: same Message-ID domain part and body as another sample: a resent invoice
    invoices: list[SampleInvoice] = field(default_factory=list)


SUPPLIERS: dict[str, Supplier] = {
    supplier.key: supplier
    for supplier in (
        Supplier("buero", "Bürobedarf Vogelsberg GmbH", "Industriestraße 14", "36341", "Lauterbach (Hessen)",
                 "DE287451963", "Katharina Jöckel", "+49 6641 918270", "buerobedarf-vogelsberg.example",
                 "DE75512108001245126199"),
        Supplier("licht", "Lichtwerk Osthessen GmbH & Co. KG", "Am Güterbahnhof 3", "36043", "Fulda",
                 "DE314852077", "Michael Größler", "+49 661 2938110", "lichtwerk-osthessen.example",
                 "DE12530501800019876543"),
        Supplier("it", "Datenwerk Mittelhessen GmbH", "Marburger Straße 112", "35396", "Gießen",
                 "DE298765430", "Lena Weißbach", "+49 641 97215-40", "datenwerk-mittelhessen.example",
                 "DE44513500250201234567"),
        Supplier("reinigung", "Glanzvoll Gebäudedienste KG", "Wetzlarer Straße 56", "35510", "Butzbach",
                 "DE301122334", "Aylin Demir", "+49 6033 74590", "glanzvoll-gebaeudedienste.example",
                 "DE89500502010000123456"),
        Supplier("gruen", "Grünpflege Lahn-Dill GmbH", "Auf der Lahnau 7", "35633", "Lahnau",
                 "DE276543218", "Jonas Müller-Lüdenscheidt", "+49 6441 67780", "gruenpflege-lahn-dill.example",
                 "DE02120300000000202051"),
        Supplier("werkstatt", "Kommunaltechnik Rhön-Vogelsberg GmbH", "Gewerbepark 21", "36157", "Ebersburg",
                 "DE312456789", "Sven Hübner", "+49 6656 50330", "kommunaltechnik-rv.example",
                 "DE68530601800003456789"),
    )
}


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _d(text: str) -> Decimal:
    return Decimal(text)


def _lines(kind: str, rng: random.Random) -> tuple[Line, ...]:
    """Realistic lines for each kind of supply, quantities varied by the seed."""
    if kind == "buero":
        return (
            Line("Kopierpapier A4, 80 g/m², Karton à 5 × 500 Blatt", Decimal(rng.randint(8, 20)), "XPK", _d("21.90")),
            Line("Ordner A4, 8 cm Rücken, blau", Decimal(rng.randint(30, 60)), "H87", _d("2.79")),
            Line("Tonerkartusche schwarz für Multifunktionsgerät", Decimal(rng.randint(2, 6)), "H87", _d("89.00")),
            Line("Loseblattsammlung Kommunalrecht Hessen, Ergänzungslieferung", _d("1"), "H87", _d("64.50"),
                 _d("7")),
        )
    if kind == "it":
        return (
            Line("Wartung und Betrieb Fachverfahrens-Server, Oktober 2026", _d("1"), "MON", _d("1480.00")),
            Line("Vor-Ort-Support Schulnetz (Stunden)", Decimal(rng.randint(4, 12)) + _d("0.5"), "HUR", _d("98.00")),
            Line("Virenschutz-Lizenz, Verlängerung 12 Monate, je Arbeitsplatz", Decimal(rng.choice([25, 50, 75])),
                 "H87", _d("24.90")),
        )
    if kind == "licht":
        return (
            Line("Austausch Leuchtenkopf LED-Mastansatzleuchte 40 W", Decimal(rng.randint(8, 16)), "H87",
                 _d("389.00")),
            Line("Hubarbeitsbühne 20 m mit Bedienpersonal", Decimal(rng.randint(6, 10)), "HUR", _d("115.00")),
            Line("Entsorgung Altleuchten nach ElektroG", _d("1"), "LS", _d("145.00")),
        )
    if kind == "reinigung":
        return (
            Line("Unterhaltsreinigung Grundschule, Oktober 2026", _d("1"), "MON", _d("3250.00")),
            Line("Grundreinigung Sporthalle", _d("1"), "LS", _d("890.00")),
            Line("Glasreinigung innen und außen", Decimal(rng.randint(300, 480)), "MTK", _d("2.15")),
        )
    if kind == "werkstatt":
        return (
            Line("Inspektion Kehrmaschine nach Herstellervorgabe", _d("1"), "LS", _d("640.00")),
            Line("Werkstattstunden Hydraulik", Decimal(rng.randint(3, 7)), "HUR", _d("86.50")),
            Line("Ersatzteil Hydraulikschlauch DN 12", Decimal(rng.randint(2, 4)), "H87", _d("47.80")),
        )
    return (
        Line("Baumpflege Straßenbäume (Kronenschnitt)", Decimal(rng.randint(10, 25)), "H87", _d("165.00")),
        Line("Abfuhr und Verwertung Schnittgut", _d("1"), "LS", _d("380.00")),
    )


# -- master data ---------------------------------------------------------------------------------------


def load_city(city: str) -> dict[str, Any]:
    """The city's ``stadt.yaml`` with its topic ``leitweg`` as in a robot's ``stadt_daten``."""
    folder = ROOT / "resources" / "cities" / city
    data = yaml.safe_load((folder / "stadt.yaml").read_text(encoding="utf-8"))
    data["leitweg"] = yaml.safe_load((folder / "leitweg.yaml").read_text(encoding="utf-8"))
    return data


def _office(city: dict[str, Any], area: str) -> dict[str, Any]:
    offices = city["leitweg"]["empfaenger"]
    return next((o for o in offices if o.get("bereich") == area), offices[0])


def _invoice(
    city: dict[str, Any], supplier: Supplier, area: str, number: str, day: int, rng: random.Random,
    kind: str | None = None, **changes: Any,
) -> SampleInvoice:
    office = _office(city, area)
    invoice = SampleInvoice(
        number=number,
        issue_date=date(2026, 11, day),
        supplier=supplier,
        buyer=f"{city['name']} – {office['bezeichnung']}",
        buyer_street=city["anschrift"]["strasse"],
        buyer_postcode=city["anschrift"]["plz"],
        buyer_town=city["anschrift"]["ort"],
        leitweg_id=office["leitweg_id"],
        lines=_lines(kind or supplier.key, rng),
    )
    return replace(invoice, **changes)


# -- XML writers ---------------------------------------------------------------------------------------

UBL_NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def _amount(value: Decimal) -> str:
    return f"{value.quantize(CENT)}"


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _rate(value: Decimal) -> str:
    return f"{value.normalize():f}"


class _Builder:
    """Appends namespaced elements: ``add(parent, "cbc:ID", "4711", schemeID="EM")`` returns the new element."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = namespaces

    def qname(self, tag: str) -> str:
        prefix, _, local = tag.partition(":")
        return f"{{{self.namespaces[prefix]}}}{local}"

    def root(self, tag: str) -> Any:
        from lxml import etree

        return etree.Element(self.qname(tag), nsmap=self.namespaces)

    def add(self, parent: Any, path: str, text: str | None = None, **attributes: str) -> Any:
        """Append ``path`` (``a/b/c``: nested, each level new) under ``parent``; text and attributes go last."""
        from lxml import etree

        element = parent
        for tag in path.split("/"):
            element = etree.SubElement(element, self.qname(tag))
        if text is not None:
            element.text = text
        for name, value in attributes.items():
            element.set(name, value)
        return element


def _serialize(root: Any) -> bytes:
    from lxml import etree

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def ubl_xml(invoice: SampleInvoice) -> bytes:
    """XRechnung 3.0 in UBL 2.1 syntax."""
    b, cur = _Builder(UBL_NS), invoice.currency
    root = b.root("ubl:Invoice")
    b.add(root, "cbc:CustomizationID", XRECHNUNG)
    b.add(root, "cbc:ProfileID", PEPPOL)
    b.add(root, "cbc:ID", invoice.number)
    b.add(root, "cbc:IssueDate", invoice.issue_date.isoformat())
    b.add(root, "cbc:DueDate", invoice.due_date.isoformat())
    b.add(root, "cbc:InvoiceTypeCode", "380")
    b.add(root, "cbc:DocumentCurrencyCode", cur)
    if invoice.leitweg_id:
        b.add(root, "cbc:BuyerReference", invoice.leitweg_id)
    _ubl_parties(b, root, invoice)
    _ubl_payment_and_totals(b, root, invoice)
    _ubl_lines(b, root, invoice)
    return _serialize(root)


def _ubl_parties(b: _Builder, root: Any, invoice: SampleInvoice) -> None:
    s = invoice.supplier
    seller = b.add(root, "cac:AccountingSupplierParty/cac:Party")
    b.add(seller, "cbc:EndpointID", s.email, schemeID="EM")
    b.add(seller, "cac:PartyName/cbc:Name", s.name)
    address = b.add(seller, "cac:PostalAddress")
    b.add(address, "cbc:StreetName", s.street)
    b.add(address, "cbc:CityName", s.town)
    b.add(address, "cbc:PostalZone", s.postcode)
    b.add(address, "cac:Country/cbc:IdentificationCode", "DE")
    tax_scheme = b.add(seller, "cac:PartyTaxScheme")
    b.add(tax_scheme, "cbc:CompanyID", s.vat_id)
    b.add(tax_scheme, "cac:TaxScheme/cbc:ID", "VAT")
    b.add(seller, "cac:PartyLegalEntity/cbc:RegistrationName", s.name)
    contact = b.add(seller, "cac:Contact")
    b.add(contact, "cbc:Name", s.contact)
    b.add(contact, "cbc:Telephone", s.phone)
    b.add(contact, "cbc:ElectronicMail", s.email)
    buyer = b.add(root, "cac:AccountingCustomerParty/cac:Party")
    b.add(buyer, "cbc:EndpointID", invoice.leitweg_id or "unbekannt", schemeID="0204")
    address = b.add(buyer, "cac:PostalAddress")
    b.add(address, "cbc:StreetName", invoice.buyer_street)
    b.add(address, "cbc:CityName", invoice.buyer_town)
    b.add(address, "cbc:PostalZone", invoice.buyer_postcode)
    b.add(address, "cac:Country/cbc:IdentificationCode", "DE")
    b.add(buyer, "cac:PartyLegalEntity/cbc:RegistrationName", invoice.buyer)


def _ubl_payment_and_totals(b: _Builder, root: Any, invoice: SampleInvoice) -> None:
    s, cur = invoice.supplier, invoice.currency
    means = b.add(root, "cac:PaymentMeans")
    b.add(means, "cbc:PaymentMeansCode", "58")
    b.add(means, "cbc:PaymentID", invoice.number)
    b.add(means, "cac:PayeeFinancialAccount/cbc:ID", s.iban)
    b.add(root, "cac:PaymentTerms/cbc:Note", f"Zahlbar innerhalb von {invoice.payment_days} Tagen ohne Abzug.")
    tax_total = b.add(root, "cac:TaxTotal")
    b.add(tax_total, "cbc:TaxAmount", _amount(invoice.tax_total), currencyID=cur)
    for rate, base, tax in invoice.vat_groups():
        subtotal = b.add(tax_total, "cac:TaxSubtotal")
        b.add(subtotal, "cbc:TaxableAmount", _amount(base), currencyID=cur)
        b.add(subtotal, "cbc:TaxAmount", _amount(tax), currencyID=cur)
        category = b.add(subtotal, "cac:TaxCategory")
        b.add(category, "cbc:ID", "S")
        b.add(category, "cbc:Percent", _rate(rate))
        b.add(category, "cac:TaxScheme/cbc:ID", "VAT")
    totals = b.add(root, "cac:LegalMonetaryTotal")
    b.add(totals, "cbc:LineExtensionAmount", _amount(invoice.net_total), currencyID=cur)
    b.add(totals, "cbc:TaxExclusiveAmount", _amount(invoice.net_total), currencyID=cur)
    b.add(totals, "cbc:TaxInclusiveAmount", _amount(invoice.gross_total), currencyID=cur)
    b.add(totals, "cbc:PayableAmount", _amount(invoice.gross_total), currencyID=cur)


def _ubl_lines(b: _Builder, root: Any, invoice: SampleInvoice) -> None:
    cur = invoice.currency
    for number, line in enumerate(invoice.lines, start=1):
        element = b.add(root, "cac:InvoiceLine")
        b.add(element, "cbc:ID", str(number))
        b.add(element, "cbc:InvoicedQuantity", _qty(line.quantity), unitCode=line.unit)
        b.add(element, "cbc:LineExtensionAmount", _amount(line.net), currencyID=cur)
        item = b.add(element, "cac:Item")
        b.add(item, "cbc:Name", line.name)
        category = b.add(item, "cac:ClassifiedTaxCategory")
        b.add(category, "cbc:ID", "S")
        b.add(category, "cbc:Percent", _rate(line.rate))
        b.add(category, "cac:TaxScheme/cbc:ID", "VAT")
        b.add(element, "cac:Price/cbc:PriceAmount", _amount(line.price), currencyID=cur)


def cii_xml(invoice: SampleInvoice) -> bytes:
    """XRechnung 3.0 in UN/CEFACT CII syntax (also valid against the Factur-X EN 16931 schema)."""
    b = _Builder(CII_NS)
    root = b.root("rsm:CrossIndustryInvoice")
    context = b.add(root, "rsm:ExchangedDocumentContext")
    b.add(context, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID", PEPPOL)
    b.add(context, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", XRECHNUNG)
    document = b.add(root, "rsm:ExchangedDocument")
    b.add(document, "ram:ID", invoice.number)
    b.add(document, "ram:TypeCode", "380")
    b.add(document, "ram:IssueDateTime/udt:DateTimeString", f"{invoice.issue_date:%Y%m%d}", format="102")
    transaction = b.add(root, "rsm:SupplyChainTradeTransaction")
    _cii_lines(b, transaction, invoice)
    _cii_agreement(b, transaction, invoice)
    delivery = b.add(transaction, "ram:ApplicableHeaderTradeDelivery")
    b.add(delivery, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString",
          f"{invoice.issue_date:%Y%m%d}", format="102")
    _cii_settlement(b, transaction, invoice)
    return _serialize(root)


def _cii_lines(b: _Builder, transaction: Any, invoice: SampleInvoice) -> None:
    for number, line in enumerate(invoice.lines, start=1):
        item = b.add(transaction, "ram:IncludedSupplyChainTradeLineItem")
        b.add(item, "ram:AssociatedDocumentLineDocument/ram:LineID", str(number))
        b.add(item, "ram:SpecifiedTradeProduct/ram:Name", line.name)
        b.add(item, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
              _amount(line.price))
        b.add(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", _qty(line.quantity), unitCode=line.unit)
        settlement = b.add(item, "ram:SpecifiedLineTradeSettlement")
        tax = b.add(settlement, "ram:ApplicableTradeTax")
        b.add(tax, "ram:TypeCode", "VAT")
        b.add(tax, "ram:CategoryCode", "S")
        b.add(tax, "ram:RateApplicablePercent", _rate(line.rate))
        b.add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", _amount(line.net))


def _cii_agreement(b: _Builder, transaction: Any, invoice: SampleInvoice) -> None:
    s = invoice.supplier
    agreement = b.add(transaction, "ram:ApplicableHeaderTradeAgreement")
    if invoice.leitweg_id:
        b.add(agreement, "ram:BuyerReference", invoice.leitweg_id)
    seller = b.add(agreement, "ram:SellerTradeParty")
    b.add(seller, "ram:Name", s.name)
    contact = b.add(seller, "ram:DefinedTradeContact")
    b.add(contact, "ram:PersonName", s.contact)
    b.add(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber", s.phone)
    b.add(contact, "ram:EmailURIUniversalCommunication/ram:URIID", s.email)
    address = b.add(seller, "ram:PostalTradeAddress")
    b.add(address, "ram:PostcodeCode", s.postcode)
    b.add(address, "ram:LineOne", s.street)
    b.add(address, "ram:CityName", s.town)
    b.add(address, "ram:CountryID", "DE")
    b.add(seller, "ram:URIUniversalCommunication/ram:URIID", s.email, schemeID="EM")
    b.add(seller, "ram:SpecifiedTaxRegistration/ram:ID", s.vat_id, schemeID="VA")
    buyer = b.add(agreement, "ram:BuyerTradeParty")
    b.add(buyer, "ram:Name", invoice.buyer)
    address = b.add(buyer, "ram:PostalTradeAddress")
    b.add(address, "ram:PostcodeCode", invoice.buyer_postcode)
    b.add(address, "ram:LineOne", invoice.buyer_street)
    b.add(address, "ram:CityName", invoice.buyer_town)
    b.add(address, "ram:CountryID", "DE")
    b.add(buyer, "ram:URIUniversalCommunication/ram:URIID", invoice.leitweg_id or "unbekannt", schemeID="0204")


def _cii_settlement(b: _Builder, transaction: Any, invoice: SampleInvoice) -> None:
    s, cur = invoice.supplier, invoice.currency
    settlement = b.add(transaction, "ram:ApplicableHeaderTradeSettlement")
    b.add(settlement, "ram:PaymentReference", invoice.number)
    b.add(settlement, "ram:InvoiceCurrencyCode", cur)
    means = b.add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    b.add(means, "ram:TypeCode", "58")
    b.add(means, "ram:PayeePartyCreditorFinancialAccount/ram:IBANID", s.iban)
    for rate, base, tax_amount in invoice.vat_groups():
        tax = b.add(settlement, "ram:ApplicableTradeTax")
        b.add(tax, "ram:CalculatedAmount", _amount(tax_amount))
        b.add(tax, "ram:TypeCode", "VAT")
        b.add(tax, "ram:BasisAmount", _amount(base))
        b.add(tax, "ram:CategoryCode", "S")
        b.add(tax, "ram:RateApplicablePercent", _rate(rate))
    terms = b.add(settlement, "ram:SpecifiedTradePaymentTerms")
    b.add(terms, "ram:Description", f"Zahlbar innerhalb von {invoice.payment_days} Tagen ohne Abzug.")
    b.add(terms, "ram:DueDateDateTime/udt:DateTimeString", f"{invoice.due_date:%Y%m%d}", format="102")
    totals = b.add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    b.add(totals, "ram:LineTotalAmount", _amount(invoice.net_total))
    b.add(totals, "ram:TaxBasisTotalAmount", _amount(invoice.net_total))
    b.add(totals, "ram:TaxTotalAmount", _amount(invoice.tax_total), currencyID=cur)
    b.add(totals, "ram:GrandTotalAmount", _amount(invoice.gross_total))
    b.add(totals, "ram:DuePayableAmount", _amount(invoice.gross_total))


# -- PDF -----------------------------------------------------------------------------------------------


def _german(value: Decimal) -> str:
    whole, _, cents = f"{value.quantize(CENT):,.2f}".partition(".")
    return whole.replace(",", ".") + "," + cents


def visible_pdf(invoice: SampleInvoice, title: str = "Rechnung") -> bytes:
    """The invoice as a person reads it (A4, drawn with reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    s = invoice.supplier
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{title} {invoice.number}")
    canvas.setAuthor(s.name)
    height = A4[1]
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(20 * mm, height - 20 * mm, s.name)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(20 * mm, height - 26 * mm, f"{s.street} · {s.postcode} {s.town} · USt-IdNr. {s.vat_id}")
    canvas.drawString(20 * mm, height - 50 * mm, f"{s.name} · {s.street} · {s.postcode} {s.town}")
    canvas.setFont("Helvetica", 11)
    address = (invoice.buyer, invoice.buyer_street, f"{invoice.buyer_postcode} {invoice.buyer_town}")
    for number, text in enumerate(address):
        canvas.drawString(20 * mm, height - (58 + 6 * number) * mm, text)
    canvas.setFont("Helvetica", 10)
    facts = (
        ("Rechnungsnummer", invoice.number),
        ("Rechnungsdatum", f"{invoice.issue_date:%d.%m.%Y}"),
        ("Fällig am", f"{invoice.due_date:%d.%m.%Y}"),
        ("Leitweg-ID", invoice.leitweg_id or "–"),
    )
    for number, (label, value) in enumerate(facts):
        canvas.drawString(125 * mm, height - (58 + 6 * number) * mm, f"{label}: {value}")
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(20 * mm, height - 95 * mm, f"{title} {invoice.number}")
    y = height - 107 * mm
    canvas.setFont("Helvetica-Bold", 9)
    for x, text in ((20, "Pos."), (32, "Bezeichnung"), (128, "Menge"), (146, "Einzelpreis"), (170, "USt"),
                    (180, "Betrag")):
        canvas.drawString(x * mm, y, text)
    canvas.setFont("Helvetica", 9)
    for number, line in enumerate(invoice.lines, start=1):
        y -= 6 * mm
        canvas.drawString(20 * mm, y, str(number))
        canvas.drawString(32 * mm, y, line.name[:58])
        canvas.drawRightString(140 * mm, y, _qty(line.quantity).replace(".", ","))
        canvas.drawRightString(166 * mm, y, _german(line.price))
        canvas.drawRightString(177 * mm, y, f"{_rate(line.rate)} %")
        canvas.drawRightString(195 * mm, y, _german(line.net))
    y -= 10 * mm
    totals = [("Summe netto", invoice.net_total)]
    totals += [(f"Umsatzsteuer {_rate(rate)} % auf {_german(base)}", tax) for rate, base, tax in invoice.vat_groups()]
    totals += [("Rechnungsbetrag", invoice.gross_total)]
    for label, amount in totals:
        canvas.setFont("Helvetica-Bold" if label == "Rechnungsbetrag" else "Helvetica", 10)
        canvas.drawString(110 * mm, y, label)
        canvas.drawRightString(195 * mm, y, f"{_german(amount)} {invoice.currency}")
        y -= 6 * mm
    canvas.setFont("Helvetica", 9)
    canvas.drawString(20 * mm, y - 8 * mm, f"Bitte überweisen Sie den Betrag bis zum {invoice.due_date:%d.%m.%Y} "
                                           f"unter Angabe der Rechnungsnummer auf {s.iban}.")
    canvas.drawString(20 * mm, 15 * mm, f"Ansprechpartner: {s.contact} · {s.phone} · {s.email}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def zugferd_pdf(invoice: SampleInvoice) -> bytes:
    """A ZUGFeRD/Factur-X invoice: the visible PDF with the CII XML embedded as ``factur-x.xml``."""
    from facturx import generate_from_binary

    return generate_from_binary(
        visible_pdf(invoice), cii_xml(invoice), flavor="factur-x", level="en16931", check_xsd=True,
        lang="de-DE", pdf_metadata={"author": invoice.supplier.name, "keywords": "Factur-X, ZUGFeRD",
                                    "title": f"Rechnung {invoice.number}", "subject": f"Rechnung {invoice.number}"},
    )


def plain_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A PDF with some text and no embedded file (a cover letter, a time sheet, a paper-style invoice)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(72, 770, title)
    canvas.setFont("Helvetica", 10)
    for number, text in enumerate(lines):
        canvas.drawString(72, 740 - 16 * number, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# -- the sample set ------------------------------------------------------------------------------------


def _xml(name: str, data: bytes) -> Attachment:
    return Attachment(name, data, "application", "xml")


def _pdf(name: str, data: bytes) -> Attachment:
    return Attachment(name, data, "application", "pdf")


def _other_city(city: str) -> str:
    return CITIES[(CITIES.index(city) + 1) % len(CITIES)]


def _wrong_check_digits(leitweg_id: str) -> str:
    head, _, digits = leitweg_id.rpartition("-")
    return f"{head}-{(int(digits) + 11) % 100:02d}"


TEXT = (
    "Sehr geehrte Damen und Herren,\n\nanbei erhalten Sie unsere Rechnung {number} als {format}.\n\n"
    "Mit freundlichen Grüßen\n{contact}\n{supplier}\n"
)


def samples(city: str = "fulda", seed: int = 2026) -> list[Sample]:
    """The deterministic sample set for ``city``; ``expected`` says what the robot should make of each."""
    rng = random.Random(seed)
    data = load_city(city)
    sup = SUPPLIERS
    prefix = city[:2].upper()
    result: list[Sample] = []

    def sample(key: str, description: str, expected: str, supplier: Supplier, invoices: list[SampleInvoice],
               attachments: list[Attachment], rules: tuple[str, ...] = (), fmt: str = "XRechnung") -> None:
        number = invoices[0].number if invoices else "–"
        result.append(Sample(
            key, description, expected, supplier, f"Rechnung {number}" if invoices else "Rechnung",
            TEXT.format(number=number, format=fmt, contact=supplier.contact, supplier=supplier.name),
            attachments, rules, invoices,
        ))

    office_supplies = _invoice(data, sup["buero"], "schulen", f"BV-{prefix}-2026-10417", 2, rng)
    sample("ubl-bueromaterial", "XRechnung UBL: Büromaterial für die Schulverwaltung", "erfasst", sup["buero"],
           [office_supplies], [_xml(f"XRechnung_{office_supplies.number}.xml", ubl_xml(office_supplies))],
           fmt="XRechnung (UBL)")

    it = _invoice(data, sup["it"], "it", f"DWM-{prefix}-26-0877", 3, rng)
    sample("cii-it-dienstleistung", "XRechnung CII: IT-Dienstleistung", "erfasst", sup["it"],
           [it], [_xml(f"{it.number}_xrechnung.xml", cii_xml(it))], fmt="XRechnung (CII)")

    lighting = _invoice(data, sup["licht"], "tiefbau", f"LWO-{prefix}-2026-3302", 4, rng, payment_days=14)
    sample("zugferd-strassenbeleuchtung", "ZUGFeRD/Factur-X: Straßenbeleuchtung", "erfasst", sup["licht"],
           [lighting], [_pdf(f"Rechnung_{lighting.number}.pdf", zugferd_pdf(lighting))], fmt="ZUGFeRD-Rechnung (PDF)")

    cleaning = _invoice(data, sup["reinigung"], "schulen", f"GGD-{prefix}-2026-1104", 5, rng)
    workshop = _invoice(data, sup["reinigung"], "eigenbetrieb", f"GGD-{prefix}-2026-1105", 5, rng, kind="werkstatt")
    timesheet = plain_pdf("Leistungsnachweis Oktober 2026", ["Unterhaltsreinigung: 22 Einsätze, je 3,5 Std.",
                                                            "Grundreinigung Sporthalle am 17.10.2026"])
    sample("zwei-rechnungen", "Eine Mail, zwei Rechnungen (UBL und CII) und ein Leistungsnachweis", "erfasst",
           sup["reinigung"], [cleaning, workshop],
           [_xml(f"{cleaning.number}.xml", ubl_xml(cleaning)), _xml(f"{workshop.number}.xml", cii_xml(workshop)),
            _pdf("Leistungsnachweis_Oktober_2026.pdf", timesheet)], fmt="XRechnung")

    wrong_sum = _invoice(data, sup["gruen"], "tiefbau", f"GLD-{prefix}-2026-0555", 6, rng, kind="gruen",
                         gross_error=Decimal("100.00"))
    sample("rechenfehler", "CII mit falscher Summe (Brutto ≠ Netto + Steuer)", "abgelehnt", sup["gruen"],
           [wrong_sum], [_xml(f"{wrong_sum.number}.xml", cii_xml(wrong_sum))], rules=("BR-CO-15",))

    no_id = _invoice(data, sup["buero"], "zentral", f"BV-{prefix}-2026-10502", 9, rng, leitweg_id=None)
    sample("ohne-leitweg-id", "UBL ohne Leitweg-ID (Pflichtfeld BT-10 fehlt)", "abgelehnt", sup["buero"],
           [no_id], [_xml(f"XRechnung_{no_id.number}.xml", ubl_xml(no_id))], rules=("BR-DE-15",))

    typo = _invoice(data, sup["it"], "it", f"DWM-{prefix}-26-0912", 10, rng)
    typo = replace(typo, leitweg_id=_wrong_check_digits(typo.leitweg_id or ""))
    sample("pruefziffer-falsch", "CII mit vertippter Leitweg-ID (Prüfziffer passt nicht)", "abgelehnt", sup["it"],
           [typo], [_xml(f"{typo.number}_xrechnung.xml", cii_xml(typo))], rules=("LEITWEG-ID",))

    other = load_city(_other_city(city))
    elsewhere = _invoice(data, sup["gruen"], "tiefbau", f"GLD-{prefix}-2026-0561", 10, rng, kind="gruen",
                         leitweg_id=_office(other, "tiefbau")["leitweg_id"])
    sample("leitweg-unbekannt", f"UBL an eine Leitweg-ID der Stadt {other['kurzname']}", "abgelehnt", sup["gruen"],
           [elsewhere], [_xml(f"{elsewhere.number}.xml", ubl_xml(elsewhere))], rules=("LEITWEG-UNBEKANNT",))

    broken = _invoice(data, sup["licht"], "tiefbau", f"LWO-{prefix}-2026-3317", 11, rng)
    data_broken = ubl_xml(broken)
    sample("xml-kaputt", "Abgeschnittene XML-Datei (nicht wohlgeformt)", "abgelehnt", sup["licht"],
           [], [_xml(f"Rechnung_{broken.number}.xml", data_broken[: len(data_broken) * 2 // 3])], rules=("SYNTAX-XML",))

    paper = _invoice(data, sup["werkstatt"], "eigenbetrieb", f"KRV-{prefix}-26-2290", 12, rng)
    sample("pdf-ohne-rechnung", "Reine PDF-Rechnung ohne eingebettete E-Rechnung", "sachbearbeitung",
           sup["werkstatt"], [], [_pdf(f"Rechnung_{paper.number}.pdf", visible_pdf(paper))], fmt="PDF")

    sample("ohne-anhang", "Mail ohne Anhang (Rückfrage eines Lieferanten)", "sachbearbeitung", sup["it"], [], [])
    result[-1].subject = "Frage zu unserer Rechnung"
    result[-1].text = ("Sehr geehrte Damen und Herren,\n\nkönnen Sie uns bitte den Zahlungseingang unserer Rechnung "
                       f"{it.number} bestätigen?\n\nMit freundlichen Grüßen\n{sup['it'].contact}\n")

    sample("doppelt", "Dieselbe Büromaterial-Rechnung noch einmal (neue Mail)", "vorhanden", sup["buero"],
           [office_supplies], [_xml(f"XRechnung_{office_supplies.number}.xml", ubl_xml(office_supplies))],
           fmt="XRechnung (UBL), erneut zugesandt")
    return result


def build_mail(sample: Sample, city: dict[str, Any], index: int) -> EmailMessage:
    """The mail that a supplier's accounting sends to the city's invoice mailbox."""
    msg = EmailMessage()
    msg["From"] = f"{sample.supplier.name} – Buchhaltung <{sample.supplier.email}>"
    mailbox_address = city.get("postfaecher", {}).get("e-rechnung", f"rechnung@{city['id']}.de")
    msg["To"] = f"Rechnungseingang {city['kurzname']} <{mailbox_address}>"
    msg["Subject"] = sample.subject
    msg["Date"] = format_datetime(datetime(2026, 11, 16, 7, 30 + index, tzinfo=timezone.utc))
    msg["Message-ID"] = f"<erechnung-{city['id']}-{sample.key}.{index + 1}@{sample.supplier.domain}>"
    msg.set_content(sample.text)
    for attachment in sample.attachments:
        msg.add_attachment(attachment.data, maintype=attachment.maintype, subtype=attachment.subtype,
                           filename=attachment.name)
    if msg.is_multipart():
        msg.set_boundary(f"=_rathaus-beispiel-{index + 1:02d}")  # the same bytes on every run
    return msg


def generate(out: Path, city: str = "fulda", seed: int = 2026) -> list[Path]:
    """Write the sample mails as ``NN-<key>.eml`` into ``out`` plus ``erwartet.json``; return the mail paths."""
    out.mkdir(parents=True, exist_ok=True)
    data = load_city(city)
    paths, expected = [], []
    for index, sample in enumerate(samples(city, seed)):
        path = out / f"{index + 1:02d}-{sample.key}.eml"
        path.write_bytes(build_mail(sample, data, index).as_bytes())
        paths.append(path)
        expected.append({
            "datei": path.name, "beschreibung": sample.description, "erwartet": sample.expected,
            "regeln": list(sample.rules),
            "rechnungen": [{"nummer": i.number, "leitweg_id": i.leitweg_id, "lieferant": i.supplier.name,
                            "zahlbetrag": _amount(i.gross_total)} for i in sample.invoices],
        })
    (out / "erwartet.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return paths


def write_devdata(paths: list[Path], devdata: Path, city: str = "fulda") -> None:
    """Robocorp-style ``devdata/``: ``env.json`` and the input work items the producer makes of each mail
    (one per invoice, one for a mail without invoice), so the consumer step can be tried without a mailbox."""
    env = {"RATHAUS_HOME": "var/devdata", f"{city.upper()}_FINANZSYSTEM_PASSWORT": "nur-fuer-die-sandbox"}
    write_mail_devdata(paths, devdata, env, _work_items)


def _work_items(base: dict[str, Any], names: list[str], folder: Path) -> list[dict[str, Any]]:
    from erechnung.attachments import sort_attachments

    sorted_files = sort_attachments([folder / name for name in names])
    invoices = [Path(p).name for p in sorted_files.invoices]
    enclosures = [Path(p).name for p in sorted_files.enclosures]
    if invoices:
        return [{"payload": {**base, "art": "rechnung", "datei": name, "anlagen": enclosures},
                 "files": {n: n for n in [name, *enclosures]}} for name in invoices]
    return [{"payload": {**base, "art": "keine_rechnung", "anhaenge": names}, "files": {n: n for n in names}}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the .eml files and erwartet.json")
    parser.add_argument("--maildir", type=Path, help="also deliver the mails into this Maildir's inbox")
    parser.add_argument("--city", choices=CITIES, default="fulda", help="city whose Leitweg-IDs are invoiced")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--devdata", type=Path, help="also write Robocorp-style devdata/ (work items, env.json)")
    args = parser.parse_args(argv)
    paths = generate(args.out, args.city, args.seed)
    if args.maildir:
        deliver(paths, args.maildir)
    if args.devdata:
        write_devdata(paths, args.devdata, args.city)
    print(f"{len(paths)} Beispielmails mit E-Rechnungen für {args.city} in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
