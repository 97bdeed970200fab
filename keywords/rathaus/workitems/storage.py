"""Every SQL statement of the work item queue: one SQLite file in WAL mode, safe across processes.

Writes run in ``BEGIN IMMEDIATE`` transactions, so reserving an item and creating an item with a key
are atomic even with several consumers in several processes. Each call opens and closes its own
connection: nothing stays open between keywords, and threads never share a connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from rathaus.workitems.errors import QueueStorageError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    key TEXT,
    parent_id TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
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
    released_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS items_queue_key ON items (queue, key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_queue_status ON items (queue, status, id);
CREATE TABLE IF NOT EXISTS files (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    stored TEXT NOT NULL,
    PRIMARY KEY (item_id, name)
);
"""


class Status(Enum):
    """Where an item stands in its queue."""

    #: waiting for a consumer
    PENDING = "pending"
    #: reserved by a consumer whose lease has not run out yet
    IN_PROGRESS = "in_progress"
    #: released as done
    DONE = "done"
    #: released as failed; ``exception_type`` says BUSINESS or APPLICATION
    FAILED = "failed"


def _timestamp(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value is not None else None


@dataclass(frozen=True)
class QueueItem:
    """One row of the queue, for reports such as the summary after ``rathaus run``."""

    id: str
    queue: str
    key: str | None
    parent_id: str | None
    status: Status
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
            status=Status(row["status"]),
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
    reclaimed: bool


@dataclass(frozen=True)
class CreateResult:
    item_id: str
    #: ``created`` (new), ``reset`` (failed with APPLICATION, now pending again) or ``kept``
    outcome: str
    #: stored file names of a reset item, to delete from disk
    dropped_files: tuple[str, ...] = ()


class QueueStore:
    """All database work of the queue adapter."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self.database.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};COMMIT;")

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
        self, queue: str, parent_id: str | None, payload: Any, key: str | None, now: float
    ) -> CreateResult:
        data = json.dumps(payload, ensure_ascii=False)
        with self._transaction() as conn:
            if key is not None:
                row = conn.execute(
                    "SELECT id, status, exception_type FROM items WHERE queue = ? AND key = ?", (queue, key)
                ).fetchone()
                if row is not None:
                    retry = row["status"] == Status.FAILED.value and row["exception_type"] != "BUSINESS"
                    if not retry:
                        return CreateResult(str(row["id"]), "kept")
                    dropped = tuple(
                        r["stored"]
                        for r in conn.execute("SELECT stored FROM files WHERE item_id = ?", (row["id"],))
                    )
                    conn.execute("DELETE FROM files WHERE item_id = ?", (row["id"],))
                    conn.execute(
                        "UPDATE items SET status = 'pending', payload = ?, original_payload = ?, "
                        "parent_id = ?, exception_type = NULL, code = NULL, message = NULL, runner = NULL, "
                        "lease_until = NULL, reserved_at = NULL, released_at = NULL, updated_at = ? "
                        "WHERE id = ?",
                        (data, data, parent_id, now, row["id"]),
                    )
                    return CreateResult(str(row["id"]), "reset", dropped)
            cursor = conn.execute(
                "INSERT INTO items (queue, key, parent_id, payload, original_payload, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (queue, key, parent_id, data, data, now, now),
            )
            return CreateResult(str(cursor.lastrowid), "created")

    def reserve(self, queue: str, runner: str, now: float, lease_s: float) -> Reservation | None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT id, status FROM items WHERE queue = ? AND (status = 'pending' OR "
                "(status = 'in_progress' AND lease_until <= ?)) ORDER BY id LIMIT 1",
                (queue, now),
            ).fetchone()
            if row is None:
                return None
            updated = conn.execute(
                "UPDATE items SET status = 'in_progress', runner = ?, lease_until = ?, reserved_at = ?, "
                "updated_at = ?, attempts = attempts + 1 WHERE id = ? RETURNING attempts",
                (runner, now + lease_s, now, now, row["id"]),
            ).fetchone()
            return Reservation(str(row["id"]), updated["attempts"], row["status"] == "in_progress")

    def renew_lease(self, item_id: str, runner: str, now: float, lease_s: float) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE items SET lease_until = ?, updated_at = ? "
                "WHERE id = ? AND status = 'in_progress' AND runner = ?",
                (now + lease_s, now, int(item_id), runner),
            )
            return cursor.rowcount == 1

    def release(
        self,
        item_id: str,
        runner: str,
        status: Status,
        exception: dict[str, Any] | None,
        now: float,
    ) -> bool:
        exception = exception or {}
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE items SET status = ?, exception_type = ?, code = ?, message = ?, runner = NULL, "
                "lease_until = NULL, released_at = ?, updated_at = ? "
                "WHERE id = ? AND status = 'in_progress' AND runner = ?",
                (
                    status.value,
                    exception.get("type"),
                    exception.get("code"),
                    exception.get("message"),
                    now,
                    now,
                    int(item_id),
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

    def items(self, queue: str, status: Status | None = None) -> list[QueueItem]:
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
