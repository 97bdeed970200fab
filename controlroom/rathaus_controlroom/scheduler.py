"""The control room's clock: a thread that fires due schedules and requeues work items whose retry wait is over.

Every control-room instance may run one; :func:`rathaus_controlroom.services.schedules.fire_due` makes sure that
instances sharing one PostgreSQL never start a schedule twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from rathaus_controlroom import signals
from rathaus_controlroom.db import Database
from rathaus_controlroom.services import items, schedules, triggers
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)


def tick(database: Database, settings: Settings, now: datetime | None = None) -> tuple[int, int]:
    """One round: (runs started by schedules and mail triggers, work items requeued). Each part is its own
    transaction."""
    now = now or datetime.now(timezone.utc)
    started = requeued = 0
    try:
        with database.session() as session:
            started = len(schedules.fire_due(session, now, schedules.Calendar.of(settings)))
    except Exception as error:  # the clock keeps going; the next round tries again
        log.error("action=fire_due outcome=error error=%s", type(error).__name__)
    try:
        with database.session() as session:
            started += len(triggers.fire_pending(session, now))
    except Exception as error:
        log.error("action=fire_triggers outcome=error error=%s", type(error).__name__)
    try:
        with database.session() as session:
            requeued = len(items.due_retries(session, now))
    except Exception as error:
        log.error("action=due_retries outcome=error error=%s", type(error).__name__)
    return started, requeued


#: a mail trigger whose robot still works is looked at again after this long (or when a triggered run ends here)
TRIGGER_RECHECK = timedelta(seconds=5)


def next_due(database: Database, now: datetime | None = None) -> datetime | None:
    """The earliest time something is due: an active schedule's next run, a work item's retry, or a mail trigger's
    next look while it has mail that waits for its robot."""
    from sqlalchemy import func, select

    from rathaus_controlroom.models import ItemState, Schedule, WorkItem

    try:
        with database.session() as session:
            times = [session.scalar(select(func.min(Schedule.next_run_at)).where(Schedule.paused.is_(False))),
                     session.scalar(select(func.min(WorkItem.next_attempt_at)).where(
                         WorkItem.state == ItemState.FAILED_APPLICATION))]
            if triggers.pending(session):
                times.append((now or datetime.now(timezone.utc)) + TRIGGER_RECHECK)
    except Exception as error:  # the clock keeps going; it looks again after its interval
        log.error("action=next_due outcome=error error=%s", type(error).__name__)
        return None
    due = [value if value.tzinfo else value.replace(tzinfo=timezone.utc) for value in times if value is not None]
    return min(due) if due else None


def start_scheduler(database: Database, settings: Settings, stop_event: threading.Event, interval_s: float = 30.0,
                    clock: Callable[[], datetime] | None = None) -> threading.Thread:
    """Start the clock thread; set ``stop_event`` to end it (it finishes its current round first).

    The clock wakes when the next schedule or retry is due (a few milliseconds after, so that it is due), when a
    schedule was changed in this process, and at the latest after ``interval_s`` (schedules that another
    control-room instance changed, a clock that jumped); a schedule missed while the control room was down fires
    once at the first round.
    """

    def loop() -> None:
        log.info("action=start_scheduler interval_s=%s", interval_s)
        stuck_s = 0.0  # something stays due after its round (a round that fails): wait longer each time
        while not stop_event.is_set():
            now = clock() if clock else datetime.now(timezone.utc)
            tick(database, settings, now)
            due = next_due(database, now)
            if due is not None and due <= now:
                stuck_s = min(interval_s, max(1.0, stuck_s * 2))
                sleep_s = stuck_s
            else:
                stuck_s = 0.0
                sleep_s = interval_s if due is None else min(interval_s, (due - now).total_seconds() + 0.02)
            deadline = time.monotonic() + sleep_s
            while not stop_event.is_set() and (remaining := deadline - time.monotonic()) > 0:
                if signals.SCHEDULES_CHANGED.wait(min(remaining, 0.5)):
                    break
        log.info("action=stop_scheduler")

    thread = threading.Thread(target=loop, name="rathaus-zeitplan", daemon=True)
    thread.start()
    return thread
