"""The one set of work item states, shared by the library, the local SQLite queue, ``rathaus run``'s result and
the control room. Values are stable strings (stored in databases, sent over the runner API, written to results).
"""

from __future__ import annotations

from enum import Enum


class ItemState(Enum):
    """Where a work item stands."""

    #: waiting to be worked
    NEW = "new"
    #: reserved by a consumer that holds its lease
    IN_PROGRESS = "in_progress"
    #: released as done
    DONE = "done"
    #: released as failed with a BUSINESS error: the case's data is wrong, a clerk handles it
    FAILED_BUSINESS = "failed_business"
    #: released as failed with an APPLICATION error (or without a type): a system failed, it is tried again
    FAILED_APPLICATION = "failed_application"

    @classmethod
    def released(cls, done: bool, exception_type: str | None = None) -> ItemState:
        """The state of an item released as done (``done``) or failed with ``exception_type``."""
        if done:
            return cls.DONE
        return cls.FAILED_BUSINESS if str(exception_type or "").upper() == "BUSINESS" else cls.FAILED_APPLICATION

    @property
    def is_open(self) -> bool:
        return self in (ItemState.NEW, ItemState.IN_PROGRESS)
