"""The robots' work items in the control room: reserve, release, create with files, leases, and the fence that
refuses every call of an attempt that lost its run (an orphaned robot can take, release or create nothing)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from items_world import build_world
from rathaus.workitems.states import ItemState
from rathaus_controlroom.models import Runner, WorkItem, WorkItemAttempt
from rathaus_controlroom.services import robot_items, runners, runs
from rathaus_controlroom.services.errors import Conflict, NotFound, Unauthenticated
from rathaus_controlroom.services.runs import InputItem
from sqlalchemy import select
from test_runner_claims import T0

ROBOT = "giessen/unterhaltsvorschuss"
KEY = b"k" * 32


@pytest.fixture
def world(db):
    return build_world(db)


def _claimed(world, inputs=2):
    with world.db.session() as session:
        runner = Runner(city_id="giessen", name="r1", token_hash="r1".ljust(64, "0"), active=True)
        session.add(runner)
        session.flush()
        items = [InputItem({"n": n}, reference=f"antrag-{n}") for n in range(inputs)]
        run = runs.start_run(session, world.who["giessen.clerk"], ROBOT, items, now=T0)
        claimed = runners.claim(session, runner.id, "giessen", now=T0, lease_s=60)
        assert claimed.id == run.id
        return run.id, runner.id


def test_the_item_token_names_one_attempt_and_cannot_be_forged():
    token = robot_items.attempt_token(KEY, 7, 2)
    assert robot_items.read_token(KEY, token) == (7, 2)
    with pytest.raises(Unauthenticated):
        robot_items.read_token(KEY, token.replace("ri_7.2", "ri_7.3"))
    with pytest.raises(Unauthenticated):
        robot_items.read_token(b"x" * 32, token)


def test_a_run_reserves_its_items_releases_them_and_each_attempt_is_history(world):
    run_id, _ = _claimed(world)
    with world.db.session() as session:
        run = robot_items.current_run(session, run_id, 1)
        first = robot_items.reserve(session, run, 60, now=T0)
        robot_items.release(session, run, first.id, True, now=T0)
        second = robot_items.reserve(session, run, 60, now=T0)
        robot_items.release(session, run, second.id, False,
                            {"type": "BUSINESS", "code": "PFLICHTANGABEN_FEHLEN", "message": "IBAN fehlt."}, now=T0)
        assert robot_items.reserve(session, run, 60, now=T0) is None
        assert [(i.reference, i.state) for i in robot_items.run_items(session, run)] == [
            ("antrag-0", ItemState.DONE), ("antrag-1", ItemState.FAILED_BUSINESS)]
        history = session.scalars(select(WorkItemAttempt).order_by(WorkItemAttempt.id)).all()
        assert [(h.item_id, h.number, h.state, h.code) for h in history] == [
            (first.id, 1, "done", None), (second.id, 1, "failed_business", "PFLICHTANGABEN_FEHLEN")]


def test_an_orphaned_attempt_is_fenced_and_its_item_goes_back_to_the_queue(world):
    run_id, runner_id = _claimed(world, inputs=1)
    with world.db.session() as session:
        old = robot_items.current_run(session, run_id, 1)
        held = robot_items.reserve(session, old, 60, now=T0).id
    later = T0 + timedelta(seconds=120)  # the first runner's lease ran out: another runner takes the run over
    with world.db.session() as session:
        run = runners.claim(session, runner_id, "giessen", now=later, lease_s=60)
        assert run.attempt == 2
        assert session.get(WorkItem, held).state is ItemState.NEW  # back in the queue at once
    with world.db.session() as session, pytest.raises(Conflict):
        robot_items.current_run(session, run_id, 1)  # the orphan's every call stops here
    with world.db.session() as session:
        run = robot_items.current_run(session, run_id, 2)
        again = robot_items.reserve(session, run, 60, now=later)
        assert again.id == held and again.attempts == 2
        states = [a.state for a in session.scalars(select(WorkItemAttempt).where(WorkItemAttempt.item_id == held))]
        assert states == ["failed_application", "in_progress"]


def test_an_output_item_comes_with_all_its_files_or_is_kept_by_its_reference(world, tmp_path):
    run_id, _ = _claimed(world, inputs=0)
    with world.db.session() as session:
        run = robot_items.current_run(session, run_id, 1)
        files = [("Antrag.pdf", io.BytesIO(b"%PDF antrag")), ("Geburtsurkunde.pdf", io.BytesIO(b"%PDF urkunde"))]
        item, created = robot_items.create_output(session, run, tmp_path, {"message_id": "<a@b>"}, "<a@b>", None,
                                                  files, now=T0)
        assert created and item.payload["dateien"] == ["Antrag.pdf", "Geburtsurkunde.pdf"]
        assert (runs.upload_folder(tmp_path, item) / "Geburtsurkunde.pdf").read_bytes() == b"%PDF urkunde"
        same, created = robot_items.create_output(session, run, tmp_path, {"message_id": "<a@b>"}, "<a@b>", None,
                                                  [], now=T0)
        assert (same.id, created) == (item.id, False)
        assert not list((tmp_path / "uploads" / ".neu").glob("*"))  # nothing half-made is left behind


def test_an_attempt_reaches_no_item_of_another_robot_or_city(world):
    run_id, _ = _claimed(world, inputs=1)
    with world.db.session() as session:
        marburg = runs.start_run(session, world.who["marburg.clerk"], "marburg/nutzungsstatistik",
                                 [InputItem({"n": 1}, reference="brief-1")], now=T0)
        foreign = session.scalar(select(WorkItem.id).where(WorkItem.run_id == marburg.id))
    with world.db.session() as session:
        run = robot_items.current_run(session, run_id, 1)
        with pytest.raises(NotFound):
            robot_items.item_for_reading(session, run, foreign)
        with pytest.raises(NotFound):
            robot_items.save_payload(session, run, foreign, {"x": 1})


def test_a_large_file_streamed_by_a_robot_is_stored_whole(world, tmp_path):
    """A letter or scan over the in-memory limit (1 MB) is spooled to disk off the event loop and kept whole."""
    from items_world import api_client

    run_id, _ = _claimed(world, inputs=1)
    with api_client(world, tmp_path) as (client, settings):
        token = robot_items.attempt_token(settings.session_key, run_id, 1)
        headers = {"Authorization": f"Bearer {token}"}
        item = client.post("/api/runner/items/reserve", headers=headers).json()
        content = bytes(range(256)) * (3 * 4096)  # 3 MB
        stored = client.put(f"/api/runner/items/{item['id']}/files/scan.pdf", content=content, headers=headers)
        assert stored.status_code == 200 and "scan.pdf" in stored.json()["files"], stored.text
        fetched = client.get(f"/api/runner/items/{item['id']}/files/scan.pdf", headers=headers)
        assert fetched.content == content
