"""The control room served by uvicorn in a thread of the test, and runner processes that can be killed as a machine
dies: shared by the end-to-end tests of runners and of mail triggers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.app import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve_app(app) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free port; yields its base address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def serve_in_thread(settings: Settings) -> Iterator[str]:
    """The control room on ``settings`` (a migrated database), served in a thread."""
    app = create_app(settings)
    try:
        with serve_app(app) as url:
            yield url
    finally:
        app.state.database.dispose()


@contextlib.contextmanager
def runner_process(url: str, token: str, work: Path, project: Path | None = None) -> Iterator[subprocess.Popen]:
    """A runner process in its own session, so that a test can kill the whole machine (runner and robot)."""
    token_file = work.with_suffix(".token")
    token_file.write_text(token + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    if project is not None:
        env["RATHAUS_PROJECT"] = str(project)
    process = subprocess.Popen([sys.executable, "-m", "rathaus_controlroom.runner_cli", "--url", url, "--token-file",
                                str(token_file), "--work", str(work), "--poll", "0.3"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield process
    finally:
        kill_machine(process)


def kill_machine(process: subprocess.Popen) -> None:
    """kill -9 every process of the runner's session: the runner, `rathaus run` and the robot."""
    with contextlib.suppress(ProcessLookupError):
        sid = os.getsid(process.pid)
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getsid(pid) == sid:
                    os.kill(pid, signal.SIGKILL)
    process.wait(10)


def wait_for_run(client: httpx.Client, run_id: int, headers, condition, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        answer = client.get(f"/api/runs/{run_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        run = answer.json()
        if condition(run) or time.monotonic() > deadline:
            return run
        time.sleep(0.2)
