"""rathaus.einvoice: the KoSIT test suite in both syntaxes, ZUGFeRD / Factur-X PDFs, broken files, keywords, CLI."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import facturx
import pytest
from lxml import etree
from rathaus import EInvoice
from rathaus.einvoice import (
    EInvoiceError,
    EmptyInvoiceFileError,
    EncryptedPdfError,
    Invoice,
    InvoiceFileMissingError,
    NoInvoiceInPdfError,
    NotXmlError,
    PdfUnreadableError,
    UnknownRootError,
    UnsafeXmlError,
    check_file,
    extract_invoice_xml,
    invoice_findings,
    read_invoice,
    read_invoice_data,
    validate_invoice,
)
from rathaus.einvoice import cli as einvoice_cli
from rathaus.einvoice.errors import InvalidInvoiceError, InvalidValueError
from rathaus.errors import BusinessError, RathausError
from rathaus.translation import validate as validate_translation
from rathaus_sandbox.pdfforms import attach_files, encrypt_copy, truncate_copy
from reportlab.pdfgen import canvas
from robot.libdocpkg import LibraryDocumentation

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "xrechnung-testsuite"
CASES = sorted(path.name.removesuffix("-INVOICE_ubl.xml") for path in CORPUS.glob("*_ubl.xml"))
SUMMARY_KEYS = [
    "number", "issue_date", "currency", "seller_name", "buyer_reference", "net_total", "tax_total",
    "payable_amount", "line_count", "syntax",
]


def corpus_file(case: str, syntax: str) -> Path:
    return CORPUS / f"{case}-INVOICE_{syntax}.xml"


def without_syntax(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "syntax"}


@pytest.fixture(scope="module")
def corpus() -> dict[str, Invoice]:
    return {path.name: read_invoice(path) for path in sorted(CORPUS.glob("*.xml"))}


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    """A visual invoice without anything embedded, as a seller's PDF generator would make it."""
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, "Rechnung 123456XX")
    page.drawString(72, 740, "Bitte zahlen Sie den Betrag bis zum 30.04.2016.")
    page.save()
    return buffer.getvalue()


def facturx_pdf(plain: bytes, case: str, target: Path) -> Path:
    """A ZUGFeRD / Factur-X PDF built by the factur-x library from a corpus CII invoice."""
    xml = corpus_file(case, "uncefact").read_bytes()
    target.write_bytes(facturx.generate_from_binary(plain, xml, flavor="factur-x", level="en16931"))
    return target


# --------------------------------------------------------------------------- the KoSIT test suite

def test_the_corpus_has_33_cases_in_both_syntaxes():
    assert len(CASES) == 33
    assert all(corpus_file(case, "uncefact").is_file() for case in CASES)
    assert len(list(CORPUS.glob("*.xml"))) == 66


def test_all_66_corpus_files_are_read_quickly():
    started = time.perf_counter()
    invoices = [read_invoice(path) for path in sorted(CORPUS.glob("*.xml"))]
    elapsed = time.perf_counter() - started
    assert len(invoices) == 66
    assert {invoice.syntax for invoice in invoices} == {"UBL", "CII"}
    assert elapsed < 5, f"reading the corpus took {elapsed:.2f} s"


@pytest.mark.parametrize("case", CASES)
def test_both_syntaxes_of_a_case_agree(corpus, case):
    ubl, cii = corpus[f"{case}-INVOICE_ubl.xml"], corpus[f"{case}-INVOICE_uncefact.xml"]
    assert (ubl.syntax, cii.syntax) == ("UBL", "CII")
    assert without_syntax(ubl.summary()) == without_syntax(cii.summary())
    for attribute in ("issue_date", "due_date", "type_code", "buyer_name", "line_total", "gross_total",
                      "payable_amount", "specification_id"):
        assert getattr(ubl, attribute) == getattr(cii, attribute), attribute
    assert [(line.id, line.net_amount, line.quantity, line.unit) for line in ubl.lines] == [
        (line.id, line.net_amount, line.quantity, line.unit) for line in cii.lines
    ]
    assert [(vat.category, vat.tax_amount) for vat in ubl.vat_breakdown] == [
        (vat.category, vat.tax_amount) for vat in cii.vat_breakdown
    ]


