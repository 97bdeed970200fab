"""Where work items live: the adapter interface and the devdata ``work-items.json`` file adapter.

The file adapter reads and writes the JSON format of rpaframework's ``FileAdapter`` and Robocorp's
``devdata/work-items-in/<case>/work-items.json``: a list of ``{"payload": {...}, "files": {name: path}}``
with file paths relative to the JSON file's folder.
"""

from __future__ import annotations

import json
import logging
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rathaus.files import safe_file_name as _safe_file_name
from rathaus.workitems.errors import (
    EmptyQueue,
    WorkItemFileMissingError,
    WorkItemsSetupError,
    WorkItemUsageError,
)
from rathaus.workitems.model import State
from rathaus.workitems.settings import Settings

LOG = logging.getLogger("rathaus.workitems")


def safe_file_name(name: str, default: str = "datei") -> str:
    """A work item file's name as stored: see :func:`rathaus.files.safe_file_name`."""
    return _safe_file_name(name, default)


def unique_stored_names(files: Iterable[str] | Mapping[str, Any], taken: Iterable[str] = ()) -> dict[str, str]:
    """The stored name of each file name: its safe name, numbered (``-2``, ``-3``) where two would clash or
    one is already ``taken``."""
    used = set(taken)
    result: dict[str, str] = {}
    for name in files:
        stored = safe_file_name(name)
        stem, dot, suffix = stored.rpartition(".")
        candidate, counter = stored, 1
        while candidate in used:
            counter += 1
            candidate = f"{stem}-{counter}.{suffix}" if dot and stem else f"{stored}-{counter}"
        used.add(candidate)
        result[name] = candidate
    return result


class BaseAdapter(ABC):
    """What the library needs from a work item store. Ids are strings."""

    #: save unsaved payload changes of an input item when it is released
    saves_on_release = False

    @abstractmethod
    def reserve_input(self) -> str:
        """Take the next input item and return its id; :class:`EmptyQueue` when there is none."""

    @abstractmethod
    def release_input(self, item_id: str, state: State, exception: dict[str, Any] | None = None) -> None:
        """Mark an input item as done or failed (``exception``: type, code, message)."""

    @abstractmethod
    def create_output(
        self,
        parent_id: str | None,
        payload: Any,
        key: str | None = None,
        files: dict[str, Path] | None = None,
    ) -> tuple[str, bool]:
        """Create an output item with its ``files`` (name -> source path) at once or not at all; return its id
        and whether it was created (``False``: an item with the same ``key`` was kept, ``files`` are ignored).

        No consumer may ever see the item without all of its files: an adapter makes the item and its files
        visible in one step (the queue adapter in one transaction, the file adapter in one write of its JSON).
        """

    @abstractmethod
    def load_payload(self, item_id: str) -> Any: ...

    @abstractmethod
    def save_payload(self, item_id: str, payload: Any) -> None: ...

    @abstractmethod
    def list_files(self, item_id: str) -> list[str]: ...

    @abstractmethod
    def get_file(self, item_id: str, name: str, target: Path) -> None:
        """Copy the attached file ``name`` to ``target``."""

    @abstractmethod
    def add_file(self, item_id: str, name: str, source: Path) -> None:
        """Attach a copy of ``source`` under ``name``."""

    @abstractmethod
    def remove_file(self, item_id: str, name: str) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing open
        """Free resources; the adapter may not be used afterwards."""


