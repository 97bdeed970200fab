"""The one settings object of the WorkItems library; the only place that reads environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rathaus.workitems.errors import WorkItemsSetupError
from rathaus.workitems.holders import new_runner_id

#: Adapter names accepted in ``adapter=`` and ``RPA_WORKITEMS_ADAPTER``, mapped to ``file`` or ``queue``.
ADAPTER_NAMES = {
    "file": "file",
    "fileadapter": "file",
    "rpa.robocorp.workitems.fileadapter": "file",
    "rathaus.workitems.fileadapter": "file",
    "queue": "queue",
    "queueadapter": "queue",
    "sqlite": "queue",
    "rathaus.workitems.queueadapter": "queue",
    "controlroom": "controlroom",
    "controlroomadapter": "controlroom",
    "rathaus.workitems.controlroomadapter": "controlroom",
}

DEFAULT_DATABASE = Path("output") / "workitems.sqlite"
DEFAULT_LEASE_S = 600.0


def normalize_adapter(name: str) -> str:
    """``file`` or ``queue`` for any accepted adapter name; a clear error otherwise."""
    normalized = ADAPTER_NAMES.get(str(name).strip().lower())
    if normalized is None:
        raise WorkItemsSetupError(
            f"Unbekannter Work-Item-Adapter '{name}': 'FileAdapter' (devdata, work-items.json) oder "
            "'QueueAdapter' (SQLite-Warteschlange) oder 'controlroom' (Kontrollraum, vom Runner gesetzt) angeben."
        )
    return normalized


@dataclass(frozen=True)
class Settings:
    """Where work items come from and go to.

    Library arguments win over environment variables, which win over defaults:

    | =Setting= | =Environment= | =Default= |
    | ``adapter`` | ``RPA_WORKITEMS_ADAPTER`` | ``file`` if an ``RPA_*_WORKITEM_PATH`` is set, else ``queue`` |
    | ``input_path`` | ``RPA_INPUT_WORKITEM_PATH`` | none: one empty input item |
    | ``output_path`` | ``RPA_OUTPUT_WORKITEM_PATH`` | ``<input>.output.json`` beside the input |
    | ``database`` | ``RATHAUS_WORKITEMS_DB`` | ``output/workitems.sqlite`` |
    | ``input_queue`` | ``RATHAUS_WORKITEMS_INPUT_QUEUE`` | none: one empty input item |
    | ``output_queue`` | ``RATHAUS_WORKITEMS_OUTPUT_QUEUE`` | none: creating outputs fails |
    | ``lease_s`` | ``RATHAUS_WORKITEMS_LEASE_S`` | 600 seconds |
    | ``robot_root`` | ``ROBOT_ROOT`` | current folder (default folder for fetched files) |
    | ``crash_at`` | ``RATHAUS_WORKITEMS_CRASH_AT`` | none; only for the crash-injection test, see below |
    | ``controlroom_url`` | ``RATHAUS_CONTROLROOM_URL`` | none (the control room adapter needs it) |
    | ``controlroom_token`` | ``RATHAUS_CONTROLROOM_ITEM_TOKEN`` | none (set by the runner for one run attempt) |

    ``runner_id`` (``<host>:<pid>:<start>:<token>``, see :mod:`rathaus.workitems.holders`) names this process
    as the holder of its reservations. ``crash_at`` is ``<point>:<n>``: the queue adapter kills its own
    process group with SIGKILL the ``n``-th time it reaches ``point`` (``create.staged``,
    ``create.committed``, ``save_payload``, ``add_file``, ``release``), as ``make crashtest`` does.
    """

    adapter: str = "queue"
    input_path: Path | None = None
    output_path: Path | None = None
    database: Path = DEFAULT_DATABASE
    input_queue: str | None = None
    output_queue: str | None = None
    lease_s: float = DEFAULT_LEASE_S
    runner_id: str = field(default_factory=new_runner_id)
    robot_root: Path | None = None
    crash_at: str | None = None
    controlroom_url: str | None = None
    controlroom_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "adapter", normalize_adapter(self.adapter))
        if self.lease_s < 0:
            raise WorkItemsSetupError(f"lease_s muss 0 oder größer sein, nicht {self.lease_s}.")
        for name in ("input_queue", "output_queue"):
            value = getattr(self, name)
            if value is not None and not str(value).strip():
                raise WorkItemsSetupError(f"{name} darf nicht leer sein: Namen der Warteschlange angeben.")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``overrides`` (library arguments; ``None`` means unset), then ``env``."""
        env = os.environ if env is None else env

        def pick(name: str, variable: str) -> Any:
            value = overrides.get(name)
            if value is not None:
                return value
            return env.get(variable) or None

        input_path = pick("input_path", "RPA_INPUT_WORKITEM_PATH")
        output_path = pick("output_path", "RPA_OUTPUT_WORKITEM_PATH")
        adapter = pick("adapter", "RPA_WORKITEMS_ADAPTER") or overrides.get("default_adapter")
        if adapter is None:
            adapter = "file" if (input_path or output_path) else "queue"
        elif isinstance(adapter, type):  # a class, as rpaframework's default_adapter takes one
            adapter = adapter.__name__
        lease = pick("lease_s", "RATHAUS_WORKITEMS_LEASE_S")
        try:
            lease_s = float(lease) if lease is not None else DEFAULT_LEASE_S
        except ValueError:
            raise WorkItemsSetupError(f"lease_s '{lease}' ist keine Zahl (Sekunden).") from None
        database = pick("database", "RATHAUS_WORKITEMS_DB")
        root = pick("robot_root", "ROBOT_ROOT")
        values: dict[str, Any] = {
            "adapter": adapter,
            "input_path": Path(input_path) if input_path else None,
            "output_path": Path(output_path) if output_path else None,
            "database": Path(database) if database else DEFAULT_DATABASE,
            "input_queue": pick("input_queue", "RATHAUS_WORKITEMS_INPUT_QUEUE"),
            "output_queue": pick("output_queue", "RATHAUS_WORKITEMS_OUTPUT_QUEUE"),
            "lease_s": lease_s,
            "robot_root": Path(root) if root else None,
            "crash_at": pick("crash_at", "RATHAUS_WORKITEMS_CRASH_AT"),
            "controlroom_url": pick("controlroom_url", "RATHAUS_CONTROLROOM_URL"),
            "controlroom_token": pick("controlroom_token", "RATHAUS_CONTROLROOM_ITEM_TOKEN"),
        }
        if overrides.get("runner_id"):
            values["runner_id"] = overrides["runner_id"]
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)
