"""Where a rathaus project keeps its processes, city robots and master data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rathaus.errors import ApplicationError


def _looks_like_project(path: Path) -> bool:
    return (path / "processes").is_dir() and (path / "robots").is_dir() and (path / "resources").is_dir()


@dataclass(frozen=True)
class Project:
    """The folders of one rathaus project checkout."""

    root: Path

    @classmethod
    def locate(cls, start: Path | None = None) -> Project:
        """Find the project: ``RATHAUS_PROJECT``, else upwards from ``start`` (or the working
        directory), else the checkout this package was installed from."""
        explicit = os.environ.get("RATHAUS_PROJECT")
        if explicit:
            root = Path(explicit).resolve()
            if not _looks_like_project(root):
                raise ApplicationError(
                    f"RATHAUS_PROJECT '{root}' ist kein rathaus-Projekt (processes/, robots/, resources/ fehlen)."
                )
            return cls(root)
        here = (start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if _looks_like_project(candidate):
                return cls(candidate)
        source_checkout = Path(__file__).resolve().parents[3]
        if _looks_like_project(source_checkout):
            return cls(source_checkout)
        raise ApplicationError(
            "Kein rathaus-Projekt gefunden: Bitte im Projektordner aufrufen oder RATHAUS_PROJECT setzen."
        )

    @property
    def processes(self) -> Path:
        return self.root / "processes"

    @property
    def robots(self) -> Path:
        return self.root / "robots"

    @property
    def cities(self) -> Path:
        return self.root / "resources" / "cities"

    @property
    def home(self) -> Path:
        """Local data of embedded runs (Maildir inboxes, sandbox databases, work item queues)."""
        return Path(os.environ.get("RATHAUS_HOME") or self.root / "var").resolve()

    def robot_dir(self, robot: str) -> Path:
        return self.robots / robot
