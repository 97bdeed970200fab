"""Two or more control-room instances on one database never start a schedule twice."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from items_world import build_world
from rathaus_controlroom.db import Database
from rathaus_controlroom.models import Run, Schedule
from rathaus_controlroom.services import schedules
from sqlalchemy import func, select

T0 = datetime(2025, 5, 5, 5, 0, tzinfo=timezone.utc)  # 07:00 in Berlin
DUE = datetime(2025, 5, 5, 7, 0, 30, tzinfo=timezone.utc)  # every "mm 8 * * *" is due


def _schedules(world, count: int) -> list[int]:
    with world.db.session() as session:
        return [schedules.create_schedule(session, world.who["giessen.admin"], "unterhaltsvorschuss",
                                          f"{minute % 60} 8 * * *", now=T0).id for minute in range(count)]


def _fired(world) -> Counter:
    with world.db.session() as session:
        return Counter(session.scalars(select(Run.schedule_id)))


def test_instances_racing_in_threads_fire_each_schedule_once(db):
    world = build_world(db)
    ids = _schedules(world, 30)
    instances = [Database(db.url) for _ in range(4)]  # four control rooms, each with its own engine
    barrier = threading.Barrier(len(instances))
    errors: list[BaseException] = []

    def instance(database: Database) -> None:
        try:
            barrier.wait()
            for _ in range(10):
                with database.session() as session:
                    schedules.fire_due(session, DUE)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=instance, args=(database,)) for database in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for database in instances:
        database.dispose()
    assert errors == []
    assert _fired(world) == Counter(dict.fromkeys(ids, 1))


@pytest.mark.postgres
def test_a_schedule_locked_by_one_instance_is_skipped_by_the_other(postgres_url):
    world = build_world(Database(postgres_url))
    [sid] = _schedules(world, 1)
    first, second = Database(postgres_url), Database(postgres_url)
    outcome: list[int] = []
    try:
        with first.session() as holding:
            assert len(schedules.fire_due(holding, DUE)) == 1  # row locked, not committed yet

            def other() -> None:
                with second.session() as session:
                    outcome.append(len(schedules.fire_due(session, DUE)))

            thread = threading.Thread(target=other)
            started = time.monotonic()
            thread.start()
            thread.join(10)
            assert outcome == [0]  # SKIP LOCKED: it neither waited for the lock nor fired
            assert time.monotonic() - started < 5
        with second.session() as session:
            assert schedules.fire_due(session, DUE) == []  # committed: the schedule has moved on
            assert schedules.as_utc(session.get(Schedule, sid).next_run_at) == datetime(2025, 5, 6, 6, 0,
                                                                                        tzinfo=timezone.utc)
    finally:
        first.dispose()
        second.dispose()
        world.db.dispose()
    assert _fired_on(postgres_url) == {sid: 1}


def _fired_on(url: str) -> dict[int, int]:
    database = Database(url)
    try:
        with database.session() as session:
            return dict(session.execute(select(Run.schedule_id, func.count(Run.id)).group_by(Run.schedule_id)).all())
    finally:
        database.dispose()


INSTANCE = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timezone
    from rathaus_controlroom.db import Database
    from rathaus_controlroom.services import schedules

    url, start = sys.argv[1], float(sys.argv[2])
    database = Database(url)
    due = datetime(2025, 5, 5, 7, 0, 30, tzinfo=timezone.utc)
    time.sleep(max(0.0, start - time.time()))
    fired = 0
    for _ in range(20):
        with database.session() as session:
            fired += len(schedules.fire_due(session, due))
    database.dispose()
    print(fired)
""")


@pytest.mark.postgres
def test_control_room_processes_sharing_postgresql_fire_each_schedule_once(postgres_url):
    world = build_world(Database(postgres_url))
    ids = _schedules(world, 40)
    world.db.dispose()
    start = time.time() + 3  # all processes begin at the same moment
    processes = [subprocess.Popen([sys.executable, "-c", INSTANCE, postgres_url, str(start)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], [err for _, err in results]
    assert sum(int(out) for out, _ in results) == len(ids)
    assert _fired_on(postgres_url) == dict.fromkeys(ids, 1)
