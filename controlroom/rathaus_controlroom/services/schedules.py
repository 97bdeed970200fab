"""Schedules: cron expressions in Europe/Berlin, optionally skipping Hessian public holidays, that queue runs.

Times are computed on the local wall clock (croniter on naive local times, then localised with zoneinfo):

- a time that does not exist on the spring-forward day (``30 2 * * *`` on the last Sunday of March) fires once,
  shifted by the gap (03:30 CEST);
- a time that occurs twice on the fall-back day fires once, at its first occurrence (CEST).

Holidays come from the ``holidays`` library (``DE`` with ``settings.holiday_subdivision``, default ``HE``).

:func:`fire_due` queues one run per due schedule and moves ``next_run_at`` forward in the same transaction:
on PostgreSQL the due rows are locked with ``SELECT … FOR UPDATE SKIP LOCKED``, on SQLite the move is a
conditional ``UPDATE … WHERE next_run_at = :old``. So two control-room instances sharing one database never
start a schedule twice. A control room that was down fires each missed schedule once, not once per missed time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from croniter import CroniterBadDateError, croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rathaus_controlroom.models import Robot, Role, Run, RunState, Schedule
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import Forbidden, Invalid, NotFound
from rathaus_controlroom.services.items import as_utc
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)

#: give up looking for the next time after this many candidates or this far ahead (e.g. only on holidays)
MAX_CANDIDATES = 5000
HORIZON = timedelta(days=366 * 9)  # 29 February can be eight years away (2096 -> 2104)
CRON_HELP = "fünf Felder: Minute Stunde Tag Monat Wochentag, z. B. '30 7 * * 1-5' (werktags 7:30 Uhr)"


@lru_cache(maxsize=64)
def _holidays(subdivision: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("DE", subdiv=subdivision, years=year, language="de").items())


@dataclass(frozen=True)
class Calendar:
    """Where schedules are evaluated: the time zone and the German state whose public holidays count."""

    timezone: str = "Europe/Berlin"
    subdivision: str = "HE"

    @classmethod
    def of(cls, settings: Settings) -> Calendar:
        return cls(settings.timezone, settings.holiday_subdivision)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def holiday(self, day: date) -> str | None:
        """The German name of the public holiday on ``day``, or ``None``."""
        return _holidays(self.subdivision, day.year).get(day)

    def next_after(self, cron: str, after: datetime, skip_holidays: bool = False) -> datetime:
        """The first due time strictly after ``after`` (UTC, aware)."""
        return self.upcoming(cron, after, 1, skip_holidays)[0]

    def upcoming(self, cron: str, after: datetime, count: int, skip_holidays: bool = False) -> list[datetime]:
        """The next ``count`` due times strictly after ``after``, as aware UTC datetimes."""
        cron = validate_cron(cron)
        after = as_utc(after)
        zone = self.zone
        local = after.astimezone(zone).replace(tzinfo=None, fold=0)
        # start one hour early: on the fall-back day the local clock repeats an hour
        iterator = croniter(cron, local - timedelta(hours=1))
        found: list[datetime] = []
        last = after
        try:
            for _ in range(MAX_CANDIDATES):
                candidate: datetime = iterator.get_next(datetime)
                if candidate - local > HORIZON:
                    break
                moment = candidate.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
                if moment <= last:
                    continue  # before the start, a repeated hour, or a time shifted by a DST gap
                if skip_holidays and self.holiday(candidate.date()):
                    continue
                found.append(moment)
                last = moment
                if len(found) == count:
                    return found
        except CroniterBadDateError:
            pass
        if found:
            return found
        extra = " an einem Tag, der kein Feiertag ist" if skip_holidays else ""
        raise Invalid(f"Der Cron-Ausdruck '{cron}' wird nie fällig{extra}; bitte Tag und Monat prüfen.")


#: the five fields of a cron expression with the values they allow
CRON_FIELDS = (("Minute", "0–59"), ("Stunde", "0–23"), ("Tag", "1–31"), ("Monat", "1–12"),
               ("Wochentag", "0–6, 0 = Sonntag"))


def validate_cron(cron: object) -> str:
    """The expression, normalised; :class:`Invalid` (422) with a German message naming it otherwise (with five
    fields: the first wrong field and the values it allows)."""
    text = " ".join(str(cron or "").split())
    fields = text.split(" ")
    if isinstance(cron, str) and len(fields) == 5 and len(text) <= 100 and not croniter.is_valid(text):
        for position, (label, allowed) in enumerate(CRON_FIELDS):
            alone = " ".join(value if index == position else "*" for index, value in enumerate(fields))
            if not croniter.is_valid(alone):
                raise Invalid(f"Der Cron-Ausdruck '{text}' ist ungültig: das Feld {label} ('{fields[position][:30]}') "
                              f"erlaubt {allowed}. Es wurde nichts gespeichert.")
    if not isinstance(cron, str) or len(text.split(" ")) != 5 or len(text) > 100 or not croniter.is_valid(text):
        raise Invalid(f"Der Cron-Ausdruck '{str(cron or '')[:100]}' ist ungültig: erwartet werden {CRON_HELP}. "
                      "Es wurde nichts gespeichert.")
    return text


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as the API and the UI show it."""

    id: int
    city_id: str
    robot_id: int
    process: str
    cron: str
    skip_holidays: bool
    paused: bool
    next_run_at: datetime | None
    next_run_local: datetime | None

    @classmethod
    def from_row(cls, row: Schedule, process: str, calendar: Calendar) -> ScheduleView:
        due = as_utc(row.next_run_at)
        return cls(row.id, row.city_id, row.robot_id, process, row.cron, row.skip_holidays, row.paused, due,
                   due.astimezone(calendar.zone) if due else None)


