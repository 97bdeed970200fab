"""Errors of the WorkItems library; messages are German because clerks read them in the log."""

from __future__ import annotations

from rathaus.errors import ApplicationError, BusinessError, RathausError


class WorkItemsError(RathausError):
    """Base class of every error raised by the WorkItems library."""

    code = "WORKITEMS_ERROR"


class WorkItemsSetupError(WorkItemsError, ApplicationError):
    """The library's settings are wrong (unknown adapter, missing queue, unreadable file)."""

    code = "WORKITEMS_SETUP"


class WorkItemUsageError(WorkItemsError, ApplicationError):
    """The robot called the keywords in an order that cannot work (release before reserve, …)."""

    code = "WORKITEMS_USAGE"


class EmptyQueue(WorkItemsError, IndexError):
    """The input queue has no more work items; ``For Each Input Work Item`` stops at this."""

    code = "EMPTY_QUEUE"

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class VariableMissingError(WorkItemsError, BusinessError, KeyError):
    """The work item has no variable of that name (and no default was given)."""

    code = "VARIABLE_MISSING"

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class WorkItemFileMissingError(WorkItemsError, BusinessError, FileNotFoundError):
    """The work item has no attached file of that name, or a file to attach does not exist."""

    code = "FILE_MISSING"


class LeaseLostError(WorkItemsError, ApplicationError):
    """Another runner reclaimed the item because this one did not finish within its lease."""

    code = "LEASE_LOST"


class QueueStorageError(WorkItemsError, ApplicationError):
    """The SQLite queue database could not be read or written."""

    code = "QUEUE_STORAGE"


class WorkItemsFailedError(WorkItemsError, ApplicationError):
    """``For Each Input Work Item`` handled every item, but some failed with an application error."""

    code = "WORKITEMS_FAILED"
