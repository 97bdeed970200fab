"""Reading an incoming item: attachments, text layer versus OCR, e-invoices, unreadable files; OCR rules.

Tesseract itself runs in tests/integration/test_ocr_posteingang.py; here its results are faked.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from io import BytesIO

import posteingang.content as content
import pytest
from posteingang.content import is_e_invoice, read_item
from posteingang.ocr import (
    OcrResult,
    OcrSettings,
    PageText,
    UnreadableScanError,
    check_readable,
    describe,
    pages_without_text,
)
from posteingang.samples.generate import scanned_letter, text_pdf, xrechnung
from rathaus.mail.errors import UnreadableMailError

CASE = "<post-1@example.org>"
SETTINGS = OcrSettings(max_pages=2)


def _mail(*attachments, body="Sehr geehrte Damen und Herren,\nanbei meine Unterlagen.", subject="Unterlagen"):
    msg = EmailMessage()
    msg["From"] = "Ayşe Öztürk <ayse@example.net>"
    msg["To"] = "poststelle@limburg.de"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Nov 2026 08:15:00 +0100"
    msg["Message-ID"] = CASE
    msg.set_content(body)
    for name, data, content_type in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def _eml(tmp_path, *attachments, **kwargs):
    path = tmp_path / "nachricht.eml"
    path.write_bytes(_mail(*attachments, **kwargs))
    return path


@pytest.fixture
def fake_ocr(monkeypatch):
    """Replaces Tesseract: each page 'recognised' returns the given text and confidence."""
    calls: list[list[int]] = []
    result = {"text": "Betreuungsplatz in einer Kindertagesstätte " * 3, "confidence": 93.0}

    def recognize_pdf(path, pages, settings):
        calls.append(list(pages))
        words = len(result["text"].split())
        return OcrResult(tuple(PageText(p, result["text"], words, result["confidence"]) for p in pages))

    monkeypatch.setattr(content, "recognize_pdf", recognize_pdf)
    return calls, result


def _two_scans():
    import random

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.append(PdfReader(BytesIO(scanned_letter(["Scan"], random.Random(1)))))
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_pdf_with_text_layer_is_read_without_ocr(tmp_path, fake_ocr):
    calls, _ = fake_ocr
    pdf = text_pdf("Bauvoranfrage", ["Gemarkung Limburg, Flur 3, Flurstück 47"])
    item = read_item(_eml(tmp_path, ("Bauvoranfrage.pdf", pdf, "application/pdf")), CASE, SETTINGS)
    assert calls == []
    [attachment] = item.attachments
    assert attachment.kind == "pdf" and attachment.pages == 1 and attachment.source == "Textschicht"
    assert "Flurstück 47" in item.evidence().text and "anbei meine Unterlagen" in item.evidence().text
    assert not item.ocr_used and item.problems == []
    assert attachment.describe() == "Nr. 1 Bauvoranfrage.pdf (PDF, 1 Seite, Text aus Textschicht)"


def test_a_scan_without_text_layer_is_recognised_and_its_text_routes(tmp_path, fake_ocr):
    calls, _ = fake_ocr
    item = read_item(_eml(tmp_path, ("Scan_0815.pdf", _two_scans(), "application/pdf")), CASE, SETTINGS)
    [attachment] = item.attachments
    assert calls == [[1, 2]]  # max_pages=2 of 3 pages
    assert attachment.source == "OCR" and attachment.pages == 3
    assert "Seite(n) 3 ohne Texterkennung" in attachment.note
    assert item.ocr_used and "Kindertagesstätte" in item.evidence().text
    assert describe(item.ocr_results) == "ja, 2 Seite(n), mittlere Konfidenz 93 %"


def test_an_unreadable_scan_is_kept_as_a_problem_not_lost(tmp_path, fake_ocr):
    _, result = fake_ocr
    result.update(text="u nn ii", confidence=31.0)
    item = read_item(_eml(tmp_path, ("Scan_Müller.pdf", _two_scans(), "application/pdf")), CASE, SETTINGS)
    [problem] = item.problems
    assert isinstance(problem, UnreadableScanError) and problem.code == "SCAN_UNLESBAR"
    assert str(problem).startswith(f"Posteingang {CASE}: Der Scan in Anhang Nr. 1 ist nicht lesbar.")
    assert "Müller" not in str(problem)  # the file name may carry a name: the message uses the number
    assert item.attachments[0].note == "nicht lesbar" and item.evidence().text.count("nn") == 0


def test_a_damaged_pdf_is_a_problem_that_names_the_attachment_by_number(tmp_path, fake_ocr):
    pdf = text_pdf("Antrag", ["Text"])
    item = read_item(_eml(tmp_path, ("Antrag_Weiß.pdf", pdf[: len(pdf) // 2], "application/pdf")), CASE, SETTINGS)
    [problem] = item.problems
    assert problem.code == "ANHANG_UNLESBAR"
    assert f"Posteingang {CASE}: Anhang Nr. 1 ist keine lesbare PDF-Datei" in str(problem)
    assert "Weiß" not in str(problem)


def test_an_xrechnung_attachment_is_an_e_invoice(tmp_path, fake_ocr):
    invoice = xrechnung("RE-1", datetime(2026, 10, 30), {"name": "Stadt"}, "06533-X-12")
    item = read_item(_eml(tmp_path, ("RE-1.xml", invoice, "application/xml"),
                          ("notiz.txt", b"Bitte Rechnungsnummer angeben", "text/plain")), CASE, SETTINGS)
    assert [a.kind for a in item.attachments] == ["xml", "text"]
    assert item.attachments[0].e_invoice and item.evidence().kinds == frozenset({"e-rechnung"})
    assert "Rechnungsnummer" in item.evidence().text


def test_only_invoices_count_as_e_invoices_and_xml_with_entities_does_not(tmp_path):
    cii = (b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>')
    assert is_e_invoice(cii, "rechnung.xml")
    assert not is_e_invoice(b"<Invoice/>", "daten.xml")  # no namespace: not UBL
    assert not is_e_invoice(b"kein xml", "daten.xml")
    assert not is_e_invoice(text_pdf("Rechnung", ["ohne XML"]), "rechnung.pdf")
    secret = tmp_path / "geheim.txt"
    secret.write_text("GEHEIM", encoding="utf-8")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
           '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&e;</Invoice>').encode()
    assert not is_e_invoice(xxe, "rechnung.xml")


def test_a_zugferd_pdf_is_an_e_invoice(tmp_path, fake_ocr):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(BytesIO(text_pdf("Rechnung RE-7", ["Rechnungsnummer RE-7"]))))
    writer.add_attachment("factur-x.xml", xrechnung("RE-7", datetime(2026, 10, 30), {"name": "Stadt"}, "06533-X-12"))
    buffer = BytesIO()
    writer.write(buffer)
    item = read_item(_eml(tmp_path, ("RE-7.pdf", buffer.getvalue(), "application/pdf")), CASE, SETTINGS)
    assert item.attachments[0].e_invoice and item.attachments[0].source == "Textschicht"
    assert "E-Rechnung" in item.attachments[0].describe()


def test_the_item_hides_personal_data_in_its_text_form(tmp_path, fake_ocr):
    item = read_item(_eml(tmp_path, subject="Lärmbeschwerde Schloßgasse 7"), CASE, SETTINGS)
    assert item.sender == "Ayşe Öztürk <ayse@example.net>"
    assert item.received.isoformat() == "2026-11-02T08:15:00+01:00"
    for shown in (repr(item), str(item)):
        assert "Öztürk" not in shown and "Schloßgasse" not in shown and "ayse@" not in shown
        assert CASE in shown


def test_a_file_that_is_not_a_mail_is_a_business_error(tmp_path):
    path = tmp_path / "nachricht.eml"
    path.write_bytes(b"\x00\x01 binary")
    with pytest.raises(UnreadableMailError) as caught:
        read_item(path, CASE, SETTINGS)
    assert caught.value.kind == "BUSINESS" and CASE in str(caught.value)


def test_pages_with_only_whitespace_or_marks_need_ocr():
    assert pages_without_text({1: "Text", 2: "", 3: " \n - ", 4: "S. 4"}) == [2, 3]


@pytest.mark.parametrize(
    ("words", "confidence", "expected"),
    [
        (0, 0.0, "keinen Text gefunden"),
        (4, 95.0, "nur 4 Wörter gefunden (mindestens 10)"),
        (80, 41.6, "zu unsicher (mittlere Konfidenz 42 %, verlangt 60 %)"),
    ],
)
def test_unreadable_scans_say_why_and_what_to_do(words, confidence, expected):
    result = OcrResult((PageText(1, "x", words, confidence),))
    with pytest.raises(UnreadableScanError) as caught:
        check_readable(result, OcrSettings(), CASE, "in Anhang Nr. 2")
    message = str(caught.value)
    assert message.startswith(f"Posteingang {CASE}: Der Scan in Anhang Nr. 2 ist nicht lesbar.")
    assert expected in message and "bessere Kopie anfordern" in message


def test_a_readable_scan_passes_and_confidence_is_weighted_by_words():
    result = OcrResult((PageText(1, "a", 90, 90.0), PageText(2, "b", 10, 40.0)))
    assert result.confidence == pytest.approx(85.0)
    check_readable(result, OcrSettings(), CASE, "x")
    assert describe([]) == "nein"


def test_ocr_settings_come_from_the_config_section():
    settings = OcrSettings.from_config({"sprache": "deu+eng", "min_konfidenz": 70, "max_seiten": 3})
    assert settings == OcrSettings("deu+eng", 70.0, 10, 3, 200)
    assert OcrSettings.from_config(None) == OcrSettings()
