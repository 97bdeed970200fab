"""Start and stop the sandbox Fachverfahren: in a background thread or as a child process.

``start_sandbox`` suits tests and benchmarks (same process, fast); ``spawn_sandbox`` suits ``rathaus run``
and the acceptance suite (own process, survives a crashing robot, stops with ``.stop()``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from rathaus_sandbox import SANDBOX_APPS
from rathaus_sandbox.fachverfahren import Settings, create_app

_URL_LINE = re.compile(r"(http://[\w.\-]+:\d+/)")


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log line per request (tests and benchmarks stay readable)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SandboxServer:
    """A running sandbox; ``url`` ends with a slash. Usable as a context manager."""

    url: str

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass
class ThreadedSandbox(SandboxServer):
    """The sandbox served by werkzeug in a daemon thread of this process."""

    server: BaseWSGIServer
    thread: threading.Thread
    settings: Settings
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://{self.server.host}:{self.server.server_port}/"

    @property
    def database(self) -> Path:
        """SQLite file of this instance."""
        return self.server.app.extensions["rathaus_store"].path  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=10)
        self.server.server_close()


@dataclass
class SpawnedSandbox(SandboxServer):
    """The sandbox in a child process (``python -m rathaus_sandbox.fachverfahren``)."""

    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        """Terminate the child process and wait for it (idempotent)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


def start_sandbox(
    app_settings: Settings | Mapping[str, Any] | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    quiet: bool = True,
) -> ThreadedSandbox:
    """Serve the sandbox in a background thread; ``port=0`` picks a free port. Returns once it accepts requests."""
    settings = Settings.from_mapping(app_settings)
    handler = QuietRequestHandler if quiet else None
    server = make_server(host, port, create_app(settings), threaded=True, request_handler=handler)
    thread = threading.Thread(target=server.serve_forever, name="rathaus-sandbox", daemon=True)
    thread.start()
    return ThreadedSandbox(server=server, thread=thread, settings=settings)


def spawn_sandbox(
    *,
    app: str = "uvg",
    port: int = 0,
    database: str | Path | None = None,
    users: Mapping[str, str] | None = None,
    delay_ms: int | None = None,
    error_rate: float | None = None,
    session_timeout_s: float | None = None,
    mandant: str | None = None,
    seed: int | None = None,
    host: str = "127.0.0.1",
    timeout_s: float = 20.0,
) -> SpawnedSandbox:
    """Start the sandbox application ``app`` (a key of ``SANDBOX_APPS``) as a child process and wait until
    ``/status`` answers.

    Raises ``RuntimeError`` (German message) when it does not come up within ``timeout_s``.
    """
    if app not in SANDBOX_APPS:
        raise ValueError(f"Sandbox '{app}' gibt es nicht; vorhanden: {', '.join(sorted(SANDBOX_APPS))}.")
    cmd = [sys.executable, "-m", SANDBOX_APPS[app], "--host", host, "--port", str(port)]
    if database is not None:
        cmd += ["--db", str(database)]
    for user, password in (users or {}).items():
        cmd += ["--user", f"{user}:{password}"]
    for flag, value in (("--delay-ms", delay_ms), ("--error-rate", error_rate), ("--seed", seed),
                        ("--session-timeout", session_timeout_s), ("--mandant", mandant)):
        if value is not None:
            cmd += [flag, str(value)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + timeout_s
    url = _read_url(process, deadline)
    sandbox = SpawnedSandbox(process=process, url=url)
    # Drain the child's output so that a chatty server never blocks on a full pipe.
    threading.Thread(target=_drain, args=(process,), daemon=True).start()
    while time.monotonic() < deadline:
        if _answers(url + "status"):
            return sandbox
        if process.poll() is not None:
            break
        time.sleep(0.05)
    sandbox.stop()
    raise RuntimeError(f"Das Sandbox-Fachverfahren unter {url} antwortet nicht innerhalb von {timeout_s:g} s.")


def _read_url(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip())
        match = _URL_LINE.search(line)
        if match:
            return match.group(1)
    process.kill()
    process.wait(timeout=10)
    output = "\n".join(seen[-20:])
    raise RuntimeError(f"Das Sandbox-Fachverfahren ist nicht gestartet. Ausgabe:\n{output}")


def _drain(process: subprocess.Popen[str]) -> None:
    stream = process.stdout
    if stream is None:
        return
    try:
        for _line in stream:
            pass
    except (OSError, ValueError):
        pass


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own http://127.0.0.1 URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
