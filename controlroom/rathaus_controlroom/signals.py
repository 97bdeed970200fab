"""In-process signals: "a run was queued", for runners that wait for work (long-polled claims), and "the
schedules changed", for the clock.

A signal is only a hint: whoever waits checks the database again after it, and also without it after a while,
because another control-room instance on the same PostgreSQL queues runs this process does not hear of.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


class Signal:
    """Wakes every coroutine waiting on it (:meth:`waiter`) and every thread (:meth:`wait`), from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._event = threading.Event()

    def notify(self) -> None:
        with self._lock:
            futures, self._futures = self._futures, []
            self._event.set()
        for loop, future in futures:
            with contextlib.suppress(RuntimeError):  # its loop has ended
                loop.call_soon_threadsafe(_resolve, future)

    def waiter(self) -> Waiter:
        """A waiter registered now: a notification from now on ends its :meth:`Waiter.wait` (none is missed
        between registering and waiting)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._futures.append((loop, future))
        return Waiter(self, loop, future)

    def wait(self, timeout: float) -> bool:
        """For a thread: wait up to ``timeout`` seconds for a notification since the last call."""
        notified = self._event.wait(timeout)
        if notified:
            self._event.clear()  # (cleared only when seen: a notification after a timeout is not lost)
        return notified

    def _forget(self, future: asyncio.Future[None]) -> None:
        with self._lock:
            self._futures = [(loop, f) for loop, f in self._futures if f is not future]


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Waiter:
    def __init__(self, signal: Signal, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
        self.signal, self.loop, self.future = signal, loop, future

    async def wait(self, timeout: float) -> bool:
        """Whether it was notified within ``timeout`` seconds; the waiter is used up either way."""
        try:
            await asyncio.wait_for(asyncio.shield(self.future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.close()

    def close(self) -> None:
        self.signal._forget(self.future)


#: a run of some city was queued and committed in this process
RUN_QUEUED = Signal()
#: a schedule was made, changed or deleted, a mail trigger saw new mail, or a run ended, in this process
SCHEDULES_CHANGED = Signal()
#: a mail trigger was made, paused, resumed or deleted in this process
TRIGGERS_CHANGED = Signal()


def watch(sessions: sessionmaker[Session]) -> None:
    """Notify :data:`RUN_QUEUED`, :data:`SCHEDULES_CHANGED` and :data:`TRIGGERS_CHANGED` after a commit of
    ``sessions`` that queued a run, touched a schedule, ended a triggered run or changed a mail trigger (services set
    ``session.info["schedules_changed"]`` / ``["triggers_changed"]`` for changes made with plain ``UPDATE``)."""
    from rathaus_controlroom.models import Run, RunState, Schedule

    ended = (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)

    @event.listens_for(sessions, "after_flush")
    def _seen(session: Session, _context: Any) -> None:
        for obj in (*session.new, *session.dirty):
            if isinstance(obj, Run) and obj.state is RunState.QUEUED:
                session.info["run_queued"] = True
            elif isinstance(obj, Run) and obj.state in ended and obj.trigger_id is not None:
                session.info["schedules_changed"] = True  # mail that came during the run may start the next one
            elif isinstance(obj, Schedule):
                session.info["schedules_changed"] = True
        if any(isinstance(obj, Schedule) for obj in session.deleted):
            session.info["schedules_changed"] = True

    @event.listens_for(sessions, "after_commit")
    def _committed(session: Session) -> None:
        # (also after a savepoint's release: an early hint at worst; whoever waits looks at the database)
        if session.info.pop("run_queued", False):
            RUN_QUEUED.notify()
        if session.info.pop("schedules_changed", False):
            SCHEDULES_CHANGED.notify()
        if session.info.pop("triggers_changed", False):
            TRIGGERS_CHANGED.notify()

    @event.listens_for(sessions, "after_rollback")
    def _rolled_back(session: Session) -> None:
        # (also after a rollback to a savepoint: a missed hint at worst; waiting claims look again every second)
        session.info.pop("run_queued", None)
        session.info.pop("schedules_changed", None)
        session.info.pop("triggers_changed", None)
