"""Every SQL statement of the work item queue: one SQLite file in WAL mode, safe across processes.

Writes run in ``BEGIN IMMEDIATE`` transactions, so reserving an item and creating an item with a key
and its files are atomic even with several consumers in several processes. Each call opens and closes its
own connection: nothing stays open between keywords, and threads never share a connection.

Schema version 2 stores the states of :class:`rathaus.workitems.states.ItemState` (``new``, ``in_progress``,
``done``, ``failed_business``, ``failed_application``) and per item the folder of its files (``files_dir``);
a version-1 database (``pending``/``failed``) is migrated in place when it is first opened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rathaus.workitems.errors import QueueStorageError
from rathaus.workitems.states import ItemState

SCHEMA_VERSION = 2

#: The tables of a new database (version 2).
SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    key TEXT,
    parent_id TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    payload TEXT NOT NULL,
    original_payload TEXT NOT NULL,
    exception_type TEXT,
    code TEXT,
    message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    runner TEXT,
    lease_until REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    reserved_at REAL,
    released_at REAL,
    files_dir TEXT
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS items_queue_key ON items (queue, key) WHERE key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS items_queue_status ON items (queue, status, id)",
    """
CREATE TABLE IF NOT EXISTS files (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    stored TEXT NOT NULL,
    PRIMARY KEY (item_id, name)
)""",
)

#: Version 1 to 2: the shared item states, and the folder of an item's files.
MIGRATE_1_TO_2 = (
    "ALTER TABLE items ADD COLUMN files_dir TEXT",
    "UPDATE items SET status = CASE status WHEN 'pending' THEN 'new' "
    "WHEN 'failed' THEN CASE WHEN exception_type = 'BUSINESS' THEN 'failed_business' "
    "ELSE 'failed_application' END ELSE status END",
)

_NEW = ItemState.NEW.value
_IN_PROGRESS = ItemState.IN_PROGRESS.value


def _timestamp(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value is not None else None


@dataclass(frozen=True)
class QueueItem:
    """One row of the queue, for reports such as the summary after ``rathaus run``."""

    id: str
    queue: str
    key: str | None
    parent_id: str | None
    status: ItemState
    payload: Any
    #: variables a consumer added or changed compared with the payload the producer wrote
    variables: dict[str, Any]
    files: tuple[str, ...]
    exception_type: str | None
    code: str | None
    message: str | None
    attempts: int
    runner: str | None
    created_at: datetime
    updated_at: datetime
    reserved_at: datetime | None
    released_at: datetime | None

    @classmethod
    def from_row(cls, row: sqlite3.Row, files: tuple[str, ...] = ()) -> QueueItem:
        payload = json.loads(row["payload"])
        original = json.loads(row["original_payload"])
        variables: dict[str, Any] = {}
        if isinstance(payload, dict):
            base = original if isinstance(original, dict) else {}
            variables = {k: v for k, v in payload.items() if k not in base or base[k] != v}
        return cls(
            id=str(row["id"]),
            queue=row["queue"],
            key=row["key"],
            parent_id=row["parent_id"],
            status=ItemState(row["status"]),
            payload=payload,
            variables=variables,
            files=files,
            exception_type=row["exception_type"],
            code=row["code"],
            message=row["message"],
            attempts=row["attempts"],
            runner=row["runner"],
            created_at=_timestamp(row["created_at"]),  # type: ignore[arg-type]
            updated_at=_timestamp(row["updated_at"]),  # type: ignore[arg-type]
            reserved_at=_timestamp(row["reserved_at"]),
            released_at=_timestamp(row["released_at"]),
        )


@dataclass(frozen=True)
class Reservation:
    item_id: str
    attempts: int
    #: ``None`` for a new item; ``lease`` or ``holder_gone`` for an item taken over from another holder
    reclaimed: str | None
    #: the folder of the item's files (``None``: the item id)
    files_dir: str | None = None


@dataclass(frozen=True)
class CreateResult:
    item_id: str
    #: ``created`` (new), ``reset`` (failed with APPLICATION, now new again) or ``kept``
    outcome: str
    #: stored file names of a reset item, to delete from disk
    dropped_files: tuple[str, ...] = ()
    #: the folder that held a reset item's files (``None``: the item id)
    dropped_dir: str | None = None


@dataclass(frozen=True)
class OpenReservation:
    """An item someone holds: for taking over dead holders and for ``reserved_elsewhere``."""

    item_id: str
    runner: str | None
    lease_until: float | None


class QueueStore:
    """All database work of the queue adapter."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self.database.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                self._upgrade(conn)

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Create the tables of a new database, or migrate an older one in place, in one transaction."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have been first
            exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items'").fetchone()
            if version == 1 and exists:
                statements: tuple[str, ...] = MIGRATE_1_TO_2
            elif version < SCHEMA_VERSION:
                statements = SCHEMA
            else:
                statements = ()
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.database, timeout=30, isolation_level=None)) as conn:
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA synchronous=NORMAL")
                yield conn
        except sqlite3.OperationalError as error:
            raise QueueStorageError(
                f"Warteschlangen-Datenbank '{self.database}' ist nicht nutzbar ({error}): Pfad, Rechte und "
                "freien Speicher prüfen, dann erneut starten."
            ) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- items -----------------------------------------------------------------------------------

    def create(
        self,
        queue: str,
        parent_id: str | None,
        payload: Any,
        key: str | None,
        now: float,
        files: dict[str, str] | None = None,
        files_dir: str | None = None,
    ) -> CreateResult:
        """Create an item with its file rows (``files``: name -> stored name in ``files_dir``) in one
        transaction; with a ``key``, keep an existing item or reset one that failed with APPLICATION."""
        data = json.dumps(payload, ensure_ascii=False)
        with self._transaction() as conn:
            if key is not None:
                row = conn.execute(
                    "SELECT id, status, files_dir FROM items WHERE queue = ? AND key = ?", (queue, key)
                ).fetchone()
                if row is not None:
                    if row["status"] != ItemState.FAILED_APPLICATION.value:
                        return CreateResult(str(row["id"]), "kept")
                    dropped = tuple(
                        r["stored"]
                        for r in conn.execute("SELECT stored FROM files WHERE item_id = ?", (row["id"],))
                    )
                    conn.execute("DELETE FROM files WHERE item_id = ?", (row["id"],))
                    conn.execute(
                        "UPDATE items SET status = ?, payload = ?, original_payload = ?, "
                        "parent_id = ?, exception_type = NULL, code = NULL, message = NULL, runner = NULL, "
                        "lease_until = NULL, reserved_at = NULL, released_at = NULL, updated_at = ?, files_dir = ? "
                        "WHERE id = ?",
                        (_NEW, data, data, parent_id, now, files_dir, row["id"]),
                    )
                    self._insert_files(conn, row["id"], files)
                    return CreateResult(str(row["id"]), "reset", dropped, row["files_dir"])
            cursor = conn.execute(
                "INSERT INTO items (queue, key, parent_id, status, payload, original_payload, created_at, "
                "updated_at, files_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (queue, key, parent_id, _NEW, data, data, now, now, files_dir),
            )
            self._insert_files(conn, cursor.lastrowid, files)
            return CreateResult(str(cursor.lastrowid), "created")

    @staticmethod
    def _insert_files(conn: sqlite3.Connection, item_id: int | None, files: dict[str, str] | None) -> None:
        conn.executemany(
            "INSERT INTO files (item_id, name, stored) VALUES (?, ?, ?)",
            [(item_id, name, stored) for name, stored in (files or {}).items()],
        )

    def reserve(
        self,
        queue: str,
        runner: str,
        now: float,
        lease_s: float,
        holder_gone: Callable[[str | None], bool] = lambda _runner: False,
    ) -> Reservation | None:
        """Reserve the oldest item that is new, whose lease ran out, or whose holder ``holder_gone``."""
        with self._transaction() as conn:
            found: tuple[int, str | None] | None = None
            gone: dict[str | None, bool] = {}
            for row in conn.execute(
                "SELECT id, status, runner, lease_until FROM items WHERE queue = ? AND status IN (?, ?) ORDER BY id",
                (queue, _NEW, _IN_PROGRESS),
            ):
                if row["status"] == _NEW:
                    found = (row["id"], None)
                elif row["lease_until"] is None or row["lease_until"] <= now:
                    found = (row["id"], "lease")
                elif row["runner"] != runner:
                    if row["runner"] not in gone:
                        gone[row["runner"]] = holder_gone(row["runner"])
                    if gone[row["runner"]]:
                        found = (row["id"], "holder_gone")
                if found is not None:
                    break
            if found is None:
                return None
            updated = conn.execute(
                "UPDATE items SET status = ?, runner = ?, lease_until = ?, reserved_at = ?, "
                "updated_at = ?, attempts = attempts + 1 WHERE id = ? RETURNING attempts, files_dir",
                (_IN_PROGRESS, runner, now + lease_s, now, now, found[0]),
            ).fetchone()
            return Reservation(str(found[0]), updated["attempts"], found[1], updated["files_dir"])

    def open_reservations(self, queue: str) -> list[OpenReservation]:
        """The items of ``queue`` that someone holds (``in_progress``), oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, runner, lease_until FROM items WHERE queue = ? AND status = ? ORDER BY id",
                (queue, _IN_PROGRESS),
            ).fetchall()
        return [OpenReservation(str(r["id"]), r["runner"], r["lease_until"]) for r in rows]

    def renew_lease(self, item_id: str, runner: str, now: float, lease_s: float) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE items SET lease_until = ?, updated_at = ? "
                "WHERE id = ? AND status = ? AND runner = ?",
                (now + lease_s, now, int(item_id), _IN_PROGRESS, runner),
            )
            return cursor.rowcount == 1

    def release(
        self,
        item_id: str,
        runner: str,
        status: ItemState,
        exception: dict[str, Any] | None,
        now: float,
    ) -> bool:
        exception = exception or {}
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE items SET status = ?, exception_type = ?, code = ?, message = ?, runner = NULL, "
                "lease_until = NULL, released_at = ?, updated_at = ? "
                "WHERE id = ? AND status = ? AND runner = ?",
                (
                    status.value,
                    exception.get("type"),
                    exception.get("code"),
                    exception.get("message"),
                    now,
                    now,
                    int(item_id),
                    _IN_PROGRESS,
                    runner,
                ),
            )
            return cursor.rowcount == 1

    def load_payload(self, item_id: str) -> Any:
        with self._connect() as conn:
            row = conn.execute("SELECT payload FROM items WHERE id = ?", (int(item_id),)).fetchone()
        return None if row is None else json.loads(row["payload"])

    def save_payload(self, item_id: str, payload: Any, now: float) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE items SET payload = ?, updated_at = ? WHERE id = ?",
                (json.dumps(payload, ensure_ascii=False), now, int(item_id)),
            )
            return cursor.rowcount == 1

    # -- files -----------------------------------------------------------------------------------

    def files_dir(self, item_id: str) -> str | None:
        """The folder of the item's files below the files root (``files_dir``, else the item id)."""
        with self._connect() as conn:
            row = conn.execute("SELECT files_dir FROM items WHERE id = ?", (int(item_id),)).fetchone()
        return str(item_id) if row is None or row["files_dir"] is None else row["files_dir"]

    def files_dirs(self) -> set[str]:
        """Every ``files_dir`` an item refers to."""
        with self._connect() as conn:
            rows = conn.execute("SELECT files_dir FROM items WHERE files_dir IS NOT NULL").fetchall()
        return {row["files_dir"] for row in rows}

    def list_files(self, item_id: str) -> dict[str, str]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT name, stored FROM files WHERE item_id = ? ORDER BY name", (int(item_id),)
            ).fetchall()
        return {row["name"]: row["stored"] for row in rows}

    def put_file(self, item_id: str, name: str, stored: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO files (item_id, name, stored) VALUES (?, ?, ?) "
                "ON CONFLICT (item_id, name) DO UPDATE SET stored = excluded.stored",
                (int(item_id), name, stored),
            )

    def delete_file(self, item_id: str, name: str) -> str | None:
        with self._transaction() as conn:
            row = conn.execute(
                "DELETE FROM files WHERE item_id = ? AND name = ? RETURNING stored", (int(item_id), name)
            ).fetchone()
        return None if row is None else row["stored"]

    # -- reports ---------------------------------------------------------------------------------

    def items(self, queue: str, status: ItemState | None = None) -> list[QueueItem]:
        query = "SELECT * FROM items WHERE queue = ?"
        params: list[Any] = [queue]
        if status is not None:
            query += " AND status = ?"
            params.append(status.value)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY id", params).fetchall()
            names: dict[int, list[str]] = {}
            for file_row in conn.execute(
                "SELECT f.item_id, f.name FROM files f JOIN items i ON i.id = f.item_id "
                "WHERE i.queue = ? ORDER BY f.name",
                (queue,),
            ):
                names.setdefault(file_row["item_id"], []).append(file_row["name"])
        return [QueueItem.from_row(row, tuple(names.get(row["id"], ()))) for row in rows]

    def item(self, item_id: str) -> QueueItem | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM items WHERE id = ?", (int(item_id),)).fetchone()
            if row is None:
                return None
            names = tuple(
                r["name"]
                for r in conn.execute("SELECT name FROM files WHERE item_id = ? ORDER BY name", (row["id"],))
            )
        return QueueItem.from_row(row, names)

    def counts(self, queue: str) -> list[tuple[str, str | None, int]]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT status, exception_type, COUNT(*) AS n FROM items WHERE queue = ? "
                "GROUP BY status, exception_type",
                (queue,),
            ).fetchall()
        return [(row["status"], row["exception_type"], row["n"]) for row in rows]

    def queues(self) -> list[str]:
        with self._connect() as conn:
            return [row["queue"] for row in conn.execute("SELECT DISTINCT queue FROM items ORDER BY queue")]
