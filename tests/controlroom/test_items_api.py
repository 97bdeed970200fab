"""The work-item API for every role: clerks and admins of the item's city handle cases, nobody else sees them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from items_world import UVG_CASE, api_client, build_world
from rathaus_controlroom.models import AuditEntry, ItemState, Run, WorkItem
from rathaus_controlroom.services import items
from rathaus_controlroom.web import sessions
from sqlalchemy import select

T0 = datetime(2025, 5, 5, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def client(world, tmp_path):
    with api_client(world, tmp_path) as (client, _settings):
        yield client


@pytest.fixture
def failed(world):
    """A Gießen item handed back to the clerks and a Marburg item in the queue."""
    run_id = world.run("giessen/unterhaltsvorschuss")
    other = world.run("marburg/nutzungsstatistik")
    with world.db.session() as session:
        first, _ = items.add_input_items(session, session.get(Run, run_id), [
            {"reference": "antrag-1", "payload": {"kind": "Mia"}}, {"reference": "antrag-2", "payload": {}}])
        items.add_input_items(session, session.get(Run, other), [{"reference": "m-1", "payload": {"n": 1}}])
        items.record_item_result(session, first, ItemState.FAILED_BUSINESS, "DATUM", "Datum fehlt", T0)
        return first.id


def test_clerks_list_their_citys_items_and_worklist(client, world, failed):
    answer = client.get("/api/items", headers=world.headers("giessen.clerk"))
    assert answer.status_code == 200
    assert [i["reference"] for i in answer.json()] == ["antrag-1", "antrag-2"]
    answer = client.get("/api/items?robot=unterhaltsvorschuss&state=new", headers=world.headers("giessen.clerk"))
    assert [i["reference"] for i in answer.json()] == ["antrag-2"]
    worklist = client.get("/api/worklist", headers=world.headers("giessen.admin")).json()
    assert [(i["id"], i["payload"], i["error_message"]) for i in worklist] == [(failed, {"kind": "Mia"},
                                                                                 "Datum fehlt")]
    one = client.get(f"/api/items/{failed}", headers=world.headers("giessen.clerk")).json()
    assert (one["state"], one["process"]) == ("failed_business", "unterhaltsvorschuss")
    bad = client.get("/api/items?state=kaputt", headers=world.headers("giessen.clerk"))
    assert bad.status_code == 422 and "Status 'kaputt' ist unbekannt" in bad.json()["detail"]


def test_a_marburg_clerk_gets_404_for_giessens_items(client, world, failed):
    marburg = world.headers("marburg.clerk")
    assert client.get(f"/api/items/{failed}", headers=marburg).status_code == 404
    for action, body in (("retry", {"payload": {"kind": "Anna"}}), ("close", {"reason": "erledigt"})):
        answer = client.post(f"/api/items/{failed}/{action}", json=body, headers=marburg)
        assert answer.status_code == 404
        assert "gehört nicht zu Ihrer Stadt" in answer.json()["detail"]
    assert [i["reference"] for i in client.get("/api/items", headers=marburg).json()] == ["m-1"]
    assert client.get("/api/worklist", headers=marburg).json() == []
    with world.db.session() as session:
        assert session.get(WorkItem, failed).state is ItemState.FAILED_BUSINESS


@pytest.mark.parametrize("user", ["giessen.owner", "marburg.owner", "betrieb"])
def test_owners_and_operators_get_counts_but_no_case_data(client, world, failed, user):
    for path in ("/api/items", "/api/worklist", f"/api/items/{failed}"):
        answer = client.get(path, headers=world.headers(user))
        assert answer.status_code in (403, 404), path
        assert "Mia" not in answer.text
    answer = client.post(f"/api/items/{failed}/retry", json={}, headers=world.headers(user))
    assert answer.status_code == 403
    counts = client.get("/api/items/counts", headers=world.headers(user)).json()
    assert "Mia" not in str(counts) and "antrag" not in str(counts)
    # Marburg owns nutzungsstatistik (Gießen's copy has no items here); Gießen owns unterhaltsvorschuss
    expected = {"betrieb": {"giessen", "marburg"}, "giessen.owner": {"giessen"}, "marburg.owner": {"marburg"}}
    assert {c["city"] for c in counts} == expected[user]


def test_a_clerk_retries_with_edited_data_and_closes_with_a_reason(client, world, failed):
    headers = world.headers("giessen.clerk")
    bad = client.post(f"/api/items/{failed}/retry", json={"payload": ["keine", "Daten"]}, headers=headers)
    assert bad.status_code == 422 and "JSON-Objekt" in bad.json()["detail"]
    wrong = client.post(f"/api/items/{failed}/retry", json={"payload": {"kind": "Mia", "datum": "2019-03-01"}},
                        headers=headers)
    assert wrong.status_code == 422 and "Kind muss eine Gruppe von Angaben sein" in wrong.json()["detail"]
    answer = client.post(f"/api/items/{failed}/retry", json={"payload": UVG_CASE}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["payload"] == {"kind": "Mia", "fall": UVG_CASE}
    assert (answer.json()["state"], answer.json()["attempts"]) == ("new", 1)
    again = client.post(f"/api/items/{failed}/close", json={"reason": "doppelt"}, headers=headers)
    assert again.status_code == 409 and "nur fehlgeschlagene" in again.json()["detail"]
    with world.db.session() as session:
        item = session.get(WorkItem, failed)
        items.record_item_result(session, item, "failed_business", "X", "x", T0)
    missing = client.post(f"/api/items/{failed}/close", json={}, headers=headers)
    assert missing.status_code == 422 and "Grund" in missing.json()["detail"]
    closed = client.post(f"/api/items/{failed}/close", json={"reason": "Antrag zurückgezogen"}, headers=headers)
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["closed_reason"]) == ("done", "Antrag zurückgezogen")
    with world.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "work_item")).all()
        assert actions == ["retry_item", "close_item"]


def test_cookie_sessions_need_the_csrf_token_for_changes(client, world, failed, tmp_path):
    settings = client.app.state.settings
    cookie = sessions.issue(settings.session_key, world.who["giessen.clerk"].user_id)
    client.cookies.set(sessions.COOKIE, cookie)
    try:
        assert client.get("/api/worklist").status_code == 200
        refused = client.post(f"/api/items/{failed}/close", json={"reason": "erledigt"})
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        with world.db.session() as session:
            assert session.get(WorkItem, failed).state is ItemState.FAILED_BUSINESS
        token = sessions.csrf_token(settings.session_key, cookie)
        done = client.post(f"/api/items/{failed}/close", json={"reason": "erledigt"}, headers={"X-CSRF-Token": token})
        assert done.status_code == 200
    finally:
        client.cookies.clear()


def test_without_login_nothing_is_shown(client, failed):
    for path in ("/api/items", "/api/worklist", "/api/items/counts", f"/api/items/{failed}"):
        assert client.get(path).status_code == 401
    assert client.post(f"/api/items/{failed}/retry", json={}).status_code == 401
