"""Work-item queues: input items of runs, results from runners, automatic retries, and the clerk's worklist.

States (models.ItemState): NEW → IN_PROGRESS → DONE, FAILED_BUSINESS (the case's data is wrong: the clerk's
worklist, where a clerk edits the data and retries or closes the item with a reason) or FAILED_APPLICATION (a
system failed: retried automatically after ``retry_base_s * 2**(attempts-1)`` seconds until
``max_item_attempts`` attempts are used up; then it stays FAILED_APPLICATION and appears for the city admin).

The case data (``payload["fall"]``) follows the robot's process's case schema (``case:`` in its
``process.yaml``): a clerk's correction is validated against it, with German messages naming each field, before
the item goes back to the queue; the next attempt of the robot uses it as it is.

Payloads are case data: only clerks and admins of the item's city see them. Process owners and operators get
counts only (:func:`item_counts`); another city's item is :class:`NotFound`. Logs and audit entries carry ids,
references and counts, never payloads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rathaus.core.cases import (
    CASE_KEY,
    CaseProblem,
    case_problems,
    describe_problems,
    read_only_changes,
    with_city_choices,
)
from rathaus.core.config import read_yaml
from rathaus.core.project import Project
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rathaus_controlroom.models import ItemState, Robot, Role, Run, RunState, WorkItem, WorkItemAttempt
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.users import Principal

log = logging.getLogger(__name__)

#: roles that may see and handle case data of their own city
CASE_ROLES = (Role.CLERK, Role.ADMIN)
MAX_REFERENCE = 255
#: items a clerk may hand back to the queue (with edited data) or close
HANDLED_STATES = (ItemState.FAILED_BUSINESS, ItemState.FAILED_APPLICATION)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored timestamp as aware UTC (SQLite returns naive UTC values, PostgreSQL aware ones)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else datetime.now(timezone.utc)


def _state(value: ItemState | str) -> ItemState:
    try:
        return value if isinstance(value, ItemState) else ItemState(str(value).lower())
    except ValueError:
        allowed = ", ".join(state.value for state in ItemState)
        raise Invalid(f"Status '{value}' ist unbekannt; erlaubt sind: {allowed}.") from None


def _case_reader(principal: Principal) -> None:
    if principal.role not in CASE_ROLES or principal.city_id is None:
        raise Forbidden("Falldaten sehen nur Sachbearbeitung und Administration der Stadt; "
                        "Prozessverantwortliche und Betrieb sehen nur Zählungen (/api/items/counts).")


@dataclass(frozen=True)
class ItemView:
    """A work item as the API and the UI show it to its city's clerks and admins."""

    id: int
    robot_id: int
    process: str
    run_id: int | None
    reference: str
    state: str
    priority: int
    attempts: int
    next_attempt_at: datetime | None
    payload: dict[str, Any]
    error_code: str | None
    error_message: str | None
    closed_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_row(cls, item: WorkItem, process: str) -> ItemView:
        return cls(item.id, item.robot_id, process, item.run_id, item.reference, item.state.value, item.priority,
                   item.attempts, as_utc(item.next_attempt_at), dict(item.payload or {}), item.error_code,
                   item.error_message, item.closed_reason, as_utc(item.created_at), as_utc(item.updated_at))


# --- input items -------------------------------------------------------------------------------------------------

def _clean_input(run: Run, index: int, raw: object) -> tuple[str, dict[str, Any], int]:
    if not isinstance(raw, dict):
        raise Invalid(f"Eingabe {index + 1} ist kein Objekt: erwartet wird {{'reference', 'payload', 'priority'}}.")
    reference = raw.get("reference")
    if reference is None or reference == "":
        reference = f"lauf-{run.id}-{index + 1}"
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE or not reference.strip():
        raise Invalid(f"Eingabe {index + 1}: die Referenz muss ein Text mit 1–{MAX_REFERENCE} Zeichen sein.")
    payload = raw.get("payload", {})
    if not isinstance(payload, dict):
        raise Invalid(f"Eingabe '{reference}': die Daten (payload) müssen ein JSON-Objekt sein.")
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise Invalid(f"Eingabe '{reference}': die Priorität muss eine ganze Zahl sein.")
    return reference.strip(), payload, priority


