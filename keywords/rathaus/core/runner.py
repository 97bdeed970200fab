"""``rathaus run <city>/<process>``: run a city robot locally on embedded defaults.

The process declares its steps in ``process.yaml``, as on Robocorp's control room: typically a producer
that turns mails into work items of a SQLite queue under ``RATHAUS_HOME`` and a consumer that works through
them. Each step runs as its own Robot Framework process with its own work item settings; their outputs are
merged into one ``log.html``. A sandbox target system is started for every section the process lists under
``sandboxes`` whose configuration says ``url: sandbox``.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from rathaus.core.config import OVERRIDE_ENV, ConfigError, load_robot_config, override_files
from rathaus.core.project import Project
from rathaus.errors import ApplicationError

#: file in the run folder to which steps may append German summary lines
SUMMARY_FILE = "zusammenfassung.txt"
#: environment variable with the run folder that ``rathaus run`` gives every step
RUN_DIR_ENV = "RATHAUS_RUN_DIR"
#: file in the run folder in which a step that reads files (no work items) says how each file ended (JSON lines)
FILE_OUTCOMES_FILE = "dateien.jsonl"
#: the states a file may end in: those of a work item that has ended
FILE_STATES = ("done", "failed_business", "failed_application")


def append_run_summary(lines: list[str]) -> Path | None:
    """Append ``lines`` to the run's summary file (printed by ``rathaus run``); ``None`` outside a run."""
    folder = os.environ.get(RUN_DIR_ENV)
    if not folder or not lines:
        return None
    path = Path(folder) / SUMMARY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as stream:
            stream.writelines(f"{line}\n" for line in lines)
    except OSError as error:
        raise ApplicationError(
            f"Die Zusammenfassung '{path}' ist nicht beschreibbar ({error.strerror}): Bitte {RUN_DIR_ENV} prüfen."
        ) from None
    return path

def record_file_outcome(name: str, state: str, code: str | None = None, message: str | None = None) -> Path | None:
    """Record how the input file ``name`` ended (``done``, ``failed_business``, ``failed_application``) in the
    run's folder, for the run's result; ``None`` outside ``rathaus run``. The last record of a name counts."""
    if state not in FILE_STATES:
        raise ValueError(f"state must be one of {FILE_STATES}, not {state!r}")
    folder = os.environ.get(RUN_DIR_ENV)
    if not folder:
        return None
    path = Path(folder) / FILE_OUTCOMES_FILE
    entry = {"name": str(name), "state": state, "code": code or None, "message": message or None}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry, ensure_ascii=False) + "\n")
    except OSError as error:
        raise ApplicationError(
            f"Das Ergebnis der Datei '{name}' ist nicht beschreibbar ({error.strerror}): Bitte {RUN_DIR_ENV} prüfen."
        ) from None
    return path


def file_outcomes(folder: Path) -> list[dict[str, Any]]:
    """The outcomes of input files recorded in the run folder ``folder``, one per name (the last), in order."""
    path = Path(folder) / FILE_OUTCOMES_FILE
    found: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut off by a crash: that file's outcome is unknown
            if isinstance(entry, dict) and entry.get("state") in FILE_STATES and entry.get("name"):
                found.pop(str(entry["name"]), None)
                found[str(entry["name"])] = entry
    return list(found.values())


#: a run's temporary folder (attachments, letters in the making, browser profiles), see :func:`temp_folder`
_TEMP_NAME = re.compile(r"^rathaus-lauf-(\d+)-(\d+|-)-[0-9a-f]{8}$")
_PR_SET_PDEATHSIG = 1


