"""Unexpected failures of one case in a row, counted across runs, so that one bad input cannot block a process.

A case (a mail, a file, a work item key) whose processing fails with an *unexpected* error (no business or
application error of a rathaus keyword, but an exception nobody foresaw) stays in the inbox and is tried again
on the next run: the cause may be fixed by then. If it fails that way ``limit`` times in a row, it is handed to a
clerk (the mail goes to the review folder) with a note saying why, so that the other cases keep flowing.

The counts live in a small JSON file per robot (the *ledger*), apart from the work item queue, because a
producer that creates a case's work item again replaces its payload. Any other outcome of the case (done,
business error, an expected application error) ends the row: :meth:`FailureLedger.clear`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: Unexpected failures in a row after which a case goes to a clerk, unless the process configures another.
DEFAULT_LIMIT = 3
#: Longest failure message kept per case.
_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class FailureCount:
    """How often a case has failed unexpectedly in a row, and whether that reaches the limit."""

    key: str
    count: int
    limit: int
    message: str

    @property
    def reached(self) -> bool:
        return self.count >= self.limit

    @property
    def note(self) -> str:
        """The German note for the clerk when the limit is reached."""
        return (
            f"{self.key}: Die Verarbeitung ist {self.count}-mal hintereinander mit einem unerwarteten Fehler "
            f"abgebrochen (zuletzt: {self.message}). Sie wird nicht mehr automatisch wiederholt; bitte den Fall "
            "von Hand bearbeiten und das RPA-Team mit dieser Meldung informieren."
        )


class FailureLedger:
    """The consecutive unexpected failures per case key, in a JSON file that survives runs."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The ledger's entries, locked against a parallel run, written back atomically afterwards."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            before = json.dumps(entries, sort_keys=True)
            yield entries
            if json.dumps(entries, sort_keys=True) != before:
                self._write(entries)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):  # a damaged ledger starts afresh rather than blocking the run
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(entries, file, ensure_ascii=False, indent=1, sort_keys=True)
        os.replace(temporary, self.path)

    def record(self, key: str, message: str, limit: int = DEFAULT_LIMIT) -> FailureCount:
        """Count one more unexpected failure of ``key``; returns the count in a row and whether it reaches ``limit``."""
        text = " ".join(str(message).split())[:_MESSAGE_LIMIT] or "ohne Meldung"
        with self._locked() as entries:
            entry = entries.get(key) if isinstance(entries.get(key), dict) else {}
            count = int(entry.get("anzahl", 0)) + 1
            entries[key] = {"anzahl": count, "meldung": text, "zuletzt": datetime.now(timezone.utc).isoformat()}
        return FailureCount(key, count, max(1, int(limit)), text)

    def count(self, key: str) -> int:
        """The unexpected failures of ``key`` in a row so far (0 when none)."""
        entry = self._read().get(key)
        return int(entry.get("anzahl", 0)) if isinstance(entry, dict) else 0

    def clear(self, key: str) -> int:
        """End the row of ``key`` (it was processed some other way); returns the count it had."""
        if not self.path.exists():
            return 0
        with self._locked() as entries:
            entry = entries.pop(key, None)
        return int(entry.get("anzahl", 0)) if isinstance(entry, dict) else 0
