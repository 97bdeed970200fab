"""The runner's parts without a control room: input delivery, progress, item results, run messages, artifacts."""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from rathaus.core.project import Project
from rathaus.workitems.model import State
from rathaus.workitems.queue import open_queue
from rathaus_controlroom.runner import (
    InputDeliveryError,
    collect_artifacts,
    deliver_inputs,
    item_results,
    read_progress,
    run_message,
)

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
    import rathaus.core.config as config

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


def test_a_credential_cannot_replace_the_runners_own_variables(tmp_path, caplog):
    """The attack: a city admin saves PYTHONPATH pointing at an uploaded sitecustomize.py. It never runs."""
    import logging
    import subprocess
    import sys

    from rathaus_controlroom.runner import _run_env

    evil = tmp_path / "hochgeladen"
    evil.mkdir()
    marker = tmp_path / "ausgefuehrt.txt"
    (evil / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ja')\n", encoding="utf-8")
    probe = [sys.executable, "-c", "import os; print(os.environ.get('MARBURG_DMS_PASSWORT'))"]
    # the attack is real: with PYTHONPATH set, Python runs the uploaded file
    subprocess.run(probe, env={**__import__("os").environ, "PYTHONPATH": str(evil)}, check=True,
                   stdout=subprocess.DEVNULL)
    assert marker.read_text() == "ja"
    marker.unlink()

    caplog.set_level(logging.WARNING, logger="rathaus_controlroom.runner")
    home = tmp_path / "home"
    job = {**_job(), "env": {"PYTHONPATH": str(evil), "LD_PRELOAD": str(evil / "x.so"), "RATHAUS_HOME": "/",
                             "RATHAUS_PROJECT": str(evil), "PATH": str(evil), "_X": "y",
                             "MARBURG_DMS_PASSWORT": "streng-geheim"}}
    env = _run_env(job, home, Project(ROOT))
    assert (env["RATHAUS_HOME"], env["RATHAUS_PROJECT"]) == (str(home), str(ROOT))
    assert env.get("PYTHONPATH") != str(evil) and "LD_PRELOAD" not in env and "_X" not in env
    assert env["PATH"] != str(evil) and env["MARBURG_DMS_PASSWORT"] == "streng-geheim"
    answer = subprocess.run(probe, env=env, check=True, capture_output=True, text=True)
    assert answer.stdout.strip() == "streng-geheim"
    assert not marker.exists()  # the uploaded sitecustomize.py did not run
    skipped = "\n".join(record.getMessage() for record in caplog.records)
    assert "name=PYTHONPATH" in skipped and "name=LD_PRELOAD" in skipped and "reserviert" in skipped
    assert str(evil) not in skipped and "streng-geheim" not in skipped


def test_results_outside_the_output_folder_become_artifacts(tmp_path):
    from rathaus_controlroom.runner import collect_results

    home = tmp_path / "home"
    published = home / "marburg" / "nutzungsstatistik" / "veroeffentlicht"
    (published / "2025").mkdir(parents=True)
    (published / "nutzungsstatistik-marburg-2025.csv").write_text("monat;aufrufe\n", encoding="utf-8")
    (published / "2025" / "datapackage.json").write_text("{}", encoding="utf-8")
    outside = tmp_path / "geheim.txt"
    outside.write_text("nicht hochladen", encoding="utf-8")
    (published / "verweis.txt").symlink_to(outside)
    found = {name: path for name, path in collect_results(Project(ROOT), "marburg/nutzungsstatistik", home)}
    assert set(found) == {"ergebnis/ziel/nutzungsstatistik-marburg-2025.csv", "ergebnis/ziel/2025/datapackage.json"}
    # e-rechnung declares its archive (a nested config key)
    archive = home / "fulda" / "e-rechnung" / "archiv"
    archive.mkdir(parents=True)
    (archive / "RE-2026-0001.xml").write_text("<Invoice/>", encoding="utf-8")
    assert [name for name, _ in collect_results(Project(ROOT), "fulda/e-rechnung", home)] == [
        "ergebnis/archiv-ordner/RE-2026-0001.xml"]
    assert collect_results(Project(ROOT), "marburg/posteingang", home) == []  # declares nothing


def test_the_artifact_kind_of_a_result_is_ergebnis():
    from rathaus_controlroom.services.artifacts import check_name, kind_of

    assert kind_of("ergebnis/ziel/nutzungsstatistik-marburg-2025.png") == "ergebnis"
    assert kind_of("log.html") == "log" and kind_of("briefe/ergebnis.pdf") == "letter"
    assert check_name("ergebnis/ziel/2025/datapackage.json") == "ergebnis/ziel/2025/datapackage.json"


def test_files_of_a_folder_robot_get_results_by_where_they_ended(tmp_path):
    from rathaus_controlroom.runner import file_results

    home = tmp_path / "home"
    source = home / "marburg" / "nutzungsstatistik" / "exporte"
    (source / "fehlerhaft").mkdir(parents=True)
    (source / "verarbeitet").mkdir()
    (source / "fehlerhaft" / "kaputt.csv").write_text("x", encoding="utf-8")
    (source / "fehlerhaft" / "kaputt.csv.fehler.txt").write_text(
        "\nkaputt.csv: Spalte 'Aufrufe' fehlt.\nDetails …\n", encoding="utf-8")
    (source / "verarbeitet" / "gut.csv").write_text("x", encoding="utf-8")
    (source / "liegt-noch.csv").write_text("x", encoding="utf-8")
    inputs = [{"id": 1, "reference": "a", "files": [{"name": "kaputt.csv"}]},
              {"id": 2, "reference": "b", "files": [{"name": "gut.csv"}]},
              {"id": 3, "reference": "c", "files": [{"name": "liegt-noch.csv"}]},
              {"id": 4, "reference": "d", "payload": {}}]
    results = file_results(Project(ROOT), _job("marburg/nutzungsstatistik", inputs), home)
    assert results == [{"id": 1, "state": "failed_business", "code": "FEHLERHAFT",
                        "message": "kaputt.csv: Spalte 'Aufrufe' fehlt."},
                       {"id": 2, "state": "done"}]
    assert file_results(Project(ROOT), _job(ROBOT, [{"id": 9, "files": [{"name": "a.pdf"}]}]), home) == []


def test_the_run_message_names_no_server_path(tmp_path):
    from rathaus_controlroom.runner import FOLDER_PLACEHOLDER, strip_paths

    folder = tmp_path / "lauf-3-1"
    text = f"Protokoll in {folder}/ausgabe/log.html\nFehler: {folder.resolve()}/home/x.csv fehlt"
    stripped = strip_paths(text, folder)
    assert "/lauf-" not in stripped and str(tmp_path) not in stripped
    assert stripped.count(FOLDER_PLACEHOLDER) == 2