def _duplicate(session: Session, robot_id: int, reference: str) -> Conflict:
    robot = session.get(Robot, robot_id)
    existing = session.scalar(select(WorkItem.id).where(WorkItem.robot_id == robot_id,
                                                         WorkItem.reference == reference))
    known = f" (Vorgang {existing})" if existing else ""
    return Conflict(f"Die Referenz '{reference}' gibt es für den Roboter '{robot.process if robot else robot_id}' "
                    f"schon{known}; es wurde nichts hinzugefügt. Bitte eine eindeutige Referenz verwenden.")


def add_input_items(session: Session, run: Run, items: Iterable[dict[str, Any]]) -> list[WorkItem]:
    """Add the run's input items (``reference`` optional, ``payload``, ``priority`` optional) to its queue.

    References are unique per robot: one duplicate (in the list or in the queue) refuses all items with a
    :class:`Conflict` and adds nothing. ``run.cases_total`` grows by the number added.
    """
    cleaned = [_clean_input(run, index, raw) for index, raw in enumerate(items)]
    seen: set[str] = set()
    for reference, _, _ in cleaned:
        if reference in seen:
            raise Conflict(f"Die Referenz '{reference}' kommt in den Eingaben mehrfach vor; es wurde nichts "
                           "hinzugefügt. Bitte jede Eingabe eindeutig benennen.")
        seen.add(reference)
    if seen:
        taken = session.scalar(select(WorkItem.reference).where(WorkItem.robot_id == run.robot_id,
                                                                WorkItem.reference.in_(seen)).limit(1))
        if taken is not None:
            raise _duplicate(session, run.robot_id, taken)
    rows = [WorkItem(city_id=run.city_id, robot_id=run.robot_id, run_id=run.id, reference=reference,
                     payload=payload, priority=priority, state=ItemState.NEW, attempts=0)
            for reference, payload, priority in cleaned]
    try:
        with session.begin_nested():  # a concurrent insert of the same reference rolls back only these
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        raise Conflict("Eine der Referenzen wurde gleichzeitig schon vergeben; es wurde nichts hinzugefügt. "
                       "Bitte erneut versuchen.") from None
    run.cases_total = (run.cases_total or 0) + len(rows)
    session.flush()
    log.info("action=add_items city=%s run=%s robot=%s count=%d", run.city_id, run.id, run.robot_id, len(rows))
    return rows


# --- reading -----------------------------------------------------------------------------------------------------

def _robot_filter(session: Session, principal: Principal, robot: int | str | None) -> int | None:
    """The robot id for a filter given as id or process name, within the principal's city."""
    if robot is None or robot == "":
        return None
    query = select(Robot).where(Robot.city_id == principal.city_id)
    if isinstance(robot, int) or str(robot).isdigit():
        row = session.scalar(query.where(Robot.id == int(robot)))
    else:  # the process name, or city/process as runs and uploads name a robot
        city, _, process = str(robot).rpartition("/")
        row = session.scalar(query.where(Robot.process == process)) if city in ("", principal.city_id) else None
    if row is None:
        raise NotFound(f"Roboter '{robot}' gibt es in Ihrer Stadt nicht.")
    return row.id


def list_items(session: Session, principal: Principal, robot: int | str | None = None,
               state: ItemState | str | None = None, limit: int = 500) -> list[ItemView]:
    """Items of the principal's city (clerks and admins), optionally one robot's queue and one state."""
    _case_reader(principal)
    query = (select(WorkItem, Robot.process).join(Robot, Robot.id == WorkItem.robot_id)
             .where(WorkItem.city_id == principal.city_id))
    robot_id = _robot_filter(session, principal, robot)
    if robot_id is not None:
        query = query.where(WorkItem.robot_id == robot_id)
    if state is not None and state != "":
        query = query.where(WorkItem.state == _state(state))
    query = query.order_by(WorkItem.priority.desc(), WorkItem.created_at, WorkItem.id).limit(limit)
    return [ItemView.from_row(item, process) for item, process in session.execute(query)]


def worklist(session: Session, principal: Principal) -> list[ItemView]:
    """The clerk's worklist: the city's items whose data was wrong (FAILED_BUSINESS)."""
    return list_items(session, principal, state=ItemState.FAILED_BUSINESS)


