"""The runner: claims runs of its city from the control room over HTTP and executes them with ``rathaus run``.

A runner machine holds a runner token (``rr_…``) and a checkout of the project, never database credentials.
For each run it

1. makes a folder ``<work>/lauf-<run>-<attempt>/`` with its own ``RATHAUS_HOME`` (so that runs never share
   mailboxes, queues or sandbox data) and downloads the run's uploaded input files;
2. delivers the input work items the way the robot reads its cases in production (:func:`deliver_inputs`):
   - robots with a ``postfach`` (mailbox) section get one mail per input item in the run's own Maildir
     inbox: the item's form fields become sender (``absender``), subject (``betreff``) and text (``text``),
     its files the attachments, and its Message-ID names the control room item
     (``<kontrollraum.<run>.<item>@rathaus.invalid>``). The robot's producer step then treats uploads
     exactly like mail: the same checks, the same duplicate detection, the same hand-over to the clerk. A
     mailbox configured as IMAP is replaced by the run's Maildir for this run (a run with uploads works on
     those uploads only);
   - robots that read files from a folder (``quelle``) get the uploaded files in that folder;
   - other robots refuse inputs with a German message;
3. runs ``python -m rathaus.cli run <city>/<process>`` in its own process group with the city's credentials
   as environment variables (never written to a file or a log), and sends a heartbeat every third of the
   lease from a thread, with progress (cases done of total) read from the run's work item queue; a cancel
   request or a lost lease stops the process group;
4. uploads the artifacts (Robot log and output, summary, letters, screenshots) and reports the exit code, the
   German summary or failure lines of ``rathaus run``, and each input item's result (found in the run's
   queue by the Message-ID above); then deletes the folder, which holds case data.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mailbox
import mimetypes
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
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

    def claim(self) -> dict[str, Any] | None:
        answer = self.http.post("/api/runner/claim")
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

def _maildir_path(url: str, home: Path) -> Path:
    path = Path(url.removeprefix("maildir:").split("#", 1)[0])
    return path if path.is_absolute() else home / path


def _mail(run_id: int, city: str, item: dict[str, Any], files: list[Path]) -> EmailMessage:
    payload = item.get("payload") or {}
    message = EmailMessage()
    message["From"] = str(payload.get("absender") or f"Kontrollraum <kontrollraum@{city}.rathaus.invalid>")
    message["To"] = f"{city}@rathaus.invalid"
    message["Subject"] = str(payload.get("betreff") or ", ".join(p.name for p in files) or item["reference"])
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<kontrollraum.{run_id}.{item['id']}@rathaus.invalid>"
    message.set_content(str(payload.get("text") or f"Im Kontrollraum hochgeladen (Lauf {run_id}, Vorgang "
                                                   f"'{item['reference']}')."))
    for path in files:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, sub = kind.split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return message


def deliver_inputs(project: Project, job: dict[str, Any], files: dict[int, list[Path]], home: Path,
                   folder: Path) -> Path | None:
    """Put the run's input items where the robot reads its cases; returns a config override file or ``None``."""
    inputs = job.get("inputs") or []
    if not inputs:
        return None
    from rathaus.core.config import load_robot_config

    robot = job["robot"]
    config = load_robot_config(project.robot_dir(robot) / "config.yaml", [], project)
    postfach = config.get("postfach")
    if isinstance(postfach, dict) and isinstance(postfach.get("url"), str):
        override = None
        if postfach["url"].startswith("maildir:"):
            inbox = _maildir_path(postfach["url"], home)
        else:
            inbox = home / "kontrollraum" / "postfach"
            override = folder / "eingaben.yaml"
            override.write_text(yaml.safe_dump({"postfach": {"url": f"maildir:{inbox}"}}), encoding="utf-8")
        inbox.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.Maildir(inbox, create=True)
        for item in inputs:
            box.add(_mail(job["run"], job["city"], item, files.get(item["id"], [])))
        LOG.info("action=deliver_inputs run=%s mails=%d", job["run"], len(inputs))
        return override
    if isinstance(config.get("quelle"), str):
        source = Path(config["quelle"])
        source = source if source.is_absolute() else home / source
        source.mkdir(parents=True, exist_ok=True)
        for paths in files.values():
            for path in paths:
                shutil.copyfile(path, source / path.name)
        LOG.info("action=deliver_inputs run=%s files=%d", job["run"], sum(len(p) for p in files.values()))
        return None
    raise InputDeliveryError(f"Der Roboter {robot} nimmt keine Eingaben an (weder Postfach noch Quellordner): "
                             "bitte ohne Eingaben starten.")


# --- progress and results -------------------------------------------------------------------------------------------

def _queue_file(home: Path, robot: str) -> Path:
    return home / robot / "workitems.sqlite"