@pytest.mark.parametrize("name", sorted(path.name for path in CORPUS.glob("*.xml")))
def test_every_corpus_invoice_is_valid(corpus, name):
    assert invoice_findings(corpus[name]) == []
    assert validate_invoice(corpus[name]) is corpus[name]


def test_the_summary_has_the_documented_keys_and_exact_amounts(corpus):
    summary = corpus["02.01a-INVOICE_ubl.xml"].summary()
    assert list(summary) == SUMMARY_KEYS
    assert summary == {
        "number": "1234567",
        "issue_date": "2018-04-13",
        "currency": "EUR",
        "seller_name": "[Seller name]",
        "buyer_reference": "90000000-03083-72",
        "net_total": "10781.25",
        "tax_total": "2048.44",
        "payable_amount": "12829.69",
        "line_count": 2,
        "syntax": "UBL",
    }
    assert json.loads(json.dumps(summary)) == summary


def test_amounts_are_decimal_and_keep_two_decimals_in_the_summary(corpus):
    invoice = corpus["01.01a-INVOICE_uncefact.xml"]
    assert invoice.payable_amount == Decimal("336.9")
    assert invoice.summary()["payable_amount"] == "336.90"
    assert all(isinstance(line.net_amount, Decimal) for line in invoice.lines)


def test_the_model_maps_the_business_terms(corpus):
    invoice = corpus["02.01a-INVOICE_uncefact.xml"]
    assert str(invoice.issue_date) == str(invoice.due_date) == "2018-04-13"
    assert (invoice.type_code, invoice.currency, invoice.tax_currency) == ("380", "EUR", "GBP")
    assert invoice.tax_total == Decimal("2048.44")  # BT-110 in EUR, not BT-111 in GBP
    assert (invoice.seller_vat_id, invoice.seller_tax_number) == ("ATU123456789", "123/456/789")
    assert invoice.seller_email == "rechnungsausgang@test.com"
    assert invoice.seller_contact_email == invoice.reply_address == "tim.tester@test.com"
    assert [(item.is_charge, item.amount) for item in invoice.allowances_charges] == [
        (True, Decimal("0")), (False, Decimal("0"))
    ]
    assert [vat.category for vat in invoice.vat_breakdown] == ["S", "E"]
    assert invoice.vat_breakdown[1].exemption_reason_code == "VATEX-EU-132-1A"
    line = invoice.lines[0]
    assert (line.id, line.name, line.quantity, line.unit, line.net_amount) == (
        "1", "Beratung", Decimal("33"), "XPP", Decimal("4743.75")
    )
    assert (line.price, line.vat_category, line.vat_rate) == (Decimal("143.75"), "S", Decimal("19"))
    assert invoice.source == "02.01a-INVOICE_uncefact.xml"
    assert invoice.attachment is None


def test_the_repr_hides_personal_data(corpus):
    invoice = corpus["02.01a-INVOICE_ubl.xml"]
    assert repr(invoice) == str(invoice) == "Invoice(number='1234567', syntax='UBL')"
    assert repr(invoice.summary()) == "<Rechnungsübersicht 1234567 (UBL)>"
    assert "Tester" not in repr(invoice) + repr(invoice.summary())
    with pytest.raises(dataclasses.FrozenInstanceError):
        invoice.number = "1"  # type: ignore[misc]


