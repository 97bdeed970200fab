"""Mail triggers: a city robot with a mailbox starts when new mail arrives in it.

A city admin sets one up beside the schedules (one per robot). A watcher of the control room
(:mod:`rathaus_controlroom.mailwatch`) looks at the robot's inbox, in IMAP IDLE where the server offers it and
every ``poll_s`` seconds otherwise, and counts each arrival in ``seen`` (:func:`record_mail`). The clock
(:func:`fire_pending`) queues one run while ``seen`` is ahead of ``fired`` and no run of the robot is queued or
running, and moves ``fired`` up to the ``seen`` it covered in the same transaction:

- a thousand mails at once start one run, which takes them all from the inbox;
- mail that arrives while a run works starts one more run when it has ended (it waits, none is lost);
- two control-room instances on one PostgreSQL never queue two runs for one arrival (conditional ``UPDATE``).

Mails stay in the inbox until a run has recorded their case, so a trigger that misses an arrival (a watcher
that was down) loses no mail: the watcher compares its mark (``watermark``) when it connects again, and the
next run takes whatever waits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rathaus.core.config import deep_merge, read_yaml
from rathaus.core.project import Project
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rathaus_controlroom.models import MailTrigger, Robot, Role, Run, RunState
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.items import as_utc
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)

#: who acts in the audit log when a trigger starts a run
MAIL_ACTOR = "neue-mail"
POLL_RANGE = (1, 3600)
STATUS_TEXT = {
    "starting": "wird verbunden",
    "idle": "wartet auf neue Mail (IMAP IDLE: Start sofort bei Eingang)",
    "polling": "sieht alle {poll_s} s im Posteingang nach",
    "error": "gestört",
    "paused": "pausiert",
}


@dataclass(frozen=True)
class Mailbox:
    """Where a robot's mail arrives, from its ``config.yaml`` and the control room's configuration for it."""

    url: str
    folder: str
    password_variable: str | None
    ca_file: str | None


@dataclass(frozen=True)
class TriggerView:
    """A mail trigger as the API and the UI show it (no case data, no secrets)."""

    id: int
    city_id: str
    robot_id: int
    process: str
    paused: bool
    poll_s: int
    status: str
    status_text: str
    status_message: str | None
    mailbox: str
    checked_at: datetime | None
    mail_at: datetime | None
    fired_at: datetime | None
    waiting: bool

    def as_dict(self) -> dict[str, Any]:
        """The fields, with ``city`` for ``city_id`` (as the API names it)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["city"] = data.pop("city_id")
        return data


def robot_mailbox(robot: Robot, settings: Settings, project: Project | None = None) -> Mailbox:
    """The mailbox of a city robot (section ``postfach`` of its ``config.yaml`` with the control room's overrides);
    :class:`Invalid` (German) when it has none."""
    project = project or Project.locate()
    name = f"{robot.city_id}/{robot.process}"
    config_file = project.robot_dir(name) / "config.yaml"
    data = read_yaml(config_file) if config_file.is_file() else {}
    data = deep_merge(data, settings.robot_config.get(name) or {})
    section = data.get("postfach")
    if not isinstance(section, dict) or not section.get("url"):
        raise Invalid(f"Der Roboter '{robot.title}' hat kein Postfach: ein Start bei neuer Mail geht nur für Roboter, "
                      "deren Fälle per Mail kommen. Bitte einen Zeitplan verwenden; es wurde nichts gespeichert.")
    return Mailbox(str(section["url"]), str(section.get("eingang") or "INBOX"),
                   str(section["passwort_variable"]) if section.get("passwort_variable") else None,
                   str(section["ca_datei"]) if section.get("ca_datei") else None)


def shown_mailbox(mailbox: Mailbox) -> str:
    """The mailbox without any secret, e.g. ``imaps://uvg@imap.giessen.de:993 (INBOX)``."""
    from rathaus.mail.backend import parse_address
    from rathaus.mail.errors import MailError

    try:
        return f"{parse_address(mailbox.url).url} ({mailbox.folder})"
    except MailError:  # an address the watcher will report as wrong; show no part of it that could hold a secret
        return f"(ungültige Adresse) ({mailbox.folder})"


def _admin(principal: Principal) -> str:
    if principal.role is not Role.ADMIN or principal.city_id is None:
        raise Forbidden("Den Start bei neuer Mail richten nur Administratorinnen und Administratoren der Stadt ein.")
    return principal.city_id


