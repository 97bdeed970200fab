"""Work items as a robot sees them: a JSON payload with files, released once as DONE or FAILED."""

from __future__ import annotations

import copy
import json
import shutil
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rathaus.workitems.errors import WorkItemFileMissingError, WorkItemUsageError

if TYPE_CHECKING:
    from rathaus.workitems.adapters import BaseAdapter


class State(Enum):
    """How an input work item was released; values as in ``RPA.Robocorp.WorkItems``."""

    #: processed successfully
    DONE = "COMPLETED"
    #: processing failed; see the item's exception type, code and message
    FAILED = "FAILED"

    @classmethod
    def parse(cls, value: State | str) -> State:
        if isinstance(value, State):
            return value
        text = str(value).strip().upper()
        if text in ("DONE", "COMPLETED"):
            return cls.DONE
        if text == "FAILED":
            return cls.FAILED
        raise WorkItemUsageError(f"Unbekannter Status '{value}': erlaubt sind DONE oder FAILED.")


class Error(Enum):
    """Why an input work item failed, as in ``RPA.Robocorp.WorkItems``."""

    #: the case's data is wrong or incomplete: a clerk handles it, retrying does not help
    BUSINESS = "BUSINESS"
    #: a system around the case failed (timeout, server down): the item can be retried
    APPLICATION = "APPLICATION"

    @classmethod
    def parse(cls, value: Error | str) -> Error:
        if isinstance(value, Error):
            return value
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise WorkItemUsageError(
                f"Unbekannter Fehlertyp '{value}': erlaubt sind BUSINESS oder APPLICATION."
            ) from None


def _json_copy(payload: Any) -> Any:
    return copy.deepcopy(payload)


#: a new output item's variable that holds its unique key in the queue (idempotent creation): rathaus takes it out
#: of the payload; rpaframework keeps it as an ordinary variable, so a producer runs on both libraries
KEY_VARIABLE = "work_item_key"


class WorkItem:
    """One input or output work item: its payload, files and (for inputs) its release state.

    Changes stay local until :meth:`save`; an output item gets its id when first saved.
    """

    def __init__(
        self,
        adapter: BaseAdapter,
        item_id: str | None = None,
        parent_id: str | None = None,
        key: str | None = None,
    ) -> None:
        if item_id is None and key is not None and not str(key).strip():
            raise WorkItemUsageError("Schlüssel eines Arbeitselements darf nicht leer sein.")
        self.adapter = adapter
        self.id = item_id
        self.parent_id = parent_id
        self.key = key
        #: set once on release; ``None`` while the item is open
        self.state: State | None = None
        #: ``{"type", "code", "message"}`` when released as FAILED with an exception type
        self.exception: dict[str, str | None] | None = None
        #: ``False`` when saving found an existing item with the same key and kept it
        self.created = True
        self._payload: Any = {}
        self._saved_payload: Any = {}
        self._files: list[str] = []
        self._files_to_add: dict[str, Path] = {}
        self._files_to_remove: list[str] = []

    def __repr__(self) -> str:
        return f"WorkItem(id={self.id}, key={self.key!r}, files={len(self.files)}, state={self.state})"

    def _take_key(self) -> None:
        """A new output item's key from its variable :data:`KEY_VARIABLE` (taken out of the payload)."""
        if not isinstance(self._payload, dict) or KEY_VARIABLE not in self._payload:
            return
        payload = dict(self._payload)
        key = payload.pop(KEY_VARIABLE)
        if key is None or not str(key).strip():
            raise WorkItemUsageError(f"Die Variable '{KEY_VARIABLE}' (Schlüssel des Arbeitselements) ist leer.")
        self._payload, self.key = payload, str(key)

    @property
    def payload(self) -> Any:
        return self._payload

    @payload.setter
    def payload(self, value: Any) -> None:
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise WorkItemUsageError(
                "Nutzdaten eines Arbeitselements müssen als JSON speicherbar sein (Text, Zahl, Liste, "
                "Dictionary)."
            ) from None
        self._payload = value

    @property
    def files(self) -> list[str]:
        """Names of the attached files, including those added but not yet saved."""
        current = {name for name in self._files if name not in self._files_to_remove}
        current.update(self._files_to_add)
        return sorted(current)

    @property
    def is_dirty(self) -> bool:
        return (
            self.id is None
            or self._payload != self._saved_payload
            or bool(self._files_to_add)
            or bool(self._files_to_remove)
        )

    def load(self) -> None:
        """Read payload and file names from the adapter, dropping local changes."""
        if self.id is None:
            return
        loaded = self.adapter.load_payload(self.id)
        self._payload = _json_copy(loaded)
        self._saved_payload = _json_copy(loaded)
        self._files = list(self.adapter.list_files(self.id))
        self._files_to_add = {}
        self._files_to_remove = []

    def save(self) -> None:
        """Write payload and file changes; creates the item in its queue on first save.

        The first save creates the item with its payload and all files added so far in one step of the
        adapter: a consumer never sees the item without them, even when the producer dies while saving.
        """
        if self.id is None:
            files = dict(self._files_to_add)
            self._take_key()
            self.id, self.created = self.adapter.create_output(
                self.parent_id, self._payload, key=self.key, files=files or None
            )
            if not self.created:
                self.load()
                return
            self._saved_payload = _json_copy(self._payload)
            self._files = sorted(files)
            self._files_to_add = {}
            self._files_to_remove = []
            return
        self.adapter.save_payload(self.id, self._payload)
        for name in self._files_to_remove:
            self.adapter.remove_file(self.id, name)
        for name, source in self._files_to_add.items():
            self.adapter.add_file(self.id, name, source)
        self._saved_payload = _json_copy(self._payload)
        self._files = self.files
        self._files_to_add = {}
        self._files_to_remove = []

    def add_file(self, path: Path | str, name: str | None = None) -> str:
        source = Path(path).resolve()
        if not source.is_file():
            raise WorkItemFileMissingError(
                f"Datei '{source}' für das Arbeitselement fehlt: Pfad prüfen."
            )
        name = name or source.name
        self._files_to_add[name] = source
        if name in self._files_to_remove:
            self._files_to_remove.remove(name)
        return name

    def remove_file(self, name: str, missing_ok: bool = True) -> str:
        if name not in self.files and not missing_ok:
            raise WorkItemFileMissingError(f"Arbeitselement {self.id} hat keine Datei '{name}'.")
        if name in self._files and name not in self._files_to_remove:
            self._files_to_remove.append(name)
        self._files_to_add.pop(name, None)
        return name

    def get_file(self, name: str, target: Path) -> Path:
        if name not in self.files:
            known = ", ".join(self.files) or "keine"
            raise WorkItemFileMissingError(
                f"Arbeitselement {self.id} hat keine Datei '{name}' (vorhanden: {known})."
            )
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if name in self._files_to_add:
            source = self._files_to_add[name]
            if source.resolve() != target.resolve():
                shutil.copy2(source, target)
        else:
            assert self.id is not None
            self.adapter.get_file(self.id, name, target)
        return target.resolve()
