"""What a run did, as data: ``rathaus run … --result FILE`` writes it, the printed summary and the control room's
runner both come from it, and nothing parses printed text.

The result holds the run's state and, for each work item the run touched, its reference, state (one of
:class:`rathaus.workitems.states.ItemState`), code, German message, outcome (the variable ``ergebnis``), the
Aktenzeichen and files the process reported. The items come from the adapter the steps used: the local SQLite queue
for ``rathaus run``, the control room when a runner runs the robot (``RPA_WORKITEMS_ADAPTER=controlroom``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rathaus.core.runner import SUMMARY_FILE, RunSummary, file_outcomes

#: version of the JSON layout (``"format"``)
FORMAT = 1


@dataclass(frozen=True)
class RunResult:
    robot: str
    #: ``succeeded``: every step passed; ``failed``: a step failed (its cases stay and are retried);
    #: ``incomplete``: the steps passed, but cases are still reserved by another run and were not done here
    state: str
    exit_code: int
    started_at: datetime
    finished_at: datetime
    #: German lines: why steps failed, the counts per outcome, messages of the cases for a clerk
    lines: tuple[str, ...]
    items: tuple[dict[str, Any], ...] = ()
    #: cases that another, still living run holds
    reserved_elsewhere: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    #: how each input file ended, as a step that reads files (no work items) recorded it: name, state, code,
    #: message (:func:`rathaus.core.runner.record_file_outcome`, keyword ``Report File Outcome``)
    files: tuple[dict[str, Any], ...] = ()

    @property
    def headline(self) -> str:
        return {"succeeded": f"Lauf {self.robot} beendet.",
                "incomplete": f"Lauf {self.robot} beendet, aber nicht vollständig.",
                }.get(self.state, f"Lauf {self.robot} mit Fehlern beendet.")

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "robot": self.robot, "state": self.state, "exit_code": self.exit_code,
                "headline": self.headline, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat(), "lines": list(self.lines), "counts": self.counts,
                "reserved_elsewhere": self.reserved_elsewhere, "items": list(self.items), "files": list(self.files)}


def _adapter(env: Mapping[str, str], database: Path):
    from rathaus.workitems.settings import Settings

    settings = Settings.load(env)
    if settings.adapter == "controlroom":
        from rathaus.workitems.controlroom import ControlRoomAdapter

        return ControlRoomAdapter(settings)
    from rathaus.workitems.queue import open_queue

    return open_queue(database)


def _file_adapter(env: Mapping[str, str]) -> bool:
    from rathaus.workitems.settings import Settings

    return Settings.load(env).adapter == "file"


def _item(entry: Any) -> dict[str, Any]:
    variables = entry.variables if isinstance(entry.variables, dict) else {}
    payload = entry.payload if isinstance(entry.payload, dict) else {}
    return {"id": entry.id, "reference": entry.key, "state": entry.status.value, "code": entry.code,
            "message": entry.message, "outcome": variables.get("ergebnis", payload.get("ergebnis")),
            "aktenzeichen": payload.get("aktenzeichen"), "files": list(entry.files), "attempts": entry.attempts}


def build_result(robot: str, process: dict[str, Any], steps: list[dict[str, Any]], codes: list[int],
                 causes: list[str], started: datetime, outdir: Path, env: Mapping[str, str]) -> RunResult:
    """The result of a run of ``robot`` whose ``steps`` ended with ``codes``."""
    lines = list(causes)
    items: list[dict[str, Any]] = []
    elsewhere = 0
    counts: dict[str, int] = {}
    queued = any(step.get("produces") or step.get("consumes") for step in steps)
    if queued and _file_adapter(env):
        # rpaframework's devdata files: the items and how they ended are in those files, not in a queue to count
        lines.append("Arbeitselemente aus Dateien (Dateiadapter, RPA_INPUT_WORKITEM_PATH): hier nicht gezählt; was "
                     "aus jedem wurde, steht in der Eingabedatei und in RPA_OUTPUT_WORKITEM_PATH.")
    elif queued:
        city, _, name = robot.partition("/")
        database = Path(env.get("RATHAUS_WORKITEMS_DB") or Path(env["RATHAUS_HOME"]) / city / name / "workitems.sqlite")
        adapter = _adapter(env, database)
        try:
            entries = adapter.list_items(robot)
            summary = RunSummary.from_items(entries, started, process.get("outcomes"))
            counting = getattr(adapter, "reserved_elsewhere", None)
            elsewhere = int(counting(robot)) if counting is not None else 0
        finally:
            adapter.close()
        lines += summary.lines()
        counts = {"verarbeitet": summary.processed, "sachbearbeitung": summary.clerk, "fehlgeschlagen": summary.failed,
                  "offen": summary.pending, **{label: count for label, count in summary.outcomes}}
        items = [_item(entry) for entry in entries
                 if (entry.released_at is not None and entry.released_at >= started) or entry.status.is_open]
    extra = outdir / SUMMARY_FILE
    if extra.is_file():
        lines += extra.read_text(encoding="utf-8").splitlines()
    if elsewhere:
        lines.append(f"{elsewhere} Fall/Fälle sind noch von einem anderen, laufenden Lauf reserviert und wurden hier "
                     "nicht bearbeitet: sie werden dort beendet oder nach Ablauf der Frist erneut versucht.")
    ok = all(code == 0 for code in codes)
    state = "failed" if not ok else "incomplete" if elsewhere else "succeeded"
    return RunResult(robot, state, 0 if state == "succeeded" else 1, started, datetime.now(timezone.utc),
                     tuple(lines), tuple(items), elsewhere, counts, tuple(file_outcomes(outdir)))
