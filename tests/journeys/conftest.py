"""Journeys through the real control room: ``rathaus controlroom --demo`` started once per test session.

The fixture ``demo_room`` is a :class:`support.demo_room.DemoRoom`: the control room process with its local runners
(one per city) and the cities' long-lived sandbox systems (UVG-Fachverfahren, Gewerberegister, Finanzsystem), as a
city's clerk meets it after ``make demo``. Tests act as the demo users through the HTTP API:

- ``demo_room.client("giessen.sachbearbeitung")``: an ``httpx.Client`` with that user's API token
  (made by ``rathaus tokens create``); use it in a ``with`` block;
- ``demo_room.start(client, "giessen/unterhaltsvorschuss", files=[(name, bytes)], fields={...})`` → run id, and
  ``demo_room.wait(client, run_id)`` → the finished run (``GET /api/runs/{id}``);
- ``demo_room.items(client, robot, state=…)``, ``demo_room.item(client, item_id)``;
- where people look: ``demo_room.robot_home("giessen/unterhaltsvorschuss")`` (the robot's RATHAUS_HOME: Maildir,
  archives, publications), ``demo_room.rows(robot, section, sql)`` (read-only rows of the sandbox behind config
  section ``section``, e.g. ``fachverfahren``), ``demo_room.folder(robot, "giessen/uvg", "Gesendet")`` (mails of a
  Maildir folder of the robot's home), ``demo_room.deliver(robot, "giessen/uvg", raw)`` (mail into its inbox).

Each process's journeys use their own city, so they do not see each other's cases.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.demo_room import DemoRoom


@pytest.fixture(scope="session")
def demo_room(tmp_path_factory) -> Iterator[DemoRoom]:
    room = DemoRoom(tmp_path_factory.mktemp("demo") / "daten")
    try:
        yield room
    finally:
        code = room.stop()
        assert code == 0, "\n".join(room.lines[-40:])
