"""The runner's parts without a control room: input delivery, progress, item results, run messages, artifacts."""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from rathaus.controlroom.runner import (
    InputDeliveryError,
    collect_artifacts,
    deliver_inputs,
    item_results,
    read_progress,
    run_message,
)
from rathaus.process.project import Project
from rathaus.workitems.model import State
from rathaus.workitems.queue import open_queue

ROOT = Path(__file__).resolve().parents[2]
ROBOT = "marburg/posteingang"


def _job(robot=ROBOT, inputs=None):
    return {"run": 5, "robot": robot, "city": "marburg", "attempt": 1, "inputs": inputs if inputs is not None else [
        {"id": 7, "reference": "brief-1", "payload": {"absender": "Anna Beispiel <anna@example.org>",
                                                     "betreff": "Bauvoranfrage", "text": "Anbei mein Antrag."}}]}


def test_uploads_for_a_mailbox_robot_become_mails_in_the_runs_inbox(tmp_path):
    letter = tmp_path / "Antrag.pdf"
    letter.write_bytes(b"%PDF-1.7 Antrag")
    home = tmp_path / "home"
    override = deliver_inputs(Project(ROOT), _job(), {7: [letter]}, home, tmp_path)
    assert override is None  # the embedded default is a Maildir already: no override needed
    box = mailbox.Maildir(home / "marburg" / "poststelle", create=False)
    mails = list(box)
    assert len(mails) == 1
    parsed = message_from_bytes(mails[0].as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<kontrollraum.5.7@rathaus.invalid>"
    assert (str(parsed["From"]), str(parsed["Subject"])) == ("Anna Beispiel <anna@example.org>", "Bauvoranfrage")
    attachment = next(parsed.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("Antrag.pdf", b"%PDF-1.7 Antrag")


def test_uploads_for_a_folder_robot_land_in_its_source_folder(tmp_path):
    export = tmp_path / "civento.csv"
    export.write_text("a;b\n", encoding="utf-8")
    home = tmp_path / "home"
    deliver_inputs(Project(ROOT), _job("marburg/nutzungsstatistik"), {7: [export]}, home, tmp_path)
    assert (home / "marburg" / "nutzungsstatistik" / "exporte" / "civento.csv").read_text() == "a;b\n"
    assert deliver_inputs(Project(ROOT), _job(inputs=[]), {}, home, tmp_path) is None


def test_a_robot_without_mailbox_or_source_folder_refuses_inputs(tmp_path, monkeypatch):
    import rathaus.process.config as config

    monkeypatch.setattr(config, "load_robot_config", lambda *args, **kwargs: {"process": "x"})
    with pytest.raises(InputDeliveryError, match="nimmt keine Eingaben an"):
        deliver_inputs(Project(ROOT), _job(), {}, tmp_path, tmp_path)


def test_results_and_progress_come_from_the_runs_queue(tmp_path):
    home = tmp_path / "home"
    database = home / ROBOT / "workitems.sqlite"
    database.parent.mkdir(parents=True)
    assert read_progress(home, ROBOT) == (None, None)
    producer = open_queue(database, output_queue=ROBOT)
    for key in ("<kontrollraum.5.7@rathaus.invalid>", "<kontrollraum.5.8@rathaus.invalid>",
                "<kontrollraum.5.9@rathaus.invalid>", "<fremd@example.org>", "<kontrollraum.4.10@rathaus.invalid>"):
        producer.create_output(None, {"message_id": key}, key=key)
    consumer = open_queue(database, input_queue=ROBOT)
    first = consumer.reserve_input()
    consumer.release_input(first, State.DONE)
    second = consumer.reserve_input()
    consumer.release_input(second, State.FAILED, {"type": "BUSINESS", "code": "UNKLAR", "message": "Kein Amt passt"})
    assert read_progress(home, ROBOT) == (2, 5)
    assert item_results(home, ROBOT, 5) == [
        {"id": 7, "state": "done"},
        {"id": 8, "state": "failed_business", "code": "UNKLAR", "message": "Kein Amt passt"},
        {"id": 9, "state": "failed_application", "code": "OFFEN",
         "message": "Der Vorgang wurde im Lauf nicht fertig bearbeitet."},
    ]


def test_the_run_message_keeps_the_german_summary_and_causes():
    output = ("Running suite...\n\nLauf marburg/posteingang mit Fehlern beendet.\n"
              "  Ursache in 'Post zuordnen': Postfach nicht erreichbar\n  Verarbeitet: 0\n"
              "Protokoll: /x/log.html\n")
    assert run_message(output, 1) == ("Lauf marburg/posteingang mit Fehlern beendet.\n"
                                      "Ursache in 'Post zuordnen': Postfach nicht erreichbar\nVerarbeitet: 0")
    crashed = run_message("Traceback...\nrathaus: Robot 'x/y' gibt es nicht; vorhanden: a/b.\n", 1)
    assert crashed == "Der Lauf ist abgebrochen (Exit-Code 1).\nrathaus: Robot 'x/y' gibt es nicht; vorhanden: a/b."


def test_artifacts_are_the_log_output_summary_letters_and_screenshots(tmp_path):
    folder = tmp_path / ROBOT / "20260302-080000"
    for name in ("log.html", "report.html", "output.xml", "zusammenfassung.txt", "laufzeit.yaml",
                 "schritt-1/output.xml", "schritt-2/briefe/1-bescheid.pdf", "schritt-2/fehler-1.png"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x", encoding="utf-8")
    assert [name for name, _ in collect_artifacts(tmp_path, ROBOT)] == [
        "log.html", "report.html", "output.xml", "zusammenfassung.txt", "schritt-2/briefe/1-bescheid.pdf",
        "schritt-2/fehler-1.png"]
