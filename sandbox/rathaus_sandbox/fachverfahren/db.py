"""SQLite storage of the sandbox's cases: one column per form field plus Aktenzeichen, status and timestamps."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .fields import STORED_FIELDS

_CHECKBOXES = {f.name for f in STORED_FIELDS if f.kind == "checkbox"}
# Column names come from the fixed field list in fields.py, never from a request.
_COLUMNS = [f.name for f in STORED_FIELDS]


class CaseStore:
    """Cases of one sandbox instance; the database file is created on first use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            columns = ", ".join(
                f"{name} INTEGER NOT NULL DEFAULT 0" if name in _CHECKBOXES else f"{name} TEXT NOT NULL DEFAULT ''"
                for name in _COLUMNS
            )
            con.execute(
                "CREATE TABLE IF NOT EXISTS faelle ("
                "id INTEGER PRIMARY KEY AUTOINCREMENT, aktenzeichen TEXT UNIQUE, "
                "status TEXT NOT NULL, erstellt_am TEXT NOT NULL, erstellt_von TEXT NOT NULL, "
                f"anlage_dateiname TEXT NOT NULL DEFAULT '', anlage_bytes INTEGER NOT NULL DEFAULT 0, {columns})"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        # SQLite's own lower() knows ASCII only; umlauts (Müller/MÜLLER) need Python's casefold.
        con.create_function("lower", 1, _fold, deterministic=True)
        try:
            with con:
                yield con
        finally:
            con.close()

    def add(
        self, values: Mapping[str, Any], *, user: str, attachment_name: str = "", attachment_bytes: int = 0
    ) -> str:
        """Store a new case and return its Aktenzeichen ``UVG-<year>-<6 digits>``."""
        now = datetime.now().astimezone()
        row = {name: _to_db(name, values.get(name)) for name in _COLUMNS}
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._lock, self._connect() as con:
            cursor = con.execute(
                "INSERT INTO faelle (status, erstellt_am, erstellt_von, anlage_dateiname, anlage_bytes, "  # noqa: S608
                f"{', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, {placeholders})",
                ["neu", now.isoformat(timespec="seconds"), user, attachment_name, attachment_bytes,
                 *row.values()],
            )
            number = cursor.lastrowid
            aktenzeichen = f"UVG-{now.year}-{number:06d}"
            con.execute("UPDATE faelle SET aktenzeichen = ? WHERE id = ?", (aktenzeichen, number))
        return aktenzeichen

    def all(self) -> list[dict[str, Any]]:
        """Every case, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM faelle ORDER BY id").fetchall()
        return [_from_db(r) for r in rows]

    def get(self, aktenzeichen: str) -> dict[str, Any] | None:
        """One case by Aktenzeichen, or None."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM faelle WHERE aktenzeichen = ?", (aktenzeichen,)).fetchone()
        return _from_db(row) if row else None

    def search(self, criteria: Mapping[str, str]) -> list[dict[str, Any]]:
        """Cases whose columns start with the given texts (case-insensitive); empty criteria are ignored."""
        allowed = {"aktenzeichen", *_COLUMNS}
        clauses, params = [], []
        for name, raw in criteria.items():
            text = (raw or "").strip()
            if not text or name not in allowed:
                continue
            clauses.append(f"lower({name}) LIKE ? ESCAPE '\\'")
            params.append(_fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        where = " AND ".join(clauses) or "1=1"
        with self._connect() as con:
            rows = con.execute(f"SELECT * FROM faelle WHERE {where} ORDER BY id", params).fetchall()  # noqa: S608
        return [_from_db(r) for r in rows]

    def find_duplicate(self, values: Mapping[str, str]) -> str | None:
        """Aktenzeichen of a case with the same applicant and the same child (name, first name, birth date)."""
        keys = (
            "antragsteller_name", "antragsteller_vorname", "antragsteller_geburtsdatum",
            "kind_name", "kind_vorname", "kind_geburtsdatum",
        )
        where = " AND ".join(f"lower({k}) = ?" for k in keys)
        params = [_fold((values.get(k) or "").strip()) for k in keys]
        with self._connect() as con:
            row = con.execute(f"SELECT aktenzeichen FROM faelle WHERE {where}", params).fetchone()  # noqa: S608
        return row["aktenzeichen"] if row else None


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _to_db(name: str, value: Any) -> Any:
    if name in _CHECKBOXES:
        return 1 if value else 0
    return (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value))


def _from_db(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data.pop("id", None)
    for name in _CHECKBOXES:
        data[name] = bool(data[name])
    return data