try:  # looked up once, before any fork: the child then only calls it
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def die_with_parent() -> None:
    """In a child process before ``exec`` (``preexec_fn``): the kernel kills it when its parent dies (Linux
    ``PR_SET_PDEATHSIG``), so that no robot goes on working after the runner or ``rathaus run`` was killed."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def temp_folder() -> Path:
    """This run's temporary folder ``<system temp>/rathaus-lauf-<pid>-<start>-<random>`` (a short path: Chromium's
    profile sockets must fit into 108 bytes); the folders of earlier runs whose process certainly died (killed,
    machine down; a reused pid is told apart by its start time, see :mod:`rathaus.workitems.holders`) are removed
    first: they hold case data."""
    from rathaus.workitems.holders import UNKNOWN_START, Holder, host_name, process_start

    root = Path(tempfile.gettempdir())
    for folder in root.glob("rathaus-lauf-*"):
        found = _TEMP_NAME.match(folder.name)
        if found and Holder(host_name(), int(found[1]), found[2]).is_dead():
            shutil.rmtree(folder, ignore_errors=True)
    pid = os.getpid()
    own = root / f"rathaus-lauf-{pid}-{process_start(pid) or UNKNOWN_START}-{secrets.token_hex(4)}"
    own.mkdir(mode=0o700)
    return own


ROBOT_OPTIONS = ["--maxassignlength", "0", "--loglevel", "INFO", "--console", "dotted", "--report", "NONE"]


@dataclass(frozen=True)
class RunSummary:
    """What one run did with the cases it touched."""

    processed: int
    #: (label, count) per outcome the process declares, in its order
    outcomes: tuple[tuple[str, int], ...]
    clerk: int
    failed: int
    pending: int
    #: messages of the cases that went to a clerk or failed: they name the case, never the person
    messages: tuple[str, ...] = ()

    @classmethod
    def from_items(cls, items: list[Any], since: datetime, outcomes: dict[str, str] | None = None) -> RunSummary:
        touched = [i for i in items if i.released_at is not None and i.released_at >= since]
        done = [i for i in touched if i.status.value == "done"]
        failed = [i for i in touched if i.status.value in ("failed_business", "failed_application")]
        labels = dict(outcomes or {})
        counts = {key: sum(1 for i in done if i.variables.get("ergebnis") == key) for key in labels}
        other = len(done) - sum(counts.values())
        rows = [(label, counts[key]) for key, label in labels.items() if counts[key] or key == next(iter(labels))]
        if other:
            rows.append(("Erledigt", other))
        return cls(
            processed=len(touched),
            outcomes=tuple(rows),
            clerk=sum(1 for i in failed if i.exception_type == "BUSINESS"),
            failed=sum(1 for i in failed if i.exception_type != "BUSINESS"),
            pending=sum(1 for i in items if i.status.value in ("new", "in_progress")),
            messages=tuple(f"[{i.code}] {i.message}" for i in failed if i.message),
        )

    def lines(self) -> list[str]:
        text = [f"Verarbeitet: {self.processed}", *(f"{label}: {count}" for label, count in self.outcomes)]
        text += [f"An die Sachbearbeitung übergeben: {self.clerk}", f"Fehlgeschlagen: {self.failed}"]
        if self.pending:
            text.append(f"Noch offen in der Warteschlange: {self.pending}")
        return text + [f"  - {message}" for message in self.messages]


def _ensure_maildirs(config: dict[str, Any], home: Path) -> None:
    """Create the Maildir of every top-level section configured as ``url: maildir:<path>``."""
    for section in config.values():
        url = section.get("url") if isinstance(section, dict) else None
        if not isinstance(url, str) or not url.startswith("maildir:"):
            continue
        path = Path(url.removeprefix("maildir:").split("#", 1)[0])
        path = path if path.is_absolute() else home / path
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)


def _robot(tasks: Path, task: str, outdir: Path, env: dict[str, str], project: Project) -> int:
    cmd = [sys.executable, "-m", "robot", *ROBOT_OPTIONS, "--name", task, "--task", task, "--outputdir", str(outdir),
           "--log", "NONE", "--pythonpath", str(project.processes), "--pythonpath", str(project.root / "resources"),
           str(tasks)]
    return subprocess.run(cmd, env=env, check=False, preexec_fn=die_with_parent).returncode


def _merge_logs(outputs: list[Path], outdir: Path, name: str) -> Path:
    """Merge the steps' outputs into one ``output.xml``, ``log.html`` and ``report.html``; return the log's path."""
    existing = [str(p) for p in outputs if p.is_file()]
    cmd = [sys.executable, "-m", "robot.rebot", "--name", name, "--outputdir", str(outdir), "--output",
           "output.xml", "--log", "log.html", "--report", "report.html", *existing]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    return outdir / "log.html"


def _start_embedded_systems(
    config: dict[str, Any], env: dict[str, str], state: Path, stack: ExitStack
) -> dict[str, Any]:
    """Start a sandbox for every section the process lists under ``sandboxes`` that says ``url: sandbox``;
    return the config overrides that point the robot at them."""
    overrides: dict[str, Any] = {}
    for section, app in (config["prozess"].get("sandboxes") or {}).items():
        settings = config.get(section) or {}
        if settings.get("url") != "sandbox":
            continue
        from rathaus_sandbox.server import spawn_sandbox

        variable = settings["passwort_variable"]
        env.setdefault(variable, secrets.token_urlsafe(18))
        sandbox = spawn_sandbox(
            app=app,
            database=state / f"{section}.sqlite",
            users={settings["benutzer"]: env[variable]},
            mandant=config["stadt_daten"]["name"],
        )
        stack.callback(sandbox.stop)
        print(f"Sandbox '{app}' für '{section}' läuft unter {sandbox.url}")
        overrides[section] = {"url": sandbox.url}
    return overrides


def run_robot(robot: str, config_override: Path | None = None, output_root: Path | None = None,
              result_file: Path | None = None, skip_intake: bool = False) -> int:
    """Run ``robot`` (``<city>/<process>``); print a summary and the log's path; return the exit code.

    ``result_file`` receives the run's result as JSON (:mod:`rathaus.core.results`), the same result the summary
    is printed from. ``skip_intake`` leaves out the steps that only produce work items (the mailbox intake): a run
    that the control room started with uploads works on those cases only.
    """
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
    env = {**os.environ, "RATHAUS_HOME": str(home), "RATHAUS_PROJECT": str(project.root), RUN_DIR_ENV: str(outdir)}
    env["RATHAUS_WORKITEMS_DB"] = str(state / "workitems.sqlite")
    temporary = temp_folder()
    env.update({"TMPDIR": str(temporary), "TMP": str(temporary), "TEMP": str(temporary)})
    steps = [step for step in config["prozess"]["steps"]
             if not (skip_intake and step.get("produces") and not step.get("consumes"))]
    with ExitStack() as stack:
        _ensure_maildirs(config, home)
        runtime = _start_embedded_systems(config, env, state, stack)
        runtime_file = outdir / "laufzeit.yaml"
        runtime_file.write_text(yaml.safe_dump(runtime, allow_unicode=True), encoding="utf-8")
        env[OVERRIDE_ENV] = os.pathsep.join(str(p) for p in [*overrides, runtime_file])
        codes, causes, outputs = _run_steps(tasks, steps, env, f"{city}/{process}", outdir, project)

    shutil.rmtree(temporary, ignore_errors=True)
    log = _merge_logs(outputs, outdir, robot)
    from rathaus.core.results import build_result

    result = build_result(robot, config["prozess"], steps, codes, causes, started, outdir, env)
    print()
    print(result.headline)
    for line in result.lines:
        print(f"  {line}")
    print(f"Protokoll: {log}")
    if result_file is not None:
        result_file.parent.mkdir(parents=True, exist_ok=True)
        partial = result_file.with_name(result_file.name + ".teil")
        partial.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        partial.replace(result_file)
    return result.exit_code


def _run_steps(tasks: Path, steps: list[dict[str, Any]], env: dict[str, str], queue: str, outdir: Path,
               project: Project) -> tuple[list[int], list[str], list[Path]]:
    """Run each step as its own Robot process; (exit codes, German causes of failed steps, their outputs)."""
    codes: list[int] = []
    causes: list[str] = []
    outputs: list[Path] = []
    for number, step in enumerate(steps, start=1):
        step_env = dict(env)
        if step.get("produces"):
            step_env["RATHAUS_WORKITEMS_OUTPUT_QUEUE"] = queue
        if step.get("consumes"):
            step_env["RATHAUS_WORKITEMS_INPUT_QUEUE"] = queue
        step_dir = outdir / f"schritt-{number}"
        codes.append(_robot(tasks, step["task"], step_dir, step_env, project))
        outputs.append(step_dir / "output.xml")
        if codes[-1] != 0:
            causes.extend(f"Ursache in '{step['task']}': {text}" for text in _failure_messages(outputs[-1]))
    return codes, causes, outputs


def _failure_messages(output: Path, limit: int = 3) -> list[str]:
    """The failure messages of a step's suite setup and tasks (German, from the robot's own errors)."""
    if not output.is_file():
        return ["Der Schritt hat kein Protokoll geschrieben (abgebrochen?)."]
    from robot.api import ExecutionResult

    suite = ExecutionResult(str(output)).suite
    if suite.setup and suite.setup.failed:
        messages = [suite.setup.message]  # the tasks then only say that the setup failed
    else:
        messages = [test.message for test in suite.all_tests if test.failed and test.message]
    unique = list(dict.fromkeys(m.splitlines()[0] for m in messages if m))
    return unique[:limit]