def test_a_ubl_credit_note_is_read_like_an_invoice(tmp_path, corpus):
    root = etree.fromstring(corpus_file("01.01a", "ubl").read_bytes())
    cbc = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
    cac = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
    renames = {f"{cbc}InvoiceTypeCode": f"{cbc}CreditNoteTypeCode", f"{cac}InvoiceLine": f"{cac}CreditNoteLine",
               f"{cbc}InvoicedQuantity": f"{cbc}CreditedQuantity"}
    for element in root.iter(etree.Element):
        element.tag = renames.get(element.tag, element.tag)
    root.find(f"{cbc}CreditNoteTypeCode").text = "381"
    root.tag = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    path = tmp_path / "gutschrift.xml"
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    credit_note = read_invoice(path)
    invoice = corpus["01.01a-INVOICE_ubl.xml"]
    assert credit_note.type_code == "381"
    assert credit_note.summary() == invoice.summary()
    assert credit_note.lines == invoice.lines
    assert invoice_findings(credit_note) == []


def test_invoice_data_can_be_read_from_bytes():
    data = corpus_file("01.03a", "uncefact").read_bytes()
    invoice = read_invoice_data(data, "/mail/anhang/rechnung.xml")
    assert invoice.source == "rechnung.xml"
    assert invoice.summary() == read_invoice(corpus_file("01.03a", "uncefact")).summary()


# --------------------------------------------------------------------------- ZUGFeRD / Factur-X PDFs

@pytest.mark.parametrize("case", ["01.01a", "02.01a", "03.01a"])
def test_a_facturx_pdf_gives_the_summary_of_its_xml(tmp_path, plain_pdf, corpus, case):
    pdf = facturx_pdf(plain_pdf, case, tmp_path / "rechnung.pdf")
    invoice = read_invoice(pdf)
    assert invoice.summary() == corpus[f"{case}-INVOICE_uncefact.xml"].summary()
    assert (invoice.source, invoice.attachment, invoice.syntax) == ("rechnung.pdf", "factur-x.xml", "CII")
    assert invoice_findings(invoice) == []


def test_the_embedded_xml_is_the_one_the_facturx_library_finds(tmp_path, plain_pdf):
    pdf = facturx_pdf(plain_pdf, "01.01a", tmp_path / "rechnung.pdf")
    name, data = extract_invoice_xml(pdf)
    assert name == "factur-x.xml"
    assert (name, data) == facturx.get_xml_from_pdf(pdf.read_bytes(), check_xsd=False)
    assert data == corpus_file("01.01a", "uncefact").read_bytes()


def test_an_xrechnung_embedded_in_a_pdf_is_read(tmp_path, plain_pdf, corpus):
    plain = tmp_path / "leer.pdf"
    plain.write_bytes(plain_pdf)
    ubl = corpus_file("01.04a", "ubl").read_bytes()
    pdf = attach_files(plain, tmp_path / "rechnung.pdf", {"begleitschreiben.txt": b"Hallo", "xrechnung.xml": ubl})
    invoice = read_invoice(pdf)
    assert (invoice.syntax, invoice.attachment) == ("UBL", "xrechnung.xml")
    assert invoice.summary() == corpus["01.04a-INVOICE_ubl.xml"].summary()


def test_an_invoice_under_another_xml_name_is_found_after_other_xml_files(tmp_path, plain_pdf):
    plain = tmp_path / "leer.pdf"
    plain.write_bytes(plain_pdf)
    cii = corpus_file("01.05a", "uncefact").read_bytes()
    pdf = attach_files(plain, tmp_path / "rechnung.pdf", {"lieferschein.xml": b"<Lieferschein/>", "RE-1.xml": cii})
    assert read_invoice(pdf).attachment == "RE-1.xml"


def test_a_pdf_without_embedded_invoice_fails_with_pdf_no_invoice(tmp_path, plain_pdf):
    plain = tmp_path / "rechnung.pdf"
    plain.write_bytes(plain_pdf)
    with pytest.raises(NoInvoiceInPdfError) as caught:
        read_invoice(plain)
    assert caught.value.rule == "PDF-NO-INVOICE"
    assert caught.value.code == "EINVOICE_PDF_NO_INVOICE"
    assert "'rechnung.pdf' enthält keine E-Rechnung" in str(caught.value)
    with_other = attach_files(plain, tmp_path / "mit-anlage.pdf", {"lieferschein.xml": b"<Lieferschein/>"})
    with pytest.raises(NoInvoiceInPdfError, match=r"eingebettet sind nur: lieferschein\.xml"):
        extract_invoice_xml(with_other)


