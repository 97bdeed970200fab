"""State shared by the WorkItems components: settings, the adapter, the input and output items."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rathaus import errors as base_errors
from rathaus.workitems.adapters import BaseAdapter, FileAdapter
from rathaus.workitems.errors import WorkItemUsageError
from rathaus.workitems.model import Error, State, WorkItem
from rathaus.workitems.queue import QueueAdapter
from rathaus.workitems.settings import Settings

LOG = logging.getLogger("rathaus.workitems")

#: Code recorded for failures that are no rathaus error (a Python exception, a failing Robot keyword).
UNEXPECTED_CODE = "UNEXPECTED_ERROR"


def make_adapter(settings: Settings) -> BaseAdapter:
    """The adapter that ``settings.adapter`` names."""
    if settings.adapter == "file":
        return FileAdapter(settings)
    if settings.adapter == "controlroom":
        from rathaus.workitems.controlroom import ControlRoomAdapter

        return ControlRoomAdapter(settings)
    return QueueAdapter(settings)


def classify(error: BaseException) -> tuple[Error, str, str]:
    """Exception type, code and one-line message to release a failed item with."""
    found: BaseException = error
    recent = getattr(base_errors, "recent_error", None)
    if not isinstance(error, base_errors.RathausError) and recent is not None:
        found = recent(str(error)) or error
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(found, base_errors.BusinessError):
        return Error.BUSINESS, found.code, message
    if isinstance(found, base_errors.RathausError):
        return Error.APPLICATION, found.code, message
    return Error.APPLICATION, UNEXPECTED_CODE, message


class WorkItemsContext:
    """The state of one library instance."""

    def __init__(
        self, settings: Settings, adapter: BaseAdapter | None, autoload: bool, root: str | None
    ) -> None:
        self.settings = settings
        self._adapter = adapter
        self.autoload = autoload
        self.root = root
        self.inputs: list[WorkItem] = []
        self.outputs: list[WorkItem] = []
        self._current: WorkItem | None = None
        self.iterating = False

    @property
    def adapter(self) -> BaseAdapter:
        if self._adapter is None:
            self._adapter = make_adapter(self.settings)
        return self._adapter

    @property
    def current(self) -> WorkItem:
        if self._current is None and self.autoload and not self.inputs:
            self.load_next_input()
        if self._current is None:
            raise WorkItemUsageError(
                "Kein aktuelles Arbeitselement: zuerst 'Get Input Work Item' oder 'Create Output Work Item' "
                "aufrufen."
            )
        return self._current

    @current.setter
    def current(self, item: WorkItem) -> None:
        if not isinstance(item, WorkItem):
            raise WorkItemUsageError(f"'{item}' ist kein Arbeitselement.")
        self._current = item

    @property
    def active_input(self) -> WorkItem | None:
        if self._current is not None and self._current in self.inputs:
            return self._current
        return self.inputs[-1] if self.inputs else None

    def load_next_input(self) -> WorkItem:
        self.release(State.DONE, internal=True)
        item_id = self.adapter.reserve_input()
        item = WorkItem(self.adapter, item_id=item_id)
        item.load()
        self.inputs.append(item)
        self._current = item
        return item

    def variables(self) -> dict[str, Any]:
        payload = self.current.payload
        if not isinstance(payload, dict):
            raise WorkItemUsageError(
                f"Nutzdaten von Arbeitselement {self.current.id} sind kein Dictionary "
                f"({type(payload).__name__}): 'Get Work Item Payload' verwenden."
            )
        if self.root is not None:
            return payload.setdefault(self.root, {})
        return payload

    def release(
        self,
        state: State | str,
        exception_type: Error | str | None = None,
        code: str | None = None,
        message: str | None = None,
        *,
        internal: bool = False,
    ) -> None:
        item = self.active_input
        if item is None:
            if internal:
                return
            raise WorkItemUsageError(
                "Kein Eingabe-Arbeitselement zum Freigeben: zuerst 'Get Input Work Item' aufrufen."
            )
        if item.state is not None:
            if internal:
                return
            raise WorkItemUsageError(f"Arbeitselement {item.id} wurde bereits freigegeben ({item.state.name}).")
        state = State.parse(state)
        exception: dict[str, Any] | None = None
        if state is State.FAILED:
            if exception_type is not None and str(getattr(exception_type, "value", exception_type)).strip():
                exception = {"type": Error.parse(exception_type).value, "code": code, "message": message}
            elif code or message:
                raise WorkItemUsageError(
                    "Bei FAILED mit Code oder Meldung bitte auch exception_type BUSINESS oder APPLICATION "
                    "angeben."
                )
        if self.adapter.saves_on_release and item.is_dirty:
            item.save()
        self.adapter.release_input(item.id, state, exception)  # type: ignore[arg-type]
        item.state = state
        item.exception = exception

    def default_folder(self) -> Path:
        return Path(self.settings.robot_root) if self.settings.robot_root else Path.cwd()

    def close(self) -> None:
        try:
            self.release(State.DONE, internal=True)
        finally:
            for item in self.inputs + self.outputs:
                if item.is_dirty and item.state is None:
                    LOG.warning("action=discard item=%s reason=unsaved_changes", item.id)
            if self._adapter is not None:
                self._adapter.close()


class LibraryComponent:
    """Base of each keyword component."""

    def __init__(self, ctx: WorkItemsContext) -> None:
        self.ctx = ctx
