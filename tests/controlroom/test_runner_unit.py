"""The runner's parts without a control room: file delivery, the robot's environment, run messages from the
result file, artifacts, cleaning up after a dead runner."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rathaus.core.project import Project
from rathaus_controlroom.runner import (
    InputDeliveryError,
    _consumes,
    _run_env,
    clean_work_dir,
    collect_artifacts,
    config_override,
    deliver_files,
    result_message,
)

ROOT = Path(__file__).resolve().parents[2]
ROBOT = "marburg/posteingang"


def _job(robot=ROBOT, inputs=None):
    return {"run": 5, "robot": robot, "city": "marburg", "attempt": 1, "inputs": inputs if inputs is not None else [
        {"id": 7, "reference": "brief-1", "payload": {"absender": "Anna Beispiel <anna@example.org>",
                                                     "betreff": "Bauvoranfrage", "text": "Anbei mein Antrag."}}]}


def test_uploads_for_a_folder_robot_land_in_its_source_folder(tmp_path):
    export = tmp_path / "civento.csv"
    export.write_text("a;b\n", encoding="utf-8")
    home = tmp_path / "home"
    delivered = deliver_files(Project(ROOT), _job("marburg/nutzungsstatistik"), {7: [export]}, home)
    assert (home / "marburg" / "nutzungsstatistik" / "exporte" / "civento.csv").read_text() == "a;b\n"
    assert delivered == {"civento.csv": 7}


def test_two_uploads_of_one_name_for_a_folder_robot_are_refused_and_nothing_is_put_there(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "civento.csv", tmp_path / "b" / "civento.csv"
    first.write_text("a;b\n", encoding="utf-8")
    second.write_text("c;d\n", encoding="utf-8")
    home = tmp_path / "home"
    with pytest.raises(InputDeliveryError, match=r"'civento\.csv' heißen gleich.*getrennten Läufen nacheinander"):
        deliver_files(Project(ROOT), _job("marburg/nutzungsstatistik"), {7: [first], 8: [second]}, home)
    assert not list(home.rglob("*.csv"))


def test_the_items_of_delivered_files_end_as_the_robot_reported_each_file(tmp_path):
    import json

    from rathaus_controlroom.runner import file_results

    result = tmp_path / "ergebnis.json"
    result.write_text(json.dumps({"files": [
        {"name": "a.csv", "state": "done", "code": None, "message": None},
        {"name": "b.csv", "state": "failed_business", "code": "EXPORT_ZELLE", "message": "b.csv: Zeile 4"},
        {"name": "c.csv", "state": "done"}, {"name": "c2.csv", "state": "failed_application", "code": "X"},
        {"name": "fremd.csv", "state": "failed_business"}, {"name": "d.csv", "state": "erfunden"}]}), encoding="utf-8")
    delivered = {"a.csv": 1, "b.csv": 2, "c.csv": 3, "c2.csv": 3, "d.csv": 4}
    assert sorted(file_results(result, delivered), key=lambda r: r["id"]) == [
        {"id": 1, "state": "done", "code": None, "message": None},
        {"id": 2, "state": "failed_business", "code": "EXPORT_ZELLE", "message": "b.csv: Zeile 4"},
        {"id": 3, "state": "failed_application", "code": "X", "message": None}]  # the worse of its two files
    assert file_results(tmp_path / "fehlt.json", delivered) == []  # no result: the items end as the run ended


def test_a_robot_without_work_items_or_source_folder_refuses_inputs(tmp_path, monkeypatch):
    import rathaus.core.config as config

    monkeypatch.setattr(config, "load_robot_config", lambda *args, **kwargs: {"process": "x"})
    with pytest.raises(InputDeliveryError, match="nimmt keine Eingaben an"):
        deliver_files(Project(ROOT), _job(), {}, tmp_path)


def test_a_mailbox_robot_takes_uploads_as_work_items_and_a_folder_robot_does_not():
    assert _consumes(Project(ROOT), "giessen/unterhaltsvorschuss") is True
    assert _consumes(Project(ROOT), "marburg/nutzungsstatistik") is False


def test_the_robot_gets_the_control_room_adapter_with_the_attempts_item_token(tmp_path):
    job = {**_job(), "item_token": "ri_5.1." + "0" * 64}
    env = _run_env(job, tmp_path / "home", Project(ROOT), "http://kontrollraum:8080")
    assert env["RPA_WORKITEMS_ADAPTER"] == "controlroom"
    assert env["RATHAUS_CONTROLROOM_URL"] == "http://kontrollraum:8080"
    assert env["RATHAUS_CONTROLROOM_ITEM_TOKEN"] == job["item_token"]
    assert env["RATHAUS_HOME"] == str(tmp_path / "home")


def test_the_run_message_is_the_result_files_headline_and_lines(tmp_path):
    result = tmp_path / "ergebnis.json"
    lines = ["Ursache in 'Post zuordnen': Postfach nicht erreichbar", "Verarbeitet: 0"]
    result.write_text(json.dumps({"headline": "Lauf marburg/posteingang mit Fehlern beendet.", "lines": lines}),
                      encoding="utf-8")
    assert result_message(result, 1) == ("Lauf marburg/posteingang mit Fehlern beendet.\n"
                                         "Ursache in 'Post zuordnen': Postfach nicht erreichbar\nVerarbeitet: 0")
    assert "Exit-Code 137" in result_message(tmp_path / "fehlt.json", 137)


def test_the_control_rooms_configuration_for_the_robot_becomes_an_override_file(tmp_path):
    assert config_override({"config": {}}, tmp_path) is None
    path = config_override({"config": {"fachverfahren": {"url": "http://127.0.0.1:5001"}}}, tmp_path)
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {"fachverfahren": {"url": "http://127.0.0.1:5001"}}


def test_a_new_runner_removes_run_folders_and_stops_robots_left_by_a_dead_one(tmp_path):
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], process_group=0)
    folder = tmp_path / "lauf-3-1"
    (folder / "ausgabe").mkdir(parents=True)
    (folder / "ausgabe" / "brief.pdf").write_bytes(b"%PDF case data")
    (folder / "prozessgruppe").write_text(str(orphan.pid))
    assert clean_work_dir(tmp_path) == 1
    assert orphan.wait(10) == -signal.SIGKILL
    assert not folder.exists()


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


def test_the_run_message_names_no_server_path(tmp_path):
    from rathaus_controlroom.runner import FOLDER_PLACEHOLDER, strip_paths

    folder = tmp_path / "lauf-3-1"
    text = f"Protokoll in {folder}/ausgabe/log.html\nFehler: {folder.resolve()}/home/x.csv fehlt"
    stripped = strip_paths(text, folder)
    assert "/lauf-" not in stripped and str(tmp_path) not in stripped
    assert stripped.count(FOLDER_PLACEHOLDER) == 2
