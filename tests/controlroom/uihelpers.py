"""A control room on a SQLite file with users of several cities and roles, and a browser-like test client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from rathaus.core.project import Project
from rathaus_controlroom.db import Database, upgrade
from rathaus_controlroom.models import Robot, Role
from rathaus_controlroom.services.catalogue import sync_catalogue
from rathaus_controlroom.services.users import Principal, add_user
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.app import create_app
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "ein-langes-Passwort-1"
USERS = {
    "gi.clerk": (Role.CLERK, "giessen"),
    "gi.admin": (Role.ADMIN, "giessen"),
    "gi.owner": (Role.OWNER, "giessen"),
    "mr.clerk": (Role.CLERK, "marburg"),
    "mr.admin": (Role.ADMIN, "marburg"),
    "ops": (Role.OPERATOR, None),
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Room:
    settings: Settings
    db: Database
    app: object
    principals: dict[str, Principal]

    def client(self, user: str | None = None) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        if user:
            login(client, user)
        return client

    def robot(self, city: str, process: str = "unterhaltsvorschuss") -> int:
        with self.db.session() as session:
            return session.scalar(select(Robot.id).where(Robot.city_id == city, Robot.process == process))


def make_room(data_dir: Path, database_url: str | None = None, **changes: object) -> Room:
    settings = Settings.load(data_dir=data_dir, database_url=database_url).with_changes(**changes)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    principals = {}
    with db.session() as session:
        sync_catalogue(session, Project(ROOT))
        for name, (role, city) in USERS.items():
            principals[name] = Principal.of(add_user(session, name, role, PASSWORD, city=city))
    return Room(settings, db, create_app(settings, db), principals)


def waiting_cases(room: Room) -> int:
    """A run of three uploaded applications as a robot leaves it: one entered, two waiting for a clerk (IBAN
    missing); returns the run's id."""
    from items_world import UVG_CASE, application_mail
    from rathaus_controlroom.models import ItemState, RunState, WorkItem
    from rathaus_controlroom.services import items, runs

    missing = {**UVG_CASE, "antragsteller": {**UVG_CASE["antragsteller"], "iban": ""}}
    with room.db.session() as session:
        inputs = runs.build_inputs([(f"antrag-{n}.eml", application_mail(n)) for n in (1, 2, 3)], {}, 10_000_000)
        run = runs.start_run(session, room.principals["gi.clerk"], room.robot("giessen"), inputs,
                             data_dir=room.settings.data_dir)
        rows = session.scalars(select(WorkItem).where(WorkItem.run_id == run.id).order_by(WorkItem.id)).all()
        rows[0].payload = {**rows[0].payload, "fall": UVG_CASE, "aktenzeichen": "UVG-2026-000001",
                           "ergebnis": "eingetragen"}
        items.record_item_result(session, rows[0], ItemState.DONE)
        for row in rows[1:]:
            row.payload = {**row.payload, "fall": missing}
            items.record_item_result(session, row, ItemState.FAILED_BUSINESS, "PFLICHTANGABEN_FEHLEN",
                                     f"Antrag {row.reference}: IBAN fehlt. Bitte beim Antragsteller nachfragen, die "
                                     "Angaben im Kontrollraum korrigieren und erneut versuchen.")
        run.state = RunState.SUCCEEDED
        return run.id


def csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client: TestClient, user: str, password: str = PASSWORD):
    form = client.get("/anmelden")
    response = client.post("/anmelden", data={"name": user, "passwort": password, "csrf_token": csrf(form.text),
                                              "weiter": "/"})
    assert response.status_code == 303, response.text
    return response


def token_of(client: TestClient, page: str = "/") -> str:
    return csrf(client.get(page).text)


# --- the control room as a process (``rathaus controlroom``) ------------------------------------------------------

#: runs the control room's commands the way ``rathaus`` does, whether or not rathaus.cli has them wired yet
CLI_SNIPPET = """
import argparse, sys
from rathaus.errors import RathausError
from rathaus_controlroom.cli import add_parsers
parser = argparse.ArgumentParser(prog="rathaus")
add_parsers(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
try:
    sys.exit(args.func(args))
except RathausError as error:
    print(f"rathaus: {error}", file=sys.stderr)
    sys.exit(1)
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-c", CLI_SNIPPET, *args]


class ControlRoomProcess:
    """``rathaus controlroom`` in its own process group; ``lines`` collects what it prints."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        import os
        import subprocess
        import threading

        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
        self.process = subprocess.Popen(
            cli_command("controlroom", "--data", str(data_dir), "--port", str(self.port), *args),
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_started(self, timeout_s: float = 60) -> str:
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith("Kontrollraum läuft: "):
                    return line.split()[2]
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("control room did not start:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        import contextlib
        import os
        import signal
        import subprocess

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # robots the local runner may have left
        self._reader.join(5)
        self.process.stdout.close()
        return self.process.returncode
