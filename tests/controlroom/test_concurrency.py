"""Concurrent run starts do not stall the control room: real clients against a real server (its own process).

While six clerks start runs with uploads at the same moment, other clients poll runs and a runner asks for
work, as the local runner does. Every answer must be 2xx and come in time. When routes did their database and
file work on the event loop, a start waiting there for SQLite's write lock (held by a runner's claim whose
commit the blocked loop could not schedule) stalled every request for the 30 s busy timeout, and starts failed
with 500 "database is locked". The figures for 8 starts and 50 pollers: benchmarks/controlroom_concurrency.py.
"""

from __future__ import annotations

import httpx
from items_world import build_world
from rathaus_controlroom.models import Run, WorkItem
from sqlalchemy import func, select
from support.controlroom_load import Load, run_load, serve, summary

#: far above what a loaded 2-core machine needs (well under a second per answer), far below the stall
BOUND_S = 10.0
ROBOT = "giessen/unterhaltsvorschuss"


def test_concurrent_starts_with_uploads_keep_every_answer_quick(db, tmp_path):
    world = build_world(db)
    load = Load(starts=6, rounds=2, pollers=10, poll_interval_s=0.2, files_per_start=2, claim_interval_s=0.3)
    with serve(db.url, tmp_path / "daten") as url:
        registered = httpx.post(f"{url}/api/runners", json={"name": "runner-1"},
                                headers=world.headers("giessen.admin"), timeout=30)
        assert registered.status_code == 201, registered.text
        runner = {"Authorization": f"Bearer {registered.json()['token']}"}
        answers, started = run_load(url, world.headers("giessen.clerk"), ROBOT, load, runner_headers=runner)

    figures = summary(answers)
    failed = [(a.kind, a.status, a.detail) for a in answers if not 200 <= a.status < 300]
    assert failed == [], figures
    slow = [(a.kind, round(a.seconds, 2)) for a in answers if a.seconds > BOUND_S]
    assert slow == [], figures
    assert figures["start"]["count"] == load.starts * load.rounds
    assert figures["run"]["count"] + figures["progress"]["count"] > 20
    assert figures["claim"]["count"] > 2
    # every start under load is stored whole: its run with its input items (how the files form cases is the
    # process's intake), every uploaded file on disk
    assert len(started) == load.starts * load.rounds
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Run).where(Run.id.in_(started))) == len(started)
        with_items = session.scalar(select(func.count(func.distinct(WorkItem.run_id)))
                                    .where(WorkItem.run_id.in_(started)))
    assert with_items == len(started)
    uploads = [p for p in (tmp_path / "daten").rglob("antrag-*.pdf")]
    assert len(uploads) == (len(started) + 1) * load.files_per_start
