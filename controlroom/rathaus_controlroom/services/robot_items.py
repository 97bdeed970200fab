"""The robots' work items: what ``rathaus.WorkItems`` does through its control room adapter while a runner runs it.

A run attempt gets its own item token (``ri_<run>.<attempt>.<mac>``, an HMAC of the control room's key): the
robot's steps reserve, release, read and write items with it, as ``RPA.Robocorp.WorkItems`` does against
Robocorp's Control Room. Every call is *fenced*: it is refused (409) unless the run is RUNNING in exactly that
attempt, so a robot that lost its lease (its runner died and another runner took the run over) can neither take
nor release nor create anything.

Items have leases of their own (``settings.lease_s``, renewed with the run's heartbeats). An item held by an
attempt that is no longer current, or whose lease ran out, goes back to the queue; the next reservation takes it
and the process's search before entry keeps it from being entered twice.

Files of an item live under ``<data_dir>/uploads/<city>/<item id>/``, named in ``payload["dateien"]``; the robot
sees them as the item's files and never sees that key. An output item is created with all its files in one call
or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from rathaus.workitems.states import ItemState
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from rathaus_controlroom.models import Run, RunState, WorkItem, WorkItemAttempt
from rathaus_controlroom.services.errors import Conflict, Invalid, NotFound, Unauthenticated
from rathaus_controlroom.services.items import retry_delay
from rathaus_controlroom.services.runs import FILES_KEY, as_utc, check_file_name, upload_folder

log = logging.getLogger(__name__)

TOKEN_PREFIX = "ri_"  # noqa: S105 - a public prefix, not a secret
_TOKEN = re.compile(r"^ri_(\d{1,18})\.(\d{1,9})\.([0-9a-f]{64})$")
_LEASE_LOST = ("Lauf {run} wird nicht mehr in diesem Versuch ausgeführt (ein anderer Runner hat ihn übernommen "
               "oder er ist beendet): dieser Roboter darf keine Vorgänge mehr nehmen, abgeben oder anlegen.")


def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else datetime.now(timezone.utc)


def _mac(key: bytes, run_id: int, attempt: int) -> str:
    return hmac.new(key, f"work-items:{run_id}:{attempt}".encode(), hashlib.sha256).hexdigest()


def attempt_token(key: bytes, run_id: int, attempt: int) -> str:
    """The item token of one attempt of a run (handed to the runner with the claim, to the robot by env)."""
    return f"{TOKEN_PREFIX}{run_id}.{attempt}.{_mac(key, run_id, attempt)}"


def read_token(key: bytes, token: str | None) -> tuple[int, int]:
    """(run id, attempt) of a valid item token; :class:`Unauthenticated` otherwise."""
    found = _TOKEN.match(token or "")
    if found is None:
        raise Unauthenticated("Vorgangs-Token des Laufs fehlt oder ist ungültig.")
    run_id, attempt = int(found[1]), int(found[2])
    if not hmac.compare_digest(found[3], _mac(key, run_id, attempt)):
        raise Unauthenticated("Vorgangs-Token des Laufs fehlt oder ist ungültig.")
    return run_id, attempt


def holder(run_id: int, attempt: int) -> str:
    return f"{run_id}:{attempt}"


def current_run(session: Session, run_id: int, attempt: int) -> Run:
    """The run of a token, if it is RUNNING in this very attempt; else :class:`Conflict` (the fence)."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"Lauf {run_id} gibt es nicht.")
    if run.state is not RunState.RUNNING or run.attempt != attempt:
        raise Conflict(_LEASE_LOST.format(run=run_id))
    return run


