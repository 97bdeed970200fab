"""The docket (Laufzettel) and the keywords that prepare it: numbers, deadlines, the PDF, the docket mail."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from posteingang.content import AttachmentInfo, MailItem
from posteingang.docket import Docket, deadline, docket_mail, docket_message_id, intake_number, write_docket_pdf
from posteingang.keywords import Posteingang
from posteingang.ocr import OcrResult, PageText, UnreadableScanError
from posteingang.routing import RoutingRulesError
from pypdf import PdfReader
from rathaus.pdf.reader import read_text

ROOT = Path(__file__).resolve().parents[2]
RECEIVED = datetime(2026, 11, 2, 8, 15, tzinfo=timezone(timedelta(hours=1)))
CASE = "<brief-1@example.org>"


def _config(**changes):
    city = yaml.safe_load((ROOT / "resources/cities/limburg/stadt.yaml").read_text(encoding="utf-8"))
    city["posteingang"] = yaml.safe_load((ROOT / "resources/cities/limburg/posteingang.yaml").read_text("utf-8"))
    config = yaml.safe_load((ROOT / "robots/limburg/posteingang/config.yaml").read_text(encoding="utf-8"))
    config.update(stadt_daten=city, prozess={"name": "posteingang", "version": "0.1.0"}, **changes)
    return config


@pytest.fixture
def library():
    lib = Posteingang()
    lib.configure_mail_room(_config())
    return lib


def _item(subject="Lärmbeschwerde Kornmarkt", body="Die Nachtruhe wird nicht eingehalten.", **changes):
    values = dict(message_id=CASE, received=RECEIVED, subject=subject, sender_name="Jürgen Weiß",
                  sender_address="j.weiss@example.org", body=body)
    values.update(changes)
    return MailItem(**values)


def test_intake_number_is_stable_per_mail_and_dated_by_receipt():
    number = intake_number(CASE, RECEIVED)
    assert number == intake_number(f"  {CASE} ", RECEIVED)
    assert number.startswith("PE-20261102-") and len(number) == 18
    assert number != intake_number("<brief-2@example.org>", RECEIVED)


def test_deadline_counts_calendar_days_and_skips_the_weekend():
    assert deadline(datetime(2026, 11, 2, 9, 0), 10) == date(2026, 11, 12)  # Monday + 10 = Thursday
    assert deadline(date(2026, 11, 2), 5) == date(2026, 11, 9)  # Saturday 7th -> Monday 9th
    assert deadline(date(2026, 11, 2), 6) == date(2026, 11, 9)  # Sunday 8th -> Monday 9th


def test_the_docket_is_one_page_even_with_long_lists(tmp_path):
    docket = Docket(
        number="PE-20261102-ABCDEF", received=RECEIVED, subject="Sehr langer Betreff " * 30,
        sender="Małgorzata Kowalczyk <m.kowalczyk@example.org>", assignment="Fachdienst Sicherheit und Ordnung",
        folder="Fachdienste/Sicherheit und Ordnung", score=42,
        hits=[f"Text enthält „Wort{i}“ (+2)" for i in range(40)],
        attachments=[f"Nr. {i} anlage-{i}.pdf (PDF, 1 Seite)" for i in range(1, 30)],
        ocr="ja, 3 Seite(n), mittlere Konfidenz 91 %", deadline=date(2026, 11, 12),
        handed_over_by="Robot posteingang 0.1.0", city="Kreisstadt Limburg a. d. Lahn",
    )
    pdf = write_docket_pdf(docket, tmp_path / "laufzettel.pdf")
    assert len(PdfReader(pdf).pages) == 1
    text = read_text(pdf)[1]
    for expected in ("Laufzettel – Posteingang", "PE-20261102-ABCDEF", "02.11.2026, 08:15 Uhr", "Małgorzata",
                     "Treffer (42 Punkte)", "… und 28 weitere", "mittlere Konfidenz 91 %", "12.11.2026", "…"):
        assert expected in text
    assert repr(docket) == "<Laufzettel PE-20261102-ABCDEF>"


def test_the_docket_mail_is_threaded_to_the_original_and_found_again_by_its_message_id(tmp_path):
    pdf = tmp_path / "Laufzettel-PE-1.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    docket = Docket("PE-1", RECEIVED, "Lärm", "x", "Ordnungsamt", "Ordnungsamt", 5, [], [], "nein",
                    date(2026, 11, 12), "Robot", "Stadt")
    mail = docket_mail(docket, pdf, CASE, "poststelle@limburg.de")
    assert mail["In-Reply-To"] == CASE and mail["References"] == CASE
    assert mail["Message-ID"] == docket_message_id(CASE, "limburg.de")
    assert mail["Message-ID"] == docket_message_id(CASE, "limburg.de")  # same original, same id
    assert mail["Subject"] == "Laufzettel PE-1: Lärm"
    assert [part.get_filename() for part in mail.iter_attachments()] == ["Laufzettel-PE-1.pdf"]


def test_a_routed_item_gets_its_department_and_variables_without_personal_data(library, tmp_path):
    item = _item()
    routing = library.route_mail_item(item)
    docket = library.prepare_docket(item, routing, tmp_path)
    assert docket.zugeordnet is True and docket.code == "" and docket.meldung == ""
    assert docket.ordner == "Fachdienste.Sicherheit und Ordnung"
    assert docket.fachbereich == "Fachdienst Sicherheit und Ordnung"
    variables = docket.variablen
    assert variables["fachbereich"] == "ordnungsamt" and variables["punkte"] == routing.score
    assert variables["ocr_seiten"] == 0 and variables["ocr_konfidenz"] is None
    assert variables["frist"] == "2026-11-12"
    shown = repr(variables)
    assert "Weiß" not in shown and "example.org" not in shown and "Kornmarkt" not in shown
    assert repr(docket).startswith("<Laufzettel PE-20261102-")
    text = " ".join(read_text(docket.pdf)[1].split())
    assert "Jürgen Weiß <j.weiss@example.org>" in text  # the internal docket may show the sender
    assert "Fachdienst Sicherheit und Ordnung – Ordner „Fachdienste/Sicherheit und Ordnung“" in text
    assert "Robot posteingang 0.1.0" in text
    assert Path(docket.eml).read_bytes().count(b"In-Reply-To: <brief-1@example.org>") == 1


def test_a_tie_goes_to_review_with_a_message_naming_the_case_and_both_departments(library, tmp_path):
    item = _item(subject="Baustelle und Lärm", body="Baustelle, Lärm ab sechs Uhr")
    docket = library.prepare_docket(item, library.route_mail_item(item), tmp_path)
    assert docket.zugeordnet is False and docket.code == "GLEICHSTAND"
    assert docket.ordner == "Pruefung" and docket.variablen["fachbereich"] is None
    assert docket.meldung.startswith(f"Posteingang {CASE}: Zuordnung nicht eindeutig: Fachdienst Sicherheit und "
                                     "Ordnung und Fachdienst Stadtplanung und Bauen haben je 7 Punkte.")
    assert "Ordner 'Pruefung'" in docket.meldung
    text = read_text(docket.pdf)[1]
    assert "Grund der Prüfung" in text and "Punkte je Fachbereich" in text


def test_an_unreadable_scan_goes_to_review_even_when_the_subject_is_clear(library, tmp_path):
    scan = AttachmentInfo(1, "scan.pdf", "application/pdf", 1000, "pdf", pages=1, note="nicht lesbar",
                          ocr=OcrResult((PageText(1, "u nn", 2, 35.0),)))
    problem = UnreadableScanError(f"Posteingang {CASE}: Der Scan in Anhang Nr. 1 ist nicht lesbar. Bitte ansehen.")
    item = _item(attachments=[scan], problems=[problem])
    docket = library.prepare_docket(item, library.route_mail_item(item), tmp_path)
    assert docket.zugeordnet is False and docket.code == "SCAN_UNLESBAR" and docket.ordner == "Pruefung"
    assert docket.meldung.startswith(str(problem))
    assert docket.variablen["ocr_seiten"] == 1 and docket.variablen["ocr_konfidenz"] == 35.0
    text = read_text(docket.pdf)[1]
    assert "Der Scan in Anhang Nr. 1 ist nicht lesbar." in text
    assert "ja, 1 Seite(n), mittlere Konfidenz 35 %" in text


def test_no_hit_is_unclear_with_its_own_code(library, tmp_path):
    item = _item(subject="Frage", body="Wann hat das Rathaus geöffnet?")
    docket = library.prepare_docket(item, library.route_mail_item(item), tmp_path)
    assert docket.code == "KEIN_TREFFER"
    assert "keine Regel hat angesprochen" in read_text(docket.pdf)[1]


def test_folders_use_the_mail_servers_separator(library):
    assert library.mailbox_folder("Fachdienste/Finanzen/Rechnungseingang") == "Fachdienste.Finanzen.Rechnungseingang"
    exchange = Posteingang()
    config = _config()
    config["postfach"]["ordner_trennzeichen"] = "/"
    exchange.configure_mail_room(config)
    assert exchange.mailbox_folder("/Fachdienste/Finanzen/") == "Fachdienste/Finanzen"


def test_a_city_without_rules_fails_when_the_robot_starts():
    config = _config()
    del config["stadt_daten"]["posteingang"]
    with pytest.raises(RoutingRulesError) as caught:
        Posteingang().configure_mail_room(config)
    assert "resources/cities/limburg/posteingang.yaml" in str(caught.value)


def test_the_run_summary_counts_departments_into_the_run_folder(library, tmp_path, monkeypatch):
    monkeypatch.setenv("RATHAUS_RUN_DIR", str(tmp_path))
    for name in ("Standesamt", "Prüfung durch die Poststelle", "Standesamt"):
        library.note_outcome({"fachbereich": name})
    lines = library.write_run_summary()
    assert lines == ["Verteilung des Posteingangs:", "  Standesamt: 2", "  Prüfung durch die Poststelle: 1"]
    assert (tmp_path / "zusammenfassung.txt").read_text(encoding="utf-8").splitlines() == lines


def test_a_docket_is_recognised_among_the_folders_mails(library):
    class Mail:
        def __init__(self, message_id):
            self.message_id = message_id

    docket = {"message_id": "<laufzettel.abc@limburg.de>"}
    assert library.docket_is_in_folder(docket, [Mail("<x@y>"), Mail(" <laufzettel.abc@limburg.de>")])
    assert not library.docket_is_in_folder(docket, [Mail(None), Mail("<x@y>")])
