"""``rathaus controlroom --demo`` as a city's people meet it: one process with its local runners and the cities'
long-lived sandbox systems, driven through its HTTP API with API tokens made by ``rathaus tokens create``.

What the people check is read where they would look: the target systems' databases (``<data>/systeme/…``), the
city robot's persistent home (``<data>/runner/roboter/<city>/<process>/``: its Maildir, archives and publications)
and the control room's own answers (runs, items, artifacts).
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
#: the password of every demo login (printed by ``rathaus controlroom --demo``)
DEMO_PASSWORD = "Kontrollraum-Demo-2025"
FINISHED = ("succeeded", "failed", "cancelled")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}


class DemoRoom:
    """A running ``rathaus controlroom --demo --data DATA``; :meth:`stop` ends it (Ctrl+C, as a person would)."""

    def __init__(self, data: Path, start_timeout_s: float = 180) -> None:
        self.data = Path(data)
        self.port = _free_port()
        self.lines: list[str] = []
        self._tokens: dict[str, str] = {}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rathaus.cli", "controlroom", "--demo", "--data", str(self.data), "--port",
             str(self.port)], env=_environment(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self._wait_started(start_timeout_s)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_started(self, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(line.startswith("Kontrollraum läuft: ") for line in self.lines):
                return f"http://localhost:{self.port}"
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("rathaus controlroom --demo did not start:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # robots a runner may still run
        self.process.wait(10)
        self._reader.join(5)
        self.process.stdout.close()
        return self.process.returncode

    # --- people -------------------------------------------------------------------------------------------------

    def token(self, user: str) -> str:
        """An API token of the demo user ``user`` (``giessen.sachbearbeitung``), made with ``rathaus tokens create``."""
        if user not in self._tokens:
            command = [sys.executable, "-m", "rathaus.cli", "tokens", "create", user, "--data", str(self.data)]
            made = subprocess.run(command, env=_environment(), cwd=ROOT, capture_output=True, text=True, check=False,
                                  timeout=60)
            assert made.returncode == 0, made.stderr
            self._tokens[user] = made.stdout.strip().splitlines()[-1]
        return self._tokens[user]

    def client(self, user: str) -> httpx.Client:
        """An HTTP client of ``user`` (Bearer token); close it (``with``) after use."""
        return httpx.Client(base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {self.token(user)}"})

    # --- runs ---------------------------------------------------------------------------------------------------

    @staticmethod
    def start(client: httpx.Client, robot: str, files: list[tuple[str, bytes]] | tuple = (),
              fields: dict[str, str] | None = None) -> int:
        """Start ``robot`` (``giessen/unterhaltsvorschuss``) with uploads ``(name, content)``; the run's id."""
        uploads = [("dateien", (name, content, "application/octet-stream")) for name, content in files]
        if uploads:
            answer = client.post("/api/runs", data={"robot": robot, **(fields or {})}, files=uploads)
        else:  # a start without files is JSON; its fields become one input item
            inputs = [{"payload": fields}] if fields else []
            answer = client.post("/api/runs", json={"robot": robot, "inputs": inputs})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    @staticmethod
    def wait(client: httpx.Client, run_id: int, timeout_s: float = 240) -> dict[str, Any]:
        """The run once it has finished (fails the test after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            answer = client.get(f"/api/runs/{run_id}")
            assert answer.status_code == 200, answer.text
            run = answer.json()
            if run["state"] in FINISHED:
                return run
            assert time.monotonic() < deadline, f"run {run_id} did not finish: {run}"
            time.sleep(0.3)

    @staticmethod
    def items(client: httpx.Client, robot: str, **filters: str) -> list[dict[str, Any]]:
        """``GET /api/items?robot=…`` (process name or ``city/process``) with further filters (``state=…``)."""
        answer = client.get("/api/items", params={"robot": robot, **filters})
        assert answer.status_code == 200, answer.text
        return answer.json()

    @staticmethod
    def item(client: httpx.Client, item_id: int) -> dict[str, Any]:
        answer = client.get(f"/api/items/{item_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    # --- where people look --------------------------------------------------------------------------------------

    def robot_home(self, robot: str) -> Path:
        """The city robot's persistent home (its ``RATHAUS_HOME``): Maildir, archives, publications."""
        return self.data / "runner" / "roboter" / robot

    def system_database(self, robot: str, section: str) -> Path:
        """The SQLite file of the demo's long-lived sandbox behind config section ``section`` of ``robot``."""
        return self.data / "systeme" / robot / f"{section}.sqlite"

    def rows(self, robot: str, section: str, query: str, *params: Any) -> list[dict[str, Any]]:
        """Rows of ``query`` in a sandbox system's database, read-only (the system keeps running)."""
        path = self.system_database(robot, section)
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(query, params)]

    def maildir(self, robot: str, relative: str) -> mailbox.Maildir:
        """The robot's Maildir ``relative`` to its home (``giessen/uvg`` from ``url: maildir:giessen/uvg``)."""
        path = self.robot_home(robot) / relative
        path.parent.mkdir(parents=True, exist_ok=True)  # before the robot's first run, as a mail server would
        return mailbox.Maildir(path, factory=None, create=True)

    def folder(self, robot: str, relative: str, folder: str) -> list[EmailMessage]:
        """The mails of ``folder`` (``INBOX``, ``Erledigt``, ``Gesendet``) of the robot's Maildir, parsed."""
        box = self.maildir(robot, relative)
        if folder != "INBOX":
            if folder not in box.list_folders():
                return []
            box = box.get_folder(folder)
        return [message_from_bytes(box.get_bytes(key), policy=policy.default) for key in sorted(box.keys())]

    def deliver(self, robot: str, relative: str, raw: bytes) -> None:
        """Deliver ``raw`` into the robot's Maildir inbox, as the city's mail server would."""
        self.maildir(robot, relative).add(raw)
