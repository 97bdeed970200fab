"""Work item queues in one SQLite file: the embedded default for local runs (``rathaus run``).

A producer step writes output items into a named queue; a consumer step, in the same run or another
process, reserves them one at a time as its input. Reservations are leases: a consumer that dies
leaves its item ``in_progress`` until the lease runs out, and then the next reservation takes it over,
so no case is lost when a machine goes down.

Only ids, keys and states are logged, never payload values: payloads hold personal data.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rathaus.workitems.adapters import BaseAdapter, safe_file_name
from rathaus.workitems.errors import (
    EmptyQueue,
    LeaseLostError,
    WorkItemFileMissingError,
    WorkItemsSetupError,
    WorkItemUsageError,
)
from rathaus.workitems.model import State
from rathaus.workitems.settings import Settings
from rathaus.workitems.storage import QueueItem, QueueStore, Status

LOG = logging.getLogger("rathaus.workitems")

#: Id of the single empty input item a producer gets when no input queue is configured.
SEED_ID = "seed"


class QueueAdapter(BaseAdapter):
    """Work items in named queues of a SQLite database, with leases and idempotent keys.

    | =Behaviour= | =Description= |
    | reserve | atomic (``BEGIN IMMEDIATE``): two consumers never get the same item |
    | lease | a reserved item is taken over by the next reservation after ``lease_s`` seconds without
    a sign of life (saving the item renews the lease) |
    | key | ``create_output(..., key=...)`` keeps an existing item with that key; an item that failed with
    an APPLICATION error (or without a type) goes back to pending with the new payload and files,
    DONE and BUSINESS-failed items stay as they are |
    | files | copies in ``<database stem>-files/<item id>/`` beside the database |

    From Python: ``QueueAdapter(Settings(database=path)).summary("uvg")``.
    """

    saves_on_release = True

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.store = QueueStore(settings.database)
        self.files_root = settings.database.parent / f"{settings.database.stem}-files"
        self._seed: dict[str, Any] | None = None

    # -- queue operations ------------------------------------------------------------------------

    def reserve_input(self) -> str:
        queue = self.settings.input_queue
        if queue is None:
            if self._seed is not None:
                raise EmptyQueue("Keine weiteren Arbeitselemente: keine Eingangs-Warteschlange eingestellt.")
            self._seed = {"payload": {}}
            return SEED_ID
        reservation = self.store.reserve(queue, self.settings.runner_id, self.clock(), self.settings.lease_s)
        if reservation is None:
            raise EmptyQueue(f"Warteschlange '{queue}' enthält keine offenen Arbeitselemente mehr.")
        if reservation.reclaimed:
            LOG.warning(
                "action=reclaim queue=%s item=%s attempt=%s", queue, reservation.item_id, reservation.attempts
            )
        else:
            LOG.info("action=reserve queue=%s item=%s", queue, reservation.item_id)
        return reservation.item_id

    def release_input(self, item_id: str, state: State, exception: dict[str, Any] | None = None) -> None:
        if item_id == SEED_ID:
            return
        status = Status.DONE if state is State.DONE else Status.FAILED
        released = self.store.release(item_id, self.settings.runner_id, status, exception, self.clock())
        if not released:
            raise LeaseLostError(
                f"Arbeitselement {item_id} gehört nicht mehr diesem Lauf (Frist von "
                f"{self.settings.lease_s:g} s abgelaufen, ein anderer Lauf hat ihn übernommen): Ergebnis "
                "prüfen, ggf. lease_s erhöhen."
            )
        LOG.info(
            "action=release item=%s state=%s type=%s code=%s",
            item_id, status.value, (exception or {}).get("type"), (exception or {}).get("code"),
        )

    def create_output(
        self, parent_id: str | None, payload: Any, key: str | None = None
    ) -> tuple[str, bool]:
        queue = self.settings.output_queue
        if queue is None:
            raise WorkItemsSetupError(
                "Keine Ausgangs-Warteschlange eingestellt: output_queue= beim Import oder "
                "RATHAUS_WORKITEMS_OUTPUT_QUEUE setzen."
            )
        parent = None if parent_id == SEED_ID else parent_id
        result = self.store.create(queue, parent, payload, key, self.clock())
        for stored in result.dropped_files:
            (self.files_root / result.item_id / stored).unlink(missing_ok=True)
        LOG.info("action=create queue=%s item=%s key=%s outcome=%s", queue, result.item_id, key, result.outcome)
        return result.item_id, result.outcome != "kept"

    def renew_lease(self, item_id: str) -> None:
        """Tell the queue that the consumer of ``item_id`` is still alive."""
        if item_id == SEED_ID or self.settings.input_queue is None:
            return
        self.store.renew_lease(item_id, self.settings.runner_id, self.clock(), self.settings.lease_s)

    # -- payload and files -----------------------------------------------------------------------

    def load_payload(self, item_id: str) -> Any:
        if item_id == SEED_ID:
            return (self._seed or {}).get("payload", {})
        payload = self.store.load_payload(item_id)
        if payload is None:
            raise WorkItemUsageError(f"Arbeitselement {item_id} ist in der Datenbank unbekannt.")
        return payload

    def save_payload(self, item_id: str, payload: Any) -> None:
        if item_id == SEED_ID:
            self._seed = {"payload": payload}
            return
        self.store.save_payload(item_id, payload, self.clock())
        self.renew_lease(item_id)

    def list_files(self, item_id: str) -> list[str]:
        if item_id == SEED_ID:
            return []
        return list(self.store.list_files(item_id))

    def get_file(self, item_id: str, name: str, target: Path) -> None:
        stored = self.store.list_files(item_id).get(name) if item_id != SEED_ID else None
        path = self.files_root / item_id / stored if stored else None
        if path is None or not path.is_file():
            raise WorkItemFileMissingError(
                f"Datei '{name}' von Arbeitselement {item_id} fehlt in '{self.files_root}'."
            )
        if path.resolve() != Path(target).resolve():
            shutil.copyfile(path, target)

    def add_file(self, item_id: str, name: str, source: Path) -> None:
        if item_id == SEED_ID:
            raise WorkItemUsageError(
                "Ohne Eingangs-Warteschlange kann der leere Start-Auftrag keine Dateien aufnehmen: "
                "Dateien an einen Ausgangs-Auftrag hängen."
            )
        existing = self.store.list_files(item_id)
        taken = {stored for other, stored in existing.items() if other != name}
        stored = safe_file_name(name)
        stem, dot, suffix = stored.rpartition(".")
        counter = 1
        while stored in taken:
            counter += 1
            stored = f"{stem}-{counter}.{suffix}" if dot and stem else f"{stored}-{counter}"
        folder = self.files_root / item_id
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / stored)
        self.store.put_file(item_id, name, stored)
        previous = existing.get(name)
        if previous and previous != stored:
            (folder / previous).unlink(missing_ok=True)
        self.renew_lease(item_id)

    def remove_file(self, item_id: str, name: str) -> None:
        if item_id == SEED_ID:
            return
        stored = self.store.delete_file(item_id, name)
        if stored:
            (self.files_root / item_id / stored).unlink(missing_ok=True)

    # -- reports ---------------------------------------------------------------------------------

    def list_items(self, queue: str | None = None, status: Status | str | None = None) -> list[QueueItem]:
        """All items of ``queue`` (default: the output queue, else the input queue), oldest first."""
        wanted = Status(status) if isinstance(status, str) else status
        return self.store.items(self._report_queue(queue), wanted)

    def get_item(self, item_id: str) -> QueueItem | None:
        """One item by id, or ``None``."""
        return self.store.item(item_id)

    def summary(self, queue: str | None = None) -> dict[str, Any]:
        """Counts of a queue for the report after a run.

        Keys: ``queue``, ``total``, ``pending``, ``in_progress``, ``done``, ``failed``, ``business``
        (failed with BUSINESS), ``application`` (failed with APPLICATION or no type).
        """
        name = self._report_queue(queue)
        result: dict[str, Any] = {
            "queue": name, "total": 0, "pending": 0, "in_progress": 0, "done": 0, "failed": 0,
            "business": 0, "application": 0,
        }
        for status, exception_type, count in self.store.counts(name):
            result["total"] += count
            result[status] += count
            if status == Status.FAILED.value:
                result["business" if exception_type == "BUSINESS" else "application"] += count
        return result

    def queues(self) -> list[str]:
        """Names of all queues in the database."""
        return self.store.queues()

    def _report_queue(self, queue: str | None) -> str:
        name = queue or self.settings.output_queue or self.settings.input_queue
        if not name:
            raise WorkItemsSetupError("Welche Warteschlange? Namen angeben, z. B. summary('uvg').")
        return name


def open_queue(database: Path | str, **settings: Any) -> QueueAdapter:
    """A :class:`QueueAdapter` on ``database`` for reports and scripts, e.g. ``open_queue(db).summary("uvg")``."""
    return QueueAdapter(Settings(adapter="queue", database=Path(database), **settings))