# --- what the robot sees -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RobotItem:
    """An item as the robot's adapter gets it: its variables without the file list, and the file names."""

    id: int
    reference: str
    state: str
    payload: dict[str, Any]
    files: list[str]
    parent_id: int | None
    attempts: int
    code: str | None
    message: str | None
    released_at: str | None

    @classmethod
    def of(cls, item: WorkItem) -> RobotItem:
        payload = dict(item.payload or {})
        files = list(payload.pop(FILES_KEY, []) or [])
        released = as_utc(item.updated_at) if not item.state.is_open else None
        return cls(item.id, item.reference, item.state.value, payload, files, item.parent_id, item.attempts or 0,
                   item.error_code, item.error_message, released.isoformat() if released else None)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


# --- reserving and releasing ---------------------------------------------------------------------------------------

def _busy_elsewhere(run: Run):
    """Items waiting for another run of the same robot that is still queued or running: that run takes them."""
    other = aliased(Run)
    return exists().where(other.id == WorkItem.run_id, other.id != run.id,
                          other.state.in_((RunState.QUEUED, RunState.RUNNING)))


def reserve(session: Session, run: Run, lease_s: int, now: datetime | None = None) -> WorkItem | None:
    """The next item of the run's robot for this attempt, or ``None`` when the queue is empty.

    Order: the run's own items first, then waiting items no other active run is about to take, then items whose
    holder's lease ran out; each by priority, then age. Each reservation counts as one attempt and starts one
    row of the item's history.
    """
    now = _now(now)
    waiting = and_(WorkItem.state == ItemState.NEW,
                   or_(WorkItem.next_attempt_at.is_(None), WorkItem.next_attempt_at <= now),
                   or_(WorkItem.run_id == run.id, WorkItem.run_id.is_(None), ~_busy_elsewhere(run)))
    abandoned = and_(WorkItem.state == ItemState.IN_PROGRESS,
                     or_(WorkItem.lease_until.is_(None), WorkItem.lease_until < now))
    candidate = (select(WorkItem.id).where(WorkItem.robot_id == run.robot_id, or_(waiting, abandoned))
                 .order_by((WorkItem.run_id == run.id).desc(), WorkItem.priority.desc(), WorkItem.id)
                 .limit(1).with_for_update(skip_locked=True).scalar_subquery())
    item_id = session.scalar(
        update(WorkItem).where(WorkItem.id == candidate, WorkItem.robot_id == run.robot_id, or_(waiting, abandoned))
        .values(state=ItemState.IN_PROGRESS, holder=holder(run.id, run.attempt), run_id=run.id,
                lease_until=now + timedelta(seconds=lease_s), attempts=WorkItem.attempts + 1, updated_at=now,
                next_attempt_at=None)
        .returning(WorkItem.id).execution_options(synchronize_session=False))
    if item_id is None:
        return None
    item = session.execute(select(WorkItem).where(WorkItem.id == item_id)
                           .execution_options(populate_existing=True)).scalar_one()
    _close_open_attempts(session, item, now, ItemState.FAILED_APPLICATION.value, "LEASE_ABGELAUFEN",
                         "Der vorige Versuch endete ohne Rückmeldung (Runner ausgefallen).")
    session.add(WorkItemAttempt(city_id=item.city_id, item_id=item.id, run_id=run.id, number=item.attempts,
                                state=ItemState.IN_PROGRESS.value, started_at=now))
    session.flush()
    log.info("action=reserve_item city=%s run=%s item=%s attempt=%s", run.city_id, run.id, item.id, item.attempts)
    return item


def _close_open_attempts(session: Session, item: WorkItem, now: datetime, state: str, code: str | None,
                         message: str | None) -> None:
    for row in session.scalars(select(WorkItemAttempt).where(WorkItemAttempt.item_id == item.id,
                                                             WorkItemAttempt.finished_at.is_(None))):
        row.state, row.code, row.message, row.finished_at = state, code, message, now


def _requeue(session: Session, item: WorkItem, now: datetime, ended: str, code: str, message: str) -> None:
    """Put a held item back into the queue; its open attempt ends as ``ended`` with ``code`` and ``message``."""
    item.state, item.holder, item.lease_until, item.updated_at = ItemState.NEW, None, None, now
    _close_open_attempts(session, item, now, ended, code, message)