def read_progress(home: Path, robot: str) -> tuple[int | None, int | None]:
    """(done, total) of the run's work item queue; ``(None, None)`` while there is none."""
    database = _queue_file(home, robot)
    if not database.is_file():
        return None, None
    from rathaus.workitems.queue import open_queue

    adapter = open_queue(database)
    try:
        summary = adapter.summary(robot)
    except (RathausError, sqlite3.Error):  # the robot may be creating the database right now
        return None, None
    finally:
        adapter.close()
    return summary["done"] + summary["failed"], summary["total"]


def item_results(home: Path, robot: str, run_id: int) -> list[dict[str, Any]]:
    """The result of each input item, found in the run's queue by the Message-ID that names it."""
    database = _queue_file(home, robot)
    if not database.is_file():
        return []
    from rathaus.workitems.queue import open_queue

    adapter = open_queue(database)
    try:
        local = adapter.list_items(robot)
    finally:
        adapter.close()
    found: dict[int, list[Any]] = {}
    for entry in local:
        text = f"{entry.key or ''} {json.dumps(entry.payload, ensure_ascii=False, default=str)}"
        for run, item in _ITEM_MARK.findall(text):
            if int(run) == run_id:
                found.setdefault(int(item), []).append(entry)
                break
    results = []
    for item_id, entries in found.items():
        failed = [e for e in entries if e.status.value == "failed"]
        open_ = [e for e in entries if e.status.value in ("pending", "in_progress")]
        application = [e for e in failed if e.exception_type != "BUSINESS"]
        business = [e for e in failed if e.exception_type == "BUSINESS"]
        if application or open_:
            first = application[0] if application else None
            results.append({"id": item_id, "state": "failed_application", "code": first.code if first else "OFFEN",
                            "message": first.message if first else "Der Vorgang wurde im Lauf nicht fertig "
                                                                   "bearbeitet."})
        elif business:
            results.append({"id": item_id, "state": "failed_business", "code": business[0].code,
                            "message": "; ".join(dict.fromkeys(e.message or "" for e in business))[:2000]})
        else:
            results.append({"id": item_id, "state": "done"})
    return results


def run_message(output: str, exit_code: int) -> str:
    """The German lines ``rathaus run`` printed after the robot (outcome, summary, causes), as one message."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Lauf ") and "beendet" in line), None)
    if start is not None:
        picked = [line.strip() for line in lines[start:] if line.strip() and not line.startswith("Protokoll:")]
    else:
        picked = [line.strip() for line in lines if line.startswith("rathaus:")] or [
            line.strip() for line in lines[-5:] if line.strip()]
        if exit_code != 0:
            picked.insert(0, f"Der Lauf ist abgebrochen (Exit-Code {exit_code}).")
    return "\n".join(picked)[:4000]


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


def collect_results(project: Project, robot: str, home: Path, override: Path | None = None) -> list[tuple[str, Path]]:
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
            parts = path.relative_to(folder).parts
            rest = "/".join(parts) if len(parts) <= 2 else f"{parts[0]}/{'_'.join(parts[1:])}"
            found.append((f"ergebnis/{label}/{rest}", path))
    return found


def file_results(project: Project, job: dict[str, Any], home: Path) -> list[dict[str, Any]]:
    """Results of input items of a robot that reads files from its ``quelle`` folder, by where their files ended:
    in the config's ``fehlerhaft`` sub-folder (a business failure, the note ``<name>.fehler.txt`` says why) or in
    ``verarbeitet`` (done). Items whose files are still in ``quelle`` get no result here."""
    inputs = [item for item in job.get("inputs") or [] if item.get("files")]
    if not inputs:
        return []
    try:
        config = _robot_config(project, job["robot"], None)
    except (RathausError, OSError) as error:
        LOG.warning("action=file_results run=%s error=%s", job.get("run"), type(error).__name__)
        return []
    if not isinstance(config.get("quelle"), str):
        return []
    source = Path(config["quelle"])
    source = source if source.is_absolute() else home / source
    rejected_dir = source / str(config.get("fehlerhaft") or "fehlerhaft")
    done_dir = source / str(config.get("verarbeitet") or "verarbeitet")
    results = []
    for item in inputs:
        names = [Path(entry["name"]).name for entry in item["files"]]
        rejected = [name for name in names if (rejected_dir / name).is_file()]
        if rejected:
            notes = []
            for name in rejected:
                note = rejected_dir / f"{name}.fehler.txt"
                first = ""
                if note.is_file():
                    first = next((line.strip() for line in note.read_text(encoding="utf-8", errors="replace")
                                  .splitlines() if line.strip()), "")
                notes.append(first or f"{name}: vom Roboter als fehlerhaft aussortiert.")
            results.append({"id": item["id"], "state": "failed_business", "code": "FEHLERHAFT",
                            "message": "; ".join(notes)[:2000]})
        elif all((done_dir / name).is_file() for name in names):
            results.append({"id": item["id"], "state": "done"})
    return results


def strip_paths(text: str, folder: Path) -> str:
    """``text`` without the run folder's absolute path (the runner machine's layout is nobody's business)."""
    for prefix in {str(folder.resolve()), str(folder), str(folder.absolute())}:
        text = text.replace(prefix, FOLDER_PLACEHOLDER)
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


