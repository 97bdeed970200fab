"""Producer/consumer work items compatible with ``RPA.Robocorp.WorkItems`` (``rathaus.WorkItems``)."""

from __future__ import annotations

from rathaus.workitems.adapters import BaseAdapter, FileAdapter
from rathaus.workitems.errors import (
    EmptyQueue,
    LeaseLostError,
    QueueStorageError,
    VariableMissingError,
    WorkItemFileMissingError,
    WorkItemsError,
    WorkItemsFailedError,
    WorkItemsSetupError,
    WorkItemUsageError,
)
from rathaus.workitems.library import WorkItems
from rathaus.workitems.model import Error, State, WorkItem
from rathaus.workitems.queue import QueueAdapter, open_queue
from rathaus.workitems.settings import Settings
from rathaus.workitems.states import ItemState
from rathaus.workitems.storage import QueueItem

__all__ = [
    "BaseAdapter",
    "EmptyQueue",
    "Error",
    "FileAdapter",
    "ItemState",
    "LeaseLostError",
    "QueueAdapter",
    "QueueItem",
    "QueueStorageError",
    "Settings",
    "State",
    "VariableMissingError",
    "WorkItem",
    "WorkItemFileMissingError",
    "WorkItemUsageError",
    "WorkItems",
    "WorkItemsError",
    "WorkItemsFailedError",
    "WorkItemsSetupError",
    "open_queue",
]
