"""End to end: the control room served by uvicorn, runner processes (`python -m rathaus_controlroom.runner_cli`)
that run real robots with `rathaus run`; progress, artifacts, cancelling, and a runner killed mid-run."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from items_world import build_world
from rathaus_controlroom.db import Database
from rathaus_controlroom.models import Robot
from rathaus_controlroom.settings import Settings
from served import kill_machine, runner_process, serve_in_thread, wait_for_run

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "processes" / "nutzungsstatistik" / "samples" / "generate.py"


@pytest.fixture
def control_room(sqlite_url, tmp_path):
    db = Database(sqlite_url)
    world = build_world(db)
    with db.session() as session:
        session.add(Robot(city_id="marburg", process="langsam", title="Langsam", version="0.1.0",
                          owner_city_id="marburg"))
        session.add(Robot(city_id="marburg", process="posteingang", title="Posteingang", version="0.1.0",
                          owner_city_id="marburg"))  # (owner limburg: not in the test world)
    settings = Settings.load(data_dir=tmp_path / "daten", database_url=sqlite_url).with_changes(lease_s=3)
    with serve_in_thread(settings) as url:
        yield url, world, settings
    db.dispose()


def _runner_token(client: httpx.Client, world, name: str) -> str:
    answer = client.post("/api/runners", json={"name": name}, headers=world.headers("marburg.admin"))
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def test_a_runner_process_runs_a_real_robot_with_uploaded_exports(control_room, tmp_path):
    url, world, _ = control_room
    exports = tmp_path / "exporte"
    subprocess.run([sys.executable, str(SAMPLES), "--out", str(exports), "--city", "marburg", "--year", "2025"],
                   check=True, stdout=subprocess.DEVNULL)
    clerk = world.headers("marburg.clerk")
    with httpx.Client(base_url=url, timeout=30) as client:
        token = _runner_token(client, world, "rechner-1")
        files = [("dateien", (p.name, p.read_bytes(), "text/csv")) for p in sorted(exports.glob("*.csv"))]
        started = client.post("/api/runs", data={"robot": "marburg/nutzungsstatistik"}, files=files, headers=clerk)
        assert started.status_code == 201, started.text
        run_id = started.json()["id"]
        with runner_process(url, token, tmp_path / "arbeit"):
            run = wait_for_run(client, run_id, clerk, lambda r: r["state"] not in ("queued", "running"), 60)
        assert run["state"] == "succeeded", run["message"]
        assert (run["runner"], run["attempt"], run["cases_done"], run["cases_total"]) == ("rechner-1", 1, 3, 3)
        assert "Exporte gelesen: 3" in run["message"] and "Monatswerte: 84 neu" in run["message"]
        assert [item["state"] for item in run["items"]] == ["done"] * 3
        listed = {a["name"]: a["kind"] for a in client.get(f"/api/runs/{run_id}/artifacts", headers=clerk).json()}
        assert listed["log.html"] == "log" and listed["output.xml"] == "output"
        assert listed["report.html"] == "report" and listed["zusammenfassung.txt"] == "summary"
        # the publication (outside the output folder, declared in process.yaml `artifacts:`) arrives too
        published = {name for name, kind in listed.items() if kind == "ergebnis"}
        assert "ergebnis/ziel/nutzungsstatistik-marburg-2025.png" in published, listed
        csv = [name for name in published if name.endswith(".csv")]
        assert csv, listed
        table = client.get(f"/api/runs/{run_id}/artifacts/{csv[0]}", headers=clerk)
        assert table.status_code == 200 and table.content.strip(), csv
        assert "/lauf-" not in run["message"] and str(tmp_path) not in run["message"]
        log = client.get(f"/api/runs/{run_id}/artifacts/log.html", headers=clerk)
        assert log.headers["content-type"].startswith("text/html") and b"Nutzungszahlen" in log.content
        report = client.get(f"/api/runs/{run_id}/artifacts/report.html", headers=clerk)
        assert report.status_code == 200 and b"log.html" in report.content  # the report links to the log
        assert client.get(f"/api/runs/{run_id}/artifacts/log.html",
                          headers=world.headers("giessen.clerk")).status_code == 404
    assert not list((tmp_path / "arbeit").glob("lauf-*"))  # the run's folder (case data) is gone


def test_an_upload_for_the_mailbox_robot_is_its_work_item(control_room, tmp_path):
    """posteingang: an upload is the consumer's input item in the control room (no synthetic mail); the robot
    releases it there, and the run's message comes from its result file."""
    url, world, _ = control_room
    subprocess.run([sys.executable, str(ROOT / "processes/posteingang/samples/generate.py"), "--out",
                    str(tmp_path / "eml"), "--city", "marburg"], check=True, stdout=subprocess.DEVNULL)
    mail = message_from_bytes((tmp_path / "eml" / "02-bauvoranfrage.eml").read_bytes(), policy=policy.default)
    pdf = next(part for part in mail.iter_attachments() if part.get_filename() == "Bauvoranfrage.pdf")
    clerk = world.headers("marburg.clerk")
    fields = {"robot": "marburg/posteingang", "absender": str(mail["From"]), "betreff": str(mail["Subject"]),
              "text": mail.get_body(("plain",)).get_content()}
    with httpx.Client(base_url=url, timeout=30) as client:
        token = _runner_token(client, world, "rechner-1")
        started = client.post("/api/runs", data=fields, files=[
            ("dateien", ("Bauvoranfrage.pdf", pdf.get_content(), "application/pdf"))], headers=clerk)
        assert started.status_code == 201, started.text
        run_id = started.json()["id"]
        with runner_process(url, token, tmp_path / "arbeit"):
            run = wait_for_run(client, run_id, clerk, lambda r: r["state"] not in ("queued", "running"), 90)
        assert run["state"] == "succeeded", run["message"]
        assert "Verarbeitet: 1" in run["message"], run["message"]
        [item] = run["items"]
        # the robot routed and released it there; its docket (Laufzettel) joins the uploaded file
        assert item["state"] == "done" and item["files"][0] == "Bauvoranfrage.pdf", item
        assert [name for name in item["files"][1:] if name.startswith("Laufzettel")] == item["files"][1:], item
        assert "kontrollraum." not in run["message"]  # no synthetic Message-IDs any more
        names = [a["name"] for a in client.get(f"/api/runs/{run_id}/artifacts", headers=clerk).json()]
        assert "log.html" in names


