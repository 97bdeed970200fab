"""Every API route against every role: without a token nothing answers, and another city's objects are never
reached — whatever the route, a Marburg user (or Marburg's runner) asking about Gießen's run, items, artifacts,
schedule, credential, runner or user gets 404 (or 403 where the role may not act at all), and nothing changes.

The routes come from the application's own OpenAPI document, so a new route is covered without editing this file.
"""

from __future__ import annotations

import re

import pytest
from items_world import api_client, build_world
from rathaus_controlroom.db import Database
from rathaus_controlroom.models import AuditEntry, Schedule, WorkItem
from rathaus_controlroom.services import runners as runner_service
from rathaus_controlroom.services.credentials import save_credential
from rathaus_controlroom.settings import Settings
from sqlalchemy import func, select

#: routes that hold no object of a city (lists and creations act on the caller's own city)
_OWN_CITY_ONLY = {"/api/status", "/api/openapi.json"}
#: bodies that pass validation, so that the answer is about the object, not the form
_BODIES = {
    "/api/items/{item_id}/retry": {"payload": {"feld": "wert"}},
    "/api/items/{item_id}/close": {"reason": "erledigt"},
    "/api/runner/runs/{run_id}/heartbeat": {"cases_done": 1, "cases_total": 1},
    "/api/runner/runs/{run_id}/finish": {"exit_code": 0},
    "/api/processes/{name}/publish": {},
}


def _routes(client) -> list[tuple[str, str]]:
    spec = client.get("/api/openapi.json").json()
    return [(method.upper(), path) for path, operations in spec["paths"].items() for method in operations
            if path not in _OWN_CITY_ONLY]


@pytest.fixture
def world_and_client(database_url, tmp_path):
    db = Database(database_url)
    world = build_world(db)
    settings = Settings.load(data_dir=tmp_path / "daten", database_url=database_url)
    with db.session() as session:
        run_id = world.run("giessen/unterhaltsvorschuss")
        item = WorkItem(city_id="giessen", robot_id=world.robots["giessen/unterhaltsvorschuss"], run_id=run_id,
                        reference="antrag-1", payload={"name": "Müller"})
        schedule = Schedule(city_id="giessen", robot_id=world.robots["giessen/unterhaltsvorschuss"],
                            cron="0 7 * * 1-5")
        session.add_all([item, schedule])
        session.flush()
        save_credential(session, settings, world.who["giessen.admin"], "GIESSEN_UVG_PASSWORT", "streng-geheim-42")
        giessen_runner, _ = runner_service.register_runner(session, world.who["giessen.admin"], "giessen-1")
        _, marburg_runner_token = runner_service.register_runner(session, world.who["marburg.admin"], "marburg-1")
        ids = {"run_id": run_id, "item_id": item.id, "schedule_id": schedule.id, "runner_id": giessen_runner.id,
               "user_id": world.who["giessen.clerk"].user_id, "name": "GIESSEN_UVG_PASSWORT"}
    world.tokens["marburg.runner"] = marburg_runner_token
    with api_client(world, tmp_path / "daten") as (client, _):
        yield world, client, ids
    db.dispose()


def _fill(path: str, ids: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), "log.html" if m.group(1) == "name" else 1)), path)


def _changes(world) -> tuple[int, ...]:
    with world.db.session() as session:
        items = session.scalars(select(WorkItem.state).order_by(WorkItem.id)).all()
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
        paused = session.scalars(select(Schedule.paused)).all()
    return (tuple(str(s) for s in items), audit, tuple(paused))


def test_no_route_answers_without_a_token(world_and_client):
    _, client, ids = world_and_client
    for method, path in _routes(client):
        answer = client.request(method, _fill(path, ids), json=_BODIES.get(path, {}))
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert "streng-geheim-42" not in answer.text and "Müller" not in answer.text


@pytest.mark.parametrize("user", ["marburg.clerk", "marburg.admin", "marburg.owner", "marburg.runner"])
def test_another_citys_objects_are_never_reached(world_and_client, user):
    world, client, ids = world_and_client
    before = _changes(world)
    headers = {"Authorization": f"Bearer {world.tokens[user]}"}
    checked = 0
    for method, path in _routes(client):
        holds_object = re.search(r"\{(run_id|item_id|schedule_id|runner_id|user_id)\}", path)
        if not holds_object and path != "/api/credentials/{name}":
            continue
        if path.startswith("/api/runner/items"):
            continue  # robots' item routes take the item token of one run attempt (test_robot_items.py)
        if path.startswith("/api/runner/") != (user == "marburg.runner"):
            continue  # runner routes take runner tokens only, the others user tokens only (401 otherwise)
        if path == "/api/runner/runs/{run_id}/artifacts":
            answer = client.post(_fill(path, ids), data={"name": "log.html"}, headers=headers,
                                 files={"datei": ("log.html", b"<html></html>", "text/html")})
        else:
            answer = client.request(method, _fill(path, ids), json=_BODIES.get(path, {}), headers=headers)
        checked += 1
        # runs, their artifacts and items: 404 for another city; a role that may never see case data (owners)
        # or may not act at all is refused by role before any lookup, which tells nothing about Gießen either
        strict = re.search(r"/(runs|runner/runs|items)/", path) and user != "marburg.owner"
        allowed = {404} if strict else {403, 404}
        assert answer.status_code in allowed, (user, method, path, answer.status_code, answer.text[:200])
        assert "streng-geheim-42" not in answer.text and "Müller" not in answer.text
    assert checked >= (4 if user == "marburg.runner" else 18)
    assert _changes(world) == before  # nothing of Gießen changed, and no action was recorded


def test_the_city_itself_reaches_its_objects(world_and_client):
    """The counter-check: the same routes answer Gießen's own clerk, so the 404s above are about the city."""
    world, client, ids = world_and_client
    headers = {"Authorization": f"Bearer {world.tokens['giessen.clerk']}"}
    assert client.get(f"/api/runs/{ids['run_id']}", headers=headers).status_code == 200
    item = client.get(f"/api/items/{ids['item_id']}", headers=headers)
    assert item.status_code == 200 and item.json()["payload"] == {"name": "Müller"}
    assert client.get(f"/api/schedules/{ids['schedule_id']}", headers=headers).status_code == 200
    admin = {"Authorization": f"Bearer {world.tokens['giessen.admin']}"}
    assert client.get("/api/credentials", headers=admin).json()[0]["name"] == "GIESSEN_UVG_PASSWORT"
