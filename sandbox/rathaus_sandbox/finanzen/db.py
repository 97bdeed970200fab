"""SQLite storage of the Rechnungseingangsbuch: one row per entered invoice, all SQL in this module."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .fields import FIELDS
from .validation import parse_amount, parse_date

# Column names come from the fixed field list in fields.py, never from a request.
_COLUMNS = [f.name for f in FIELDS]
_AMOUNTS = {f.name for f in FIELDS if f.kind == "amount"}
_DATES = {f.name for f in FIELDS if f.kind == "date"}


def duplicate_key(lieferant: str, rechnungsnummer: str) -> str:
    """Supplier and invoice number as the finance system compares them: case and blanks do not matter."""
    return f"{_squash(lieferant)}|{_squash(rechnungsnummer)}"


class InvoiceStore:
    """The entries of one sandbox instance; the database file is created on first use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            columns = ", ".join(
                f"{name} INTEGER NOT NULL DEFAULT 0" if name == "positionen" else f"{name} TEXT NOT NULL DEFAULT ''"
                for name in _COLUMNS
            )
            con.execute(
                "CREATE TABLE IF NOT EXISTS rechnungen ("
                "id INTEGER PRIMARY KEY AUTOINCREMENT, belegnummer TEXT UNIQUE, status TEXT NOT NULL, "
                "erfasst_am TEXT NOT NULL, erfasst_von TEXT NOT NULL, dublettenschluessel TEXT NOT NULL UNIQUE, "
                f"{columns})"
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

    def add(self, values: Mapping[str, Any], *, user: str) -> str:
        """Store a validated entry and return its Belegnummer ``ER-<year>-<6 digits>``.

        Raises ``sqlite3.IntegrityError`` when supplier and invoice number are entered already.
        """
        now = datetime.now().astimezone()
        row = {name: _to_db(name, values.get(name)) for name in _COLUMNS}
        placeholders = ", ".join("?" for _ in _COLUMNS)
        key = duplicate_key(row["lieferant"], row["rechnungsnummer"])
        with self._lock, self._connect() as con:
            cursor = con.execute(
                "INSERT INTO rechnungen (status, erfasst_am, erfasst_von, dublettenschluessel, "  # noqa: S608
                f"{', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, {placeholders})",
                ["erfasst", now.isoformat(timespec="seconds"), user, key, *row.values()],
            )
            number = cursor.lastrowid
            belegnummer = f"ER-{now.year}-{number:06d}"
            con.execute("UPDATE rechnungen SET belegnummer = ? WHERE id = ?", (belegnummer, number))
        return belegnummer

    def all(self) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM rechnungen ORDER BY id").fetchall()
        return [_from_db(r) for r in rows]

    def get(self, belegnummer: str) -> dict[str, Any] | None:
        """One entry by Belegnummer, or None."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM rechnungen WHERE belegnummer = ?", (belegnummer,)).fetchone()
        return _from_db(row) if row else None

    def search(self, criteria: Mapping[str, str]) -> list[dict[str, Any]]:
        """Entries matching all given criteria; empty criteria are ignored.

        ``lieferant`` matches when the supplier's name contains the text, ``rechnungsnummer`` only when it
        is the same number (both ignoring case and surrounding blanks), ``leitweg_id`` and ``belegnummer``
        match from the start.
        """
        clauses, params = [], []
        for name, raw in criteria.items():
            text = _squash_blanks(raw or "")
            if not text:
                continue
            if name == "lieferant":
                clauses.append("lower(lieferant) LIKE ? ESCAPE '\\'")
                params.append("%" + _like(text) + "%")
            elif name == "rechnungsnummer":
                clauses.append("lower(rechnungsnummer) = ?")
                params.append(_fold(text))
            elif name in ("leitweg_id", "belegnummer"):
                clauses.append(f"lower({name}) LIKE ? ESCAPE '\\'")
                params.append(_like(text) + "%")
        where = " AND ".join(clauses) or "1=1"
        with self._connect() as con:
            rows = con.execute(f"SELECT * FROM rechnungen WHERE {where} ORDER BY id", params).fetchall()  # noqa: S608
        return [_from_db(r) for r in rows]

    def find_duplicate(self, lieferant: str, rechnungsnummer: str) -> str | None:
        """Belegnummer of an entry with the same supplier and invoice number, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT belegnummer FROM rechnungen WHERE dublettenschluessel = ?",
                (duplicate_key(lieferant, rechnungsnummer),),
            ).fetchone()
        return row["belegnummer"] if row else None


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _squash_blanks(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def _squash(text: str) -> str:
    return _fold(_squash_blanks(text or ""))


def _like(text: str) -> str:
    return _fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _to_db(name: str, value: Any) -> Any:
    text = _squash_blanks(value) if isinstance(value, str) and name != "bemerkung" else (value or "")
    if name == "positionen":
        return int(text or 0)
    if name in _AMOUNTS:
        amount = parse_amount(text)
        return "" if amount is None else f"{amount:.2f}"
    if name in _DATES:
        day = parse_date(text) if text else None
        return day.isoformat() if day else ""
    if name == "leitweg_id":
        return text.upper()
    return text if isinstance(text, str) else str(text)


def _from_db(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data.pop("id", None)
    data.pop("dublettenschluessel", None)
    return data
