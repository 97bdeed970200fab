"""Claims, leases and hand-over of runs between runners; concurrent claims of several runner processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from items_world import build_world
from rathaus_controlroom.models import AuditEntry, ItemState, Run, Runner, RunState, WorkItem
from rathaus_controlroom.services import runners, runs
from rathaus_controlroom.services.errors import Conflict, NotFound
from rathaus_controlroom.services.runs import InputItem
from sqlalchemy import func, select

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
ROBOT = "giessen/unterhaltsvorschuss"


@pytest.fixture
def world(db):
    return build_world(db)


def _runner(world, name, city="giessen"):
    with world.db.session() as session:
        row = Runner(city_id=city, name=name, token_hash=name.ljust(64, "0"), active=True)
        session.add(row)
        session.flush()
        return row.id


def _start(world, robot=ROBOT, user="giessen.clerk", inputs=(), now=T0):
    with world.db.session() as session:
        return runs.start_run(session, world.who[user], robot, inputs, now=now).id


def _claim(world, runner_id, now, city="giessen", **options):
    with world.db.session() as session:
        run = runners.claim(session, runner_id, city, now=now, lease_s=60, **options)
        return None if run is None else (run.id, run.attempt)


def test_a_claim_takes_the_oldest_queued_run_of_the_runners_city(world):
    first = _start(world, now=T0)
    second = _start(world, now=T0 + timedelta(seconds=1))
    _start(world, robot="marburg/nutzungsstatistik", user="marburg.clerk", now=T0 - timedelta(hours=1))
    giessen = _runner(world, "g1")
    assert _claim(world, giessen, T0) == (first, 1)
    assert _claim(world, giessen, T0) == (second, 1)
    assert _claim(world, giessen, T0) is None  # Marburg's run is not Gießen's runner's business
    with world.db.session() as session:
        run = session.get(Run, first)
        assert (run.state, run.runner_id, runs.as_utc(run.lease_until)) == (
            RunState.RUNNING, giessen, T0 + timedelta(seconds=60))


def test_an_expired_lease_hands_the_run_to_another_runner(world):
    run_id = _start(world, inputs=[InputItem(payload={"fall": 1})])
    first, second = _runner(world, "r1"), _runner(world, "r2")
    assert _claim(world, first, T0) == (run_id, 1)
    with world.db.session() as session:
        runners.heartbeat(session, first, "giessen", run_id, now=T0 + timedelta(seconds=50), lease_s=60)
    assert _claim(world, second, T0 + timedelta(seconds=100)) is None  # the heartbeat extended the lease
    assert _claim(world, second, T0 + timedelta(seconds=111)) == (run_id, 2)
    with world.db.session() as session, pytest.raises(Conflict, match="gehört nicht \\(mehr\\) diesem Runner"):
        runners.heartbeat(session, first, "giessen", run_id, now=T0 + timedelta(seconds=112))
    with world.db.session() as session, pytest.raises(Conflict):
        runners.finish(session, first, "giessen", run_id, 0)
    with world.db.session() as session, pytest.raises(NotFound):
        runners.heartbeat(session, second, "marburg", run_id)
    with world.db.session() as session:
        job = runners.job(session, session.get(Run, run_id))
        assert [i["payload"] for i in job["inputs"]] == [{"fall": 1}]
        run = runners.finish(session, second, "giessen", run_id, 0, "Lauf beendet.", now=T0 + timedelta(seconds=130))
        assert (run.state, run.attempt, run.cases_done, run.cases_total) == (RunState.SUCCEEDED, 2, 1, 1)
        assert session.scalar(select(WorkItem.state).where(WorkItem.run_id == run_id)) is ItemState.DONE


def test_a_run_whose_runners_keep_dying_fails_after_the_attempt_limit(world):
    run_id = _start(world, inputs=[InputItem(payload={"fall": 1})])
    runner = _runner(world, "r1")
    for attempt in (1, 2, 3):
        assert _claim(world, runner, T0 + timedelta(seconds=61 * (attempt - 1))) == (run_id, attempt)
    assert _claim(world, runner, T0 + timedelta(seconds=61 * 3)) is None
    with world.db.session() as session:
        run = session.get(Run, run_id)
        assert run.state is RunState.FAILED
        assert run.message.startswith("Runner ausgefallen: der Lauf wurde 3-mal begonnen")
        item = session.scalar(select(WorkItem).where(WorkItem.run_id == run_id))
        assert (item.state, item.error_code) == (ItemState.FAILED_APPLICATION, "RUNNER_AUSGEFALLEN")
        assert item.next_attempt_at is not None  # the queue retries the case with backoff
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "expire_run"))
        assert (entry.actor, entry.detail["state"]) == ("system", "failed")


def test_a_cancelled_run_whose_runner_died_ends_cancelled(world):
    run_id = _start(world)
    runner = _runner(world, "r1")
    _claim(world, runner, T0)
    with world.db.session() as session:
        runs.cancel_run(session, world.who["giessen.clerk"], run_id, now=T0 + timedelta(seconds=5))
    assert _claim(world, runner, T0 + timedelta(seconds=70)) is None
    with world.db.session() as session:
        assert session.get(Run, run_id).state is RunState.CANCELLED


WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from rathaus_controlroom.db import Database
    from rathaus_controlroom.models import Run, RunState
    from rathaus_controlroom.services.runners import claim
    from sqlalchemy import func, select

    url, runner_id, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    db = Database(url)
    while not go.exists():
        time.sleep(0.01)
    claimed = []
    while True:
        with db.session() as session:
            run = claim(session, runner_id, "giessen", lease_s=3600)
            if run is not None:
                claimed.append(run.id)
                continue
            left = session.scalar(select(func.count(Run.id)).where(Run.state == RunState.QUEUED))
        if not left:
            break
    db.dispose()
    print(json.dumps(claimed))
""")