SLOW_PROCESS = {
    "processes/langsam/process.yaml": """\
name: langsam
title: Langsamer Testprozess
owner: marburg
version: 0.1.0
description: A deliberately slow process for the control room's runner tests.
schema: schema.yaml
steps:
  - task: Fälle anlegen
    produces: true
  - task: Fälle langsam bearbeiten
    consumes: true
""",
    "processes/langsam/schema.yaml": """\
type: object
additionalProperties: false
required: [process, version, stadt]
properties:
  process: {const: langsam}
  version: {type: string}
  stadt: {type: string}
  faelle: {type: integer, default: 6}
  pause: {type: string, default: 1s}
""",
    "robots/marburg/langsam/config.yaml": "process: langsam\nversion: 0.1.0\nstadt: marburg\nfaelle: 8\n",
    "robots/marburg/langsam/tasks.robot": """\
*** Settings ***
Library             rathaus.Process
Library             rathaus.WorkItems
Suite Setup         Start Slow Robot    ${CURDIR}/config.yaml


*** Tasks ***
Fälle anlegen
    FOR    ${n}    IN RANGE    ${CONFIG.faelle}
        ${variables}=    Create Dictionary    fall=${n}    work_item_key=fall-${n}
        Create Output Work Item    variables=${variables}    save=True
    END

Fälle langsam bearbeiten
    For Each Input Work Item    Work Slowly


*** Keywords ***
Start Slow Robot
    [Arguments]    ${file}
    ${config}=    Load Robot Configuration    ${file}
    VAR    ${CONFIG}    ${config}    scope=SUITE

Work Slowly
    Sleep    ${CONFIG.pause}
""",
}


@pytest.fixture
def slow_project(tmp_path) -> Path:
    project = tmp_path / "projekt"
    for name, text in SLOW_PROCESS.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    (project / "resources").symlink_to(ROOT / "resources")
    return project


