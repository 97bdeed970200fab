"""SQLite storage of the sandbox Gewerberegister: one row per business, one per Vorgang (history).

The register assigns the Registernummer ``GEW-<year>-<5 digits>``. An entry is never deleted: an
Abmeldung sets its status to ``abgemeldet``; an Ummeldung changes its columns. Every operation adds a
Vorgang with its Eingangsreferenz, so the register's own history shows which notice caused what.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .fields import CHANGEABLE, CHOICE_LABELS, ENTRY_FIELDS, LABELS

_CHECKBOXES = {f.name for f in ENTRY_FIELDS if f.kind == "checkbox"}
# Column names come from the fixed field list in fields.py, never from a request.
_COLUMNS = [f.name for f in ENTRY_FIELDS]
_SEARCHABLE = {"registernummer", "status", *_COLUMNS}
#: What makes two Anmeldungen the same: owner, business and start.
DUPLICATE_KEYS = ("inhaber_name", "inhaber_vorname", "inhaber_geburtsdatum", "betrieb_name", "betrieb_beginn")


class RegisterError(Exception):
    """An operation the register refuses (unknown Registernummer)."""


class RegisterStore:
    """Entries and Vorgänge of one sandbox instance; the database file is created on first use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        columns = ", ".join(
            f"{name} INTEGER NOT NULL DEFAULT 0" if name in _CHECKBOXES else f"{name} TEXT NOT NULL DEFAULT ''"
            for name in _COLUMNS
        )
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS betriebe ("
                "id INTEGER PRIMARY KEY AUTOINCREMENT, registernummer TEXT UNIQUE, "
                "status TEXT NOT NULL DEFAULT 'angemeldet', abmeldung_datum TEXT NOT NULL DEFAULT '', "
                "abmeldung_grund TEXT NOT NULL DEFAULT '', erstellt_am TEXT NOT NULL, erstellt_von TEXT NOT NULL, "
                f"geaendert_am TEXT NOT NULL DEFAULT '', {columns})"
            )
            con.execute(
                "CREATE TABLE IF NOT EXISTS vorgaenge ("
                "id INTEGER PRIMARY KEY AUTOINCREMENT, betrieb_id INTEGER NOT NULL REFERENCES betriebe(id), "
                "art TEXT NOT NULL, wirksam_ab TEXT NOT NULL, beschreibung TEXT NOT NULL DEFAULT '', "
                "eingang_datum TEXT NOT NULL DEFAULT '', eingang_kanal TEXT NOT NULL DEFAULT '', "
                "eingang_referenz TEXT NOT NULL DEFAULT '', bemerkungen TEXT NOT NULL DEFAULT '', "
                "erfasst_am TEXT NOT NULL, erfasst_von TEXT NOT NULL)"
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

    # -- operations ------------------------------------------------------------------------------

    def anmelden(self, values: Mapping[str, Any], *, user: str) -> str:
        """Add a new entry with its Vorgang 'Anmeldung'; return its Registernummer."""
        now = _now()
        row = {name: _to_db(name, values.get(name)) for name in _COLUMNS}
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._lock, self._connect() as con:
            cursor = con.execute(
                f"INSERT INTO betriebe (erstellt_am, erstellt_von, {', '.join(_COLUMNS)}) "  # noqa: S608
                f"VALUES (?, ?, {placeholders})",
                [now, user, *row.values()],
            )
            number = cursor.lastrowid
            registernummer = f"GEW-{now[:4]}-{number:05d}"
            con.execute("UPDATE betriebe SET registernummer = ? WHERE id = ?", (registernummer, number))
            grund = CHOICE_LABELS["anmeldung_grund"].get(str(values.get("anmeldung_grund")), "")
            self._add_vorgang(con, number, "Anmeldung", row["betrieb_beginn"], grund, values, user, now)
        return registernummer

    def ummelden(self, registernummer: str, values: Mapping[str, Any], *, user: str) -> None:
        """Change the entry's changeable columns and record the Vorgang 'Ummeldung'."""
        now = _now()
        with self._lock, self._connect() as con:
            old = self._row(con, registernummer)
            changes = {name: _to_db(name, values.get(name)) for name in CHANGEABLE}
            described = [
                f"{LABELS[name]}: {_shown(name, old[name])} → {_shown(name, new)}"
                for name, new in changes.items() if str(old[name]) != str(new)
            ]
            art = CHOICE_LABELS["ummeldung_art"].get(str(values.get("ummeldung_art")), "Änderung")
            assignments = ", ".join(f"{name} = ?" for name in changes)
            con.execute(
                f"UPDATE betriebe SET {assignments}, geaendert_am = ? WHERE id = ?",  # noqa: S608
                [*changes.values(), now, old["id"]],
            )
            beschreibung = f"{art}: {'; '.join(described)}" if described else art
            self._add_vorgang(con, old["id"], "Ummeldung", str(values.get("ummeldung_datum") or ""),
                              beschreibung, values, user, now)

    def abmelden(self, registernummer: str, values: Mapping[str, Any], *, user: str) -> None:
        """Close the entry and record the Vorgang 'Abmeldung'."""
        now = _now()
        datum = str(values.get("abmeldung_datum") or "").strip()
        grund = str(values.get("abmeldung_grund") or "").strip()
        with self._lock, self._connect() as con:
            old = self._row(con, registernummer)
            con.execute(
                "UPDATE betriebe SET status = 'abgemeldet', abmeldung_datum = ?, abmeldung_grund = ?, "
                "geaendert_am = ? WHERE id = ?",
                (datum, grund, now, old["id"]),
            )
            self._add_vorgang(con, old["id"], "Abmeldung", datum,
                              CHOICE_LABELS["abmeldung_grund"].get(grund, grund), values, user, now)

    @staticmethod
    def _add_vorgang(
        con: sqlite3.Connection, betrieb_id: int, art: str, wirksam_ab: str, beschreibung: str,
        values: Mapping[str, Any], user: str, now: str,
    ) -> None:
        con.execute(
            "INSERT INTO vorgaenge (betrieb_id, art, wirksam_ab, beschreibung, eingang_datum, eingang_kanal, "
            "eingang_referenz, bemerkungen, erfasst_am, erfasst_von) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (betrieb_id, art, wirksam_ab, beschreibung, *(
                str(values.get(k) or "").replace("\r\n", "\n").strip()
                for k in ("eingang_datum", "eingang_kanal", "eingang_referenz", "bemerkungen")
            ), now, user),
        )

    @staticmethod
    def _row(con: sqlite3.Connection, registernummer: str) -> sqlite3.Row:
        row = con.execute("SELECT * FROM betriebe WHERE registernummer = ?", (registernummer,)).fetchone()
        if row is None:
            raise RegisterError(f"Eintrag {registernummer} gibt es nicht.")
        return row

    # -- reading ---------------------------------------------------------------------------------

    def get(self, registernummer: str) -> dict[str, Any] | None:
        """One entry with its Vorgänge (oldest first), or None."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM betriebe WHERE registernummer = ?", (registernummer,)).fetchone()
            if row is None:
                return None
            vorgaenge = con.execute("SELECT * FROM vorgaenge WHERE betrieb_id = ? ORDER BY id", (row["id"],))
            return _entry(row, [dict(v) for v in vorgaenge])

    def all(self) -> list[dict[str, Any]]:
        """Every entry with its Vorgänge, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM betriebe ORDER BY id").fetchall()
            history: dict[int, list[dict[str, Any]]] = {}
            for vorgang in con.execute("SELECT * FROM vorgaenge ORDER BY id"):
                history.setdefault(vorgang["betrieb_id"], []).append(dict(vorgang))
        return [_entry(row, history.get(row["id"], [])) for row in rows]

    def search(self, criteria: Mapping[str, str], *, exact: bool = False) -> list[dict[str, Any]]:
        """Entries whose columns start with (or, ``exact``, equal) the given texts, case-insensitive.

        Empty criteria are ignored; no criterion at all finds nothing.
        """
        clauses, params = [], []
        for name, raw in criteria.items():
            text = (raw or "").strip()
            if not text or name not in _SEARCHABLE:
                continue
            if exact or name == "status":
                clauses.append(f"lower({name}) = ?")
                params.append(_fold(text))
            else:
                clauses.append(f"lower({name}) LIKE ? ESCAPE '\\'")
                params.append(_fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if not clauses:
            return []
        with self._connect() as con:
            rows = con.execute(
                f"SELECT * FROM betriebe WHERE {' AND '.join(clauses)} ORDER BY id", params  # noqa: S608
            ).fetchall()
        return [_entry(r, []) for r in rows]

    def find_duplicate(self, values: Mapping[str, Any]) -> str | None:
        """Registernummer of an entry with the same owner, business name and start, if any."""
        where = " AND ".join(f"lower({k}) = ?" for k in DUPLICATE_KEYS)
        params = [_fold(str(values.get(k) or "").strip()) for k in DUPLICATE_KEYS]
        with self._connect() as con:
            row = con.execute(f"SELECT registernummer FROM betriebe WHERE {where}", params).fetchone()  # noqa: S608
        return row["registernummer"] if row else None

    def find_vorgang(self, registernummer: str, referenz: str) -> dict[str, Any] | None:
        """The entry's Vorgang with this Eingangsreferenz, if one was recorded."""
        if not referenz.strip():
            return None
        entry = self.get(registernummer)
        for vorgang in (entry or {}).get("vorgaenge", []):
            if vorgang["eingang_referenz"] == referenz.strip():
                return vorgang
        return None


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _to_db(name: str, value: Any) -> Any:
    if name in _CHECKBOXES:
        return 1 if value else 0
    return (value or "").replace("\r\n", "\n").strip() if isinstance(value, str) else (
        "" if value is None else str(value)
    )


def _shown(name: str, value: Any) -> str:
    text = str(value or "").replace("\n", " ")
    return CHOICE_LABELS.get(name, {}).get(text, text) or "–"


def _entry(row: sqlite3.Row, vorgaenge: list[dict[str, Any]]) -> dict[str, Any]:
    data = dict(row)
    data.pop("id", None)
    for name in _CHECKBOXES:
        data[name] = bool(data[name])
    data["vorgaenge"] = [{k: v for k, v in vorgang.items() if k not in ("id", "betrieb_id")} for vorgang in vorgaenge]
    return data
