"""Exceptions shared by all rathaus libraries.

Two kinds of failure matter to a robot, the same split that Robocorp work items and UiPath's REFramework make:

- :class:`BusinessError`: the case's own data is wrong or incomplete (missing enclosure, child too old,
  broken PDF). Retrying will not help; the case goes to a clerk.
- :class:`ApplicationError`: something around the case failed (server unreachable, timeout, wrong
  password). The case itself may be fine; fix the cause and run again.

Messages are German where a clerk reads them in the control room or log, and always say what to do.
"""

from __future__ import annotations

from collections import OrderedDict

#: The most recent rathaus errors by message, so that a Robot ``EXCEPT`` branch, which only sees the
#: message, can still learn whether a failure was a business or an application error.
_RECENT: OrderedDict[str, RathausError] = OrderedDict()
_RECENT_LIMIT = 64


def recent_error(message: str) -> RathausError | None:
    """Return the most recent rathaus error whose message is ``message``, if any."""
    return _RECENT.get(message)


class RathausError(Exception):
    """Base class of every error raised by a rathaus keyword."""

    ROBOT_SUPPRESS_NAME = True
    #: Stable code for work item release and reports, overridden by subclasses.
    code = "RATHAUS_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        _RECENT[message] = self
        _RECENT.move_to_end(message)
        while len(_RECENT) > _RECENT_LIMIT:
            _RECENT.popitem(last=False)

    @property
    def kind(self) -> str:
        """``BUSINESS`` or ``APPLICATION``, the work item exception type this error maps to."""
        return "BUSINESS" if isinstance(self, BusinessError) else "APPLICATION"


class BusinessError(RathausError):
    """The case's data is wrong or incomplete: hand it to a clerk, do not retry."""

    code = "BUSINESS_ERROR"


class ApplicationError(RathausError):
    """A system around the case failed: fix the cause and run again."""

    code = "APPLICATION_ERROR"