#: views of the worklist page: what the clerk still has to do, what they closed by hand, what robots finished
VIEWS = ("offen", "abgeschlossen", "erledigt")


@dataclass(frozen=True)
class WorklistFilter:
    """The worklist's filters; empty values filter nothing. ``since``/``until`` are days (Berlin time) of the
    last change, ``search`` a part of the reference or of the Aktenzeichen."""

    view: str = "offen"
    robot: str | int | None = None
    code: str | None = None
    run: int | None = None
    since: date | None = None
    until: date | None = None
    search: str | None = None


def _day_start(day: date, timezone_name: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(timezone_name)).astimezone(timezone.utc)


def find_cases(session: Session, principal: Principal, filters: WorklistFilter = WorklistFilter(),
               limit: int = 500, timezone_name: str = "Europe/Berlin") -> list[ItemView]:
    """The city's cases of one worklist view (``offen``: handed to the clerks; ``abgeschlossen``: closed by hand
    with a reason; ``erledigt``: finished by the robot), filtered by robot, code, run, day and a search."""
    _case_reader(principal)
    if filters.view not in VIEWS:
        raise Invalid(f"Ansicht '{filters.view[:30]}' gibt es nicht; erlaubt sind: {', '.join(VIEWS)}.")
    query = (select(WorkItem, Robot.process).join(Robot, Robot.id == WorkItem.robot_id)
             .where(WorkItem.city_id == principal.city_id))
    if filters.view == "offen":
        query = query.where(WorkItem.state == ItemState.FAILED_BUSINESS)
    elif filters.view == "abgeschlossen":
        query = query.where(WorkItem.state == ItemState.DONE, WorkItem.closed_reason.is_not(None))
    else:
        query = query.where(WorkItem.state == ItemState.DONE, WorkItem.closed_reason.is_(None))
    robot_id = _robot_filter(session, principal, filters.robot)
    if robot_id is not None:
        query = query.where(WorkItem.robot_id == robot_id)
    if filters.code:
        query = query.where(WorkItem.error_code == filters.code.strip().upper())
    if filters.run is not None:
        query = query.where(or_(WorkItem.run_id == filters.run, exists().where(
            WorkItemAttempt.item_id == WorkItem.id, WorkItemAttempt.run_id == filters.run)))
    if filters.since is not None:
        query = query.where(WorkItem.updated_at >= _day_start(filters.since, timezone_name))
    if filters.until is not None:
        query = query.where(WorkItem.updated_at < _day_start(filters.until + timedelta(days=1), timezone_name))
    if filters.search and filters.search.strip():
        text = f"%{filters.search.strip().lower()}%"
        query = query.where(or_(func.lower(WorkItem.reference).like(text),
                                func.lower(WorkItem.payload["aktenzeichen"].as_string()).like(text)))
    query = query.order_by(WorkItem.updated_at.desc(), WorkItem.id.desc()).limit(limit)
    return [ItemView.from_row(item, process) for item, process in session.execute(query)]


def error_codes(session: Session, principal: Principal) -> list[str]:
    """The codes of the city's cases that wait for a clerk (choices of the worklist's filter)."""
    _case_reader(principal)
    return list(session.scalars(select(WorkItem.error_code).distinct().where(
        WorkItem.city_id == principal.city_id, WorkItem.error_code.is_not(None)).order_by(WorkItem.error_code)))


def exhausted_items(session: Session, principal: Principal) -> list[ItemView]:
    """Application failures whose automatic retries are used up: they need the city admin."""
    return [item for item in list_items(session, principal, state=ItemState.FAILED_APPLICATION)
            if item.next_attempt_at is None]