@pytest.mark.postgres
def test_four_runner_processes_never_claim_the_same_run(postgres_url, tmp_path):
    from rathaus_controlroom.db import Database

    db = Database(postgres_url)
    world = build_world(db)
    ids = [_start(world, now=T0 + timedelta(milliseconds=n)) for n in range(30)]
    runner_ids = [_runner(world, f"r{n}") for n in range(4)]
    go = tmp_path / "los"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, postgres_url, str(r), str(go)], stdout=subprocess.PIPE,
                                text=True) for r in runner_ids]
    time.sleep(1.0)  # let every process connect and wait at the start line
    go.touch()
    claimed = []
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        claimed.append(json.loads(out))
    every = [run for part in claimed for run in part]
    assert sorted(every) == ids  # every run exactly once
    assert sum(1 for part in claimed if part) >= 2  # the processes really competed
    with db.session() as session:
        holders = dict(session.execute(select(Run.id, Run.runner_id)).all())
        for runner_id, part in zip(runner_ids, claimed, strict=True):
            assert all(holders[run] == runner_id for run in part)
        assert session.scalar(select(func.count(Run.id)).where(Run.attempt != 1)) == 0
    db.dispose()


def test_claims_of_several_processes_on_sqlite_are_exclusive_too(sqlite_url, tmp_path):
    from rathaus_controlroom.db import Database

    db = Database(sqlite_url)
    world = build_world(db)
    ids = [_start(world, now=T0 + timedelta(milliseconds=n)) for n in range(12)]
    runner_ids = [_runner(world, f"r{n}") for n in range(3)]
    go = tmp_path / "los"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, sqlite_url, str(r), str(go)], stdout=subprocess.PIPE,
                                text=True) for r in runner_ids]
    time.sleep(1.0)
    go.touch()
    every = []
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        every += json.loads(out)
    assert sorted(every) == ids
    db.dispose()
    assert Path(sqlite_url.removeprefix("sqlite:///")).is_file()