def test_a_killed_runner_loses_its_run_to_another_runner(control_room, slow_project, tmp_path):
    """SIGKILL of the runner machine (runner, `rathaus run`, robot) mid-run: another runner finishes the run, and
    each item that the dead attempt held goes back to the queue at once."""
    url, world, settings = control_room
    clerk = world.headers("marburg.clerk")
    with httpx.Client(base_url=url, timeout=30) as client:
        first_token = _runner_token(client, world, "rechner-1")
        second_token = _runner_token(client, world, "rechner-2")
        run_id = client.post("/api/runs", json={"robot": "marburg/langsam"}, headers=clerk).json()["id"]
        with runner_process(url, first_token, tmp_path / "eins", slow_project) as first:
            run = wait_for_run(client, run_id, clerk, lambda r: r["cases_done"] >= 2, 60)
            assert (run["state"], run["runner"], run["cases_total"]) == ("running", "rechner-1", 8), run
            kill_machine(first)  # the machine dies mid-run
        with runner_process(url, second_token, tmp_path / "zwei", slow_project):
            run = wait_for_run(client, run_id, clerk, lambda r: r["state"] not in ("queued", "running"), 60)
        assert (run["state"], run["runner"], run["attempt"]) == ("succeeded", "rechner-2", 2), run
        assert run["cases_done"] == 8
    # every case ended exactly once: one DONE attempt each; the case in flight at the kill was tried again
    from rathaus_controlroom.models import WorkItem, WorkItemAttempt
    from sqlalchemy import select

    db = Database(settings.database_url)
    with db.session() as session:
        items = session.scalars(select(WorkItem).where(WorkItem.run_id == run_id)).all()
        assert sorted(item.reference for item in items) == [f"fall-{n}" for n in range(8)]
        assert {item.state.value for item in items} == {"done"}
        for item in items:
            ends = [a.state for a in session.scalars(select(WorkItemAttempt).where(WorkItemAttempt.item_id == item.id))]
            assert ends.count("done") == 1, (item.reference, ends)
    db.dispose()


def test_cancelling_stops_the_robot_on_its_runner(control_room, slow_project, tmp_path):
    url, world, _ = control_room
    clerk = world.headers("marburg.clerk")
    with httpx.Client(base_url=url, timeout=30) as client:
        token = _runner_token(client, world, "rechner-1")
        run_id = client.post("/api/runs", json={"robot": "marburg/langsam"}, headers=clerk).json()["id"]
        with runner_process(url, token, tmp_path / "eins", slow_project) as runner:
            wait_for_run(client, run_id, clerk, lambda r: r["cases_done"] >= 1, 60)
            assert client.post(f"/api/runs/{run_id}/cancel", headers=clerk).json()["cancel_requested"] is True
            run = wait_for_run(client, run_id, clerk, lambda r: r["state"] != "running", 30)
            assert run["state"] == "cancelled", run
            done = [i for i in client.get("/api/items?robot=langsam", headers=clerk).json() if i["state"] == "done"]
            assert len(done) < 8, done  # the cases the robot had not reached went to the clerk, not done
            assert runner.poll() is None  # the runner lives on and takes the next run
            second = client.post("/api/runs", json={"robot": "marburg/langsam"}, headers=clerk).json()["id"]
            assert wait_for_run(client, second, clerk, lambda r: r["state"] == "running", 30)["state"] == "running"