def item_counts(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Counts per city, robot and state, without case data.

    Clerks and admins: their city; process owners: every city adopting a process their city owns;
    operators: all cities.
    """
    query = (select(WorkItem.city_id, Robot.process, WorkItem.state, func.count(WorkItem.id))
             .join(Robot, Robot.id == WorkItem.robot_id)
             .group_by(WorkItem.city_id, Robot.process, WorkItem.state)
             .order_by(WorkItem.city_id, Robot.process, WorkItem.state))
    if principal.role is Role.OWNER:
        query = query.where(Robot.owner_city_id == principal.city_id)
    elif principal.role is not Role.OPERATOR:
        query = query.where(WorkItem.city_id == principal.city_id)
    return [{"city": city, "process": process, "state": state.value, "count": count}
            for city, process, state, count in session.execute(query)]


def _own_item(session: Session, principal: Principal, item_id: int, lock: bool = False) -> WorkItem:
    _case_reader(principal)
    query = select(WorkItem).where(WorkItem.id == item_id, WorkItem.city_id == principal.city_id)
    if lock:
        query = query.with_for_update()
    item = session.scalar(query)
    if item is None:
        raise NotFound(f"Vorgang {item_id} gibt es nicht oder er gehört nicht zu Ihrer Stadt.")
    return item


def get_item(session: Session, principal: Principal, item_id: int) -> ItemView:
    item = _own_item(session, principal, item_id)
    return ItemView.from_row(item, session.get(Robot, item.robot_id).process)


# --- the clerk's case --------------------------------------------------------------------------------------------

def case_schema(process: str, project: Project | None = None, city: str | None = None) -> dict[str, Any] | None:
    """The case schema of ``process`` (``case:`` of its ``process.yaml``), ``None`` when it declares none; for a
    ``city``, its fields with choices from master data (``x-auswahl``) list that city's entries."""
    from rathaus_controlroom.services.runs import process_meta

    project = project or Project.locate()
    meta = process_meta(project, process)
    schema = meta.get("case_schema") if meta else None
    if schema is None or city is None:
        return schema
    return with_city_choices(schema, lambda topic: _master_data(project.cities / city / f"{topic}.yaml"))


def _master_data(path: Path) -> dict[str, Any] | None:
    """A city's master data file, read once per version of the file; ``None`` when there is none."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    with _MASTER_LOCK:
        cached = _MASTER_CACHE.get(path)
        if cached is None or cached[0] != stamp:
            cached = _MASTER_CACHE[path] = (stamp, read_yaml(path))
    return cached[1]


_MASTER_CACHE: dict[Path, tuple[int, dict[str, Any]]] = {}
_MASTER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Attempt:
    """One attempt of the robot at a case (the case page's history)."""

    number: int
    run_id: int | None
    state: str
    code: str | None
    message: str | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class CaseView:
    """A case as the clerk's case page shows it: the item, its schema, documents, letters and attempts."""

    item: ItemView
    schema: dict[str, Any] | None
    documents: list[str] = field(default_factory=list)
    letters: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def case_data(self) -> dict[str, Any] | None:
        data = self.item.payload.get(CASE_KEY)
        return data if isinstance(data, dict) else None

    @property
    def file_number(self) -> str | None:
        return self.item.payload.get("aktenzeichen") or None


def attempts_of(session: Session, item_id: int) -> list[Attempt]:
    rows = session.scalars(select(WorkItemAttempt).where(WorkItemAttempt.item_id == item_id)
                           .order_by(WorkItemAttempt.number, WorkItemAttempt.id))
    return [Attempt(row.number, row.run_id, row.state, row.code, row.message, as_utc(row.started_at),
                    as_utc(row.finished_at)) for row in rows]


def get_case(session: Session, principal: Principal, item_id: int, project: Project | None = None) -> CaseView:
    """One case of the principal's city with everything the case page shows; letters are the files whose name
    starts with the case's Aktenzeichen (the robots name them so), documents the other files."""
    view = get_item(session, principal, item_id)
    files = [str(name) for name in view.payload.get("dateien") or []]
    number = view.payload.get("aktenzeichen")
    letters = [name for name in files if number and name.startswith(f"{number}-")]
    city = session.get(WorkItem, item_id).city_id
    return CaseView(view, case_schema(view.process, project, city), [n for n in files if n not in letters], letters,
                    attempts_of(session, item_id))


def case_file(session: Session, principal: Principal, item_id: int, name: str, data_dir: Path) -> Path:
    """A file (document or letter) of a case of the principal's city."""
    from rathaus_controlroom.services.runs import item_file

    return item_file(data_dir, _own_item(session, principal, item_id), name)


class CaseDataInvalid(Invalid):
    """A clerk's correction does not match the case schema; ``problems`` name each field (nothing was changed)."""

    def __init__(self, message: str, problems: list[CaseProblem]) -> None:
        super().__init__(message)
        self.problems = problems


def _corrected_case(item: WorkItem, new_payload: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The item's payload with the corrected case data, which is ``new_payload["fall"]`` (the payload as
    ``GET /api/items/{id}`` gives it) or ``new_payload`` itself (the case data alone)."""
    old = dict(item.payload or {})
    if CASE_KEY in new_payload:
        changed = sorted(key for key in new_payload if key != CASE_KEY and new_payload[key] != old.get(key))
        if changed:
            raise Invalid(f"Vorgang {item.id}: korrigiert werden nur die Falldaten ('{CASE_KEY}'); "
                          f"{', '.join(repr(k) for k in changed)} setzt der Roboter. Es wurde nichts geändert.")
        case = new_payload[CASE_KEY]
    else:
        case = new_payload
    fixed = read_only_changes(schema, old.get(CASE_KEY), case)
    if fixed:
        names = ", ".join(f"„{name}“" for name in fixed)
        raise Invalid(f"Vorgang {item.id} ('{item.reference}'): {names} hat der Roboter aus den Unterlagen gelesen "
                      "und wird nicht korrigiert. Bitte unverändert lassen; es wurde nichts geändert.")
    problems = case_problems(case, schema)
    if problems:
        raise CaseDataInvalid(f"Vorgang {item.id} ('{item.reference}'): Die Falldaten sind noch nicht vollständig "
                              f"oder richtig: {describe_problems(problems)}. Bitte korrigieren; es wurde nichts "
                              "geändert.", problems)
    return {**old, CASE_KEY: case}


def _changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [name for key in sorted(set(old) | set(new), key=str)
                for name in _changed_fields(old.get(key), new.get(key), f"{prefix}{key}.")]
    return [prefix.rstrip(".")] if old != new else []


# --- what a run did ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunOutcome:
    """What happened to a run's cases, in words for its page: ``3 Fälle: 1 eingetragen, 2 warten auf die
    Sachbearbeitung``. ``parts`` are ``(count, words, kind)``; kind ``waiting`` needs a clerk."""

    total: int
    parts: tuple[tuple[int, str, str], ...]

    @property
    def waiting(self) -> int:
        return sum(count for count, _, kind in self.parts if kind == "waiting")

    @property
    def text(self) -> str:
        head = f"{self.total} Fall" if self.total == 1 else f"{self.total} Fälle"
        return head + (": " + ", ".join(f"{count} {words}" for count, words, _ in self.parts) if self.parts else "")


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:] if label[:2] != label[:2].upper() else label


def run_outcome(session: Session, run_id: int, outcomes: dict[str, str] | None = None) -> RunOutcome:
    """The run's cases (those it holds or made an attempt at) by what became of them: each finished outcome
    (``ergebnis``, labelled by the process's ``outcomes``), closed by hand, waiting for a clerk, technical error,
    still open. Counts only: no case data (callers check who may see the run)."""
    rows = session.scalars(select(WorkItem).where(or_(WorkItem.run_id == run_id, exists().where(
        WorkItemAttempt.item_id == WorkItem.id, WorkItemAttempt.run_id == run_id)))).all()
    labels = dict(outcomes or {})
    counts: dict[tuple[str, str], int] = {}
    for item in rows:
        payload = item.payload or {}
        if item.state is ItemState.DONE and item.closed_reason:
            key = ("von Hand abgeschlossen", "closed")
        elif item.state is ItemState.DONE:
            result = payload.get("ergebnis")
            key = (_lower_first(labels.get(result, "erledigt")) if result else "erledigt", "done")
        elif item.state is ItemState.FAILED_BUSINESS:
            key = ("warten auf die Sachbearbeitung", "waiting")
        elif item.state is ItemState.FAILED_APPLICATION:
            key = ("technischer Fehler (wird wiederholt)" if item.next_attempt_at else "technischer Fehler", "failed")
        else:
            key = ("noch offen", "open")
        counts[key] = counts.get(key, 0) + 1
    order = {"done": 0, "closed": 1, "waiting": 2, "failed": 3, "open": 4}
    parts = tuple(sorted(((n, words, kind) for (words, kind), n in counts.items()), key=lambda p: order[p[2]]))
    parts = tuple((n, words.replace("warten ", "wartet ") if n == 1 else words, kind) for n, words, kind in parts)
    return RunOutcome(len(rows), parts)


# --- handing items back to the queue -----------------------------------------------------------------------------

def _queue_run(session: Session, item: WorkItem, actor: Principal | str, now: datetime) -> Run:
    """Attach a requeued item to a waiting run of its robot, or queue a new run for it."""
    run = session.scalar(select(Run).where(Run.robot_id == item.robot_id, Run.state == RunState.QUEUED,
                                           Run.cancel_requested.is_(False))
                         .order_by(Run.created_at.desc()).limit(1).with_for_update())
    if run is None:
        requested_by = actor.user_id if isinstance(actor, Principal) else None
        run = Run(city_id=item.city_id, robot_id=item.robot_id, state=RunState.QUEUED, requested_by=requested_by,
                  created_at=now, cases_total=0, cases_done=0, attempt=0)
        session.add(run)
        session.flush()
        audit.record(session, actor, "start_run", "run", run.id, item.city_id, reason="retry", item=item.id)
        log.info("action=start_run city=%s run=%s robot=%s reason=retry", item.city_id, run.id, item.robot_id)
    item.run_id = run.id
    run.cases_total = (run.cases_total or 0) + 1
    return run


def retry_item(session: Session, principal: Principal, item_id: int, new_payload: dict[str, Any] | None = None,
               now: datetime | None = None, project: Project | None = None) -> ItemView:
    """A clerk corrected the data (``new_payload``; ``None`` keeps it): the item goes back to the queue as NEW.

    When the robot's process declares a case schema, ``new_payload`` is the corrected case data (or the item's
    payload with it under ``fall``) and must match the schema (:class:`CaseDataInvalid`, German, naming each
    field); without one it replaces the payload. Its attempts are kept; a waiting run of the robot takes it, or
    a new run is queued.
    """
    now = _now(now)
    item = _own_item(session, principal, item_id, lock=True)
    if item.state not in HANDLED_STATES:
        raise Conflict(f"Vorgang {item.id} ('{item.reference}') ist im Status '{item.state.value}' und kann nicht "
                       "erneut versucht werden; nur fehlgeschlagene Vorgänge.")
    changed: list[str] = []
    if new_payload is not None:
        if not isinstance(new_payload, dict):
            raise Invalid(f"Vorgang {item.id}: die Daten (payload) müssen ein JSON-Objekt sein.")
        old = item.payload or {}
        schema = case_schema(session.get(Robot, item.robot_id).process, project, item.city_id)
        if schema is not None:
            corrected = _corrected_case(item, new_payload, schema)
            changed = _changed_fields(old.get(CASE_KEY), corrected[CASE_KEY], f"{CASE_KEY}.")
            item.payload = corrected
        else:
            changed = sorted(key for key in set(old) | set(new_payload) if old.get(key) != new_payload.get(key))
            item.payload = dict(new_payload)
    previous = item.state
    item.state, item.next_attempt_at, item.updated_at = ItemState.NEW, None, now
    item.error_code = item.error_message = None
    run = _queue_run(session, item, principal, now)
    audit.record(session, principal, "retry_item", "work_item", item.id, item.city_id, reference=item.reference,
                 previous=previous.value, changed_fields=changed, run=run.id)
    log.info("action=retry_item city=%s item=%s run=%s", item.city_id, item.id, run.id)
    session.flush()
    return ItemView.from_row(item, session.get(Robot, item.robot_id).process)


def check_close(session: Session, principal: Principal, item_id: int, reason: str | None) -> ItemView:
    """Whether a clerk may close the case with ``reason`` (the confirm step before :func:`close_item`)."""
    item = _closable(session, principal, item_id, (reason or "").strip(), lock=False)
    return ItemView.from_row(item, session.get(Robot, item.robot_id).process)


def _closable(session: Session, principal: Principal, item_id: int, reason: str, lock: bool) -> WorkItem:
    item = _own_item(session, principal, item_id, lock=lock)
    if not reason:
        raise Invalid(f"Vorgang {item.id} ('{item.reference}'): bitte einen Grund für das Abschließen angeben.")
    if len(reason) > 2000:
        raise Invalid(f"Vorgang {item.id}: der Grund ist zu lang (höchstens 2000 Zeichen).")
    if item.state not in HANDLED_STATES:
        raise Conflict(f"Vorgang {item.id} ('{item.reference}') ist im Status '{item.state.value}' und kann nicht "
                       "abgeschlossen werden; nur fehlgeschlagene Vorgänge.")
    return item


def close_item(session: Session, principal: Principal, item_id: int, reason: str | None,
               now: datetime | None = None) -> ItemView:
    """A clerk finishes a failed case by hand: DONE with the reason (required)."""
    now = _now(now)
    reason = (reason or "").strip()
    item = _closable(session, principal, item_id, reason, lock=True)
    previous = item.state
    item.state, item.closed_reason, item.next_attempt_at, item.updated_at = ItemState.DONE, reason, None, now
    # the reason may name the case: the audit page shows it to the city's admins only (never to operators)
    audit.record(session, principal, "close_item", "work_item", item.id, item.city_id, reference=item.reference,
                 previous=previous.value, reason=reason)
    log.info("action=close_item city=%s item=%s", item.city_id, item.id)
    session.flush()
    return ItemView.from_row(item, session.get(Robot, item.robot_id).process)


# --- runners' results and automatic retries ----------------------------------------------------------------------

def retry_delay(attempts: int, base_s: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: ``base_s * 2**(attempts-1)``."""
    return timedelta(seconds=base_s * 2 ** max(attempts - 1, 0))


def record_item_result(session: Session, item: WorkItem, state: ItemState | str, code: str | None = None,
                       message: str | None = None, now: datetime | None = None, *, max_attempts: int = 3,
                       retry_base_s: int = 60) -> WorkItem:
    """Store one attempt's outcome that a runner reports (each call counts as one attempt).

    DONE ends the item. FAILED_BUSINESS hands it to the clerk's worklist. FAILED_APPLICATION schedules an
    automatic retry after :func:`retry_delay` while fewer than ``max_attempts`` attempts were made; after that
    it stays FAILED_APPLICATION without ``next_attempt_at`` (the admin's list, :func:`exhausted_items`).
    Pass ``max_attempts``/``retry_base_s`` from ``settings.max_item_attempts``/``settings.retry_base_s``.
    """
    now = _now(now)
    state = _state(state)
    if state not in (ItemState.DONE, ItemState.FAILED_BUSINESS, ItemState.FAILED_APPLICATION):
        raise Invalid(f"Vorgang {item.id}: als Ergebnis erlaubt sind done, failed_business, failed_application.")
    if item.state is ItemState.DONE:
        raise Conflict(f"Vorgang {item.id} ('{item.reference}') ist schon abgeschlossen.")
    item.attempts = (item.attempts or 0) + 1
    item.state, item.updated_at, item.next_attempt_at = state, now, None
    item.error_code = code if state is not ItemState.DONE else None
    item.error_message = message if state is not ItemState.DONE else None
    if state is ItemState.FAILED_APPLICATION and item.attempts < max_attempts:
        item.next_attempt_at = now + retry_delay(item.attempts, retry_base_s)
    session.flush()
    log.info("action=item_result city=%s item=%s state=%s attempts=%d code=%s", item.city_id, item.id,
             state.value, item.attempts, code or "-")
    return item


def due_retries(session: Session, now: datetime | None = None) -> list[WorkItem]:
    """Put application failures whose wait is over back into the queue (NEW) and queue runs for them."""
    now = _now(now)
    query = (select(WorkItem).where(WorkItem.state == ItemState.FAILED_APPLICATION,
                                    WorkItem.next_attempt_at.is_not(None), WorkItem.next_attempt_at <= now)
             .order_by(WorkItem.next_attempt_at, WorkItem.id).limit(500))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    items = list(session.scalars(query))
    for item in items:
        item.state, item.next_attempt_at, item.updated_at = ItemState.NEW, None, now
        run = _queue_run(session, item, audit.SYSTEM, now)
        log.info("action=requeue_item city=%s item=%s run=%s attempts=%d", item.city_id, item.id, run.id,
                 item.attempts)
    session.flush()
    return items