def _held_item(session: Session, run: Run, item_id: int, writable_new: bool = False) -> WorkItem:
    """An item of the run's robot that this attempt holds (or, with ``writable_new``, created and not yet handed
    on); another robot's or city's item is :class:`NotFound`, one held by somebody else :class:`Conflict`."""
    item = session.scalar(select(WorkItem).where(WorkItem.id == item_id, WorkItem.robot_id == run.robot_id)
                          .with_for_update())
    if item is None:
        raise NotFound(f"Vorgang {item_id} gehört nicht zum Roboter dieses Laufs.")
    if item.state is ItemState.IN_PROGRESS and item.holder == holder(run.id, run.attempt):
        return item
    if writable_new and item.state is ItemState.NEW and item.run_id == run.id:
        return item
    raise Conflict(f"Vorgang {item_id} ('{item.reference}') wird nicht (mehr) von diesem Lauf bearbeitet: "
                   "keine Änderung.")


def item_for_reading(session: Session, run: Run, item_id: int) -> WorkItem:
    item = session.scalar(select(WorkItem).where(WorkItem.id == item_id, WorkItem.robot_id == run.robot_id))
    if item is None:
        raise NotFound(f"Vorgang {item_id} gehört nicht zum Roboter dieses Laufs.")
    return item


def release(session: Session, run: Run, item_id: int, done: bool, exception: dict[str, Any] | None = None,
            now: datetime | None = None, max_attempts: int = 3, retry_base_s: int = 60) -> WorkItem:
    """Release a held item as DONE, or FAILED with ``{"type": BUSINESS|APPLICATION, "code", "message"}``.

    A business failure goes to the clerk's worklist; an application failure is tried again after
    :func:`retry_delay` while fewer than ``max_attempts`` attempts were made.
    """
    now = _now(now)
    item = _held_item(session, run, item_id)
    exception = exception or {}
    kind = str(exception.get("type") or "").upper() or None
    if kind not in (None, "BUSINESS", "APPLICATION"):
        raise Invalid(f"Vorgang {item_id}: Fehlertyp '{kind[:20]}' ist unbekannt (BUSINESS oder APPLICATION).")
    state = ItemState.released(done, kind)
    code = None if done else (str(exception.get("code") or "") or None)
    message = None if done else (str(exception.get("message") or "") or None)
    item.state, item.holder, item.lease_until, item.updated_at = state, None, None, now
    item.error_code = code[:100] if code else None
    item.error_message = message[:2000] if message else None
    item.next_attempt_at = None
    if state is ItemState.FAILED_APPLICATION and (item.attempts or 0) < max_attempts:
        item.next_attempt_at = now + retry_delay(item.attempts or 1, retry_base_s)
    _close_open_attempts(session, item, now, state.value, item.error_code, item.error_message)
    session.flush()
    log.info("action=release_item city=%s run=%s item=%s state=%s code=%s", run.city_id, run.id, item.id,
             state.value, item.error_code or "-")
    return item


def release_stale(session: Session, run: Run, now: datetime | None = None) -> int:
    """Items held by earlier attempts of ``run`` go back to the queue at once (called when a new attempt starts)."""
    now = _now(now)
    count = 0
    current = holder(run.id, run.attempt)
    for item in session.scalars(select(WorkItem).where(WorkItem.run_id == run.id,
                                                       WorkItem.state == ItemState.IN_PROGRESS)):
        if item.holder != current:
            _requeue(session, item, now, ItemState.FAILED_APPLICATION.value, "RUNNER_AUSGEFALLEN",
                     "Der Runner fiel während des Versuchs aus; der Vorgang wurde erneut eingereiht.")
            count += 1
    return count


