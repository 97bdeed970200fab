"""``rathaus run <city>/<process>``: run a city robot locally on embedded defaults.

A robot has two steps, as on Robocorp's control room: the producer (``Anträge aus dem Postfach
übernehmen``) turns mails into work items of a SQLite queue under ``RATHAUS_HOME``; the consumer
(``Anträge bearbeiten``) works through them. Both run as separate Robot Framework processes with their own
work item settings; their outputs are merged into one ``log.html``. A sandbox Fachverfahren is started
when the configuration says ``url: sandbox``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from rathaus.process.config import OVERRIDE_ENV, ConfigError, load_robot_config, override_files
from rathaus.process.project import Project

PRODUCER_TASK = "Anträge aus dem Postfach übernehmen"
CONSUMER_TASK = "Anträge bearbeiten"
ROBOT_OPTIONS = ["--maxassignlength", "0", "--loglevel", "INFO", "--console", "dotted", "--report", "NONE"]


@dataclass(frozen=True)
class RunSummary:
    """What one run did with the cases it touched."""

    processed: int
    entered: int
    existing: int
    clerk: int
    failed: int
    pending: int
    #: messages of the cases that went to a clerk or failed: they name the case, never the person
    messages: tuple[str, ...] = ()

    @classmethod
    def from_items(cls, items: list[Any], since: datetime) -> RunSummary:
        touched = [i for i in items if i.released_at is not None and i.released_at >= since]
        done = [i for i in touched if i.status.value == "done"]
        failed = [i for i in touched if i.status.value == "failed"]
        return cls(
            processed=len(touched),
            entered=sum(1 for i in done if i.variables.get("ergebnis") == "eingetragen"),
            existing=sum(1 for i in done if i.variables.get("ergebnis") == "vorhanden"),
            clerk=sum(1 for i in failed if i.exception_type == "BUSINESS"),
            failed=sum(1 for i in failed if i.exception_type != "BUSINESS"),
            pending=sum(1 for i in items if i.status.value in ("pending", "in_progress")),
            messages=tuple(f"[{i.code}] {i.message}" for i in failed if i.message),
        )

    def lines(self) -> list[str]:
        text = [
            f"Verarbeitet: {self.processed}",
            f"Eingetragen: {self.entered}",
            f"An die Sachbearbeitung übergeben: {self.clerk}",
            f"Fehlgeschlagen: {self.failed}",
        ]
        if self.existing:
            text.append(f"Bereits vorhanden (nicht erneut eingetragen): {self.existing}")
        if self.pending:
            text.append(f"Noch offen in der Warteschlange: {self.pending}")
        return text + [f"  - {message}" for message in self.messages]


def _ensure_maildir(url: str, home: Path) -> None:
    if not url.startswith("maildir:"):
        return
    path = Path(url.removeprefix("maildir:").split("#", 1)[0])
    path = path if path.is_absolute() else home / path
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


def _robot(tasks: Path, task: str, outdir: Path, env: dict[str, str], project: Project) -> int:
    cmd = [sys.executable, "-m", "robot", *ROBOT_OPTIONS, "--name", task, "--task", task, "--outputdir", str(outdir),
           "--log", "NONE", "--pythonpath", str(project.processes), "--pythonpath", str(project.root / "resources"),
           str(tasks)]
    return subprocess.run(cmd, env=env, check=False).returncode


def _merge_logs(outputs: list[Path], outdir: Path, name: str) -> Path:
    existing = [str(p) for p in outputs if p.is_file()]
    cmd = [sys.executable, "-m", "robot.rebot", "--name", name, "--outputdir", str(outdir), "--output",
           "output.xml", "--log", "log.html", "--report", "NONE", *existing]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    return outdir / "log.html"


def _start_embedded_systems(
    config: dict[str, Any], env: dict[str, str], state: Path, stack: ExitStack
) -> dict[str, Any]:
    """Start the sandbox Fachverfahren when configured as ``sandbox``; return config overrides."""
    fachverfahren = config.get("fachverfahren", {})
    if fachverfahren.get("url") != "sandbox":
        return {}
    from rathaus_sandbox.server import spawn_sandbox

    variable = fachverfahren["passwort_variable"]
    env.setdefault(variable, secrets.token_urlsafe(18))
    sandbox = spawn_sandbox(
        database=state / "fachverfahren.sqlite",
        users={fachverfahren["benutzer"]: env[variable]},
        mandant=config["stadt_daten"]["name"],
    )
    stack.callback(sandbox.stop)
    print(f"Sandbox-Fachverfahren läuft unter {sandbox.url}")
    return {"fachverfahren": {"url": sandbox.url}}


def run_robot(robot: str, config_override: Path | None = None, output_root: Path | None = None) -> int:
    """Run ``robot`` (``<city>/<process>``); print a summary and the log's path; return the exit code."""

    from rathaus.workitems.queue import open_queue

    project = Project.locate()
    robot_dir = project.robot_dir(robot)
    tasks = robot_dir / "tasks.robot"
    if robot.count("/") != 1 or not tasks.is_file():
        found = project.robots.glob("*/*/tasks.robot")
        known = ", ".join(sorted(str(p.parent.relative_to(project.robots)) for p in found))
        raise ConfigError(f"Robot '{robot}' gibt es nicht; vorhanden: {known}.")
    city, process = robot.split("/")
    overrides = [*override_files(), *([config_override] if config_override else [])]
    config = load_robot_config(robot_dir / "config.yaml", overrides, project)

    home = project.home
    state = home / city / process
    state.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    outdir = (output_root or project.root / "output").resolve() / city / process / started.strftime("%Y%m%d-%H%M%S")
    outdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RATHAUS_HOME": str(home), "RATHAUS_PROJECT": str(project.root)}
    env["RATHAUS_WORKITEMS_DB"] = str(state / "workitems.sqlite")
    runtime: dict[str, Any] = {}

    with ExitStack() as stack:
        _ensure_maildir(config["postfach"]["url"], home)
        runtime.update(_start_embedded_systems(config, env, state, stack))
        runtime_file = outdir / "laufzeit.yaml"
        runtime_file.write_text(yaml.safe_dump(runtime, allow_unicode=True), encoding="utf-8")
        env[OVERRIDE_ENV] = os.pathsep.join(str(p) for p in [*overrides, runtime_file])

        queue = f"{city}/{process}"
        producer_env = {**env, "RATHAUS_WORKITEMS_OUTPUT_QUEUE": queue}
        consumer_env = {**env, "RATHAUS_WORKITEMS_INPUT_QUEUE": queue}
        rc_producer = _robot(tasks, PRODUCER_TASK, outdir / "eingang", producer_env, project)
        rc_consumer = _robot(tasks, CONSUMER_TASK, outdir / "bearbeitung", consumer_env, project)

    log = _merge_logs([outdir / "eingang" / "output.xml", outdir / "bearbeitung" / "output.xml"], outdir, robot)
    adapter = open_queue(state / "workitems.sqlite")
    try:
        summary = RunSummary.from_items(adapter.list_items(queue), started)
    finally:
        adapter.close()
    ok = rc_producer == 0 and rc_consumer == 0
    print()
    print(f"Lauf {robot} {'beendet' if ok else 'mit Fehlern beendet'}.")
    for line in summary.lines():
        print(f"  {line}")
    print(f"Protokoll: {log}")
    return 0 if ok else 1