def test_a_broken_xml_under_the_standard_name_is_reported_as_such(tmp_path, plain_pdf):
    plain = tmp_path / "leer.pdf"
    plain.write_bytes(plain_pdf)
    pdf = attach_files(plain, tmp_path / "rechnung.pdf", {"factur-x.xml": b"<rsm:CrossIndustryInvoice"})
    with pytest.raises(NotXmlError, match=r"'rechnung.pdf \(Anlage factur-x.xml\)' ist keine wohlgeformte XML"):
        read_invoice(pdf)


def test_an_encrypted_pdf_fails_with_pdf_encrypted(tmp_path, plain_pdf):
    pdf = facturx_pdf(plain_pdf, "01.01a", tmp_path / "offen.pdf")
    locked = encrypt_copy(pdf, tmp_path / "geschuetzt.pdf", "geheim")
    with pytest.raises(EncryptedPdfError, match=r"'geschuetzt\.pdf' ist mit einem Kennwort geschützt") as caught:
        read_invoice(locked)
    assert caught.value.rule == "PDF-ENCRYPTED"


def test_a_truncated_pdf_fails_with_pdf_unreadable(tmp_path, plain_pdf):
    pdf = facturx_pdf(plain_pdf, "01.01a", tmp_path / "ganz.pdf")
    broken = truncate_copy(pdf, tmp_path / "abgeschnitten.pdf", 0.6)
    with pytest.raises(PdfUnreadableError, match=r"'abgeschnitten\.pdf' ist beschädigt") as caught:
        read_invoice(broken)
    assert caught.value.rule == "PDF-UNREADABLE"
    garbled = tmp_path / "kaputt.pdf"
    garbled.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n")
    with pytest.raises(PdfUnreadableError):
        read_invoice(garbled)


def test_extract_keyword_writes_the_xml_under_its_attachment_name(tmp_path, plain_pdf):
    pdf = facturx_pdf(plain_pdf, "02.02a", tmp_path / "rechnung.pdf")
    library = EInvoice()
    written = library.extract_invoice_xml_from_pdf(pdf, tmp_path / "archiv")
    assert written == tmp_path / "archiv" / "factur-x.xml"
    assert written.read_bytes() == corpus_file("02.02a", "uncefact").read_bytes()
    as_file = library.extract_invoice_xml_from_pdf(pdf, tmp_path / "ablage" / "RE-1234567.xml")
    assert as_file.read_bytes() == written.read_bytes()
    assert library.extract_invoice_xml_from_pdf(pdf) == written.read_bytes()


# --------------------------------------------------------------------------- files that are no e-invoice

@pytest.mark.parametrize(
    ("content", "error", "rule", "words"),
    [
        (b"", EmptyInvoiceFileError, "SYNTAX-EMPTY", "ist leer"),
        (b"  \n", EmptyInvoiceFileError, "SYNTAX-EMPTY", "ist leer"),
        (b"Sehr geehrte Damen und Herren", NotXmlError, "SYNTAX-XML", "ist weder XML noch PDF"),
        (b"<Invoice><cbc:ID>1</Invoice>", NotXmlError, "SYNTAX-XML", "keine wohlgeformte XML-Datei (Fehler in Zeile 1"),
        (b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>', UnknownRootError, "SYNTAX-ROOT",
         "Wurzelelement 'Order'"),
        (b"<Invoice/>", UnknownRootError, "SYNTAX-ROOT", "(ohne Namensraum)"),
        (b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>', UnknownRootError,
         "SYNTAX-ROOT", "ZUGFeRD 1.0"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', UnsafeXmlError,
         "SYNTAX-DTD", "Dokumenttypdefinition"),
        (b"%PDF-1.4\n1 0 obj", PdfUnreadableError, "PDF-UNREADABLE", "beschädigt oder abgeschnitten (Dateiende"),
    ],
)
def test_files_that_are_no_invoice_fail_with_their_own_rule(tmp_path, content, error, rule, words):
    path = tmp_path / "eingang.xml"
    path.write_bytes(content)
    with pytest.raises(error) as caught:
        read_invoice(path)
    assert isinstance(caught.value, EInvoiceError)
    assert isinstance(caught.value, BusinessError)
    assert caught.value.rule == rule
    assert "'eingang.xml'" in str(caught.value)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    invoice, findings = check_file(path)
    assert invoice is None
    assert [finding.rule for finding in findings] == [rule]