def renew_leases(session: Session, run: Run, lease_s: int, now: datetime | None = None) -> None:
    """The heartbeat of a run extends the leases of the items its current attempt holds."""
    now = _now(now)
    session.execute(update(WorkItem).where(WorkItem.run_id == run.id, WorkItem.state == ItemState.IN_PROGRESS,
                                           WorkItem.holder == holder(run.id, run.attempt))
                    .values(lease_until=now + timedelta(seconds=lease_s))
                    .execution_options(synchronize_session=False))


def end_attempt(session: Session, run: Run, now: datetime | None = None, max_attempts: int = 3,
                retry_base_s: int = 60, cancelled: bool = False) -> int:
    """At the end of a run: items its attempt still holds were not finished (the robot stopped in the middle of
    them): application failures, tried again later; in a cancelled run they go back to the queue unchanged."""
    now = _now(now)
    count = 0
    for item in session.scalars(select(WorkItem).where(WorkItem.run_id == run.id,
                                                       WorkItem.state == ItemState.IN_PROGRESS,
                                                       WorkItem.holder == holder(run.id, run.attempt))):
        if cancelled:
            item.attempts = max((item.attempts or 1) - 1, 0)
            _requeue(session, item, now, ItemState.NEW.value, "LAUF_ABGEBROCHEN",
                     "Der Lauf wurde abgebrochen, bevor der Vorgang fertig war.")
        else:
            release(session, run, item.id, False,
                    {"type": "APPLICATION", "code": "NICHT_BEENDET",
                     "message": f"Vorgang '{item.reference}': der Roboter hat ihn in Lauf {run.id} begonnen, aber "
                                "nicht abgegeben (abgebrochen?). Er wird erneut versucht."},
                    now, max_attempts, retry_base_s)
        count += 1
    return count


# --- payloads and files --------------------------------------------------------------------------------------------