def require_admin(principal: Principal) -> str:
    """The city of a city admin (who manage schedules); else :class:`Forbidden`."""
    if principal.role is not Role.ADMIN or principal.city_id is None:
        raise Forbidden("Zeitpläne verwalten nur Administratorinnen und Administratoren der Stadt.")
    return principal.city_id


def _view(session: Session, row: Schedule, calendar: Calendar) -> ScheduleView:
    return ScheduleView.from_row(row, session.get(Robot, row.robot_id).process, calendar)


def _robot(session: Session, city: str, robot: int | str) -> Robot:
    query = select(Robot).where(Robot.city_id == city)
    if isinstance(robot, int) or str(robot).isdigit():
        row = session.scalar(query.where(Robot.id == int(robot)))
    else:  # the process name, or city/process as runs and uploads name a robot
        named, _, process = str(robot).rpartition("/")
        row = session.scalar(query.where(Robot.process == process)) if named in ("", city) else None
    if row is None:
        raise NotFound(f"Roboter '{robot}' gibt es in Ihrer Stadt nicht.")
    return row


def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else datetime.now(timezone.utc)


def create_schedule(session: Session, principal: Principal, robot: int | str, cron: str, skip_holidays: bool = False,
                    paused: bool = False, now: datetime | None = None, calendar: Calendar = Calendar()) -> ScheduleView:
    """A new schedule of the admin's city for one of its robots; an invalid cron saves nothing."""
    city = require_admin(principal)
    cron = validate_cron(cron)
    target = _robot(session, city, robot)
    due = calendar.next_after(cron, _now(now), bool(skip_holidays))
    row = Schedule(city_id=city, robot_id=target.id, cron=cron, skip_holidays=bool(skip_holidays),
                   paused=bool(paused), next_run_at=due, created_by=principal.user_id)
    session.add(row)
    session.flush()
    audit.record(session, principal, "create_schedule", "schedule", row.id, city, robot=target.process, cron=cron,
                 skip_holidays=row.skip_holidays, paused=row.paused)
    log.info("action=create_schedule city=%s schedule=%s robot=%s", city, row.id, target.process)
    return ScheduleView.from_row(row, target.process, calendar)


def list_schedules(session: Session, principal: Principal, calendar: Calendar = Calendar()) -> list[ScheduleView]:
    """The city's schedules (operators: every city's; schedules hold no case data)."""
    query = select(Schedule, Robot.process).join(Robot, Robot.id == Schedule.robot_id)
    if principal.role is not Role.OPERATOR:
        query = query.where(Schedule.city_id == principal.city_id)
    query = query.order_by(Schedule.city_id, Schedule.id)
    return [ScheduleView.from_row(row, process, calendar) for row, process in session.execute(query)]