def test_entities_are_never_expanded(tmp_path):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
              b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:'
              b'xsd:Invoice-2">&c;</Invoice>')
    path = tmp_path / "lachen.xml"
    path.write_bytes(laughs)
    with pytest.raises(UnsafeXmlError):
        read_invoice(path)


@pytest.mark.parametrize(
    ("old", "new", "term"),
    [
        (b"<cbc:IssueDate>2016-04-04</cbc:IssueDate>", b"<cbc:IssueDate>04.04.2016</cbc:IssueDate>", "BT-2"),
        (b'<cbc:PayableAmount currencyID="EUR">336.9<', b'<cbc:PayableAmount currencyID="EUR">336,90<', "BT-115"),
    ],
)
def test_values_in_a_wrong_format_fail_with_syntax_value(tmp_path, old, new, term):
    data = corpus_file("01.01a", "ubl").read_bytes()
    assert old in data
    path = tmp_path / "rechnung.xml"
    path.write_bytes(data.replace(old, new))
    with pytest.raises(InvalidValueError, match=term) as caught:
        read_invoice(path)
    assert caught.value.rule == "SYNTAX-VALUE"


def test_a_missing_file_fails_naming_it(tmp_path):
    with pytest.raises(InvoiceFileMissingError, match=r"'fehlt\.xml' wurde nicht gefunden") as caught:
        read_invoice(tmp_path / "fehlt.xml")
    assert caught.value.rule == "FILE-MISSING"


# --------------------------------------------------------------------------- keywords

def test_the_keywords_accept_an_invoice_or_a_path(tmp_path):
    library = EInvoice()
    path = corpus_file("01.02a", "ubl")
    invoice = library.read_invoice(path)
    assert library.get_invoice_summary(path) == library.get_invoice_summary(invoice) == invoice.summary()
    assert library.validate_invoice(path).summary() == invoice.summary()
    assert library.get_invoice_findings(invoice) == library.get_invoice_findings(path) == []
    assert library.check_leitweg_id(invoice.buyer_reference) == "04011000-12346-97"
    assert library.make_leitweg_id("04011000", "1234512345") == "04011000-1234512345-06"


def test_get_invoice_findings_does_not_fail_on_a_broken_file(tmp_path):
    path = tmp_path / "rechnung.xml"
    path.write_bytes(b"<kaputt")
    (finding,) = EInvoice().get_invoice_findings(path)
    assert finding["rule"] == "SYNTAX-XML"
    assert finding["message"] == finding["text"]
    assert finding["message"].startswith("Die Datei 'rechnung.xml' ist keine wohlgeformte XML-Datei")


def test_validate_invoice_keyword_fails_with_every_rule(tmp_path):
    data = corpus_file("01.01a", "uncefact").read_bytes()
    path = tmp_path / "rechnung.xml"
    path.write_bytes(data.replace(b"<ram:BuyerReference>04011000-12345-03</ram:BuyerReference>", b""))
    with pytest.raises(InvalidInvoiceError, match=r"^rechnung\.xml: Rechnung 123456XX ungültig – \[BR-DE-15\]"):
        EInvoice().validate_invoice(path)


def test_keyword_names_in_english_and_german():
    assert EInvoice().get_keyword_names() == [
        "Check Leitweg-ID", "Extract Invoice XML From PDF", "Make Leitweg-ID", "check_invoice_with_official_rules",
        "get_invoice_findings", "get_invoice_summary", "read_invoice", "validate_invoice",
    ]
    assert EInvoice(language="de").get_keyword_names() == [
        "Leitweg-ID Bilden", "Leitweg-ID Prüfen", "Rechnung Lesen", "Rechnung Nach Amtlichen Regeln Prüfen",
        "Rechnung Prüfen",
        "Rechnungs-XML Aus PDF Extrahieren", "Rechnungsmängel Ermitteln", "Rechnungsübersicht Lesen",
    ]