def _cancelled_run_with_three_items(world, runner_name="r1"):
    run_id = _start(world, inputs=[InputItem(payload={"fall": n}) for n in (1, 2, 3)])
    runner = _runner(world, runner_name)
    _claim(world, runner, T0)
    with world.db.session() as session:
        runs.cancel_run(session, world.who["giessen.clerk"], run_id, now=T0 + timedelta(seconds=5))
        ids = list(session.scalars(select(WorkItem.id).where(WorkItem.run_id == run_id).order_by(WorkItem.id)))
    return run_id, runner, ids


def _states(session, run_id):
    return [(i.state, i.error_code) for i in session.scalars(
        select(WorkItem).where(WorkItem.run_id == run_id).order_by(WorkItem.id))]


def test_a_cancel_keeps_the_results_the_robot_reported_and_hands_back_only_open_items(world):
    run_id, runner, (done, rejected, _open) = _cancelled_run_with_three_items(world)
    with world.db.session() as session:
        run = runners.finish(session, runner, "giessen", run_id, -15, "Auf Wunsch abgebrochen.", stopped=True,
                             item_results=[{"id": done, "state": "done"},
                                           {"id": rejected, "state": "failed_business", "code": "UNVOLLSTAENDIG",
                                            "message": "Anlage fehlt."}],
                             now=T0 + timedelta(seconds=9))
        assert run.state is RunState.CANCELLED
        assert _states(session, run_id) == [(ItemState.DONE, None), (ItemState.FAILED_BUSINESS, "UNVOLLSTAENDIG"),
                                            (ItemState.FAILED_BUSINESS, "LAUF_ABGEBROCHEN")]
        assert run.cases_done == 3


def test_a_cancel_that_came_after_the_robot_finished_ends_the_run_by_its_exit_code(world):
    run_id, runner, (first, _second, _third) = _cancelled_run_with_three_items(world)
    with world.db.session() as session:
        run = runners.finish(session, runner, "giessen", run_id, 0, "Lauf beendet.", stopped=False,
                             item_results=[{"id": first, "state": "done"}], now=T0 + timedelta(seconds=9))
        assert run.state is RunState.SUCCEEDED
        assert _states(session, run_id) == [(ItemState.DONE, None)] * 3
    run_id, runner, _ids = _cancelled_run_with_three_items(world, "r2")
    with world.db.session() as session:
        run = runners.finish(session, runner, "giessen", run_id, 1, "Fehler.", stopped=False,
                             now=T0 + timedelta(seconds=9))
        assert run.state is RunState.FAILED
        assert {state for state, _ in _states(session, run_id)} == {ItemState.FAILED_APPLICATION}


def test_between_expiry_rounds_a_claim_never_takes_a_run_that_has_no_attempts_left(world, monkeypatch):
    """Claims end runs whose lease ran out at most once a second; meanwhile a run whose last attempt's runner
    died is not taken again, while one with attempts left is."""
    spent, fresh = _start(world), _start(world)
    runner = _runner(world, "r1")
    with world.db.session() as session:
        for run_id, attempt in ((spent, runners.MAX_RUN_ATTEMPTS), (fresh, 1)):
            row = session.get(Run, run_id)
            row.state, row.attempt, row.runner_id = RunState.RUNNING, attempt, runner
            row.lease_until = datetime.now(timezone.utc) - timedelta(minutes=5)
    monkeypatch.setattr(runners, "EXPIRY_EVERY_S", 3600.0)
    monkeypatch.setitem(runners._EXPIRY, "last", time.monotonic())  # an expiry round just happened
    with world.db.session() as session:
        taken = runners.claim(session, runner, "giessen")
        assert (taken.id, taken.attempt) == (fresh, 2)
    with world.db.session() as session:
        assert runners.claim(session, runner, "giessen") is None
        assert session.get(Run, spent).state is RunState.RUNNING  # ended by the next expiry round, not re-run
