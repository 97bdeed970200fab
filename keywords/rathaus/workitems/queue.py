"""Work item queues in one SQLite file: the embedded default for local runs (``rathaus run``).

A producer step writes output items into a named queue; a consumer step, in the same run or another
process, reserves them one at a time as its input. Reservations are leases: a consumer that dies
leaves its item ``in_progress`` until the lease runs out, and then the next reservation takes it over,
so no case is lost when a machine goes down. A consumer on the same host whose process is gone is
recognised at once (:mod:`rathaus.workitems.holders`): its items are taken over without waiting.

An item is created with all its files at once or not at all: the files are copied into a staging folder
(``<files root>/.staging/<folder>``), one transaction inserts the item and its file rows, and then the
staging folder is renamed into place (``<files root>/<folder>``). Whoever next needs the files finishes a
rename that a crash interrupted; a staging folder no item refers to, left by a process that died, is
removed.

Only ids, keys and states are logged, never payload values: payloads hold personal data.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rathaus.workitems.adapters import BaseAdapter, unique_stored_names
from rathaus.workitems.errors import (
    EmptyQueue,
    LeaseLostError,
    WorkItemFileMissingError,
    WorkItemsSetupError,
    WorkItemUsageError,
)
from rathaus.workitems.holders import Holder, holder_is_dead, host_name, process_start
from rathaus.workitems.model import State
from rathaus.workitems.settings import Settings
from rathaus.workitems.states import ItemState
from rathaus.workitems.storage import QueueItem, QueueStore

LOG = logging.getLogger("rathaus.workitems")

#: Id of the single empty input item a producer gets when no input queue is configured.
SEED_ID = "seed"
#: Folder below the files root where the files of an item being created wait for its transaction.
STAGING = ".staging"
#: A staging folder no item refers to is removed once its creator is gone, or after this many seconds.
STAGING_ORPHAN_S = 3600.0


def _staging_name() -> str:
    """``<host>_<pid>_<start>_<random>``: a new staging folder that names the process creating it."""
    pid = os.getpid()
    return f"{host_name()}_{pid}_{process_start(pid) or '-'}_{uuid.uuid4().hex[:12]}"


def _staging_creator(name: str) -> Holder | None:
    parts = name.rsplit("_", 3)
    if len(parts) != 4 or not parts[1].isdigit():
        return None
    return Holder(parts[0], int(parts[1]), parts[2])


class QueueAdapter(BaseAdapter):
    """Work items in named queues of a SQLite database, with leases and idempotent keys.

    | =Behaviour= | =Description= |
    | reserve | atomic (``BEGIN IMMEDIATE``): two consumers never get the same item |
    | lease | a reserved item is taken over by the next reservation after ``lease_s`` seconds without
    a sign of life (saving the item renews the lease) |
    | dead holder | an item whose holder runs on this host and whose process is gone is reserved again at
    once; ``reserved_elsewhere()`` counts the items a live other run still holds |
    | key | ``create_output(..., key=...)`` keeps an existing item with that key; an item that failed with
    an APPLICATION error (or without a type) goes back to ``new`` with the new payload and files,
    DONE and BUSINESS-failed items stay as they are |
    | files | copies in ``<database stem>-files/<folder>/`` beside the database; an item and the files
    given to ``create_output`` appear together or not at all |

    From Python: ``QueueAdapter(Settings(database=path)).summary("uvg")``.
    """

    saves_on_release = True

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.store = QueueStore(settings.database)
        self.files_root = settings.database.parent / f"{settings.database.stem}-files"
        self._seed: dict[str, Any] | None = None
        self._recovered = False
        self._crash_point, self._crash_count = _parse_crash_at(settings.crash_at)
        self._crash_hits = 0

    # -- queue operations ------------------------------------------------------------------------

    def reserve_input(self) -> str:
        queue = self.settings.input_queue
        if queue is None:
            if self._seed is not None:
                raise EmptyQueue("Keine weiteren Arbeitselemente: keine Eingangs-Warteschlange eingestellt.")
            self._seed = {"payload": {}}
            return SEED_ID
        self._recover()
        reservation = self.store.reserve(
            queue, self.settings.runner_id, self.clock(), self.settings.lease_s, holder_gone=holder_is_dead
        )
        if reservation is None:
            raise EmptyQueue(f"Warteschlange '{queue}' enthält keine offenen Arbeitselemente mehr.")
        if reservation.reclaimed:
            LOG.warning(
                "action=reclaim queue=%s item=%s attempt=%s reason=%s",
                queue, reservation.item_id, reservation.attempts, reservation.reclaimed,
            )
        else:
            LOG.info("action=reserve queue=%s item=%s", queue, reservation.item_id)
        return reservation.item_id

    def release_input(self, item_id: str, state: State, exception: dict[str, Any] | None = None) -> None:
        if item_id == SEED_ID:
            return
        status = ItemState.released(state is State.DONE, (exception or {}).get("type"))
        self._crash("release")
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
        self,
        parent_id: str | None,
        payload: Any,
        key: str | None = None,
        files: dict[str, Path] | None = None,
    ) -> tuple[str, bool]:
        queue = self.settings.output_queue
        if queue is None:
            raise WorkItemsSetupError(
                "Keine Ausgangs-Warteschlange eingestellt: output_queue= beim Import oder "
                "RATHAUS_WORKITEMS_OUTPUT_QUEUE setzen."
            )
        self._recover()
        parent = None if parent_id == SEED_ID else parent_id
        folder, stored = self._stage(files or {}) if files else (None, {})
        try:
            self._crash("create.staged")
            result = self.store.create(queue, parent, payload, key, self.clock(), stored, folder)
        except BaseException:
            if folder is not None:
                shutil.rmtree(self.files_root / STAGING / folder, ignore_errors=True)
            raise
        if result.outcome == "kept":
            if folder is not None:
                shutil.rmtree(self.files_root / STAGING / folder, ignore_errors=True)
        else:
            self._crash("create.committed")
            if result.outcome == "reset":
                self._drop_files(result.item_id, result.dropped_dir, result.dropped_files)
            if folder is not None:
                self._publish(folder)
        LOG.info(
            "action=create queue=%s item=%s key=%s outcome=%s files=%s",
            queue, result.item_id, key, result.outcome, len(stored),
        )
        return result.item_id, result.outcome != "kept"

    def _stage(self, files: dict[str, Path]) -> tuple[str, dict[str, str]]:
        """Copy ``files`` into a new staging folder; return its name and the stored name of each file."""
        folder = _staging_name()
        staging = self.files_root / STAGING / folder
        staging.mkdir(parents=True)
        stored = unique_stored_names(files)
        try:
            for name, source in files.items():
                if not Path(source).is_file():
                    raise WorkItemFileMissingError(
                        f"Datei '{source}' für das Arbeitselement fehlt: Pfad prüfen."
                    )
                shutil.copyfile(source, staging / stored[name])
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder, stored

    def _publish(self, folder: str) -> None:
        """Rename the staging folder of a committed item into place (done by whoever comes first)."""
        try:
            os.rename(self.files_root / STAGING / folder, self.files_root / folder)
        except FileNotFoundError:
            if not (self.files_root / folder).is_dir():
                raise

    def _drop_files(self, item_id: str, folder: str | None, dropped: tuple[str, ...]) -> None:
        """Delete the files of a reset item: its own folder, or the stored files in the id's folder."""
        if folder is not None:
            shutil.rmtree(self.files_root / folder, ignore_errors=True)
            return
        for name in dropped:
            (self.files_root / item_id / name).unlink(missing_ok=True)

    def _recover(self) -> None:
        """Once per adapter: finish renames that a crash interrupted and remove orphan staging folders."""
        if self._recovered:
            return
        self._recovered = True
        staging = self.files_root / STAGING
        try:
            leftovers = sorted(path for path in staging.iterdir() if path.is_dir())
        except FileNotFoundError:
            return
        if not leftovers:
            return
        referenced = self.store.files_dirs()
        for path in leftovers:
            if path.name in referenced:
                self._publish(path.name)
                LOG.warning("action=recover folder=%s", path.name)
                continue
            creator = _staging_creator(path.name)
            try:
                age = self.clock() - path.stat().st_mtime
            except FileNotFoundError:
                continue
            if (creator is not None and creator.is_dead()) or age > STAGING_ORPHAN_S:
                # referenced by now? then the creator committed after our look: publish instead
                if path.name in self.store.files_dirs():
                    self._publish(path.name)
                    continue
                shutil.rmtree(path, ignore_errors=True)
                LOG.warning("action=remove_orphan_staging folder=%s", path.name)

    def _folder(self, item_id: str) -> Path:
        """The folder of an item's files, after finishing a rename a crash interrupted."""
        name = self.store.files_dir(item_id)
        folder = self.files_root / name
        if name != item_id and not folder.is_dir() and (self.files_root / STAGING / name).is_dir():
            self._publish(name)
        return folder

    def _crash(self, point: str) -> None:
        """The crash-injection hook (``crash_at``): SIGKILL this process group at the n-th ``point``."""
        if point != self._crash_point:
            return
        self._crash_hits += 1
        if self._crash_hits == self._crash_count:
            LOG.warning("action=crash_injection point=%s hit=%s", point, self._crash_hits)
            os.killpg(os.getpgid(0), signal.SIGKILL)

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
        self._crash("save_payload")
        self.renew_lease(item_id)

    def list_files(self, item_id: str) -> list[str]:
        if item_id == SEED_ID:
            return []
        return list(self.store.list_files(item_id))

    def get_file(self, item_id: str, name: str, target: Path) -> None:
        stored = self.store.list_files(item_id).get(name) if item_id != SEED_ID else None
        path = self._folder(item_id) / stored if stored else None
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
        stored = unique_stored_names({name: source}, taken)[name]
        folder = self._folder(item_id)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{stored}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, folder / stored)
        finally:
            partial.unlink(missing_ok=True)
        self._crash("add_file")
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
            (self._folder(item_id) / stored).unlink(missing_ok=True)

    # -- reports ---------------------------------------------------------------------------------

    def list_items(self, queue: str | None = None, status: ItemState | str | None = None) -> list[QueueItem]:
        """All items of ``queue`` (default: the output queue, else the input queue), oldest first."""
        wanted = ItemState(status) if isinstance(status, str) else status
        return self.store.items(self._report_queue(queue), wanted)

    def get_item(self, item_id: str) -> QueueItem | None:
        """One item by id, or ``None``."""
        return self.store.item(item_id)

    def summary(self, queue: str | None = None) -> dict[str, Any]:
        """Counts of a queue for the report after a run.

        Keys: ``queue``, ``total``, one per :class:`ItemState` value (``new``, ``in_progress``, ``done``,
        ``failed_business``, ``failed_application``) and ``failed`` (both failed states together).
        """
        name = self._report_queue(queue)
        result: dict[str, Any] = {"queue": name, "total": 0, **{state.value: 0 for state in ItemState}, "failed": 0}
        for status, _exception_type, count in self.store.counts(name):
            result["total"] += count
            result[status] += count
            if status in (ItemState.FAILED_BUSINESS.value, ItemState.FAILED_APPLICATION.value):
                result["failed"] += count
        return result

    def reserved_elsewhere(self, queue: str | None = None) -> int:
        """How many items of ``queue`` another run still holds: reserved (``in_progress``) by a holder that is
        not this adapter, whose lease has not run out and that is not known to be dead.

        After ``rathaus run`` these are cases the run did not do because another run (alive, or on another
        host) holds them; a holder on this host whose process is gone does not count, the next run takes its
        items over at once.
        """
        now = self.clock()
        return sum(
            1
            for held in self.store.open_reservations(self._report_queue(queue))
            if held.runner != self.settings.runner_id
            and held.lease_until is not None
            and held.lease_until > now
            and not holder_is_dead(held.runner)
        )

    def queues(self) -> list[str]:
        """Names of all queues in the database."""
        return self.store.queues()

    def _report_queue(self, queue: str | None) -> str:
        name = queue or self.settings.output_queue or self.settings.input_queue
        if not name:
            raise WorkItemsSetupError("Welche Warteschlange? Namen angeben, z. B. summary('uvg').")
        return name


def _parse_crash_at(value: str | None) -> tuple[str | None, int]:
    """``<point>:<n>`` of the crash-injection setting; ``(None, 0)`` when unset or malformed."""
    text = str(value or "").strip()
    point, _, count = text.rpartition(":") if ":" in text else (text, "", "1")
    if not point or not count.isdigit() or int(count) < 1:
        return None, 0
    return point, int(count)


def open_queue(database: Path | str, **settings: Any) -> QueueAdapter:
    """A :class:`QueueAdapter` on ``database`` for reports and scripts, e.g. ``open_queue(db).summary("uvg")``."""
    return QueueAdapter(Settings(adapter="queue", database=Path(database), **settings))