def _poll(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not POLL_RANGE[0] <= value <= POLL_RANGE[1]:
        raise Invalid(f"Das Abrufintervall muss eine ganze Zahl von {POLL_RANGE[0]} bis {POLL_RANGE[1]} Sekunden "
                      "sein. Es wurde nichts gespeichert.")
    return value


def _view(session: Session, row: MailTrigger, settings: Settings, project: Project | None = None) -> TriggerView:
    robot = session.get(Robot, row.robot_id)
    try:
        mailbox = shown_mailbox(robot_mailbox(robot, settings, project))
    except Invalid:
        mailbox = "(kein Postfach)"
    status = "paused" if row.paused else row.status
    return TriggerView(row.id, row.city_id, row.robot_id, robot.process, row.paused, row.poll_s, status,
                       STATUS_TEXT.get(status, status).format(poll_s=row.poll_s),
                       None if row.paused else row.status_message, mailbox, as_utc(row.checked_at),
                       as_utc(row.mail_at), as_utc(row.fired_at), row.seen > row.fired and not row.paused)


def _changed(session: Session) -> None:
    session.info["triggers_changed"] = True  # the watchers look again after the commit (signals.watch)


def create_trigger(session: Session, principal: Principal, robot: int | str, settings: Settings, poll_s: int = 5,
                   paused: bool = False, project: Project | None = None) -> TriggerView:
    """Start the admin's city robot when new mail arrives in its mailbox (one trigger per robot)."""
    from rathaus_controlroom.services.schedules import _robot

    city = _admin(principal)
    target = _robot(session, city, robot)
    poll = _poll(poll_s)
    robot_mailbox(target, settings, project)
    if session.scalar(select(MailTrigger.id).where(MailTrigger.robot_id == target.id)) is not None:
        raise Conflict(f"Der Roboter '{target.title}' startet schon bei neuer Mail. Bitte den bestehenden Eintrag "
                       "ändern oder löschen.")
    row = MailTrigger(city_id=city, robot_id=target.id, paused=bool(paused), poll_s=poll, created_by=principal.user_id,
                      seen=0, fired=0, status="starting")
    session.add(row)
    session.flush()
    _changed(session)
    audit.record(session, principal, "create_trigger", "trigger", row.id, city, robot=target.process, poll_s=poll,
                 paused=row.paused)
    log.info("action=create_trigger city=%s trigger=%s robot=%s", city, row.id, target.process)
    return _view(session, row, settings, project)


def list_triggers(session: Session, principal: Principal, settings: Settings,
                  project: Project | None = None) -> list[TriggerView]:
    """The city's mail triggers (operators: every city's; they hold no case data)."""
    query = select(MailTrigger)
    if principal.role is not Role.OPERATOR:
        query = query.where(MailTrigger.city_id == principal.city_id)
    return [_view(session, row, settings, project)
            for row in session.scalars(query.order_by(MailTrigger.city_id, MailTrigger.id))]


def _visible(session: Session, principal: Principal, trigger_id: int) -> MailTrigger:
    row = session.get(MailTrigger, trigger_id)
    if row is None or (principal.role is not Role.OPERATOR and row.city_id != principal.city_id):
        raise NotFound(f"Start bei neuer Mail {trigger_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    return row


def _managed(session: Session, principal: Principal, trigger_id: int) -> MailTrigger:
    city = _admin(principal)
    row = session.scalar(select(MailTrigger).where(MailTrigger.id == trigger_id, MailTrigger.city_id == city)
                         .with_for_update())
    if row is None:
        raise NotFound(f"Start bei neuer Mail {trigger_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    return row


def get_trigger(session: Session, principal: Principal, trigger_id: int, settings: Settings) -> TriggerView:
    return _view(session, _visible(session, principal, trigger_id), settings)


def set_paused(session: Session, principal: Principal, trigger_id: int, paused: bool,
               settings: Settings) -> TriggerView:
    """Pause or resume. A paused trigger is not watched; resumed, its watcher compares the inbox with its mark from
    before the pause, so mail that arrived meanwhile starts one run (arrivals counted before the pause start none)."""
    row = _managed(session, principal, trigger_id)
    row.paused = bool(paused)
    if not row.paused:
        row.status, row.status_message, row.fired = "starting", None, row.seen
    _changed(session)
    action = "pause_trigger" if row.paused else "resume_trigger"
    audit.record(session, principal, action, "trigger", row.id, row.city_id)
    log.info("action=%s city=%s trigger=%s", action, row.city_id, row.id)
    return _view(session, row, settings)


def delete_trigger(session: Session, principal: Principal, trigger_id: int) -> None:
    """Delete a trigger; its past runs stay (they no longer point to it), the audit log keeps it."""
    row = _managed(session, principal, trigger_id)
    session.execute(update(Run).where(Run.trigger_id == row.id).values(trigger_id=None)
                    .execution_options(synchronize_session=False))
    audit.record(session, principal, "delete_trigger", "trigger", row.id, row.city_id)
    session.delete(row)
    session.flush()
    _changed(session)
    log.info("action=delete_trigger city=%s trigger=%s", row.city_id, trigger_id)


# --- the watcher's records -----------------------------------------------------------------------------------------

def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else datetime.now(timezone.utc)


def record_mail(session: Session, trigger_id: int, watermark: str | None, now: datetime | None = None) -> None:
    """New mail arrived: one more arrival to start a run for (the clock is woken after the commit)."""
    now = _now(now)
    session.execute(update(MailTrigger).where(MailTrigger.id == trigger_id)
                    .values(seen=MailTrigger.seen + 1, watermark=watermark, mail_at=now, checked_at=now)
                    .execution_options(synchronize_session=False))
    session.info["schedules_changed"] = True
    log.info("action=mail_arrived trigger=%s", trigger_id)


def record_status(session: Session, trigger_id: int, status: str, message: str | None = None,
                  watermark: str | None = None, now: datetime | None = None) -> None:
    """How the watcher looks at the mailbox (``idle``, ``polling``, ``error`` with a German message)."""
    values: dict[str, Any] = {"status": status, "status_message": message, "checked_at": _now(now)}
    if watermark is not None:
        values["watermark"] = watermark
    session.execute(update(MailTrigger).where(MailTrigger.id == trigger_id).values(**values)
                    .execution_options(synchronize_session=False))


def pending(session: Session) -> bool:
    """Whether some trigger has mail that no run was queued for yet (the clock then looks again soon)."""
    return session.scalar(select(MailTrigger.id).where(MailTrigger.paused.is_(False),
                                                       MailTrigger.seen > MailTrigger.fired).limit(1)) is not None


def fire_pending(session: Session, now: datetime | None = None) -> list[Run]:
    """Queue a run for each unpaused trigger with new mail whose robot has no queued or running run.

    The caller commits. ``fired`` moves to the ``seen`` the run covers with a conditional ``UPDATE``, so two
    control-room instances queue one run, not two.
    """
    now = _now(now)
    busy = select(Run.id).where(Run.robot_id == MailTrigger.robot_id,
                                Run.state.in_((RunState.QUEUED, RunState.RUNNING))).exists()
    due = session.execute(select(MailTrigger.id, MailTrigger.city_id, MailTrigger.robot_id, MailTrigger.seen,
                                 MailTrigger.fired)
                          .where(MailTrigger.paused.is_(False), MailTrigger.seen > MailTrigger.fired, ~busy)
                          .order_by(MailTrigger.id)).all()
    started: list[Run] = []
    for trigger_id, city, robot_id, seen, fired in due:
        moved = session.execute(update(MailTrigger).where(MailTrigger.id == trigger_id, MailTrigger.fired == fired)
                                .values(fired=seen, fired_at=now).execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            continue  # another instance queued it in the meantime
        run = Run(city_id=city, robot_id=robot_id, state=RunState.QUEUED, requested_by=None, trigger_id=trigger_id,
                  created_at=now, cases_total=0, cases_done=0, attempt=0)
        session.add(run)
        session.flush()
        audit.record(session, MAIL_ACTOR, "start_run", "run", run.id, city, trigger=trigger_id, arrivals=seen - fired)
        log.info("action=start_run city=%s run=%s trigger=%s arrivals=%d", city, run.id, trigger_id, seen - fired)
        started.append(run)
    return started


def watched(session: Session) -> list[tuple[int, int]]:
    """``(trigger id, poll_s)`` of every unpaused trigger: what the watchers look at."""
    return [(row.id, row.poll_s) for row in session.scalars(select(MailTrigger).where(MailTrigger.paused.is_(False))
                                                                .order_by(MailTrigger.id))]


def watch_target(session: Session, trigger_id: int, settings: Settings,
                 project: Project | None = None) -> tuple[Mailbox, str | None, str | None, str]:
    """What a watcher needs: the mailbox, its password (decrypted, from the city's credentials), the mark where it
    stopped, and the robot's ``<city>/<process>`` (for a Maildir path relative to the local runner's home)."""
    from rathaus_controlroom.services.credentials import credential_of

    row = session.get(MailTrigger, trigger_id)
    if row is None:
        raise NotFound(f"Start bei neuer Mail {trigger_id} gibt es nicht mehr.")
    robot = session.get(Robot, row.robot_id)
    mailbox = robot_mailbox(robot, settings, project)
    password = None
    if mailbox.password_variable:
        password = credential_of(session, row.city_id, mailbox.password_variable, settings)
        if password is None:
            raise Invalid(f"Das Passwort des Postfachs fehlt: bitte unter Zugangsdaten '{mailbox.password_variable}' "
                          "hinterlegen.")
    return mailbox, password, row.watermark, f"{robot.city_id}/{robot.process}"


def local_maildir(settings: Settings, robot: str, path: Path) -> Path:
    """A relative Maildir path of a robot as the control room's local runner resolves it (its robot's home)."""
    from rathaus_controlroom.runner import robot_home

    return path if path.is_absolute() else robot_home(settings.data_dir / "runner", robot) / path