def _read_items(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkItemsSetupError(
            f"Work-Item-Datei '{path}' fehlt: RPA_INPUT_WORKITEM_PATH bzw. input_path prüfen."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WorkItemsSetupError(
            f"Work-Item-Datei '{path}' ist kein gültiges JSON ({error}): Datei korrigieren."
        ) from None
    if isinstance(data, dict):  # the old single-item mapping layout
        data = [{"payload": data.get("payload", data)}]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise WorkItemsSetupError(
            f"Work-Item-Datei '{path}' muss eine Liste von Objekten mit 'payload' und 'files' enthalten."
        )
    return data or [{"payload": {}}]


class FileAdapter(BaseAdapter):
    """Work items in ``work-items.json`` files, as in rpaframework and Robocorp's ``devdata``.

    Inputs come from ``settings.input_path`` (one empty item when unset); output items are written to
    ``settings.output_path`` (default ``<input>.output.json``) with their files copied to
    ``files/<n>/`` beside it. Releases are only logged, as in rpaframework.
    """

    def __init__(self, settings: Settings) -> None:
        self.input_path = settings.input_path.resolve() if settings.input_path else None
        configured = settings.output_path
        if configured is None and self.input_path is not None:
            configured = self.input_path.with_suffix(".output.json")
        self.output_path = configured.resolve() if configured else None
        self.inputs: list[dict[str, Any]] = (
            _read_items(self.input_path) if self.input_path else [{"payload": {}}]
        )
        self.outputs: list[dict[str, Any]] = []
        self.released: dict[str, tuple[State, dict[str, Any] | None]] = {}
        self._keys: dict[str, str] = {}
        self._index = 0

    def _locate(self, item_id: str) -> tuple[str, dict[str, Any], int]:
        try:
            index = int(item_id)
        except ValueError:
            index = -1
        if 0 <= index < len(self.inputs):
            return "input", self.inputs[index], index
        if len(self.inputs) <= index < len(self.inputs) + len(self.outputs):
            return "output", self.outputs[index - len(self.inputs)], index - len(self.inputs)
        raise WorkItemUsageError(f"Arbeitselement '{item_id}' ist unbekannt.")

    def _folder(self, source: str) -> Path:
        path = self.input_path if source == "input" else self.output_path
        if path is None:
            return Path.cwd()
        return path.parent

    def _write(self, source: str) -> None:
        if source == "input":
            if self.input_path is None:
                return
            path, items = self.input_path, self.inputs
        else:
            if self.output_path is None:
                raise WorkItemsSetupError(
                    "Kein Ziel für Ausgangs-Arbeitselemente: RPA_OUTPUT_WORKITEM_PATH oder output_path setzen."
                )
            path, items = self.output_path, self.outputs
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(items, ensure_ascii=False, indent=4), encoding="utf-8")
        temporary.replace(path)

    def reserve_input(self) -> str:
        if self._index >= len(self.inputs):
            raise EmptyQueue("Keine weiteren Arbeitselemente in der Work-Item-Datei.")
        self._index += 1
        return str(self._index - 1)

    def release_input(self, item_id: str, state: State, exception: dict[str, Any] | None = None) -> None:
        self.released[item_id] = (state, exception)
        LOG.info(
            "action=release item=%s state=%s type=%s code=%s",
            item_id, state.name, (exception or {}).get("type"), (exception or {}).get("code"),
        )

    def create_output(
        self,
        parent_id: str | None,
        payload: Any,
        key: str | None = None,
        files: dict[str, Path] | None = None,
    ) -> tuple[str, bool]:
        if key is not None and key in self._keys:
            return self._keys[key], False
        if self.output_path is None:
            self._write("output")  # fails with the German message of a missing target
        sources = files or {}
        index = len(self.outputs)
        entries: dict[str, str] = {}
        for name, stored in unique_stored_names(sources).items():
            relative = Path("files", str(index), stored)
            target = self._folder("output") / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if Path(sources[name]).resolve() != target.resolve():
                shutil.copyfile(sources[name], target)
            entries[name] = relative.as_posix()
        self.outputs.append({"payload": payload, "files": entries})
        try:
            self._write("output")
        except BaseException:
            self.outputs.pop()
            raise
        item_id = str(len(self.inputs) + len(self.outputs) - 1)
        if key is not None:
            self._keys[key] = item_id
        return item_id, True

    def load_payload(self, item_id: str) -> Any:
        return self._locate(item_id)[1].get("payload", {})

    def save_payload(self, item_id: str, payload: Any) -> None:
        source, item, _ = self._locate(item_id)
        item["payload"] = payload
        self._write(source)

    def list_files(self, item_id: str) -> list[str]:
        return list(self._locate(item_id)[1].get("files") or {})

    def get_file(self, item_id: str, name: str, target: Path) -> None:
        source, item, _ = self._locate(item_id)
        files = item.get("files") or {}
        if name not in files:
            raise WorkItemFileMissingError(f"Arbeitselement {item_id} hat keine Datei '{name}'.")
        path = Path(files[name])
        if not path.is_absolute():
            path = self._folder(source) / path
        if not path.is_file():
            raise WorkItemFileMissingError(
                f"Datei '{name}' von Arbeitselement {item_id} fehlt auf der Platte ('{path}'): "
                "devdata-Ordner prüfen."
            )
        if path.resolve() != Path(target).resolve():
            shutil.copyfile(path, target)

    def add_file(self, item_id: str, name: str, source: Path) -> None:
        kind, item, index = self._locate(item_id)
        files = item.setdefault("files", {})
        relative = Path(safe_file_name(name)) if kind == "input" else Path("files", str(index), safe_file_name(name))
        target = self._folder(kind) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(source).resolve() != target.resolve():
            shutil.copyfile(source, target)
        files[name] = relative.as_posix()
        self._write(kind)

    def remove_file(self, item_id: str, name: str) -> None:
        kind, item, _ = self._locate(item_id)
        (item.get("files") or {}).pop(name, None)
        self._write(kind)
