"""Work-item queues: unique references, results with retry backoff, the clerk's worklist, city boundaries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from items_world import UVG_CASE, build_world
from rathaus_controlroom.models import AuditEntry, ItemState, Run, RunState, WorkItem
from rathaus_controlroom.services import items
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from sqlalchemy import func, select

T0 = datetime(2025, 5, 5, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(db):
    return build_world(db)


def _add(world, robot="giessen/unterhaltsvorschuss", entries=None):
    run_id = world.run(robot)
    entries = entries if entries is not None else [
        {"reference": "antrag-1", "payload": {"kind": "Mia", "betrag": 230}, "priority": 1},
        {"reference": "antrag-2", "payload": {"kind": "Leon"}},
    ]
    with world.db.session() as session:
        rows = items.add_input_items(session, session.get(Run, run_id), entries)
        return run_id, [row.id for row in rows]


def test_input_items_join_the_run_and_count_as_its_cases(world):
    run_id, ids = _add(world)
    with world.db.session() as session:
        run = session.get(Run, run_id)
        assert run.cases_total == 2
        rows = [session.get(WorkItem, item) for item in ids]
        assert [(r.reference, r.state, r.priority, r.attempts, r.city_id) for r in rows] == [
            ("antrag-1", ItemState.NEW, 1, 0, "giessen"), ("antrag-2", ItemState.NEW, 0, 0, "giessen")]
    _, generated = _add(world, entries=[{"payload": {"x": 1}}])
    with world.db.session() as session:
        assert session.get(WorkItem, generated[0]).reference.startswith("lauf-")


def test_a_duplicate_reference_adds_nothing_and_says_which(world):
    _add(world)
    run_id = world.run("giessen/unterhaltsvorschuss")
    with world.db.session() as session, pytest.raises(Conflict, match="Referenz 'antrag-2' gibt es für den "
                                                                      "Roboter 'unterhaltsvorschuss' schon"):
        items.add_input_items(session, session.get(Run, run_id), [{"reference": "antrag-9", "payload": {}},
                                                                   {"reference": "antrag-2", "payload": {}}])
    with world.db.session() as session, pytest.raises(Conflict, match="mehrfach"):
        items.add_input_items(session, session.get(Run, run_id), [{"reference": "x", "payload": {}},
                                                                   {"reference": "x", "payload": {}}])
    with world.db.session() as session:
        assert session.scalar(select(func.count(WorkItem.id))) == 2
        assert session.get(Run, run_id).cases_total == 0
    # the same reference is fine for another robot (references are unique per robot)
    _add(world, robot="marburg/nutzungsstatistik")


@pytest.mark.parametrize(("entry", "message"), [
    ({"reference": "a", "payload": [1, 2]}, "JSON-Objekt"),
    ({"reference": "a", "payload": {}, "priority": "hoch"}, "ganze Zahl"),
    ({"reference": "x" * 300, "payload": {}}, "1–255 Zeichen"),
    ("kein Objekt", "kein Objekt"),
])
def test_malformed_inputs_are_refused(world, entry, message):
    run_id = world.run("giessen/unterhaltsvorschuss")
    with world.db.session() as session, pytest.raises(Invalid, match=message):
        items.add_input_items(session, session.get(Run, run_id), [entry])


def test_application_failures_are_retried_with_exponential_backoff_up_to_the_limit(world):
    _run_id, (first, _) = _add(world)
    now = T0
    waits = []
    for attempt in (1, 2, 3):
        with world.db.session() as session:
            item = session.get(WorkItem, first)
            item.state = ItemState.IN_PROGRESS
            items.record_item_result(session, item, "failed_application", "FACHVERFAHREN_DOWN",
                                     "Fachverfahren nicht erreichbar", now, max_attempts=3, retry_base_s=60)
            assert item.attempts == attempt
            due = items.as_utc(item.next_attempt_at)
        if attempt == 3:
            assert due is None  # used up: it stays for the admin
            break
        waits.append(due - now)
        with world.db.session() as session:
            assert items.due_retries(session, due - timedelta(seconds=1)) == []  # not yet
        with world.db.session() as session:
            requeued = items.due_retries(session, due)
            assert [row.id for row in requeued] == [first]
        with world.db.session() as session:
            item = session.get(WorkItem, first)
            assert item.state is ItemState.NEW
            assert item.run_id is not None
        now = due + timedelta(seconds=5)
    assert waits == [timedelta(seconds=60), timedelta(seconds=120)]
    with world.db.session() as session:
        item = session.get(WorkItem, first)
        assert (item.state, item.attempts, item.error_code) == (ItemState.FAILED_APPLICATION, 3, "FACHVERFAHREN_DOWN")
        assert items.due_retries(session, now + timedelta(days=30)) == []
        stuck = items.exhausted_items(session, world.who["giessen.admin"])
        assert [view.id for view in stuck] == [first]


def test_a_requeued_item_joins_a_waiting_run_or_gets_a_new_one(world):
    run_id, (first, second) = _add(world)
    with world.db.session() as session:
        session.get(Run, run_id).state = RunState.SUCCEEDED
        for item_id in (first, second):
            items.record_item_result(session, session.get(WorkItem, item_id), ItemState.FAILED_APPLICATION,
                                     "X", "x", T0, max_attempts=3, retry_base_s=10)
    with world.db.session() as session:
        requeued = items.due_retries(session, T0 + timedelta(seconds=10))
        assert len(requeued) == 2
        runs = {row.run_id for row in requeued}
    assert len(runs) == 1 and run_id not in runs  # one new queued run takes both
    with world.db.session() as session:
        new_run = session.get(Run, runs.pop())
        assert (new_run.state, new_run.cases_total, new_run.requested_by) == (RunState.QUEUED, 2, None)
        actors = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "start_run")).all()
        assert actors == ["system"]


def test_business_failures_reach_the_worklist_and_a_clerk_retries_with_corrected_data(world, caplog):
    caplog.set_level(logging.DEBUG)
    run_id, (first, second) = _add(world)
    with world.db.session() as session:
        session.get(Run, run_id).state = RunState.SUCCEEDED
        items.record_item_result(session, session.get(WorkItem, first), "failed_business", "GEBURTSDATUM_FEHLT",
                                 "Antrag antrag-1: Geburtsdatum fehlt", T0)
        items.record_item_result(session, session.get(WorkItem, second), "done", now=T0)
    clerk = world.who["giessen.clerk"]
    with world.db.session() as session:
        worklist = items.worklist(session, clerk)
        assert [(v.reference, v.error_code, v.payload["kind"]) for v in worklist] == [
            ("antrag-1", "GEBURTSDATUM_FEHLT", "Mia")]
    with world.db.session() as session:
        with pytest.raises(items.CaseDataInvalid, match="Kind: Geburtsdatum fehlt") as refused:
            items.retry_item(session, clerk, first, {**UVG_CASE, "kind": {**UVG_CASE["kind"], "geburtsdatum": ""}})
        assert [problem.field for problem in refused.value.problems] == ["kind.geburtsdatum"]
    with world.db.session() as session:
        corrected = {**UVG_CASE, "kind": {**UVG_CASE["kind"], "geburtsdatum": "03.01.2019"}}
        view = items.retry_item(session, clerk, first, corrected)
        assert (view.state, view.attempts, view.error_code) == ("new", 1, None)
        assert view.payload == {"kind": "Mia", "betrag": 230, "fall": corrected}
        assert view.run_id != run_id
    with world.db.session() as session:
        assert items.worklist(session, clerk) == []
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "retry_item"))
        assert (entry.actor, entry.city_id, entry.object_id) == ("giessen.clerk", "giessen", str(first))
        assert entry.detail["changed_fields"] == ["fall"]  # names only, never values
        audit_text = " ".join(str(row.detail) for row in session.scalars(select(AuditEntry)))
    for secret in ("Mia", "Leon", "03.01.2019", "DE89370400440532013000"):
        assert secret not in audit_text
        assert secret not in caplog.text
    with world.db.session() as session, pytest.raises(Conflict, match="nur fehlgeschlagene"):
        items.retry_item(session, clerk, first, None)


def test_a_clerk_closes_a_case_with_a_reason(world):
    _run_id, (first, _) = _add(world)
    with world.db.session() as session:
        items.record_item_result(session, session.get(WorkItem, first), "failed_business", "X", "x", T0)
    clerk = world.who["giessen.clerk"]
    with world.db.session() as session, pytest.raises(Invalid, match="Grund"):
        items.close_item(session, clerk, first, "   ")
    with world.db.session() as session:
        view = items.close_item(session, clerk, first, "Antrag telefonisch zurückgezogen")
        assert (view.state, view.closed_reason) == ("done", "Antrag telefonisch zurückgezogen")
    with world.db.session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "close_item"))
        assert entry.detail["reason"] == "Antrag telefonisch zurückgezogen"  # kept for the city's admins
        from rathaus_controlroom.services import admin

        assert "zurückgezogen" not in str(admin.audit_log(session, world.who["betrieb"]))  # never for operators
        assert "zurückgezogen" in str(admin.audit_log(session, world.who["giessen.admin"]))
        with pytest.raises(Conflict, match="abgeschlossen"):
            items.record_item_result(session, session.get(WorkItem, first), "done", now=T0)


def test_other_cities_and_roles_without_case_data_see_no_items(world):
    _, (first, _) = _add(world)
    _add(world, robot="marburg/nutzungsstatistik", entries=[{"reference": "m-1", "payload": {"x": 1}}])
    _add(world, robot="giessen/nutzungsstatistik", entries=[{"reference": "g-1", "payload": {"x": 1}}])
    with world.db.session() as session:
        items.record_item_result(session, session.get(WorkItem, first), "failed_business", "X", "x", T0)
    with world.db.session() as session:
        marburg = world.who["marburg.clerk"]
        for call in (lambda: items.get_item(session, marburg, first),
                     lambda: items.retry_item(session, marburg, first, {}),
                     lambda: items.close_item(session, marburg, first, "Grund")):
            with pytest.raises(NotFound, match=f"Vorgang {first} gibt es nicht"):
                call()
        assert [v.reference for v in items.list_items(session, marburg)] == ["m-1"]
        assert items.worklist(session, marburg) == []
        with pytest.raises(NotFound):
            items.list_items(session, marburg, robot="unterhaltsvorschuss")
        for role in ("marburg.owner", "giessen.owner", "betrieb"):
            with pytest.raises(Forbidden, match="nur Zählungen"):
                items.list_items(session, world.who[role])
            with pytest.raises(Forbidden):
                items.get_item(session, world.who[role], first)
        # counts without case data: owners see the cities adopting their processes, operators all
        owner = {(c["city"], c["process"]) for c in items.item_counts(session, world.who["marburg.owner"])}
        assert owner == {("marburg", "nutzungsstatistik"), ("giessen", "nutzungsstatistik")}
        operator = items.item_counts(session, world.who["betrieb"])
        assert sum(c["count"] for c in operator) == 4
        assert {c["city"] for c in items.item_counts(session, world.who["giessen.clerk"])} == {"giessen"}
        listed = items.list_items(session, world.who["giessen.admin"], robot="unterhaltsvorschuss",
                                  state="failed_business")
        assert [v.id for v in listed] == [first]
        with pytest.raises(Invalid, match="Status 'kaputt' ist unbekannt"):
            items.list_items(session, world.who["giessen.admin"], state="kaputt")


def test_items_are_listed_by_priority(world):
    _add(world, entries=[{"reference": "low", "payload": {}, "priority": 0},
                         {"reference": "high", "payload": {}, "priority": 5}])
    with world.db.session() as session:
        assert [v.reference for v in items.list_items(session, world.who["giessen.clerk"])] == ["high", "low"]