@pytest.mark.imap
def test_a_runner_killed_mid_case_loses_its_uvg_run_and_every_application_is_entered_once(control_room, dovecot,
                                                                                          smtp_server, tmp_path):
    """Gießen's Unterhaltsvorschuss robot on a shared Fachverfahren and a shared IMAP mailbox, as in production: the
    machine of the first runner dies (SIGKILL of runner, `rathaus run` and robot) while it works on the cases; a
    second runner finishes the run. Each complete application is entered exactly once, each mail lies in exactly
    one folder, and each case ended once."""
    from rathaus_controlroom.models import Role, WorkItem, WorkItemAttempt
    from rathaus_controlroom.services.credentials import save_credential
    from rathaus_controlroom.services.users import Principal
    from sqlalchemy import select
    from support.robots import mailbox_settings, one_line, parsed_mails
    from support.sandbox import MANDANT, PASSWORD, USER, running_sandbox

    url, world, settings = control_room
    for folder in ("INBOX", "Erledigt", "Pruefung"):
        for part in ("cur", "new", "tmp"):  # the mails of the folder, not its subfolders (other tests' folders)
            for path in (dovecot.maildir("uvg", folder) / part).glob("*"):
                path.unlink()
    subprocess.run([sys.executable, str(ROOT / "processes/unterhaltsvorschuss/samples/generate.py"), "--out",
                    str(tmp_path / "mails"), "--good", "6"], check=True, stdout=subprocess.DEVNULL)
    for mail in sorted((tmp_path / "mails").glob("*.eml")):
        dovecot.deliver("uvg", "INBOX", mail.read_bytes())
    mails = dovecot.count("uvg", "INBOX")
    sent_before = len(smtp_server.messages)
    mailbox, secrets = mailbox_settings(dovecot, "uvg", "GIESSEN_UVG_POSTFACH_PASSWORT", smtp_server)
    with running_sandbox(tmp_path, {"users": {USER: PASSWORD}, "mandant": MANDANT}) as fachverfahren:
        settings.robot_config["giessen/unterhaltsvorschuss"] = {
            **mailbox, "fachverfahren": {"url": fachverfahren.url, "benutzer": USER}}
        admin = Principal(None, "test", "giessen", Role.ADMIN)  # type: ignore[arg-type]
        with world.db.session() as session:
            for name, value in {**secrets, "GIESSEN_UVG_FACHVERFAHREN_PASSWORT": PASSWORD}.items():
                save_credential(session, settings.credential_key, admin, name, value)
        clerk = world.headers("giessen.clerk")
        with httpx.Client(base_url=url, timeout=30) as client:
            tokens = [client.post("/api/runners", json={"name": name}, headers=world.headers("giessen.admin"))
                      .json()["token"] for name in ("rechner-1", "rechner-2")]
            run_id = client.post("/api/runs", json={"robot": "giessen/unterhaltsvorschuss"}, headers=clerk).json()["id"]
            with runner_process(url, tokens[0], tmp_path / "eins") as first:
                run = wait_for_run(client, run_id, clerk, lambda r: r["cases_done"] >= 2, 240)
                assert run["state"] == "running" and run["cases_done"] < run["cases_total"], run["message"]
                kill_machine(first)
            with runner_process(url, tokens[1], tmp_path / "zwei"):
                run = wait_for_run(client, run_id, clerk, lambda r: r["state"] not in ("queued", "running"), 300)
        assert (run["runner"], run["attempt"]) == ("rechner-2", 2), run
        with sqlite3.connect(fachverfahren.database) as connection:
            names = [row[0] for row in connection.execute("SELECT antragsteller_name FROM faelle")]
    # 6 complete applications and the Nachforderung case are entered, each once
    assert len(names) == 7 and len(set(names)) == 7, names
    folders = {folder: dovecot.count("uvg", folder) for folder in ("INBOX", "Erledigt", "Pruefung")}
    assert folders["INBOX"] == 0 and folders["Erledigt"] == 6 and sum(folders.values()) == mails, folders
    # one letter per entered case; at most the case in flight at the kill got its letter twice
    replies = Counter(one_line(mail["In-Reply-To"]) for mail in parsed_mails(smtp_server.messages[sent_before:]))
    assert len(replies) >= 7 and max(replies.values()) <= 2 and list(replies.values()).count(2) <= 1, replies
    db = Database(settings.database_url)
    with db.session() as session:
        items = session.scalars(select(WorkItem).where(WorkItem.run_id == run_id)).all()
        assert len(items) == mails
        for item in items:
            assert item.state.value in ("done", "failed_business"), (item.reference, item.state)
            ends = [a.state for a in session.scalars(select(WorkItemAttempt).where(WorkItemAttempt.item_id == item.id))]
            assert ends.count(item.state.value) == 1, (item.reference, ends)  # each case ended once
    db.dispose()


def test_a_waiting_claim_gets_a_run_as_soon_as_a_clerk_starts_it(control_room, monkeypatch):
    """An idle runner's claim waits at the control room (``warten``); the clerk's start answers it at once (by the
    signal of the queued run: the claim's own recheck is set to 30 s here), without blocking the control room
    meanwhile; with nothing to do it ends with 204 after its time."""
    from rathaus_controlroom.web import api_runner

    url, world, _ = control_room
    monkeypatch.setattr(api_runner, "CLAIM_RECHECK_S", 30.0)
    with httpx.Client(base_url=url, timeout=30) as client:
        runner = {"Authorization": f"Bearer {_runner_token(client, world, 'wartend')}"}
        started = time.monotonic()
        idle = client.post("/api/runner/claim", params={"warten": "1"}, headers=runner)
        assert idle.status_code == 204 and 1.0 <= time.monotonic() - started < 3.0
        assert client.post("/api/runner/claim", params={"warten": "99"}, headers=runner).status_code == 422

        answer: dict = {}

        def wait_for_work() -> None:
            answer["response"] = client.post("/api/runner/claim", params={"warten": "20"}, headers=runner)
            answer["at"] = time.monotonic()

        waiting = threading.Thread(target=wait_for_work)
        waiting.start()
        time.sleep(0.5)
        polled = time.monotonic()
        assert client.get("/api/runs", headers=world.headers("marburg.clerk")).status_code == 200  # not blocked
        assert time.monotonic() - polled < 1.0
        start = client.post("/api/runs", json={"robot": "marburg/nutzungsstatistik"},
                            headers=world.headers("marburg.clerk"))
        queued = time.monotonic()  # the start is committed before its answer
        assert start.status_code == 201, start.text
        waiting.join(25)
        assert answer["response"].status_code == 200, answer["response"].text
        assert answer["response"].json()["run"] == start.json()["id"]
        assert answer["at"] - queued < 1.0, answer["at"] - queued
