"""Runners: machines that claim their city's runs over HTTP, hold them by a lease and report back.

A claim is one ``UPDATE runs … WHERE id = (SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED) AND <still claimable>
RETURNING id``: on PostgreSQL the sub-select skips rows another transaction is claiming, on SQLite the
database runs one writer at a time and the repeated condition makes a second claim of the same row update
nothing. Either way one run goes to one runner.

A runner extends its lease with heartbeats (``settings.lease_s``). When a lease runs out, the next claim of
any runner of the city takes the run over (attempt + 1); after :data:`MAX_RUN_ATTEMPTS` attempts the run
fails with "Runner ausgefallen …" instead, so that no run stays RUNNING forever.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from rathaus_controlroom.models import ItemState, Robot, Role, Run, Runner, RunState, WorkItem
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.runs import FILES_KEY, as_utc, hand_back_items, item_file, open_items
from rathaus_controlroom.services.users import Principal, token_hash

log = logging.getLogger(__name__)

#: prefix of runner tokens (user API tokens start with ``rh_``); the same as web.deps.RUNNER_TOKEN_PREFIX
TOKEN_PREFIX = "rr_"  # noqa: S105 - a public prefix, not a secret
#: a run whose runner failed this often (lease expired) fails instead of being handed over again
MAX_RUN_ATTEMPTS = 3
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else datetime.now(timezone.utc)


@dataclass(frozen=True)
class RunnerView:
    id: int
    city: str
    name: str
    last_seen_at: datetime | None
    active: bool

    @classmethod
    def from_row(cls, row: Runner) -> RunnerView:
        return cls(row.id, row.city_id, row.name, as_utc(row.last_seen_at), bool(row.active))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "city": self.city, "name": self.name, "active": self.active,
                "last_seen_at": self.last_seen_at.isoformat() if self.last_seen_at else None}


# --- administration ----------------------------------------------------------------------------------------------

def register_runner(session: Session, principal: Principal, name: str, city: str | None = None) -> tuple[Runner, str]:
    """A new runner of the admin's city (operators name the city); returns it and its token, shown only once."""
    if principal.role is Role.ADMIN:
        city = principal.city_id
    elif principal.role is Role.OPERATOR:
        if not city:
            raise Invalid("Für welche Stadt? Der Betrieb muss die Stadt des Runners angeben.")
    else:
        raise Forbidden("Runner verwaltet die Administration der Stadt.")
    if not _NAME.match(name or ""):
        raise Invalid(f"Runner-Name '{(name or '')[:60]}' ist ungültig: Buchstaben, Ziffern, '.', '_', '-', "
                      "höchstens 100 Zeichen.")
    if session.scalar(select(Runner.id).where(Runner.city_id == city, Runner.name == name)) is not None:
        raise Conflict(f"Einen Runner '{name}' gibt es in dieser Stadt schon.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    runner = Runner(city_id=city, name=name, token_hash=token_hash(token), active=True)
    session.add(runner)
    session.flush()
    audit.record(session, principal, "register_runner", "runner", runner.id, city, name=name)
    log.info("action=register_runner city=%s runner=%s", city, runner.id)
    return runner, token


def runner_token_for(session: Session, city: str, name: str) -> str:
    """A fresh token for the runner ``name`` of ``city`` (created when missing); for ``rathaus controlroom``'s
    local runner, which the control room itself starts. The old token stops working."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    runner = session.scalar(select(Runner).where(Runner.city_id == city, Runner.name == name))
    if runner is None:
        runner = Runner(city_id=city, name=name, token_hash=token_hash(token), active=True)
        session.add(runner)
    else:
        runner.token_hash, runner.active = token_hash(token), True
    session.flush()
    audit.record(session, audit.SYSTEM, "runner_token", "runner", runner.id, city, name=name)
    return token


def list_runners(session: Session, principal: Principal) -> list[RunnerView]:
    """Runners of the admin's city; operators see all."""
    query = select(Runner).order_by(Runner.city_id, Runner.name)
    if principal.role is Role.OPERATOR:
        pass
    elif principal.role is Role.ADMIN:
        query = query.where(Runner.city_id == principal.city_id)
    else:
        raise Forbidden("Runner sehen die Administration der Stadt und der Betrieb.")
    return [RunnerView.from_row(row) for row in session.scalars(query)]


def deactivate_runner(session: Session, principal: Principal, runner_id: int) -> RunnerView:
    """Revoke a runner's token (its run goes to another runner once the lease expires)."""
    runner = session.get(Runner, runner_id)
    allowed = principal.role is Role.OPERATOR or (principal.role is Role.ADMIN and runner is not None
                                                  and runner.city_id == principal.city_id)
    if runner is None or not allowed:
        raise NotFound(f"Runner {runner_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    runner.active = False
    audit.record(session, principal, "deactivate_runner", "runner", runner.id, runner.city_id, name=runner.name)
    return RunnerView.from_row(runner)


# --- the runner protocol -----------------------------------------------------------------------------------------

def expire_runs(session: Session, now: datetime | None = None, max_attempts: int = MAX_RUN_ATTEMPTS) -> list[int]:
    """End runs whose lease ran out and that may not be handed over again; returns their ids.

    A run asked to cancel becomes CANCELLED; a run that used up its attempts becomes FAILED (its open input
    items are recorded as application failures, which are retried by the work item queue).
    """
    now = _now(now)
    expired = and_(Run.state == RunState.RUNNING, Run.lease_until < now)
    cancelled = session.scalars(
        update(Run).where(expired, Run.cancel_requested.is_(True))
        .values(state=RunState.CANCELLED, finished_at=now, message="Abgebrochen (der Runner meldete sich nicht mehr).")
        .returning(Run.id).execution_options(synchronize_session=False)).all()
    message = (f"Runner ausgefallen: der Lauf wurde {max_attempts}-mal begonnen, aber kein Runner hat ihn beendet "
               "(keine Rückmeldung innerhalb der Frist). Bitte die Runner prüfen und den Lauf neu starten.")
    failed = session.scalars(
        update(Run).where(expired, Run.attempt >= max_attempts)
        .values(state=RunState.FAILED, finished_at=now, message=message)
        .returning(Run.id).execution_options(synchronize_session=False)).all()
    for run_id in [*cancelled, *failed]:
        run = session.get(Run, run_id)
        session.refresh(run)
        if run.state is RunState.CANCELLED:
            hand_back_items(session, run, now)
        else:
            _record_items(session, run, {}, ItemState.FAILED_APPLICATION, "RUNNER_AUSGEFALLEN", message, now)
        audit.record(session, audit.SYSTEM, "expire_run", "run", run.id, run.city_id, state=run.state.value,
                     attempt=run.attempt)
        log.warning("action=expire_run city=%s run=%s state=%s attempt=%s", run.city_id, run.id, run.state.value,
                    run.attempt)
    session.flush()
    return [*cancelled, *failed]


def _claimable(now: datetime, max_attempts: int = MAX_RUN_ATTEMPTS):
    """Queued, or running with a lease that ran out and attempts left (:func:`expire_runs` ends the others)."""
    return or_(Run.state == RunState.QUEUED,
               and_(Run.state == RunState.RUNNING, Run.lease_until < now, Run.attempt < max_attempts))


#: how often claims of this process end runs whose lease ran out (:func:`expire_runs`); a claim never takes one
#: that has no attempts left, so the ending may wait that long
EXPIRY_EVERY_S = 1.0
_EXPIRY = {"last": float("-inf")}
_EXPIRY_LOCK = threading.Lock()


def _expiry_due() -> bool:
    with _EXPIRY_LOCK:
        if time.monotonic() - _EXPIRY["last"] < EXPIRY_EVERY_S:
            return False
        _EXPIRY["last"] = time.monotonic()
        return True


#: an idle runner's claims (one a second while it waits for work) record that it was seen at most this often
SEEN_EVERY_S = 5.0
_SEEN: dict[int, float] = {}


def _seen_due(runner_id: int) -> bool:
    with _EXPIRY_LOCK:
        if time.monotonic() - _SEEN.get(runner_id, float("-inf")) < SEEN_EVERY_S:
            return False
        _SEEN[runner_id] = time.monotonic()
        return True


def claim(session: Session, runner_id: int, city_id: str, now: datetime | None = None, lease_s: int = 60,
          max_attempts: int = MAX_RUN_ATTEMPTS) -> Run | None:
    """The oldest claimable run of the runner's city, now held by this runner; ``None`` when there is none.

    Runs whose lease ran out are ended (:func:`expire_runs`) at most once a second per process, or on every call
    with an explicit ``now``."""
    explicit = now is not None
    now = _now(now)
    if explicit or _expiry_due():
        expire_runs(session, now, max_attempts)
    candidate = (select(Run.id).where(Run.city_id == city_id, Run.cancel_requested.is_(False),
                                      _claimable(now, max_attempts))
                 .order_by(Run.created_at, Run.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
    run = session.scalar(
        update(Run).where(Run.id == candidate, Run.city_id == city_id, Run.cancel_requested.is_(False),
                          _claimable(now, max_attempts))
        .values(state=RunState.RUNNING, runner_id=runner_id, lease_until=now + timedelta(seconds=lease_s),
                attempt=Run.attempt + 1, started_at=now)
        .returning(Run).execution_options(synchronize_session=False, populate_existing=True))
    if explicit or run is not None or _seen_due(runner_id):
        session.execute(update(Runner).where(Runner.id == runner_id).values(last_seen_at=now)
                        .execution_options(synchronize_session=False))
    if run is None:
        return None
    from rathaus_controlroom.services.robot_items import release_stale

    if run.attempt > 1 and release_stale(session, run, now):  # the items an earlier attempt held: back to the queue
        log.warning("action=requeue_stale_items city=%s run=%s attempt=%s", city_id, run.id, run.attempt)
    session.flush()
    log.info("action=claim city=%s run=%s runner=%s attempt=%s", city_id, run.id, runner_id, run.attempt)
    return run


def _held(session: Session, runner_id: int, city_id: str, run_id: int) -> Run:
    """The run this runner holds, locked; another city's run is NotFound, a run it lost is Conflict."""
    run = session.scalar(select(Run).where(Run.id == run_id, Run.city_id == city_id).with_for_update()
                         .execution_options(populate_existing=True))
    if run is None:
        raise NotFound(f"Lauf {run_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    if run.runner_id != runner_id or run.state is not RunState.RUNNING:
        raise Conflict(f"Lauf {run_id} gehört nicht (mehr) diesem Runner: bitte die Arbeit daran beenden.")
    return run


def held_run(session: Session, runner_id: int, city_id: str, run_id: int) -> Run:
    return _held(session, runner_id, city_id, run_id)


def input_file(session: Session, runner_id: int, city_id: str, run_id: int, item_id: int, name: str,
               data_dir: Path) -> Path:
    """An uploaded file of an input item of the run this runner holds."""
    run = _held(session, runner_id, city_id, run_id)
    item = session.scalar(select(WorkItem).where(WorkItem.id == item_id, WorkItem.run_id == run.id))
    if item is None:
        raise NotFound(f"Vorgang {item_id} gehört nicht zu Lauf {run_id}.")
    return item_file(data_dir, item, name)


def job(session: Session, run: Run, credential_key: bytes | None = None, base_url: str = "",
        item_key: bytes | None = None, robot_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the runner needs to execute ``run``: robot, the item token of this attempt (the robot's work items go
    to the control room with it), the run's waiting input items with file URLs, configuration overrides the control
    room holds for the robot (``robot_config``, e.g. the demo's shared sandbox systems), the city's credentials."""
    robot = session.get(Robot, run.robot_id)
    inputs = []
    for item in session.scalars(select(WorkItem).where(WorkItem.run_id == run.id,
                                                       WorkItem.state == ItemState.NEW)
                                .order_by(WorkItem.priority.desc(), WorkItem.id)):
        payload = dict(item.payload or {})
        names = payload.pop(FILES_KEY, [])
        inputs.append({"id": item.id, "reference": item.reference, "payload": payload,
                       "files": [{"name": name, "url": f"{base_url}/api/runner/runs/{run.id}/inputs/{item.id}/files/"
                                  f"{name}"} for name in names]})
    from rathaus_controlroom.services.robot_items import attempt_token

    name = f"{robot.city_id}/{robot.process}"
    return {"run": run.id, "robot": name, "city": run.city_id,
            "attempt": run.attempt, "lease_until": as_utc(run.lease_until).isoformat(), "inputs": inputs,
            "item_token": attempt_token(item_key, run.id, run.attempt) if item_key else None,
            "config": (robot_config or {}).get(name) or {},
            "env": _credentials(session, run, credential_key)}


def _credentials(session: Session, run: Run, key: bytes | None) -> dict[str, str]:
    """The city's credentials as environment variables (the credentials service decrypts; never logged)."""
    if key is None:
        return {}
    from rathaus_controlroom.services.credentials import credentials_for_run

    return dict(credentials_for_run(session, run, key))


def heartbeat(session: Session, runner_id: int, city_id: str, run_id: int, now: datetime | None = None,
              lease_s: int = 60, cases_done: int | None = None, cases_total: int | None = None) -> Run:
    """Extend the lease and store progress; the caller stops the robot when ``run.cancel_requested``."""
    from rathaus_controlroom.services.robot_items import progress, renew_leases

    now = _now(now)
    run = _held(session, runner_id, city_id, run_id)
    run.lease_until = now + timedelta(seconds=lease_s)
    renew_leases(session, run, lease_s, now)
    done, total = progress(session, run)  # the robot's items say how far it is; a runner may report more
    if cases_total is not None and cases_total >= 0:
        total = max(total, cases_total)
    if cases_done is not None and cases_done >= 0:
        done = max(done, min(cases_done, total))
    run.cases_done, run.cases_total = done, total
    session.execute(update(Runner).where(Runner.id == runner_id).values(last_seen_at=now)
                    .execution_options(synchronize_session=False))
    session.flush()
    return run


def finish(session: Session, runner_id: int, city_id: str, run_id: int, exit_code: int, message: str | None = None,
           item_results: list[dict[str, Any]] | None = None, now: datetime | None = None,
           max_item_attempts: int = 3, retry_base_s: int = 60, cases_done: int | None = None,
           cases_total: int | None = None, stopped: bool | None = None) -> Run:
    """Store the outcome: CANCELLED when a cancel was asked for and the runner stopped the robot (``stopped``;
    ``None``, from runners that do not say, counts as stopped), else SUCCEEDED (exit code 0) or FAILED.

    ``item_results`` (``{"id", "state", "code", "message"}``) say how each input item ended and are recorded
    first, also in a cancelled run; the items left open go to the clerk's worklist as "abgebrochen" in a
    cancelled run and end as the run did otherwise (DONE after success, an application failure otherwise).
    """
    from rathaus_controlroom.services.robot_items import end_attempt, run_items

    now = _now(now)
    run = _held(session, runner_id, city_id, run_id)
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        raise Invalid("exit_code muss eine ganze Zahl sein.")
    end_attempt(session, run, now, max_item_attempts, retry_base_s,
                cancelled=bool(run.cancel_requested and stopped is not False))
    run.exit_code, run.finished_at, run.lease_until = exit_code, now, None
    if cases_total is not None and cases_total >= 0:
        run.cases_total = cases_total
    if cases_done is not None and 0 <= cases_done <= (run.cases_total or 0):
        run.cases_done = cases_done
    run.message = (message or "").strip()[:4000] or None
    results = {}
    for result in item_results or []:
        if isinstance(result, dict) and isinstance(result.get("id"), int):
            results[result["id"]] = result
    if run.cancel_requested and stopped is not False:
        run.state = RunState.CANCELLED
        reported = {key: value for key, value in results.items()
                    if str(value.get("state")) in {s.value for s in ItemState} - {"new", "in_progress"}}
        if reported:
            _record_items(session, run, reported, ItemState.DONE, None, None, now, max_item_attempts, retry_base_s,
                          only=set(reported))
        hand_back_items(session, run, now)
    else:
        run.state = RunState.SUCCEEDED if exit_code == 0 else RunState.FAILED
        default = ItemState.DONE if exit_code == 0 else ItemState.FAILED_APPLICATION
        _record_items(session, run, results, default, None if exit_code == 0 else "LAUF_FEHLGESCHLAGEN",
                      None if exit_code == 0 else f"Lauf {run.id} ist fehlgeschlagen: {run.message or 'ohne Angabe'}",
                      now, max_item_attempts, retry_base_s)
    items = run_items(session, run)
    if items:
        run.cases_total = max(run.cases_total or 0, len(items))
        run.cases_done = max(run.cases_done or 0, sum(1 for i in items if not i.state.is_open))
    session.flush()
    log.info("action=finish_run city=%s run=%s state=%s exit_code=%s", run.city_id, run.id, run.state.value,
             exit_code)
    return run


def _record_items(session: Session, run: Run, results: dict[int, dict[str, Any]], default: ItemState,
                  code: str | None, message: str | None, now: datetime, max_attempts: int = 3,
                  retry_base_s: int = 60, only: set[int] | None = None) -> None:
    from rathaus_controlroom.services.items import record_item_result

    for item in open_items(session, run):
        if only is not None and item.id not in only:
            continue
        result = results.get(item.id, {})
        state = result.get("state") or default
        try:
            state = ItemState(state)
        except ValueError:
            state = default
        if state in (ItemState.NEW, ItemState.IN_PROGRESS):
            state = default
        item_code = result.get("code") if result else code
        item_message = result.get("message") if result else message
        record_item_result(session, item, state, str(item_code)[:100] if item_code else None,
                           str(item_message)[:2000] if item_message else None, now, max_attempts=max_attempts,
                           retry_base_s=retry_base_s)
