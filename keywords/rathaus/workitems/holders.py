"""Who holds a reservation, and whether that holder is still alive.

A runner id reads ``<host>:<pid>:<start>:<token>``: the host name, the process id, the process's start time
(clock ticks since boot, field 22 of ``/proc/<pid>/stat``; ``-`` where there is no ``/proc``) and a random
token. A local run uses it to recognise a holder that died: same host, and the process is gone, a zombie,
or its pid now belongs to a process that started at another time (pid reuse). A holder on another host, or a
runner id in another form, is never taken for dead: its item waits for its lease to run out. On Windows
no holder is taken for dead (there ``os.kill(pid, 0)`` would end the process).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

UNKNOWN_START = "-"


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` as ``/proc`` shows it, ``UNKNOWN_START`` without ``/proc``,
    ``None`` when the process is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else UNKNOWN_START
    except OSError:
        return UNKNOWN_START
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20:
        return UNKNOWN_START
    if fields[0] in ("Z", "X"):  # dead, only not yet reaped
        return None
    return fields[19]


def host_name() -> str:
    return socket.gethostname()


def new_runner_id() -> str:
    """A runner id for this process: ``<host>:<pid>:<start>:<token>``."""
    pid = os.getpid()
    return f"{host_name()}:{pid}:{process_start(pid) or UNKNOWN_START}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    start: str

    @classmethod
    def parse(cls, runner: str | None) -> Holder | None:
        """The holder a runner id names, or ``None`` for an id in another form."""
        parts = str(runner or "").rsplit(":", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2])

    def is_dead(self) -> bool:
        """``True`` only when the holder certainly died: on this host, and its process is gone."""
        if self.host != host_name() or self.pid <= 0 or os.name == "nt":  # on Windows os.kill(pid, 0) would kill
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # exists, belongs to another user
        start = process_start(self.pid)
        if start is None:
            return True
        return UNKNOWN_START not in (start, self.start) and start != self.start


def holder_is_dead(runner: str | None) -> bool:
    """Whether the holder with runner id ``runner`` certainly died (see :meth:`Holder.is_dead`)."""
    holder = Holder.parse(runner)
    return holder is not None and holder.is_dead()
