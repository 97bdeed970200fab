"""The runner: claims runs of its city from the control room over HTTP and executes them with ``rathaus run``.

A runner machine holds a runner token (``rr_…``) and a checkout of the project, never database credentials.
For each run it

1. uses the city robot's own home ``<work>/roboter/<city>/<process>/`` as ``RATHAUS_HOME``: what a robot keeps
   between runs (archives, publications, its local sandbox systems) outlives the run there, so a second run of the
   same applications enters nothing twice. The run's own folder ``<work>/lauf-<run>-<attempt>/`` holds only its
   output, its result and its temporary files, and is removed afterwards (also, at the next start, after a crash);
2. runs ``python -m rathaus.cli run <city>/<process> --result …`` in its own process group that dies with the
   runner (``PR_SET_PDEATHSIG``: no orphan keeps working after the runner was killed), with the city's credentials
   as environment variables (never written to a file or a log) and the item token of this attempt: the robot's
   ``rathaus.WorkItems`` then reserves, releases and creates the control room's work items itself
   (:mod:`rathaus.workitems.controlroom`), and the control room fences every call of an attempt that lost its run.
   A run with uploads works on those cases only (``--skip-intake``). Robots that read files from a folder
   (``quelle``) and take no work items get the uploaded files in that folder;
3. sends a heartbeat every third of the lease from a thread (the control room extends the run's and its items'
   leases and counts progress from the items); a cancel request or a lost lease stops the process group;
4. uploads the artifacts (Robot log and output, summary, letters, screenshots, results the process declares) and
   reports the exit code and the German lines of the run's result file; then deletes the run folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from rathaus.core.project import Project
from rathaus.errors import ApplicationError, RathausError

LOG = logging.getLogger("rathaus_controlroom.runner")

#: files of a run's output folder that are uploaded as artifacts (besides the merged log and output)
ARTIFACT_SUFFIXES = (".pdf", ".docx", ".png", ".jpg", ".jpeg")
MAX_ARTIFACTS = 200
#: environment variables of the runner's own environment that a run must not inherit
_PRIVATE_ENV = re.compile(r"^(RATHAUS_(CONFIG_OVERRIDE|WORKITEMS_.*|RUN_DIR|HOME|CONTROLROOM_.*|CREDENTIAL_.*))$")
_ITEM_MARK = re.compile(r"kontrollraum\.(\d+)\.(\d+)@")
_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: replaces the run folder's absolute path in the message the control room shows
FOLDER_PLACEHOLDER = "<Laufordner>"
#: the same for the city robot's home on the runner
HOME_PLACEHOLDER = "<Roboterordner>"


class LeaseLost(ApplicationError):
    """The control room gave the run to another runner (or it no longer exists): stop working on it."""

    code = "LEASE_LOST"


class InputDeliveryError(ApplicationError):
    """The robot cannot take the run's inputs."""

    code = "INPUT_DELIVERY"


# --- HTTP ----------------------------------------------------------------------------------------------------------

