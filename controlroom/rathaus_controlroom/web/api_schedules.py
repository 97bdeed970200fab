"""Schedules over HTTP: list, create (cron in Europe/Berlin, optional holiday skip), pause, resume, preview, delete.

HTTP only; :mod:`rathaus_controlroom.services.schedules` does the work and filters by the caller's city.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from rathaus_controlroom.services import schedules
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal, get_settings

router = APIRouter(tags=["Zeitpläne"])

Who = Annotated[Principal, Depends(current_principal)]
Config = Annotated[Settings, Depends(get_settings)]


class ScheduleOut(BaseModel):
    id: int
    city: str
    robot_id: int
    process: str
    cron: str
    skip_holidays: bool
    paused: bool
    #: next due time in UTC and on the local (Europe/Berlin) clock
    next_run_at: datetime | None
    next_run_local: datetime | None

    @classmethod
    def of(cls, view: schedules.ScheduleView) -> ScheduleOut:
        return cls(id=view.id, city=view.city_id, robot_id=view.robot_id, process=view.process, cron=view.cron,
                   skip_holidays=view.skip_holidays, paused=view.paused, next_run_at=view.next_run_at,
                   next_run_local=view.next_run_local)


class ScheduleIn(BaseModel):
    """``robot``: id or process name of a robot of your city; ``cron``: five fields, evaluated in Europe/Berlin."""

    robot: int | str | None = None
    cron: Any = None
    skip_holidays: bool = False
    paused: bool = False


class PreviewOut(BaseModel):
    cron: str
    skip_holidays: bool
    #: the next times on the local clock (Europe/Berlin)
    times: list[datetime]


def _calendar(settings: Settings) -> schedules.Calendar:
    return schedules.Calendar.of(settings)


@router.get("/schedules", response_model=list[ScheduleOut])
def list_schedules(principal: Who, session: Db, settings: Config) -> list[ScheduleOut]:
    """Schedules of your city (operators: of every city)."""
    return [ScheduleOut.of(view) for view in schedules.list_schedules(session, principal, _calendar(settings))]


@router.post("/schedules", response_model=ScheduleOut, status_code=201, dependencies=[Depends(csrf_protect)])
def create_schedule(body: ScheduleIn, principal: Who, session: Db, settings: Config) -> ScheduleOut:
    """A new schedule (city admins); an invalid cron expression gives 422 and saves nothing."""
    view = schedules.create_schedule(session, principal, body.robot if body.robot is not None else "", body.cron,
                                     body.skip_holidays, body.paused, calendar=_calendar(settings))
    return ScheduleOut.of(view)


@router.get("/schedules/preview", response_model=PreviewOut)
def preview_expression(principal: Who, settings: Config, cron: str = "", skip_holidays: bool = False,
                       n: int = 5) -> PreviewOut:
    """The next times of an expression before saving it."""
    times = schedules.preview_cron(cron, skip_holidays, n, calendar=_calendar(settings))
    return PreviewOut(cron=schedules.validate_cron(cron), skip_holidays=skip_holidays, times=times)


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut)
def get_schedule(schedule_id: int, principal: Who, session: Db, settings: Config) -> ScheduleOut:
    return ScheduleOut.of(schedules.get_schedule(session, principal, schedule_id, _calendar(settings)))


@router.get("/schedules/{schedule_id}/preview", response_model=PreviewOut)
def preview_schedule(schedule_id: int, principal: Who, session: Db, settings: Config, n: int = 5) -> PreviewOut:
    """The schedule's next times on the local clock (public holidays skipped when it skips them)."""
    view = schedules.get_schedule(session, principal, schedule_id, _calendar(settings))
    times = schedules.schedule_preview(session, principal, schedule_id, n, calendar=_calendar(settings))
    return PreviewOut(cron=view.cron, skip_holidays=view.skip_holidays, times=times)


@router.post("/schedules/{schedule_id}/pause", response_model=ScheduleOut, dependencies=[Depends(csrf_protect)])
def pause_schedule(schedule_id: int, principal: Who, session: Db, settings: Config) -> ScheduleOut:
    return ScheduleOut.of(schedules.pause_schedule(session, principal, schedule_id, _calendar(settings)))


@router.post("/schedules/{schedule_id}/resume", response_model=ScheduleOut, dependencies=[Depends(csrf_protect)])
def resume_schedule(schedule_id: int, principal: Who, session: Db, settings: Config) -> ScheduleOut:
    """Resume from now on; times missed while paused are not made up."""
    return ScheduleOut.of(schedules.resume_schedule(session, principal, schedule_id, calendar=_calendar(settings)))


@router.delete("/schedules/{schedule_id}", status_code=204, dependencies=[Depends(csrf_protect)])
def delete_schedule(schedule_id: int, principal: Who, session: Db) -> Response:
    schedules.delete_schedule(session, principal, schedule_id)
    return Response(status_code=204)
