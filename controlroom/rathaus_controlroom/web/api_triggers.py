"""Mail triggers over HTTP: a city robot that starts when new mail arrives in its mailbox (list, create, pause,
resume, delete).

HTTP only; :mod:`rathaus_controlroom.services.triggers` does the work and filters by the caller's city.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from rathaus_controlroom.services import triggers
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal, get_settings

router = APIRouter(tags=["Start bei neuer Mail"])

Who = Annotated[Principal, Depends(current_principal)]
Config = Annotated[Settings, Depends(get_settings)]


class TriggerOut(BaseModel):
    id: int
    city: str
    robot_id: int
    process: str
    paused: bool
    #: seconds between looks when the mailbox offers no IMAP IDLE
    poll_s: int
    #: starting, idle (IMAP IDLE), polling, error or paused; status_text and status_message say it in German
    status: str
    status_text: str
    status_message: str | None
    #: the watched mailbox and folder, without any secret
    mailbox: str
    checked_at: datetime | None
    mail_at: datetime | None
    fired_at: datetime | None
    #: new mail waits for a run (the robot still works on the last one)
    waiting: bool

    @classmethod
    def of(cls, view: triggers.TriggerView) -> TriggerOut:
        return cls(**view.as_dict())


class TriggerIn(BaseModel):
    """``robot``: id or process name of a robot of your city that reads a mailbox."""

    robot: int | str | None = None
    poll_s: Any = 5
    paused: bool = False


@router.get("/triggers", response_model=list[TriggerOut])
def list_triggers(principal: Who, session: Db, settings: Config) -> list[TriggerOut]:
    """Mail triggers of your city (operators: of every city)."""
    return [TriggerOut.of(view) for view in triggers.list_triggers(session, principal, settings)]


@router.post("/triggers", response_model=TriggerOut, status_code=201, dependencies=[Depends(csrf_protect)])
def create_trigger(body: TriggerIn, principal: Who, session: Db, settings: Config) -> TriggerOut:
    """Start a robot of your city when new mail arrives (city admins); a robot without a mailbox gives 422."""
    return TriggerOut.of(triggers.create_trigger(session, principal, body.robot if body.robot is not None else "",
                                                 settings, body.poll_s, body.paused))


@router.get("/triggers/{trigger_id}", response_model=TriggerOut)
def get_trigger(trigger_id: int, principal: Who, session: Db, settings: Config) -> TriggerOut:
    return TriggerOut.of(triggers.get_trigger(session, principal, trigger_id, settings))


@router.post("/triggers/{trigger_id}/pause", response_model=TriggerOut, dependencies=[Depends(csrf_protect)])
def pause_trigger(trigger_id: int, principal: Who, session: Db, settings: Config) -> TriggerOut:
    return TriggerOut.of(triggers.set_paused(session, principal, trigger_id, True, settings))


@router.post("/triggers/{trigger_id}/resume", response_model=TriggerOut, dependencies=[Depends(csrf_protect)])
def resume_trigger(trigger_id: int, principal: Who, session: Db, settings: Config) -> TriggerOut:
    return TriggerOut.of(triggers.set_paused(session, principal, trigger_id, False, settings))


@router.delete("/triggers/{trigger_id}", status_code=204, dependencies=[Depends(csrf_protect)])
def delete_trigger(trigger_id: int, principal: Who, session: Db) -> Response:
    triggers.delete_trigger(session, principal, trigger_id)
    return Response(status_code=204)