class RunnerClient:
    """The runner API of one control room, with one runner token."""

    def __init__(self, url: str, token: str, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def _check(self, answer: httpx.Response) -> httpx.Response:
        if answer.status_code in (404, 409):
            raise LeaseLost(_detail(answer))
        if answer.status_code >= 400:
            raise ApplicationError(f"Kontrollraum antwortet {answer.status_code}: {_detail(answer)}")
        return answer

    def claim(self, wait_s: float = 0) -> dict[str, Any] | None:
        """The next run of the runner's city, or ``None``; with ``wait_s`` the control room answers as soon as a
        run is queued, or after ``wait_s`` seconds with nothing."""
        params = {"warten": f"{wait_s:g}"} if wait_s else None
        timeout = (self.http.timeout.read or 60.0) + wait_s
        answer = self.http.post("/api/runner/claim", params=params, timeout=timeout)
        if answer.status_code == 204:
            return None
        return self._check(answer).json()

    def heartbeat(self, run_id: int, cases_done: int | None, cases_total: int | None) -> bool:
        """Extend the lease; ``True`` when the run is to be cancelled."""
        body = {"cases_done": cases_done, "cases_total": cases_total}
        return bool(self._check(self.http.post(f"/api/runner/runs/{run_id}/heartbeat", json=body)).json()["cancel"])

    def finish(self, run_id: int, exit_code: int, message: str, items: list[dict[str, Any]],
               progress: tuple[int | None, int | None] = (None, None), stopped: bool = False) -> str:
        """Report the end; ``stopped`` says that the runner stopped the robot (on a cancel request)."""
        body = {"exit_code": exit_code, "message": message, "items": items, "cases_done": progress[0],
                "cases_total": progress[1], "stopped": stopped}
        return self._check(self.http.post(f"/api/runner/runs/{run_id}/finish", json=body)).json()["state"]

    def upload(self, run_id: int, name: str, path: Path) -> None:
        with path.open("rb") as stream:
            self._check(self.http.post(f"/api/runner/runs/{run_id}/artifacts", data={"name": name},
                                       files={"datei": (path.name, stream)}))

    def download(self, url: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.http.stream("GET", url) as answer:
            if answer.status_code >= 400:
                answer.read()
                self._check(answer)
            with target.open("wb") as out:
                for chunk in answer.iter_bytes():
                    out.write(chunk)


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail"))
    except (ValueError, AttributeError):
        return answer.text[:200]


# --- inputs ---------------------------------------------------------------------------------------------------------

def _consumes(project: Project, robot: str) -> bool:
    """Whether the robot's process has a step that takes work items (then uploads are its input items)."""
    from rathaus.core.config import load_process

    config = _robot_config(project, robot, None)
    return any(step.get("consumes") for step in load_process(project, str(config["process"]))["steps"])


def deliver_files(project: Project, job: dict[str, Any], files: dict[int, list[Path]], home: Path) -> dict[str, int]:
    """Uploads for a robot that takes no work items but reads files from its ``quelle`` folder: put them there.
    Returns which item each file name belongs to, to match the outcomes the robot reports per file."""
    config = _robot_config(project, job["robot"], None)
    if not isinstance(config.get("quelle"), str):
        raise InputDeliveryError(f"Der Roboter {job['robot']} nimmt keine Eingaben an (weder Vorgänge noch "
                                 "Quellordner): bitte ohne Eingaben starten.")
    source = Path(config["quelle"])
    source = source if source.is_absolute() else home / source
    source.mkdir(parents=True, exist_ok=True)
    delivered: dict[str, int] = {}
    names = [path.name for paths in files.values() for path in paths]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputDeliveryError(f"Die hochgeladenen Dateien {', '.join(repr(n) for n in twice)} heißen gleich, der "
                                 f"Roboter {job['robot']} liest sie aber aus einem Ordner: bitte in "
                                 "getrennten Läufen nacheinander hochladen; es wurde nichts gelesen.")
    for item_id, paths in files.items():
        for path in paths:
            shutil.copyfile(path, source / path.name)
            delivered[path.name] = item_id
    LOG.info("action=deliver_files run=%s files=%d", job["run"], sum(len(p) for p in files.values()))
    return delivered


def file_results(result_file: Path, delivered: dict[str, int]) -> list[dict[str, Any]]:
    """How the delivered files' items ended, from the outcomes per file in the run's result (``files``); items
    whose files the robot reported nothing about end as the run ended. An item of several files takes the worst."""
    try:
        outcomes = json.loads(result_file.read_text(encoding="utf-8")).get("files") or []
    except (OSError, ValueError, AttributeError):
        return []
    rank = {"done": 0, "failed_business": 1, "failed_application": 2}
    results: dict[int, dict[str, Any]] = {}
    for outcome in outcomes:
        item_id = delivered.get(str(outcome.get("name"))) if isinstance(outcome, dict) else None
        if item_id is None or outcome.get("state") not in rank:
            continue
        known = results.get(item_id)
        if known is None or rank[outcome["state"]] > rank[known["state"]]:
            results[item_id] = {"id": item_id, "state": outcome["state"], "code": outcome.get("code"),
                                "message": outcome.get("message")}
    return list(results.values())


def config_override(job: dict[str, Any], folder: Path) -> Path | None:
    """The configuration the control room holds for the robot (``job["config"]``) as an override file."""
    if not job.get("config"):
        return None
    path = folder / "kontrollraum.yaml"
    path.write_text(yaml.safe_dump(job["config"], allow_unicode=True), encoding="utf-8")
    return path


# --- results -------------------------------------------------------------------------------------------------------

def result_message(result_file: Path, exit_code: int) -> str:
    """The German headline and lines of the run's result file; a plain notice when the robot wrote none."""
    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
        lines = [str(result["headline"]), *(str(line) for line in result.get("lines") or [])]
    except (OSError, ValueError, KeyError, TypeError):
        return (f"Der Lauf ist abgebrochen (Exit-Code {exit_code}), ohne ein Ergebnis zu schreiben; die Vorgänge, "
                "die er begonnen hatte, werden erneut versucht.")
    return "\n".join(lines)[:4000]


def collect_artifacts(output_root: Path, robot: str) -> list[tuple[str, Path]]:
    """(name, path) of the artifacts in the run's output folder ``<root>/<city>/<process>/<ts>/``."""
    runs = sorted((output_root / robot).glob("*/"))
    if not runs:
        return []
    folder = runs[-1]
    found: list[tuple[str, Path]] = []
    for name in ("log.html", "report.html", "output.xml", "zusammenfassung.txt"):
        if (folder / name).is_file():
            found.append((name, folder / name))
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in ARTIFACT_SUFFIXES:
            found.append((path.relative_to(folder).as_posix(), path))
    return found[:MAX_ARTIFACTS]


def _config_value(config: dict[str, Any], key: str) -> Any:
    value: Any = config
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _robot_config(project: Project, robot: str, override: Path | None) -> dict[str, Any]:
    from rathaus.core.config import load_robot_config

    return load_robot_config(project.robot_dir(robot) / "config.yaml", [override] if override else [], project)


def collect_results(project: Project, robot: str, home: Path, override: Path | None = None,
                    since: float = 0.0) -> list[tuple[str, Path]]:
    """(name, path) of the robot's results outside its output folder: the folders its process declares in
    ``artifacts:`` of ``process.yaml`` (``{config: <key>}``: the folder the city's config names there), each file as
    ``ergebnis/<key>/<path>``. Only folders inside the run's ``RATHAUS_HOME`` are read."""
    from rathaus.core.config import load_process

    try:
        config = _robot_config(project, robot, override)
        declared = load_process(project, str(config["process"])).get("artifacts") or []
    except (RathausError, OSError, KeyError) as error:
        LOG.warning("action=collect_results robot=%s error=%s", robot, type(error).__name__)
        return []
    root = home.resolve()
    found: list[tuple[str, Path]] = []
    for entry in declared:
        key = entry["config"]
        value = _config_value(config, key)
        if not isinstance(value, str) or not value:
            continue
        folder = (home / value).resolve()  # an absolute path stays absolute: not the run's, not read
        if not folder.is_relative_to(root) or not folder.is_dir():
            continue
        label = key.replace(".", "-")
        for path in sorted(folder.glob(entry.get("muster") or "**/*")):
            if not path.is_file() or path.is_symlink() or not path.resolve().is_relative_to(root):
                continue
            if path.stat().st_mtime < since:  # kept from an earlier run in the robot's home
                continue
            parts = path.relative_to(folder).parts
            rest = "/".join(parts) if len(parts) <= 2 else f"{parts[0]}/{'_'.join(parts[1:])}"
            found.append((f"ergebnis/{label}/{rest}", path))
    return found


def strip_paths(text: str, folder: Path, placeholder: str = FOLDER_PLACEHOLDER) -> str:
    """``text`` without the run folder's absolute path (the runner machine's layout is nobody's business)."""
    for prefix in {str(folder.resolve()), str(folder), str(folder.absolute())}:
        text = text.replace(prefix, placeholder)
    return text


# --- one run -------------------------------------------------------------------------------------------------------

@dataclass
class _Beat:
    """The heartbeat thread's findings."""

    cancelled: bool = False
    lost: bool = False
    stopped: bool = False
    stop: threading.Event = field(default_factory=threading.Event)


Progress = Callable[[], tuple[int | None, int | None]]


def _heartbeats(client: RunnerClient, run_id: int, interval: float, progress: Progress,
                stop_process: Callable[[], None], beat: _Beat) -> None:
    while not beat.stop.wait(interval):
        try:
            done, total = progress()
            if client.heartbeat(run_id, done, total) and not beat.cancelled:
                beat.cancelled = True
                LOG.info("action=cancel run=%s", run_id)
                stop_process()
        except LeaseLost:
            beat.lost = True
            LOG.warning("action=lease_lost run=%s", run_id)
            stop_process()
            return
        except (httpx.HTTPError, ApplicationError) as error:  # the control room is briefly unreachable
            LOG.warning("action=heartbeat_failed run=%s error=%s", run_id, type(error).__name__)


def _stop_group(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _run_env(job: dict[str, Any], home: Path, project: Project, url: str = "") -> dict[str, str]:
    """The robot's environment: the runner's own (without its private variables), then the city's credentials,
    then the runner's protected variables, last, so that no credential can replace them: the robot's home, and the
    control room adapter with this attempt's item token. A credential whose name is reserved (PATH, LD_…,
    PYTHON…, RATHAUS_…, see :func:`is_reserved`) is skipped with a warning."""
    from rathaus_controlroom.services.credentials import is_reserved

    env = {k: v for k, v in os.environ.items() if not _PRIVATE_ENV.match(k)}
    for key, value in (job.get("env") or {}).items():
        name = str(key)
        if is_reserved(name) or not _ENV_NAME.match(name):
            LOG.warning("action=skip_credential run=%s name=%s: Zugangsdaten mit reserviertem Namen nicht gesetzt",
                        job.get("run"), name[:100])
            continue
        env[name] = str(value)
    env.update({"RATHAUS_HOME": str(home), "RATHAUS_PROJECT": str(project.root), "PYTHONUNBUFFERED": "1"})
    if job.get("item_token") and url:
        env.update({"RPA_WORKITEMS_ADAPTER": "controlroom", "RATHAUS_CONTROLROOM_URL": url,
                    "RATHAUS_CONTROLROOM_ITEM_TOKEN": str(job["item_token"])})
    return env


def _download_inputs(client: RunnerClient, job: dict[str, Any], folder: Path) -> dict[int, list[Path]]:
    files: dict[int, list[Path]] = {}
    for item in job.get("inputs") or []:
        for entry in item.get("files") or []:
            target = folder / "eingaben" / str(item["id"]) / Path(entry["name"]).name
            client.download(entry["url"], target)
            files.setdefault(item["id"], []).append(target)
    return files


def _report(client: RunnerClient, job: dict[str, Any], project: Project, folder: Path, override: Path | None,
            exit_code: int, text: str, beat: _Beat, home: Path, since: float,
            cleanup: Callable[[], None] | None = None, item_results: list[dict[str, Any]] | None = None) -> str:
    """Upload the artifacts, then report the end (each item's state is in the control room already, or, for a
    robot that read files, in ``item_results``)."""
    run_id, robot = job["run"], job["robot"]
    uploads = [*collect_artifacts(folder / "ausgabe", robot),
               *collect_results(project, robot, home, override, since=since)]
    for name, path in uploads[:MAX_ARTIFACTS]:
        client.upload(run_id, name, path)
    if cleanup is not None:
        cleanup()  # the case data of the run folder is gone before the control room hears of the end
    stopped = beat.cancelled and beat.stopped
    if stopped:
        text = "Auf Wunsch abgebrochen.\n" + text
    text = strip_paths(strip_paths(text, folder), home, HOME_PLACEHOLDER)
    return client.finish(run_id, exit_code, text, item_results or [], stopped=stopped)


def robot_home(work_dir: Path, robot: str) -> Path:
    """The city robot's home on this runner, kept between its runs."""
    return Path(work_dir) / "roboter" / robot


def clean_work_dir(work_dir: Path) -> int:
    """Remove run folders left by a runner that died (they hold case data) and stop their robots' process groups,
    if any still live; returns how many were removed. Called when a runner starts."""
    removed = 0
    for folder in Path(work_dir).glob("lauf-*"):
        group = folder / "prozessgruppe"
        with contextlib.suppress(OSError, ValueError, ProcessLookupError, PermissionError):
            os.killpg(int(group.read_text()), signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    if removed:
        LOG.warning("action=clean_work_dir folders=%d", removed)
    return removed


def _command(client: RunnerClient, job: dict[str, Any], project: Project, folder: Path, home: Path,
             override: Path | None, delivered: dict[str, int]) -> list[str]:
    """``rathaus run`` for the job; a run with uploads works on those cases only (the mailbox waits its turn).
    Files put into the robot's folder are added to ``delivered`` (name -> item)."""
    command = [sys.executable, "-m", "rathaus.cli", "run", job["robot"], "--output", str(folder / "ausgabe"),
               "--result", str(folder / "ergebnis.json")]
    if override is not None:
        command += ["--config", str(override)]
    if job.get("inputs"):
        if _consumes(project, job["robot"]):
            command.append("--skip-intake")
        else:
            delivered.update(deliver_files(project, job, _download_inputs(client, job, folder), home))
    return command


def execute(client: RunnerClient, job: dict[str, Any], work_dir: Path, project: Project | None = None,
            keep: bool = False) -> str:
    """Run one claimed job to its end; returns the state the control room recorded (or ``lost``)."""
    from rathaus.core.runner import die_with_parent

    project = project or Project.locate()
    run_id, robot = job["run"], job["robot"]
    folder = Path(work_dir) / f"lauf-{run_id}-{job.get('attempt', 1)}"
    shutil.rmtree(folder, ignore_errors=True)
    home, output = robot_home(work_dir, robot), folder / "ausgabe"
    home.mkdir(parents=True, exist_ok=True)
    output.mkdir(parents=True)
    result_file = folder / "ergebnis.json"
    since = time.time()
    process: subprocess.Popen[bytes] | None = None
    lock = threading.Lock()

    def stop_process() -> None:
        with lock:
            if process is None or process.poll() is None:
                beat.stopped = True  # the robot is stopped (or never starts), not finished
            _stop_group(process)

    beat = _Beat()
    interval = max(1.0, float(job.get("lease_s", 60)) / 3)
    thread = threading.Thread(target=_heartbeats, name=f"heartbeat-{run_id}", daemon=True,
                              args=(client, run_id, interval, lambda: (None, None), stop_process, beat))
    thread.start()
    exit_code, text, override = 1, "", None
    delivered: dict[str, int] = {}
    try:
        override = config_override(job, folder)
        command = _command(client, job, project, folder, home, override, delivered)
        LOG.info("action=run_start run=%s robot=%s attempt=%s", run_id, robot, job.get("attempt"))
        with (folder / "ausgabe.txt").open("wb") as log_file, lock:
            if not beat.cancelled and not beat.lost:
                process = subprocess.Popen(command, env=_run_env(job, home, project, client.url), cwd=folder,
                                           stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           process_group=0, preexec_fn=die_with_parent)  # noqa: PLW1509
                (folder / "prozessgruppe").write_text(str(process.pid))
        exit_code = process.wait() if process is not None else 1
        text = result_message(result_file, exit_code)
    except (ApplicationError, OSError) as error:
        exit_code, text = 1, f"Der Runner konnte den Lauf nicht ausführen: {error}"
    try:
        if beat.lost:
            return "lost"
        state = _report(client, job, project, folder, override, exit_code, text, beat, home, since,
                        None if keep else lambda: shutil.rmtree(folder, ignore_errors=True),
                        file_results(result_file, delivered) if delivered else None)
        LOG.info("action=run_end run=%s state=%s exit_code=%s", run_id, state, exit_code)
        return state
    except LeaseLost:
        LOG.warning("action=lease_lost run=%s", run_id)
        return "lost"
    finally:
        beat.stop.set()
        thread.join(timeout=interval + 5)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


# --- the loop ------------------------------------------------------------------------------------------------------

#: how long a runner of one city lets its claim wait for work (the runner's stop waits at most as long)
LONG_POLL_S = 10.0


def run_forever(url: str, token: str | list[str], work_dir: Path | str, poll_s: float = 5.0,
                stop_event: threading.Event | None = None, project: Project | None = None) -> None:
    """Claim and execute runs until ``stop_event`` is set; several tokens (one per city) are served in turn."""
    stop_event = stop_event or threading.Event()
    tokens = [token] if isinstance(token, str) else list(token)
    clients = [RunnerClient(url, t) for t in tokens]
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    clean_work_dir(work)
    LOG.info("action=runner_start url=%s tokens=%d", url, len(clients))
    # one city: its claim waits for work at the control room, so that a queued run starts at once; several
    # cities (the demo's local runner): each is asked in turn, every poll_s when all are idle
    wait_s = LONG_POLL_S if len(clients) == 1 else 0
    try:
        while not stop_event.is_set():
            worked = False
            for client in clients:
                asked = time.monotonic()
                try:
                    job = client.claim(wait_s)
                except (httpx.HTTPError, ApplicationError) as error:
                    LOG.warning("action=claim_failed error=%s", type(error).__name__)
                    if wait_s:
                        stop_event.wait(poll_s)  # the control room is away: ask again later, not at once
                    continue
                if job is None and wait_s and time.monotonic() - asked < wait_s / 2:
                    stop_event.wait(poll_s)  # a control room that does not wait for work (older version)
                if job is not None:
                    worked = True
                    LOG.info("action=claimed run=%s robot=%s", job["run"], job["robot"])
                    try:
                        execute(client, job, work, project)
                    except (httpx.HTTPError, ApplicationError) as error:
                        LOG.error("action=run_failed run=%s error=%s", job["run"], type(error).__name__)
                if stop_event.is_set():
                    break
            if not worked and not wait_s:
                stop_event.wait(poll_s)
    finally:
        for client in clients:
            client.close()


@dataclass
class LocalRunner:
    """A runner thread inside the control room process (``rathaus controlroom``)."""

    thread: threading.Thread
    stop_event: threading.Event

    def stop(self, timeout_s: float = 30.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout_s)


def start_local_runner(app_url: str, token: str | list[str], work_dir: Path | str, poll_s: float = 1.0,
                       project: Project | None = None) -> LocalRunner:
    """Start :func:`run_forever` in a daemon thread; ``handle.stop()`` ends it after the current run."""
    stop_event = threading.Event()
    thread = threading.Thread(target=run_forever, name="lokaler-runner", daemon=True,
                              kwargs={"url": app_url, "token": token, "work_dir": work_dir, "poll_s": poll_s,
                                      "stop_event": stop_event, "project": project})
    thread.start()
    return LocalRunner(thread, stop_event)