def test_the_german_translation_documents_every_keyword():
    path = Path(__file__).resolve().parents[2] / "keywords" / "rathaus" / "einvoice" / "translation_de.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert validate_translation(data) == []
    library = EInvoice()
    methods = {getattr(library.keywords[name], "__name__", name) for name in library.get_keyword_names()}
    assert set(data) - {"__intro__", "__init__"} == methods
    doc = LibraryDocumentation("rathaus.EInvoice::language=de")
    assert "E-Rechnungen" in doc.doc
    for keyword in doc.keywords:
        assert "| =Argumente= | =Beschreibung= |" in keyword.doc, keyword.name
        assert "Beispiel:" in keyword.doc, keyword.name
        # the example uses the German name of the keyword itself
        assert keyword.name in keyword.doc.split("Beispiel:")[1], keyword.name


def test_the_english_documentation_has_arguments_and_examples():
    doc = LibraryDocumentation("rathaus.EInvoice")
    for keyword in doc.keywords:
        assert "| =Arguments= | =Description= |" in keyword.doc, keyword.name
        assert "Example:" in keyword.doc, keyword.name


# --------------------------------------------------------------------------- command line

def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rathaus")
    einvoice_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_prints_the_summary_of_a_valid_invoice(capsys, tmp_path, plain_pdf):
    assert run_cli(["invoice", "read", str(corpus_file("01.17a", "uncefact"))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "number: 123456XX"
    assert "payable_amount: 336.91" in lines
    assert [line.split(":")[0] for line in lines] == SUMMARY_KEYS
    pdf = facturx_pdf(plain_pdf, "01.17a", tmp_path / "rechnung.pdf")
    assert run_cli(["invoice", "read", "--json", str(pdf)]) == 0
    assert json.loads(capsys.readouterr().out) == read_invoice(corpus_file("01.17a", "uncefact")).summary()


def test_cli_fails_with_a_german_line_naming_file_and_rules(tmp_path, plain_pdf):
    data = corpus_file("01.01a", "ubl").read_bytes()
    path = tmp_path / "rechnung.xml"
    path.write_bytes(data.replace(b'"EUR">336.9</cbc:PayableAmount>', b'"EUR">346.9</cbc:PayableAmount>'))
    with pytest.raises(RathausError) as caught:
        run_cli(["invoice", "read", str(path)])
    assert str(caught.value).startswith(
        "rechnung.xml: Rechnung 123456XX ungültig – [BR-CO-16] Zahlbetrag 346,90 ≠ Gesamtbetrag mit Steuer 336,90"
    )
    plain = tmp_path / "scan.pdf"
    plain.write_bytes(plain_pdf)
    with pytest.raises(RathausError, match=r"^\[PDF-NO-INVOICE\] Die PDF-Datei 'scan\.pdf' enthält keine E-Rechnung"):
        run_cli(["invoice", "read", str(plain)])


def test_the_rathaus_command_exits_2_with_the_rule_on_stderr(tmp_path, capsys):
    from rathaus.cli import main

    path = tmp_path / "kaputt.xml"
    path.write_bytes(b"<Invoice><unclosed></Invoice>")
    assert main(["invoice", "read", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("rathaus: [SYNTAX-XML] ") and "'kaputt.xml'" in captured.err
    assert captured.err.count("\n") == 1
    assert main(["invoice", "read", "--json", str(corpus_file("02.01a", "ubl"))]) == 0
    assert json.loads(capsys.readouterr().out)["number"]


def test_the_cli_module_does_not_load_lxml():
    import subprocess
    import sys

    code = "import sys, rathaus.einvoice.cli; print('lxml' in sys.modules, 'robotlibcore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
