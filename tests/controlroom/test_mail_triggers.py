"""Mail triggers: a city robot starts when new mail arrives in its mailbox.

The service on both databases (who may set one up, one run for many mails, one more after a run that mail
arrived during, paused triggers start nothing, no other city sees them), and the real parts: a real Dovecot
watched in IMAP IDLE by the control room's watcher threads and its clock, a connection the server drops, a wrong
password, a Maildir looked at by polling, a storm of a thousand mails, and the Unterhaltsvorschuss robot on a
runner that a mail starts and that enters the case in the Fachverfahren.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import test_browser_ui
from items_world import build_world
from rathaus_controlroom.db import Database
from rathaus_controlroom.mailwatch import arrived, start_mail_watchers
from rathaus_controlroom.models import AuditEntry, MailTrigger, Role, Run, RunState
from rathaus_controlroom.scheduler import start_scheduler
from rathaus_controlroom.services import triggers
from rathaus_controlroom.services.credentials import save_credential
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from served import runner_process, serve_in_thread, wait_for_run
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
UVG = "giessen/unterhaltsvorschuss"
PASSWORD_VARIABLE = "GIESSEN_UVG_POSTFACH_PASSWORT"


@pytest.fixture
def world(db):
    return build_world(db)


def _settings(tmp_path: Path, url: str, **robot_config) -> Settings:
    settings = Settings.load(data_dir=tmp_path / "daten", database_url=url)
    settings.robot_config.update(robot_config)
    return settings


def _runs(db: Database, robot_id: int) -> list[Run]:
    with db.session() as session:
        rows = session.scalars(select(Run).where(Run.robot_id == robot_id).order_by(Run.id)).all()
        session.expunge_all()
        return list(rows)


def _end_runs(db: Database, robot_id: int) -> None:
    with db.session() as session:
        for run in session.scalars(select(Run).where(Run.robot_id == robot_id,
                                                     Run.state.in_((RunState.QUEUED, RunState.RUNNING)))):
            run.state = RunState.SUCCEEDED


# --- the service, on both databases --------------------------------------------------------------------------------

def test_a_city_admin_sets_up_a_trigger_for_a_robot_with_a_mailbox_and_nobody_else_can(world, tmp_path):
    settings = _settings(tmp_path, world.db.url)
    with world.db.session() as session:
        with pytest.raises(Forbidden, match="nur Administratorinnen"):
            triggers.create_trigger(session, world.who["giessen.clerk"], "unterhaltsvorschuss", settings)
        with pytest.raises(Invalid, match=r"hat kein Postfach.*Bitte einen Zeitplan verwenden"):
            triggers.create_trigger(session, world.who["giessen.admin"], "nutzungsstatistik", settings)
        with pytest.raises(Invalid, match="ganze Zahl von 1 bis 3600"):
            triggers.create_trigger(session, world.who["giessen.admin"], "unterhaltsvorschuss", settings, poll_s=0)
        with pytest.raises(NotFound):  # another city's robot
            triggers.create_trigger(session, world.who["marburg.admin"], UVG, settings)
        view = triggers.create_trigger(session, world.who["giessen.admin"], "unterhaltsvorschuss", settings)
        assert (view.process, view.status, view.paused, view.poll_s) == ("unterhaltsvorschuss", "starting", False, 5)
        assert view.mailbox == "maildir:giessen/uvg (INBOX)"  # from the robot's config.yaml
        with pytest.raises(Conflict, match="startet schon bei neuer Mail"):
            triggers.create_trigger(session, world.who["giessen.admin"], "unterhaltsvorschuss", settings)
    with world.db.session() as session:
        assert [v.id for v in triggers.list_triggers(session, world.who["giessen.clerk"], settings)] == [view.id]
        assert triggers.list_triggers(session, world.who["marburg.admin"], settings) == []
        assert [v.id for v in triggers.list_triggers(session, world.who["betrieb"], settings)] == [view.id]
        with pytest.raises(NotFound):
            triggers.get_trigger(session, world.who["marburg.admin"], view.id, settings)
        with pytest.raises(NotFound):
            triggers.set_paused(session, world.who["marburg.admin"], view.id, True, settings)
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "trigger")).all()
        assert actions == ["create_trigger"]


def test_many_mails_start_one_run_and_mail_during_a_run_one_more_after_it(world, tmp_path):
    settings = _settings(tmp_path, world.db.url)
    robot = world.robots[UVG]
    with world.db.session() as session:
        trigger = triggers.create_trigger(session, world.who["giessen.admin"], "unterhaltsvorschuss", settings).id
    with world.db.session() as session:
        for number in range(1000):  # a storm: one arrival recorded after another
            triggers.record_mail(session, trigger, f"1:{number + 2}")
    with world.db.session() as session:
        assert triggers.pending(session)
        started = triggers.fire_pending(session)
    assert [run.trigger_id for run in started] == [trigger]
    with world.db.session() as session:  # the run is queued: more mail waits for it, no second run
        triggers.record_mail(session, trigger, "1:2000")
        assert triggers.fire_pending(session) == []
    with world.db.session() as session:
        run = session.get(Run, started[0].id)
        run.state = RunState.RUNNING
    with world.db.session() as session:  # still working: no run beside it
        assert triggers.fire_pending(session) == []
        assert triggers.get_trigger(session, world.who["giessen.admin"], trigger, settings).waiting
    _end_runs(world.db, robot)
    with world.db.session() as session:  # it ended: the mail that came meanwhile starts one more run
        assert len(triggers.fire_pending(session)) == 1
        assert triggers.fire_pending(session) == []
        assert not triggers.pending(session)
    runs = _runs(world.db, robot)
    assert [(r.trigger_id, r.requested_by, r.schedule_id) for r in runs] == [(trigger, None, None)] * 2
    with world.db.session() as session:
        starts = session.scalars(select(AuditEntry).where(AuditEntry.action == "start_run")).all()
        assert [(e.actor, e.detail["trigger"]) for e in starts] == [(triggers.MAIL_ACTOR, trigger)] * 2
        assert [e.detail["arrivals"] for e in starts] == [1000, 1]


def test_a_paused_trigger_starts_nothing_and_resumed_starts_only_for_mail_after_it(world, tmp_path):
    settings = _settings(tmp_path, world.db.url)
    admin = world.who["giessen.admin"]
    with world.db.session() as session:
        trigger = triggers.create_trigger(session, admin, "unterhaltsvorschuss", settings, paused=True).id
        triggers.record_mail(session, trigger, "1:5")
    with world.db.session() as session:
        assert triggers.fire_pending(session) == []
        assert triggers.get_trigger(session, admin, trigger, settings).status_text == "pausiert"
        triggers.set_paused(session, admin, trigger, False, settings)
    with world.db.session() as session:
        assert triggers.fire_pending(session) == []  # arrivals counted before the pause start nothing
        triggers.record_mail(session, trigger, "1:6")
        assert len(triggers.fire_pending(session)) == 1
    with world.db.session() as session:
        triggers.delete_trigger(session, admin, trigger)
    assert [r.trigger_id for r in _runs(world.db, world.robots[UVG])] == [None]  # the run stays, without it
    with world.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "trigger")
                                  .order_by(AuditEntry.id)).all()
    assert actions == ["create_trigger", "resume_trigger", "delete_trigger"]


def test_two_control_rooms_queue_one_run_for_one_arrival(world, tmp_path):
    settings = _settings(tmp_path, world.db.url)
    with world.db.session() as session:
        trigger = triggers.create_trigger(session, world.who["giessen.admin"], "unterhaltsvorschuss", settings).id
        triggers.record_mail(session, trigger, "1:2")
    instances = [Database(world.db.url) for _ in range(2)]
    barrier = threading.Barrier(2)
    started: list[int] = []

    def instance(database: Database) -> None:
        barrier.wait()
        with contextlib.suppress(Exception), database.session() as session:  # the loser may see a conflict
            started.extend(run.id for run in triggers.fire_pending(session))

    threads = [threading.Thread(target=instance, args=(database,)) for database in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for database in instances:
        database.dispose()
    assert len(_runs(world.db, world.robots[UVG])) == 1, started


def test_the_mark_of_an_imap_folder_tells_arrivals_from_mail_that_left():
    assert arrived(None, 7, 1, 0) is False  # never looked, empty
    assert arrived(None, 7, 5, 3) is True  # never looked, mail waits
    assert arrived("7:5", 7, 5, 0) is False  # mail left (moved to Erledigt): UIDNEXT stays
    assert arrived("7:5", 7, 6, 1) is True
    assert arrived("7:5", 8, 1, 2) is True  # the folder was rebuilt (UIDVALIDITY): what is in it counts
    assert arrived("kaputt", 7, 2, 1) is True


# --- real Dovecot, the watcher threads and the clock ------------------------------------------------------------------

@contextlib.contextmanager
def _watching(settings: Settings, database: Database) -> Iterator[None]:
    stop = threading.Event()
    threads = [start_scheduler(database, settings, stop), start_mail_watchers(database, settings, stop, 1.0)]
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)


def _wait_until(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while (value := condition()) in (None, False, []) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert value not in (None, False, []), f"waited {timeout_s} s for {what}"
    return value


def _mail(number: int) -> bytes:
    return (f"From: antrag{number}@example.org\r\nTo: uvg@giessen.example\r\nSubject: Antrag {number}\r\n"
            f"Message-ID: <trigger-{number}-{time.time_ns()}@example.org>\r\n\r\nText\r\n").encode()


def _empty(dovecot, folder: str = "INBOX") -> None:
    for part in ("cur", "new", "tmp"):  # the mails of the folder, not its subfolders (other tests' folders)
        for path in (dovecot.maildir("uvg", folder) / part).glob("*"):
            path.unlink()


def _imap_trigger(world, tmp_path: Path, dovecot, password: str | None = None) -> tuple[Settings, int]:
    mailbox = {"url": dovecot.url("uvg", tls="starttls"), "passwort_variable": PASSWORD_VARIABLE,
               "ca_datei": str(dovecot.cert_file)}
    settings = _settings(tmp_path, world.db.url, **{UVG: {"postfach": mailbox}})
    with world.db.session() as session:
        save_credential(session, settings.credential_key, world.who["giessen.admin"], PASSWORD_VARIABLE,
                        password or dovecot.users["uvg"])
        trigger = triggers.create_trigger(session, world.who["giessen.admin"], "unterhaltsvorschuss", settings).id
    return settings, trigger


def _status(world, settings: Settings, trigger: int) -> triggers.TriggerView:
    with world.db.session() as session:
        return triggers.get_trigger(session, world.who["giessen.admin"], trigger, settings)


@pytest.mark.imap
def test_new_mail_starts_a_run_at_once_in_idle_and_a_dropped_connection_loses_none(world, tmp_path, dovecot):
    _empty(dovecot)
    settings, trigger = _imap_trigger(world, tmp_path, dovecot)
    robot = world.robots[UVG]
    with _watching(settings, world.db):
        _wait_until(lambda: _status(world, settings, trigger).status == "idle", 20, "the watcher in IDLE")
        assert _runs(world.db, robot) == []  # an empty inbox starts nothing
        delivered = time.monotonic()
        dovecot.deliver("uvg", "INBOX", _mail(1))
        runs = _wait_until(lambda: _runs(world.db, robot), 10, "a run started by the mail")
        assert time.monotonic() - delivered < 5
        assert [(r.trigger_id, r.state) for r in runs] == [(trigger, RunState.QUEUED)]
        # the server drops the connection; a mail arrives before the watcher is back
        subprocess.run(["doveadm", "-c", str(dovecot.config_file), "kick", "uvg"], check=True,
                       capture_output=True)
        _end_runs(world.db, robot)
        dovecot.deliver("uvg", "INBOX", _mail(2))
        runs = _wait_until(lambda: _runs(world.db, robot)[1:], 20, "a run for the mail after the drop")
        assert [r.trigger_id for r in runs] == [trigger]
        _wait_until(lambda: _status(world, settings, trigger).status == "idle", 20, "the watcher in IDLE again")
        _end_runs(world.db, robot)
        # a storm: a thousand mails at once start one run
        for number in range(1000):
            dovecot.deliver("uvg", "INBOX", _mail(100 + number))
        _wait_until(lambda: _runs(world.db, robot)[2:], 20, "a run for the storm")
        time.sleep(2)
        assert len(_runs(world.db, robot)) == 3
    _empty(dovecot)


@pytest.mark.imap
def test_a_wrong_password_is_shown_to_the_admin_in_german_without_any_secret(world, tmp_path, dovecot):
    settings, trigger = _imap_trigger(world, tmp_path, dovecot, password="falsch-4711")
    with _watching(settings, world.db):
        view = _wait_until(lambda: (v := _status(world, settings, trigger)).status == "error" and v, 20, "an error")
    assert view.status_text == "gestört"
    assert "Anmeldung am Postfach 'uvg@127.0.0.1" in view.status_message
    assert "Benutzername oder Passwort falsch" in view.status_message and "Nächster Versuch in" in view.status_message
    assert "falsch-4711" not in str(view.as_dict()) and dovecot.users["uvg"] not in str(view.as_dict())


def test_a_maildir_of_the_local_runner_is_looked_at_every_poll_interval(world, tmp_path):
    from rathaus.mail.backend import MailboxAddress
    from rathaus.mail.maildir import MaildirBackend

    settings = _settings(tmp_path, world.db.url)
    with world.db.session() as session:
        trigger = triggers.create_trigger(session, world.who["giessen.admin"], "unterhaltsvorschuss", settings,
                                          poll_s=1).id
    # the robot's maildir:giessen/uvg lies in the home the local runner gives the robot
    root = settings.data_dir / "runner" / "roboter" / UVG / "giessen" / "uvg"
    inbox = MaildirBackend(MailboxAddress("maildir", path=root), create=True)
    robot = world.robots[UVG]
    with _watching(settings, world.db):
        _wait_until(lambda: _status(world, settings, trigger).status == "polling", 20, "the watcher polling")
        assert _status(world, settings, trigger).status_text == "sieht alle 1 s im Posteingang nach"
        inbox.append("INBOX", _mail(1), [])
        runs = _wait_until(lambda: _runs(world.db, robot), 10, "a run started by the mail")
        assert runs[0].trigger_id == trigger


# --- the whole journey: mail in, robot on a runner, case in the Fachverfahren -------------------------------------

@pytest.mark.imap
def test_an_application_mailed_to_giessen_is_entered_without_anybody_starting_the_robot(sqlite_url, tmp_path,
                                                                                         dovecot, smtp_server):
    """Gießen's admin sets up the start by new mail in the API; an application arrives in the real mailbox; the
    clock starts the robot, a runner process runs it, the case is in the Fachverfahren and the mail in Erledigt."""
    from support.robots import mailbox_settings
    from support.sandbox import MANDANT, PASSWORD, USER, running_sandbox

    for folder in ("INBOX", "Erledigt", "Pruefung"):
        _empty(dovecot, folder)
    db = Database(sqlite_url)
    world = build_world(db)
    mailbox, secrets = mailbox_settings(dovecot, "uvg", PASSWORD_VARIABLE, smtp_server)
    subprocess.run([sys.executable, str(ROOT / "processes/unterhaltsvorschuss/samples/generate.py"), "--out",
                    str(tmp_path / "mails"), "--good", "1"], check=True, stdout=subprocess.DEVNULL)
    application = sorted((tmp_path / "mails").glob("*.eml"))[0]
    with running_sandbox(tmp_path, {"users": {USER: PASSWORD}, "mandant": MANDANT}) as fachverfahren:
        settings = Settings.load(data_dir=tmp_path / "daten", database_url=sqlite_url).with_changes(lease_s=5)
        settings.robot_config[UVG] = {**mailbox, "fachverfahren": {"url": fachverfahren.url, "benutzer": USER}}
        admin = Principal(None, "test", "giessen", Role.ADMIN)  # type: ignore[arg-type]
        with db.session() as session:
            for name, value in {**secrets, "GIESSEN_UVG_FACHVERFAHREN_PASSWORT": PASSWORD}.items():
                save_credential(session, settings.credential_key, admin, name, value)
        with (serve_in_thread(settings) as url, _watching(settings, db),
              httpx.Client(base_url=url, timeout=30) as client):
            headers = world.headers("giessen.admin")
            answer = client.post("/api/triggers", json={"robot": "unterhaltsvorschuss"}, headers=headers)
            assert answer.status_code == 201, answer.text
            trigger = answer.json()
            assert trigger["mailbox"].startswith("imap+starttls://uvg@127.0.0.1:")
            _wait_until(lambda: client.get(f"/api/triggers/{trigger['id']}", headers=headers).json()["status"]
                        == "idle", 20, "the watcher in IDLE")
            token = client.post("/api/runners", json={"name": "rechner-1"}, headers=headers).json()["token"]
            with runner_process(url, token, tmp_path / "rechner"):
                dovecot.deliver("uvg", "INBOX", application.read_bytes())
                clerk = world.headers("giessen.clerk")
                runs = _wait_until(lambda: client.get("/api/runs", headers=clerk).json()["runs"], 15, "a run")
                assert runs[0]["trigger_id"] == trigger["id"] and runs[0]["requested_by"] is None
                run = wait_for_run(client, runs[0]["id"], clerk, lambda r: r["state"] not in ("queued", "running"),
                                   240)
        assert run["state"] == "succeeded", run["message"]
        with sqlite3.connect(fachverfahren.database) as connection:
            entered = connection.execute("SELECT COUNT(*) FROM faelle").fetchone()[0]
    assert entered == 1
    assert (dovecot.count("uvg", "INBOX"), dovecot.count("uvg", "Erledigt")) == (0, 1)
    with db.session() as session:
        row = session.scalar(select(MailTrigger))
        assert row.fired == row.seen >= 1  # every arrival was covered by a run
    db.dispose()


# --- the admin's page, in Chromium ------------------------------------------------------------------------------

browser_page = test_browser_ui.browser_page  # the Chromium page, as the other browser tests have it


@pytest.mark.imap
@pytest.mark.browser
def test_an_admin_sets_up_the_start_by_mail_on_the_schedules_page_and_sees_it_work(tmp_path, dovecot, browser_page):
    """Gießen's admin sets up the start by new mail on the schedules page (a robot without a mailbox is refused in
    German), sees the watcher wait in IDLE, and after a mail arrives the run, started by it, in the run list."""
    from playwright.sync_api import expect
    from served import serve_app
    from uihelpers import PASSWORD, make_room

    _empty(dovecot)
    room = make_room(tmp_path / "daten")
    room.settings.robot_config[UVG] = {"postfach": {"url": dovecot.url("uvg", tls="starttls"),
                                                    "passwort_variable": PASSWORD_VARIABLE,
                                                    "ca_datei": str(dovecot.cert_file)}}
    with room.db.session() as session:
        save_credential(session, room.settings.credential_key, room.principals["gi.admin"], PASSWORD_VARIABLE,
                        dovecot.users["uvg"])
    page = browser_page
    try:
        with serve_app(room.app) as url, _watching(room.settings, room.db):
            page.goto(f"{url}/zeitplaene")
            page.get_by_label("Benutzername").fill("gi.admin")
            page.get_by_label("Passwort").fill(PASSWORD)
            page.get_by_role("button", name="Anmelden").click()
            expect(page.get_by_role("heading", name="Start bei neuer Mail", exact=True)).to_be_visible()
            form = page.locator("form[action='/zeitplaene/mail']")
            form.get_by_label("Roboter").select_option(label="Nutzungsstatistik der Onlinedienste (eGovSAD)")
            form.get_by_role("button", name="Start bei neuer Mail einrichten").click()
            expect(page.locator("#mailstart-fehler")).to_contain_text("hat kein Postfach")
            form = page.locator("form[action='/zeitplaene/mail']")
            form.get_by_label("Roboter").select_option(label="Unterhaltsvorschuss – Antragseingang")
            form.get_by_role("button", name="Start bei neuer Mail einrichten").click()
            expect(page.get_by_role("status").or_(page.locator(".message")).first).to_contain_text(
                "sobald neue Mail in seinem Postfach eingeht")
            row = page.get_by_role("row", name=re.compile("unterhaltsvorschuss"))
            deadline = time.monotonic() + 20
            while "IMAP IDLE" not in row.inner_text() and time.monotonic() < deadline:
                time.sleep(0.5)
                page.reload()
            expect(row).to_contain_text("Wartet auf neue Mail (IMAP IDLE: Start sofort bei Eingang)")
            expect(row).to_contain_text("imap+starttls://uvg@127.0.0.1")
            page.screenshot(path=str(tmp_path / "mailstart.png"), full_page=True)
            dovecot.deliver("uvg", "INBOX", _mail(1))
            robot = room.robot("giessen")
            runs = _wait_until(lambda: _runs(room.db, robot), 10, "a run started by the mail")
            page.goto(f"{url}/laeufe/{runs[0].id}")
            expect(page.locator("main")).to_contain_text("durch neue Mail im Postfach")
    finally:
        room.db.dispose()
        _empty(dovecot)
