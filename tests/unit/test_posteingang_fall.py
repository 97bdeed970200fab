"""The case data of the mail room: read once into ``fall``/``inhalt``, rebuilt from them, the clerk's department."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml
from posteingang.content import MailItem, read_files
from posteingang.keywords import Posteingang, UnknownDepartmentError
from posteingang.ocr import OcrSettings
from posteingang.samples.generate import text_pdf
from rathaus.pdf.reader import read_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def library():
    city = yaml.safe_load((ROOT / "resources/cities/limburg/stadt.yaml").read_text(encoding="utf-8"))
    city["posteingang"] = yaml.safe_load((ROOT / "resources/cities/limburg/posteingang.yaml").read_text("utf-8"))
    config = yaml.safe_load((ROOT / "robots/limburg/posteingang/config.yaml").read_text(encoding="utf-8"))
    config.update(stadt_daten=city, prozess={"name": "posteingang", "version": "0.1.0"})
    lib = Posteingang()
    lib.configure_mail_room(config)
    return lib


def _upload(tmp_path, **fields):
    pdf = tmp_path / "Bauvoranfrage.pdf"
    pdf.write_bytes(text_pdf("Bauvoranfrage nach § 66 HBO", ["Vorhaben: Carport", "Bebauungsplan, Baugrundstück"]))
    variables = {"quelle": "upload", "eingang": "02.11.2026", "referenz": "UP-7", **fields}
    return read_files([pdf], variables, "UP-7", OcrSettings()), tmp_path


def test_an_upload_is_kept_once_and_rebuilt_from_the_kept_data_the_same(library, tmp_path):
    item, _ = _upload(tmp_path, absender="Ayşe Öztürk <ayse@example.net>", betreff="Carport",
                      uebersprungene_anhaenge=["Plan.tif"])
    kept = library.case_data_of_mail_item(item)
    assert kept.fall == {"absender": "Ayşe Öztürk <ayse@example.net>", "betreff": "Carport", "eingang": "02.11.2026",
                         "fachbereich": None, "bemerkung": None, "text": kept.inhalt["text"]}
    assert kept.fall["text"] and kept.inhalt["dateien"] == ["Bauvoranfrage.pdf"] and kept.inhalt["quelle"] == "upload"
    assert kept.inhalt["mail"] is False
    again = library.mail_item_from_case_data(kept.fall, kept.inhalt, "UP-7")
    assert again.evidence() == item.evidence()
    assert [a.describe() for a in again.attachments] == [a.describe() for a in item.attachments]
    assert "zu groß, nicht ausgewertet" in again.attachments[-1].describe()
    assert again.received == date(2026, 11, 2) and again.uploaded and not again.is_mail
    assert library.route_mail_item(again).department.key == "bauamt"


def test_case_data_a_clerk_gave_win_over_what_was_read(library, tmp_path):
    item, _ = _upload(tmp_path, betreff="Carport")
    kept = library.case_data_of_mail_item(item, {"betreff": "Bauvoranfrage Carport", "fachbereich": "bauamt"})
    assert kept.fall["betreff"] == "Bauvoranfrage Carport" and kept.fall["fachbereich"] == "bauamt"
    rebuilt = MailItem.from_case_data({**kept.fall, "absender": "Stadtwerke Limburg"}, kept.inhalt, "UP-7")
    assert rebuilt.sender == "Stadtwerke Limburg" and rebuilt.sender_address == ""


def test_the_clerks_department_wins_and_an_unknown_one_goes_back_naming_the_keys(library, tmp_path):
    item, folder = _upload(tmp_path)
    routing = library.route_mail_item(item, fachbereich="standesamt")
    assert routing.department.key == "standesamt" and routing.reason == "sachbearbeitung"
    docket = library.prepare_docket(item, routing, tmp_path / "laufzettel", remark="Bitte rasch.", documents=folder)
    assert docket.zugeordnet and docket.ordner == "Fachdienste.Standesamt" and docket.upload
    assert docket.variablen["zuordnung"] == "sachbearbeitung" and docket.pruefung_message_id
    assert docket.message_id != docket.pruefung_message_id  # a new docket beside the review one
    text = " ".join(read_text(docket.pdf)[1].split())
    assert "Zuordnung von Hand durch die Sachbearbeitung" in text and "Bemerkung Bitte rasch." in text
    assert "Eingangsweg Upload im Kontrollraum (Referenz UP-7)" in text and "Eingangsdatum 02.11.2026" in text
    mail = message_from_bytes(Path(docket.eml).read_bytes(), policy=policy.default)
    assert mail["In-Reply-To"] is None  # a loose file has no mail to thread to
    assert [p.get_filename() for p in mail.iter_attachments()] == [Path(docket.pdf).name, "Bauvoranfrage.pdf"]
    with pytest.raises(UnknownDepartmentError) as caught:
        library.route_mail_item(item, fachbereich="rathaus")
    assert "Den Fachbereich 'rathaus' gibt es in den Zuordnungsregeln nicht." in str(caught.value)
    assert "standesamt (Standesamt)" in str(caught.value) and caught.value.kind == "BUSINESS"


def test_an_unreadable_document_still_goes_where_the_clerk_said(library, tmp_path):
    broken = tmp_path / "Scan.pdf"
    broken.write_bytes(b"%PDF-1.4 kaputt")
    item = read_files([broken], {"quelle": "upload", "referenz": "UP-8"}, "UP-8", OcrSettings())
    assert [p.code for p in item.problems] == ["ANHANG_UNLESBAR"]
    kept = library.case_data_of_mail_item(item)
    rebuilt = library.mail_item_from_case_data(kept.fall, kept.inhalt, "UP-8")
    assert [p.code for p in rebuilt.problems] == ["ANHANG_UNLESBAR"]
    assert library.prepare_docket(rebuilt, library.route_mail_item(rebuilt), tmp_path / "a").code == "ANHANG_UNLESBAR"
    chosen = library.route_mail_item(rebuilt, fachbereich="buergerbuero")
    assert library.prepare_docket(rebuilt, chosen, tmp_path / "b", documents=tmp_path).zugeordnet is True
