"""OCR of the mail room with the real Tesseract (Debian tesseract-ocr + tesseract-ocr-deu) and PDFium rendering."""

from __future__ import annotations

import random
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

import pytest
import yaml
from posteingang.content import read_item
from posteingang.ocr import OcrSettings, OcrUnavailableError, check_available, recognize_pdf
from posteingang.routing import RoutingRules
from posteingang.samples.generate import build_mail, samples, scanned_letter, text_pdf
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = OcrSettings()


def _sample_eml(tmp_path: Path, key: str, city: str = "limburg") -> Path:
    for index, sample in enumerate(samples(city)):
        if sample.key == key:
            path = tmp_path / f"{key}.eml"
            path.write_bytes(build_mail(sample, city, index).as_bytes())
            return path
    raise AssertionError(key)


def test_the_scanned_letter_is_recognised_and_routed_by_its_text(tmp_path):
    item = read_item(_sample_eml(tmp_path, "scan-brief"), "<scan-brief>", SETTINGS)
    [attachment] = item.attachments
    assert attachment.source == "OCR" and attachment.ocr is not None
    assert attachment.ocr.confidence > 80 and attachment.ocr.words > 50
    assert "Kindertagesstätte" in attachment.text and "Betreuungsplatz" in attachment.text
    rules = RoutingRules.from_mapping(yaml.safe_load((ROOT / "resources/cities/limburg/posteingang.yaml").read_text()))
    assert rules.route(item.evidence()).department.key == "jugendamt"


def test_the_unreadable_scan_is_a_problem_for_a_clerk(tmp_path):
    item = read_item(_sample_eml(tmp_path, "scan-unlesbar"), "<scan-unlesbar>", SETTINGS)
    [problem] = item.problems
    assert problem.code == "SCAN_UNLESBAR"
    assert "Posteingang <scan-unlesbar>: Der Scan in Anhang Nr. 1 ist nicht lesbar." in str(problem)
    assert item.attachments[0].ocr is not None  # recognised, but not well enough


def test_a_photo_attachment_is_recognised_too(tmp_path):
    import pypdfium2 as pdfium

    pdf = scanned_letter(["Antrag auf Wohngeld", "", "Sehr geehrte Damen und Herren,",
                          "hiermit beantrage ich Wohngeld für meine Familie.", "Die Unterlagen reiche ich nach."],
                         random.Random(3))
    document = pdfium.PdfDocument(pdf)
    image = document[0].render(scale=200 / 72, grayscale=True).to_pil()
    document.close()
    buffer = BytesIO()
    image.save(buffer, "PNG")
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "b@example.org", "Foto", "<foto-1@example.org>"
    msg.set_content("siehe Foto")
    msg.add_attachment(buffer.getvalue(), maintype="image", subtype="png", filename="IMG_2041.png")
    path = tmp_path / "foto.eml"
    path.write_bytes(msg.as_bytes())
    item = read_item(path, "<foto-1@example.org>", SETTINGS)
    [attachment] = item.attachments
    assert attachment.kind == "bild" and attachment.source == "OCR" and attachment.pages == 1
    assert "Wohngeld" in attachment.text and item.problems == []


def test_only_pages_without_text_layer_are_recognised(tmp_path):
    writer = PdfWriter()
    writer.append(PdfReader(BytesIO(text_pdf("Seite eins", ["Text aus der Textschicht"]))))
    writer.append(PdfReader(BytesIO(scanned_letter(["Zweite Seite", "als Scan ohne Textschicht",
                                                    "mit einigen weiteren Wörtern darauf", "für die Erkennung"],
                                                   random.Random(5)))))
    buffer = BytesIO()
    writer.write(buffer)
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "c@example.org", "Unterlagen", "<mix-1@example.org>"
    msg.set_content("anbei")
    msg.add_attachment(buffer.getvalue(), maintype="application", subtype="pdf", filename="unterlagen.pdf")
    path = tmp_path / "mix.eml"
    path.write_bytes(msg.as_bytes())
    item = read_item(path, "<mix-1@example.org>", SETTINGS)
    [attachment] = item.attachments
    assert attachment.source == "Textschicht + OCR" and attachment.pages == 2
    assert [page.page for page in attachment.ocr.pages] == [2]
    assert "Textschicht" in attachment.text and "Scan ohne" in attachment.text


def test_recognize_pdf_reports_words_and_confidence_per_page(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_letter(["Sehr geehrte Damen und Herren,", "bitte senden Sie mir eine Meldebescheinigung."],
                                    random.Random(9)))
    result = recognize_pdf(path, [1], SETTINGS)
    [page] = result.pages
    assert page.page == 1 and page.words >= 8 and page.confidence > 80
    assert "Meldebescheinigung" in result.text


def test_missing_language_data_is_an_application_error_naming_the_package():
    check_available("deu")
    with pytest.raises(OcrUnavailableError) as caught:
        check_available("deu+xyz")
    assert "tesseract-ocr-xyz" in str(caught.value) and caught.value.kind == "APPLICATION"