def _clean_payload(payload: Any, item: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise Invalid(f"Vorgang {item}: die Daten (payload) müssen ein JSON-Objekt sein.")
    if FILES_KEY in payload:
        raise Invalid(f"Vorgang {item}: das Feld '{FILES_KEY}' ist für die Dateien des Vorgangs reserviert.")
    return payload


def save_payload(session: Session, run: Run, item_id: int, payload: Any, now: datetime | None = None) -> WorkItem:
    item = _held_item(session, run, item_id, writable_new=True)
    names = list((item.payload or {}).get(FILES_KEY, []) or [])
    item.payload = {**_clean_payload(payload, str(item_id)), **({FILES_KEY: names} if names else {})}
    item.updated_at = _now(now)
    session.flush()
    return item


def file_path(session: Session, run: Run, item_id: int, name: str, data_dir: Path) -> Path:
    item = item_for_reading(session, run, item_id)
    if name not in (item.payload or {}).get(FILES_KEY, []):
        raise NotFound(f"Vorgang {item_id} hat keine Datei '{name[:100]}'.")
    path = upload_folder(data_dir, item) / name
    if not path.is_file():
        raise NotFound(f"Datei '{name[:100]}' von Vorgang {item_id} fehlt im Datenordner.")
    return path


def put_file(session: Session, run: Run, item_id: int, name: str, stream: IO[bytes], data_dir: Path,
             now: datetime | None = None) -> WorkItem:
    """Attach (or replace) one file of a held item; written to a temporary name first, then renamed."""
    name = check_file_name(name)
    item = _held_item(session, run, item_id, writable_new=True)
    folder = upload_folder(data_dir, item)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{uuid.uuid4().hex}.teil"
    with partial.open("wb") as out:
        shutil.copyfileobj(stream, out)
    partial.replace(folder / name)
    payload = dict(item.payload or {})
    payload[FILES_KEY] = sorted({*payload.get(FILES_KEY, []), name})
    item.payload, item.updated_at = payload, _now(now)
    session.flush()
    return item


def remove_file(session: Session, run: Run, item_id: int, name: str, data_dir: Path) -> WorkItem:
    item = _held_item(session, run, item_id, writable_new=True)
    payload = dict(item.payload or {})
    payload[FILES_KEY] = [n for n in payload.get(FILES_KEY, []) if n != name]
    item.payload = payload
    (upload_folder(data_dir, item) / Path(name).name).unlink(missing_ok=True)
    session.flush()
    return item


def create_output(session: Session, run: Run, data_dir: Path, payload: Any, reference: str | None,
                  parent_id: int | None, files: Iterable[tuple[str, IO[bytes]]], now: datetime | None = None,
                  ) -> tuple[WorkItem, bool]:
    """A producer's new item with all its files at once; ``(item, created)``.

    ``reference`` (the key, e.g. the mail's Message-ID) is unique per robot: an item that exists with it is kept
    as it is (``created`` is ``False``), unless it failed for technical reasons, which puts it back into the queue
    with the new data and files. Without a reference the item is named after the run.
    """
    now = _now(now)
    payload = dict(_clean_payload(payload, reference or "neu"))
    reference = (reference or "").strip() or f"lauf-{run.id}-{uuid.uuid4().hex[:12]}"
    if len(reference) > 255:
        raise Invalid("Die Referenz eines Vorgangs darf höchstens 255 Zeichen lang sein.")
    staging = Path(data_dir) / "uploads" / ".neu" / uuid.uuid4().hex
    names: list[str] = []
    try:
        for sent, stream in files:
            name = check_file_name(sent)
            if name in names:
                raise Invalid(f"Vorgang '{reference[:100]}': zwei Dateien heißen '{name}'.")
            staging.mkdir(parents=True, exist_ok=True)
            with (staging / name).open("wb") as out:
                shutil.copyfileobj(stream, out)
            names.append(name)
        if names:
            payload[FILES_KEY] = sorted(names)
        item, created = _insert_or_reset(session, run, reference, payload, parent_id, now)
        if created:
            target = upload_folder(data_dir, item)
            if target.exists():  # left by a crash before an earlier insert of the same id was committed
                shutil.rmtree(target)
            if names:
                target.parent.mkdir(parents=True, exist_ok=True)
                staging.replace(target)
        return item, created
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _insert_or_reset(session: Session, run: Run, reference: str, payload: dict[str, Any], parent_id: int | None,
                     now: datetime) -> tuple[WorkItem, bool]:
    existing = session.scalar(select(WorkItem).where(WorkItem.robot_id == run.robot_id,
                                                     WorkItem.reference == reference).with_for_update())
    if existing is not None:
        if existing.state is not ItemState.FAILED_APPLICATION:
            return existing, False
        existing.payload, existing.parent_id, existing.run_id = payload, parent_id, run.id
        existing.state, existing.next_attempt_at, existing.updated_at = ItemState.NEW, None, now
        existing.error_code = existing.error_message = None
        session.flush()
        log.info("action=reset_item city=%s run=%s item=%s", run.city_id, run.id, existing.id)
        return existing, True
    item = WorkItem(city_id=run.city_id, robot_id=run.robot_id, run_id=run.id, reference=reference, payload=payload,
                    parent_id=parent_id, state=ItemState.NEW, priority=0, attempts=0, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:  # the same reference, created at this moment by another run
        item = session.scalar(select(WorkItem).where(WorkItem.robot_id == run.robot_id,
                                                     WorkItem.reference == reference))
        if item is None:
            raise
        return item, False
    run.cases_total = (run.cases_total or 0) + 1
    log.info("action=create_item city=%s run=%s item=%s", run.city_id, run.id, item.id)
    return item, True


def run_items(session: Session, run: Run) -> list[WorkItem]:
    """The items this run worked on or created, for its summary and progress."""
    return list(session.scalars(select(WorkItem).where(WorkItem.run_id == run.id).order_by(WorkItem.id)))


def progress(session: Session, run: Run) -> tuple[int, int]:
    """(cases finished, cases of the run) from the run's items."""
    items = run_items(session, run)
    return sum(1 for item in items if not item.state.is_open), len(items)