def _visible(session: Session, principal: Principal, schedule_id: int) -> Schedule:
    row = session.get(Schedule, schedule_id)
    if row is None or (principal.role is not Role.OPERATOR and row.city_id != principal.city_id):
        raise NotFound(f"Zeitplan {schedule_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    return row


def _managed(session: Session, principal: Principal, schedule_id: int) -> Schedule:
    city = require_admin(principal)
    row = session.scalar(select(Schedule).where(Schedule.id == schedule_id, Schedule.city_id == city)
                         .with_for_update())
    if row is None:
        raise NotFound(f"Zeitplan {schedule_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    return row


def get_schedule(session: Session, principal: Principal, schedule_id: int,
                 calendar: Calendar = Calendar()) -> ScheduleView:
    return _view(session, _visible(session, principal, schedule_id), calendar)


def pause_schedule(session: Session, principal: Principal, schedule_id: int,
                   calendar: Calendar = Calendar()) -> ScheduleView:
    row = _managed(session, principal, schedule_id)
    row.paused = True
    audit.record(session, principal, "pause_schedule", "schedule", row.id, row.city_id)
    log.info("action=pause_schedule city=%s schedule=%s", row.city_id, row.id)
    return _view(session, row, calendar)


def resume_schedule(session: Session, principal: Principal, schedule_id: int, now: datetime | None = None,
                    calendar: Calendar = Calendar()) -> ScheduleView:
    """Resume from now on: times missed while paused are not made up."""
    row = _managed(session, principal, schedule_id)
    row.paused = False
    row.next_run_at = calendar.next_after(row.cron, _now(now), row.skip_holidays)
    audit.record(session, principal, "resume_schedule", "schedule", row.id, row.city_id)
    log.info("action=resume_schedule city=%s schedule=%s", row.city_id, row.id)
    return _view(session, row, calendar)


def delete_schedule(session: Session, principal: Principal, schedule_id: int) -> None:
    """Delete a schedule; its past runs stay (they no longer point to it), the audit log keeps it."""
    row = _managed(session, principal, schedule_id)
    session.execute(update(Run).where(Run.schedule_id == row.id).values(schedule_id=None)
                    .execution_options(synchronize_session=False))
    audit.record(session, principal, "delete_schedule", "schedule", row.id, row.city_id, cron=row.cron)
    session.delete(row)
    session.flush()
    log.info("action=delete_schedule city=%s schedule=%s", row.city_id, schedule_id)


def preview(schedule: Schedule | ScheduleView, n: int = 5, now: datetime | None = None,
            calendar: Calendar = Calendar()) -> list[datetime]:
    """The next ``n`` times the schedule fires, in local time (holidays skipped when it skips them)."""
    return preview_cron(schedule.cron, schedule.skip_holidays, n, now, calendar)


def preview_cron(cron: str, skip_holidays: bool = False, n: int = 5, now: datetime | None = None,
                 calendar: Calendar = Calendar()) -> list[datetime]:
    """The next ``n`` times of an expression (before saving it), in local time."""
    if not 1 <= n <= 50:
        raise Invalid("Die Vorschau zeigt 1 bis 50 Termine.")
    zone = calendar.zone
    return [moment.astimezone(zone) for moment in calendar.upcoming(cron, _now(now), n, bool(skip_holidays))]


def schedule_preview(session: Session, principal: Principal, schedule_id: int, n: int = 5,
                     now: datetime | None = None, calendar: Calendar = Calendar()) -> list[datetime]:
    return preview(_visible(session, principal, schedule_id), n, now, calendar)


# --- firing ------------------------------------------------------------------------------------------------------

def _start_run(session: Session, row: Schedule, now: datetime) -> Run:
    run = Run(city_id=row.city_id, robot_id=row.robot_id, state=RunState.QUEUED, requested_by=None,
              schedule_id=row.id, created_at=now, cases_total=0, cases_done=0, attempt=0)
    session.add(run)
    session.flush()
    return run


def fire_due(session: Session, now: datetime | None = None, calendar: Calendar = Calendar()) -> list[Run]:
    """Queue one run for every due, unpaused schedule and move it to its next time (same transaction).

    The caller commits (``Database.session()``). Safe with several control-room instances on one PostgreSQL.
    """
    now = _now(now)
    due_query = (select(Schedule).where(Schedule.paused.is_(False), Schedule.next_run_at.is_not(None),
                                        Schedule.next_run_at <= now).order_by(Schedule.next_run_at, Schedule.id))
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        due_query = due_query.with_for_update(skip_locked=True)
    started: list[Run] = []
    for row in list(session.scalars(due_query)):
        old = row.next_run_at
        try:
            following: datetime | None = calendar.next_after(row.cron, now, row.skip_holidays)
        except Invalid:
            following = None  # never due again: it stays, without a next time, for the admin to change
        if postgresql:
            row.next_run_at = following
        else:
            moved = session.execute(
                update(Schedule).where(Schedule.id == row.id, Schedule.next_run_at == old,
                                       Schedule.paused.is_(False))
                .values(next_run_at=following).execution_options(synchronize_session=False))
            if moved.rowcount != 1:
                continue  # another instance fired it in the meantime
            session.expire(row, ["next_run_at"])
        run = _start_run(session, row, now)
        audit.record(session, audit.SCHEDULER, "start_run", "run", run.id, row.city_id, schedule=row.id,
                     due=as_utc(old).isoformat())
        log.info("action=start_run city=%s run=%s schedule=%s", row.city_id, run.id, row.id)
        started.append(run)
    session.flush()
    return started


def schedule_dict(view: ScheduleView) -> dict[str, Any]:
    """JSON form for the API (ISO 8601 times)."""
    return {"id": view.id, "city": view.city_id, "robot_id": view.robot_id, "process": view.process,
            "cron": view.cron, "skip_holidays": view.skip_holidays, "paused": view.paused,
            "next_run_at": view.next_run_at.isoformat() if view.next_run_at else None,
            "next_run_local": view.next_run_local.isoformat() if view.next_run_local else None}
