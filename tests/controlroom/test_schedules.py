"""Schedules: cron in Europe/Berlin across DST changes, Hessian public holidays, pause/resume, firing once."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from items_world import api_client, build_world
from rathaus_controlroom.models import AuditEntry, Role, Run, RunState, Schedule
from rathaus_controlroom.scheduler import start_scheduler, tick
from rathaus_controlroom.services import schedules
from rathaus_controlroom.services.errors import Forbidden, Invalid, NotFound
from rathaus_controlroom.services.users import Principal
from sqlalchemy import func, select

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def world(db):
    return build_world(db)


# --- the calendar (no database) ----------------------------------------------------------------------------------

def test_times_are_on_the_berlin_clock_in_winter_and_summer():
    january = schedules.preview_cron("30 7 * * 1-5", n=2, now=utc(2025, 1, 6, 0, 0))
    july = schedules.preview_cron("30 7 * * 1-5", n=1, now=utc(2025, 7, 7, 0, 0))
    assert [t.astimezone(UTC) for t in january] == [utc(2025, 1, 6, 6, 30), utc(2025, 1, 7, 6, 30)]
    assert july[0].astimezone(UTC) == utc(2025, 7, 7, 5, 30)
    assert july[0].utcoffset() == timedelta(hours=2)


def test_a_time_skipped_by_spring_forward_fires_once_after_the_gap():
    times = schedules.preview_cron("30 2 * * *", n=3, now=utc(2025, 3, 29, 12, 0))
    # 30 March 2025: clocks jump from 02:00 to 03:00; 02:30 does not exist and fires at 03:30 CEST
    assert [t.astimezone(UTC) for t in times] == [utc(2025, 3, 30, 1, 30), utc(2025, 3, 31, 0, 30),
                                                   utc(2025, 4, 1, 0, 30)]
    assert times[0].replace(tzinfo=None) == datetime(2025, 3, 30, 3, 30)
    # a half-hourly job across the gap fires at 01:00, 01:30, 03:00, 03:30: never twice, never backwards
    half = schedules.preview_cron("*/30 1-3 * * *", n=4, now=utc(2025, 3, 29, 23, 0))
    assert [t.strftime("%H:%M %Z") for t in half] == ["01:00 CET", "01:30 CET", "03:00 CEST", "03:30 CEST"]


def test_a_time_repeated_by_fall_back_fires_once():
    times = schedules.preview_cron("30 2 * * *", n=2, now=utc(2025, 10, 25, 12, 0))
    # 26 October 2025: 02:30 happens twice (CEST, then CET); the schedule fires at the first one only
    assert [t.astimezone(UTC) for t in times] == [utc(2025, 10, 26, 0, 30), utc(2025, 10, 27, 1, 30)]
    calendar = schedules.Calendar()
    # asked during the repeated hour (02:10 CET, after the first 02:30), the next time is the next day's
    assert calendar.next_after("30 2 * * *", utc(2025, 10, 26, 1, 10)) == utc(2025, 10, 27, 1, 30)


def test_hessian_public_holidays_are_skipped_when_asked():
    calendar = schedules.Calendar()
    assert calendar.holiday(local(2025, 6, 19).date()) == "Fronleichnam"  # a holiday in Hesse
    assert schedules.Calendar(subdivision="BE").holiday(local(2025, 6, 19).date()) is None  # not in Berlin
    every_day = schedules.preview_cron("0 7 * * *", False, n=3, now=utc(2025, 6, 18, 12, 0))
    skipping = schedules.preview_cron("0 7 * * *", True, n=3, now=utc(2025, 6, 18, 12, 0))
    assert [t.day for t in every_day] == [19, 20, 21]
    assert [t.day for t in skipping] == [20, 21, 22]
    easter = schedules.preview_cron("0 6 * * 1-5", True, n=2, now=utc(2025, 4, 17, 12, 0))
    assert [t.date().isoformat() for t in easter] == ["2025-04-22", "2025-04-23"]  # Karfreitag, Ostermontag


@pytest.mark.parametrize("cron", ["* * *", "jeden Montag", "", "0 7 * * * 2025", "@daily"])
def test_an_invalid_cron_expression_is_named_in_a_german_message(cron):
    with pytest.raises(Invalid, match=re.escape(f"Der Cron-Ausdruck '{cron}' ist ungültig: erwartet werden fünf")):
        schedules.validate_cron(cron)


def test_an_expression_that_is_never_due_is_refused():
    with pytest.raises(Invalid, match="'0 0 30 2 \\*' wird nie fällig"):
        schedules.preview_cron("0 0 30 2 *", now=utc(2025, 1, 1))
    with pytest.raises(Invalid, match="kein Feiertag"):
        schedules.preview_cron("0 9 25 12 *", True, now=utc(2025, 1, 1))


# --- schedules in the database -----------------------------------------------------------------------------------

def test_admins_create_pause_resume_and_delete_schedules(world):
    admin = world.who["giessen.admin"]
    with world.db.session() as session:
        view = schedules.create_schedule(session, admin, "unterhaltsvorschuss", "0  7 * * 1-5", True,
                                         now=utc(2025, 6, 18, 12, 0))
        assert (view.cron, view.skip_holidays, view.paused) == ("0 7 * * 1-5", True, False)
        assert view.next_run_local == local(2025, 6, 20, 7, 0)  # Thursday 19th is Fronleichnam
        assert [t.day for t in schedules.preview(view, 3, now=utc(2025, 6, 18, 12, 0))] == [20, 23, 24]
    with world.db.session() as session:
        assert schedules.pause_schedule(session, admin, view.id).paused
        assert schedules.fire_due(session, utc(2025, 6, 21)) == []
    with world.db.session() as session:
        resumed = schedules.resume_schedule(session, admin, view.id, now=utc(2025, 7, 1, 12, 0))
        assert not resumed.paused and resumed.next_run_local == local(2025, 7, 2, 7, 0)  # nothing made up
    with world.db.session() as session:
        run = schedules.fire_due(session, utc(2025, 7, 2, 5, 0))[0]
        assert (run.state, run.schedule_id, run.requested_by) == (RunState.QUEUED, view.id, None)
    with world.db.session() as session:
        schedules.delete_schedule(session, admin, view.id)
    with world.db.session() as session:
        assert session.get(Schedule, view.id) is None
        assert session.get(Run, run.id).schedule_id is None  # the run stays in the history
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["create_schedule", "pause_schedule", "resume_schedule", "start_run", "delete_schedule"]


def test_an_invalid_cron_saves_nothing(world):
    with world.db.session() as session, pytest.raises(Invalid, match="'61 7 \\* \\* \\*' ist ungültig"):
        schedules.create_schedule(session, world.who["giessen.admin"], "unterhaltsvorschuss", "61 7 * * *")
    with world.db.session() as session:
        assert session.scalar(select(func.count(Schedule.id))) == 0
        assert session.scalar(select(func.count(AuditEntry.id))) == 0


def test_schedules_belong_to_their_city(world):
    with world.db.session() as session:
        mine = schedules.create_schedule(session, world.who["giessen.admin"], world.robots[
            "giessen/unterhaltsvorschuss"], "0 7 * * *")
        with pytest.raises(NotFound, match="Roboter 'nutzungsstatistik' gibt es in Ihrer Stadt nicht"):
            schedules.create_schedule(session, Principal(0, "fulda.admin", "fulda", Role.ADMIN), "nutzungsstatistik",
                                      "0 7 * * *")
        with pytest.raises(NotFound):
            schedules.create_schedule(session, world.who["marburg.admin"], world.robots[
                "giessen/unterhaltsvorschuss"], "0 7 * * *")
        for call in (schedules.pause_schedule, schedules.resume_schedule, schedules.delete_schedule):
            with pytest.raises(NotFound, match=f"Zeitplan {mine.id} gibt es nicht"):
                call(session, world.who["marburg.admin"], mine.id)
        with pytest.raises(NotFound):
            schedules.get_schedule(session, world.who["marburg.clerk"], mine.id)
        for user in ("giessen.clerk", "giessen.owner", "betrieb"):
            with pytest.raises(Forbidden, match="Zeitpläne verwalten nur"):
                schedules.pause_schedule(session, world.who[user], mine.id)
        assert [v.id for v in schedules.list_schedules(session, world.who["giessen.clerk"])] == [mine.id]
        assert schedules.list_schedules(session, world.who["marburg.admin"]) == []
        assert [v.id for v in schedules.list_schedules(session, world.who["betrieb"])] == [mine.id]


def test_fire_due_starts_each_due_schedule_once_and_moves_it_on(world):
    admin = world.who["giessen.admin"]
    with world.db.session() as session:
        first = schedules.create_schedule(session, admin, "unterhaltsvorschuss", "0 * * * *", now=utc(2025, 5, 5, 7))
        schedules.create_schedule(session, admin, "nutzungsstatistik", "0 3 1 * *", now=utc(2025, 5, 5, 7))
    assert first.next_run_at == utc(2025, 5, 5, 8, 0)
    with world.db.session() as session:
        assert schedules.fire_due(session, utc(2025, 5, 5, 7, 59)) == []
    with world.db.session() as session:
        # the control room was down for three hours: the schedule fires once, not three times
        started = schedules.fire_due(session, utc(2025, 5, 5, 10, 30))
        assert [run.schedule_id for run in started] == [first.id]
    with world.db.session() as session:
        assert schedules.fire_due(session, utc(2025, 5, 5, 10, 30)) == []
        row = session.get(Schedule, first.id)
        assert schedules.as_utc(row.next_run_at) == utc(2025, 5, 5, 11, 0)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "start_run"))
        assert (entry.actor, entry.city_id, entry.detail["schedule"]) == ("zeitplan", "giessen", first.id)


def test_the_scheduler_thread_fires_schedules_and_requeues_items(world, tmp_path):
    from rathaus_controlroom.settings import Settings

    settings = Settings.load(data_dir=tmp_path, database_url=world.db.url)
    with world.db.session() as session:
        view = schedules.create_schedule(session, world.who["giessen.admin"], "unterhaltsvorschuss", "* * * * *",
                                         now=utc(2025, 5, 5, 7))
    assert tick(world.db, settings, utc(2025, 5, 5, 7, 1)) == (1, 0)
    stop = threading.Event()
    thread = start_scheduler(world.db, settings, stop, interval_s=0.05, clock=lambda: utc(2025, 5, 5, 7, 30))
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while datetime.now(UTC) < deadline:
            with world.db.session() as session:
                if session.scalar(select(func.count(Run.id)).where(Run.schedule_id == view.id)) == 2:
                    break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    with world.db.session() as session:
        assert session.scalar(select(func.count(Run.id)).where(Run.schedule_id == view.id)) == 2


def _runs_of(world, schedule_id: int) -> list[datetime]:
    with world.db.session() as session:
        return [schedules.as_utc(created) for created in session.scalars(
            select(Run.created_at).where(Run.schedule_id == schedule_id).order_by(Run.id))]


def _wait_for_runs(world, schedule_id: int, count: int, seconds: float) -> list[datetime]:
    deadline = datetime.now(UTC) + timedelta(seconds=seconds)
    while datetime.now(UTC) < deadline and len(_runs_of(world, schedule_id)) < count:
        threading.Event().wait(0.02)
    return _runs_of(world, schedule_id)


def test_the_clock_wakes_when_a_schedule_is_due_and_when_schedules_change(world, tmp_path):
    """Interval 30 s, as in production: a schedule due in a second is started within half a second of its time, and
    one made while the clock sleeps wakes it."""
    from rathaus_controlroom.settings import Settings

    settings = Settings.load(data_dir=tmp_path, database_url=world.db.url)
    admin = world.who["giessen.admin"]
    with world.db.session() as session:
        early = schedules.create_schedule(session, admin, "unterhaltsvorschuss", "0 3 * * *")
        due = datetime.now(UTC) + timedelta(seconds=1.5)
        session.get(Schedule, early.id).next_run_at = due  # as if its cron time were in 1.5 s
    stop = threading.Event()
    thread = start_scheduler(world.db, settings, stop, interval_s=30.0)
    try:
        [started] = _wait_for_runs(world, early.id, 1, 10)
        assert due <= started < due + timedelta(seconds=0.5), (due, started)
        # the clock now sleeps until tomorrow's 3:00 (capped at its 30 s); a new schedule due soon wakes it
        with world.db.session() as session:
            late = schedules.create_schedule(session, admin, "nutzungsstatistik", "0 4 * * *")
            due = datetime.now(UTC) + timedelta(seconds=1)
            session.get(Schedule, late.id).next_run_at = due
        [started] = _wait_for_runs(world, late.id, 1, 10)
        assert due <= started < due + timedelta(seconds=0.5), (due, started)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


# --- API ---------------------------------------------------------------------------------------------------------

def test_the_schedules_api_for_every_role(world, tmp_path):
    with api_client(world, tmp_path) as (client, _settings):
        admin = world.headers("giessen.admin")
        bad = client.post("/api/schedules", json={"robot": "unterhaltsvorschuss", "cron": "99 7 * * *"},
                          headers=admin)
        assert bad.status_code == 422
        assert "Der Cron-Ausdruck '99 7 * * *' ist ungültig" in bad.json()["detail"]
        assert client.get("/api/schedules", headers=admin).json() == []
        made = client.post("/api/schedules", json={"robot": "unterhaltsvorschuss", "cron": "30 2 * * *",
                                                   "skip_holidays": True}, headers=admin)
        assert made.status_code == 201, made.text
        schedule = made.json()
        assert (schedule["process"], schedule["city"], schedule["paused"]) == ("unterhaltsvorschuss", "giessen",
                                                                               False)
        assert datetime.fromisoformat(schedule["next_run_local"]).hour in (2, 3)
        sid = schedule["id"]
        preview = client.get(f"/api/schedules/{sid}/preview?n=3", headers=world.headers("giessen.clerk"))
        assert preview.status_code == 200 and len(preview.json()["times"]) == 3
        ahead = client.get("/api/schedules/preview", params={"cron": "0 7 * * *", "skip_holidays": "true", "n": 2},
                           headers=world.headers("giessen.clerk"))
        assert ahead.status_code == 200 and len(ahead.json()["times"]) == 2
        wrong = client.get("/api/schedules/preview", params={"cron": "0 7 * *"}, headers=admin)
        assert wrong.status_code == 422 and "'0 7 * *'" in wrong.json()["detail"]
        for user in ("giessen.clerk", "giessen.owner", "betrieb"):
            assert client.post(f"/api/schedules/{sid}/pause", headers=world.headers(user)).status_code == 403
            assert client.post("/api/schedules", json={"robot": "unterhaltsvorschuss", "cron": "0 7 * * *"},
                               headers=world.headers(user)).status_code == 403
        marburg = world.headers("marburg.admin")
        for method, path in (("get", f"/api/schedules/{sid}"), ("get", f"/api/schedules/{sid}/preview"),
                             ("post", f"/api/schedules/{sid}/pause"), ("post", f"/api/schedules/{sid}/resume"),
                             ("delete", f"/api/schedules/{sid}")):
            assert getattr(client, method)(path, headers=marburg).status_code == 404, path
        assert client.get("/api/schedules", headers=marburg).json() == []
        assert [s["id"] for s in client.get("/api/schedules", headers=world.headers("betrieb")).json()] == [sid]
        assert client.post(f"/api/schedules/{sid}/pause", headers=admin).json()["paused"] is True
        assert client.post(f"/api/schedules/{sid}/resume", headers=admin).json()["paused"] is False
        assert client.delete(f"/api/schedules/{sid}", headers=admin).status_code == 204
        assert client.get(f"/api/schedules/{sid}", headers=admin).status_code == 404
        assert client.get("/api/schedules").status_code == 401


@pytest.mark.parametrize(("cron", "field"), [
    ("61 7 * * *", "das Feld Minute ('61') erlaubt 0–59"),
    ("0 24 * * *", "das Feld Stunde ('24') erlaubt 0–23"),
    ("0 7 32 * *", "das Feld Tag ('32') erlaubt 1–31"),
    ("0 7 * 13 *", "das Feld Monat ('13') erlaubt 1–12"),
    ("0 7 * * 9", "das Feld Wochentag ('9') erlaubt 0–6"),
])
def test_a_wrong_cron_field_is_named_with_its_range(cron, field):
    with pytest.raises(Invalid) as refused:
        schedules.validate_cron(cron)
    assert f"Der Cron-Ausdruck '{cron}' ist ungültig: {field}" in str(refused.value)
    assert "fünf Felder" not in str(refused.value)
