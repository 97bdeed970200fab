"""The control room's clock: a thread that fires due schedules and requeues work items whose retry wait is over.

Every control-room instance may run one; :func:`rathaus_controlroom.services.schedules.fire_due` makes sure that
instances sharing one PostgreSQL never start a schedule twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from rathaus_controlroom.db import Database
from rathaus_controlroom.services import items, schedules
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)


def tick(database: Database, settings: Settings, now: datetime | None = None) -> tuple[int, int]:
    """One round: (runs started by schedules, work items requeued). Each part is its own transaction."""
    now = now or datetime.now(timezone.utc)
    started = requeued = 0
    try:
        with database.session() as session:
            started = len(schedules.fire_due(session, now, schedules.Calendar.of(settings)))
    except Exception as error:  # the clock keeps going; the next round tries again
        log.error("action=fire_due outcome=error error=%s", type(error).__name__)
    try:
        with database.session() as session:
            requeued = len(items.due_retries(session, now))
    except Exception as error:
        log.error("action=due_retries outcome=error error=%s", type(error).__name__)
    return started, requeued


def start_scheduler(database: Database, settings: Settings, stop_event: threading.Event, interval_s: float = 30.0,
                    clock: Callable[[], datetime] | None = None) -> threading.Thread:
    """Start the clock thread; set ``stop_event`` to end it (it finishes its current round first)."""

    def loop() -> None:
        log.info("action=start_scheduler interval_s=%s", interval_s)
        while not stop_event.is_set():
            tick(database, settings, clock() if clock else None)
            stop_event.wait(interval_s)
        log.info("action=stop_scheduler")

    thread = threading.Thread(target=loop, name="rathaus-zeitplan", daemon=True)
    thread.start()
    return thread
