"""State shared by the keyword components of :class:`rathaus.mail.Mail`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rathaus.mail.errors import MailError

if TYPE_CHECKING:
    from rathaus.mail.backend import Backend
    from rathaus.mail.smtp import MaildirOutbox, SmtpOutbox

_UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}


class MailState:
    """The open mailbox and outbox; one instance per library instance."""

    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.outbox: SmtpOutbox | MaildirOutbox | None = None
        #: file names the last `Save Attachments` left out because they were too large
        self.skipped: list[str] = []


class MailComponent:
    """Base of every keyword component: access to the shared :class:`MailState`."""

    def __init__(self, state: MailState) -> None:
        self.state = state

    @property
    def mailbox(self) -> Backend:
        if self.state.backend is None:
            raise MailError("Kein Postfach geöffnet. Bitte zuerst 'Open Mailbox' aufrufen.")
        return self.state.backend


def secret_value(value: Any) -> str | None:
    """The string inside a Robot Framework ``Secret`` (or a plain string)."""
    if value is None:
        return None
    inner = getattr(value, "value", value)
    return str(inner)


def parse_size(value: int | str | None) -> int | None:
    """``10 MB``, ``512 KiB``, ``2000000`` -> bytes; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]*)\s*", str(value))
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise MailError(f"Größenangabe '{value}' ist ungültig. Beispiele: 10 MB, 512 KiB, 2000000.")
    return int(float(match.group(1).replace(",", ".")) * _UNITS[unit])


def as_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """A list of addresses or paths from a list, a comma-separated string or ``None``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value]