def _run_env(job: dict[str, Any], home: Path, project: Project) -> dict[str, str]:
    """The robot's environment: the runner's own (without its private variables), then the city's credentials,
    then the runner's protected variables, last, so that no credential can replace them. A credential whose name
    is reserved (PATH, LD_…, PYTHON…, RATHAUS_…, see :func:`is_reserved`) is skipped with a warning."""
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
            exit_code: int, text: str, beat: _Beat) -> str:
    """Upload the artifacts and results, then report the end with each input item's result."""
    run_id, robot, home = job["run"], job["robot"], folder / "home"
    uploads = [*collect_artifacts(folder / "ausgabe", robot), *collect_results(project, robot, home, override)]
    for name, path in uploads[:MAX_ARTIFACTS]:
        client.upload(run_id, name, path)
    results = item_results(home, robot, run_id)
    known = {result["id"] for result in results}
    results += [result for result in file_results(project, job, home) if result["id"] not in known]
    stopped = beat.cancelled and beat.stopped
    if stopped:
        text = "Auf Wunsch abgebrochen.\n" + text
    return client.finish(run_id, exit_code, strip_paths(text, folder), results, read_progress(home, robot),
                         stopped=stopped)


def execute(client: RunnerClient, job: dict[str, Any], work_dir: Path, project: Project | None = None,
            keep: bool = False) -> str:
    """Run one claimed job to its end; returns the state the control room recorded (or ``lost``)."""
    project = project or Project.locate()
    run_id, robot = job["run"], job["robot"]
    folder = Path(work_dir) / f"lauf-{run_id}-{job.get('attempt', 1)}"
    shutil.rmtree(folder, ignore_errors=True)
    home, output = folder / "home", folder / "ausgabe"
    home.mkdir(parents=True)
    output.mkdir()
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
                              args=(client, run_id, interval, lambda: read_progress(home, robot), stop_process, beat))
    thread.start()
    exit_code, text, override = 1, "", None
    try:
        override = deliver_inputs(project, job, _download_inputs(client, job, folder), home, folder)
        command = [sys.executable, "-m", "rathaus.cli", "run", robot, "--output", str(output)]
        if override is not None:
            command += ["--config", str(override)]
        LOG.info("action=run_start run=%s robot=%s attempt=%s", run_id, robot, job.get("attempt"))
        with (folder / "ausgabe.txt").open("wb") as log_file, lock:
            if not beat.cancelled and not beat.lost:
                process = subprocess.Popen(command, env=_run_env(job, home, project), cwd=folder, stdout=log_file,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, process_group=0)
        exit_code = process.wait() if process is not None else 1
        text = run_message((folder / "ausgabe.txt").read_text(encoding="utf-8", errors="replace"), exit_code)
    except (ApplicationError, OSError) as error:
        exit_code, text = 1, f"Der Runner konnte den Lauf nicht ausführen: {error}"
    try:
        if beat.lost:
            return "lost"
        state = _report(client, job, project, folder, override, exit_code, text, beat)
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

def run_forever(url: str, token: str | list[str], work_dir: Path | str, poll_s: float = 5.0,
                stop_event: threading.Event | None = None, project: Project | None = None) -> None:
    """Claim and execute runs until ``stop_event`` is set; several tokens (one per city) are served in turn."""
    stop_event = stop_event or threading.Event()
    tokens = [token] if isinstance(token, str) else list(token)
    clients = [RunnerClient(url, t) for t in tokens]
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    LOG.info("action=runner_start url=%s tokens=%d", url, len(clients))
    try:
        while not stop_event.is_set():
            worked = False
            for client in clients:
                try:
                    job = client.claim()
                except (httpx.HTTPError, ApplicationError) as error:
                    LOG.warning("action=claim_failed error=%s", type(error).__name__)
                    continue
                if job is not None:
                    worked = True
                    LOG.info("action=claimed run=%s robot=%s", job["run"], job["robot"])
                    try:
                        execute(client, job, work, project)
                    except (httpx.HTTPError, ApplicationError) as error:
                        LOG.error("action=run_failed run=%s error=%s", job["run"], type(error).__name__)
                if stop_event.is_set():
                    break
            if not worked:
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


def start_local_runner(app_url: str, token: str | list[str], work_dir: Path | str, poll_s: float = 2.0,
                       project: Project | None = None) -> LocalRunner:
    """Start :func:`run_forever` in a daemon thread; ``handle.stop()`` ends it after the current run."""
    stop_event = threading.Event()
    thread = threading.Thread(target=run_forever, name="lokaler-runner", daemon=True,
                              kwargs={"url": app_url, "token": token, "work_dir": work_dir, "poll_s": poll_s,
                                      "stop_event": stop_event, "project": project})
    thread.start()
    return LocalRunner(thread, stop_event)

