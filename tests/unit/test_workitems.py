"""WorkItems: the devdata file adapter (and its interop with rpaframework) and the SQLite queue."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from rathaus.errors import ApplicationError, BusinessError
from rathaus.workitems import (
    EmptyQueue,
    Error,
    ItemState,
    LeaseLostError,
    QueueAdapter,
    Settings,
    State,
    VariableMissingError,
    WorkItemFileMissingError,
    WorkItems,
    WorkItemsFailedError,
    WorkItemsSetupError,
    WorkItemUsageError,
    open_queue,
)

ENV_NAMES = (
    "RPA_WORKITEMS_ADAPTER",
    "RPA_INPUT_WORKITEM_PATH",
    "RPA_OUTPUT_WORKITEM_PATH",
    "RPA_WORKITEMS_PATH",
    "RATHAUS_WORKITEMS_DB",
    "RATHAUS_WORKITEMS_INPUT_QUEUE",
    "RATHAUS_WORKITEMS_OUTPUT_QUEUE",
    "RATHAUS_WORKITEMS_LEASE_S",
    "RATHAUS_WORKITEMS_CRASH_AT",
    "ROBOT_ROOT",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def devdata(tmp_path):
    """Robocorp's layout: devdata/work-items-in/<case>/work-items.json with files beside it."""
    case = tmp_path / "devdata" / "work-items-in" / "zwei-antraege"
    case.mkdir(parents=True)
    (case / "antrag-mueller.pdf").write_bytes(b"%PDF-1.4 Antrag Mueller")
    (case / "anlagen").mkdir()
    (case / "anlagen" / "geburtsurkunde.pdf").write_bytes(b"%PDF-1.4 Urkunde")
    items = [
        {
            "payload": {"message_id": "<1@giessen.de>", "antragsteller": {"name": "Müller", "ort": "Gießen"}},
            "files": {"antrag-mueller.pdf": "antrag-mueller.pdf", "geburtsurkunde.pdf": "anlagen/geburtsurkunde.pdf"},
        },
        {"payload": {"message_id": "<2@giessen.de>", "antragsteller": {"name": "Öztürk"}}, "files": {}},
    ]
    (case / "work-items.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return case / "work-items.json"


def pdf(tmp_path: Path, name: str = "antrag.pdf", content: bytes = b"%PDF-1.4 x") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# -- file adapter ---------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ["FileAdapter", "RPA.Robocorp.WorkItems.FileAdapter"])
def test_file_adapter_round_trip_with_devdata(devdata, tmp_path, monkeypatch, adapter):
    out = tmp_path / "devdata" / "work-items-out" / "run-1" / "work-items.json"
    monkeypatch.setenv("RPA_WORKITEMS_ADAPTER", adapter)
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(devdata))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(out))
    wi = WorkItems()
    seen = []

    def handle():
        variables = wi.get_work_item_variables()
        seen.append(variables["antragsteller"]["name"])
        files = wi.get_work_item_files("*.pdf", tmp_path / "work")
        wi.create_output_work_item({"message_id": variables["message_id"], "pdfs": len(files)}, files=files, save=True)
        return len(files)

    assert wi.for_each_input_work_item(handle) == [2, 0]
    assert seen == ["Müller", "Öztürk"]
    assert (tmp_path / "work" / "geburtsurkunde.pdf").read_bytes() == b"%PDF-1.4 Urkunde"
    written = json.loads(out.read_text(encoding="utf-8"))
    assert [item["payload"] for item in written] == [
        {"message_id": "<1@giessen.de>", "pdfs": 2},
        {"message_id": "<2@giessen.de>", "pdfs": 0},
    ]
    for name, relative in written[0]["files"].items():
        assert (out.parent / relative).read_bytes().startswith(b"%PDF")
        assert not Path(relative).is_absolute()
        assert relative.endswith(name)
    assert wi.adapter.released == {"0": (State.DONE, None), "1": (State.DONE, None)}


def test_file_adapter_is_chosen_when_only_paths_are_set(devdata, monkeypatch):
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(devdata))
    wi = WorkItems()
    assert wi.settings.adapter == "file"
    assert wi.get_work_item_variable("message_id") == "<1@giessen.de>"


def test_file_adapter_by_library_argument_and_default_output_path(devdata):
    wi = WorkItems(adapter="FileAdapter", input_path=devdata)
    wi.get_input_work_item()
    wi.create_output_work_item({"ok": True}, save=True)
    assert json.loads(devdata.with_suffix(".output.json").read_text(encoding="utf-8")) == [
        {"payload": {"ok": True}, "files": {}}
    ]


def test_file_adapter_without_input_gives_one_empty_item(tmp_path):
    wi = WorkItems(adapter="file", output_path=tmp_path / "out.json")
    assert wi.get_work_item_payload() == {}
    with pytest.raises(EmptyQueue):
        wi.get_input_work_item()


def test_file_adapter_missing_or_broken_input_file(tmp_path):
    with pytest.raises(WorkItemsSetupError, match="fehlt"):
        WorkItems(adapter="file", input_path=tmp_path / "nope.json").get_input_work_item()
    broken = tmp_path / "work-items.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(WorkItemsSetupError, match="kein gültiges JSON"):
        WorkItems(adapter="file", input_path=broken).get_input_work_item()


def test_file_adapter_missing_attached_file(devdata):
    (devdata.parent / "antrag-mueller.pdf").unlink()
    wi = WorkItems(adapter="file", input_path=devdata, output_path=devdata.parent / "out.json")
    with pytest.raises(WorkItemFileMissingError, match=r"antrag-mueller\.pdf"):
        wi.get_work_item_file("antrag-mueller.pdf", devdata.parent / "copy.pdf")


def _rpa_workitems():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from RPA.Robocorp.WorkItems import WorkItems as RpaWorkItems
    return RpaWorkItems


def test_rpaframework_reads_our_output(devdata, tmp_path, monkeypatch):
    ours = tmp_path / "ours" / "work-items.json"
    wi = WorkItems(adapter="FileAdapter", input_path=devdata, output_path=ours)
    wi.get_input_work_item()
    wi.create_output_work_item(
        {"message_id": "<1@giessen.de>", "name": "Jürgen Müller"},
        files=[pdf(tmp_path, "eingang bestätigung.pdf", b"%PDF-1.4 Brief")],
        save=True,
    )
    RpaWorkItems = _rpa_workitems()
    monkeypatch.setenv("RPA_WORKITEMS_ADAPTER", "FileAdapter")
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(ours))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(tmp_path / "rpa-out" / "work-items.json"))
    rpa = RpaWorkItems(autoload=False)
    rpa.get_input_work_item()
    assert rpa.get_work_item_variables() == {"message_id": "<1@giessen.de>", "name": "Jürgen Müller"}
    assert rpa.list_work_item_files() == ["eingang bestätigung.pdf"]
    copy = rpa.get_work_item_file("eingang bestätigung.pdf", str(tmp_path / "copy.pdf"))
    assert Path(copy).read_bytes() == b"%PDF-1.4 Brief"


def test_we_read_rpaframework_output(devdata, tmp_path, monkeypatch):
    RpaWorkItems = _rpa_workitems()
    rpa_out = tmp_path / "rpa-out" / "work-items.json"
    monkeypatch.setenv("RPA_WORKITEMS_ADAPTER", "FileAdapter")
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(devdata))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(rpa_out))
    rpa = RpaWorkItems(autoload=False)
    rpa.get_input_work_item()
    rpa.create_output_work_item({"aktenzeichen": "UVG-1"}, files=str(pdf(tmp_path, "bescheid.pdf")), save=True)
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(rpa_out))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(tmp_path / "ours" / "work-items.json"))
    wi = WorkItems()
    assert wi.get_work_item_variable("aktenzeichen") == "UVG-1"
    assert Path(wi.get_work_item_file("bescheid.pdf", tmp_path / "b.pdf")).read_bytes() == b"%PDF-1.4 x"


# -- variables and files --------------------------------------------------------------------------


def test_variable_keywords(tmp_path):
    wi = WorkItems(adapter="queue", database=tmp_path / "wi.sqlite", output_queue="q")
    wi.create_output_work_item()
    wi.set_work_item_variables(a=1, b="zwei")
    wi.set_work_item_variable("c", [1, 2])
    assert wi.list_work_item_variables() == ["a", "b", "c"]
    assert wi.get_work_item_variable("zz", default=None) is None
    with pytest.raises(VariableMissingError, match="'zz'") as caught:
        wi.get_work_item_variable("zz")
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, BusinessError)
    wi.delete_work_item_variables("a", "nope")
    with pytest.raises(VariableMissingError):
        wi.delete_work_item_variables("nope", force=False)
    with pytest.raises(WorkItemUsageError, match="JSON"):
        wi.set_work_item_variable("d", object())
    wi.save_work_item()
    item = wi.queue.list_items("q")[0]
    assert item.payload == {"b": "zwei", "c": [1, 2]}


def test_queue_files_are_copies_with_safe_names(tmp_path):
    db = tmp_path / "db" / "wi.sqlite"
    wi = WorkItems(adapter="queue", database=db, output_queue="q")
    source = pdf(tmp_path, "antrag.pdf", b"original")
    item = wi.create_output_work_item(save=False)
    wi.add_work_item_file(source, name="../../etc/pass:wd?.pdf")
    wi.add_work_item_file(source)
    wi.save_work_item()
    source.write_bytes(b"changed later")
    folder = db.parent / "wi-files" / wi.queue.store.files_dir(item.id)
    stored = sorted(p.relative_to(db.parent) for p in db.parent.rglob("*.pdf"))
    assert stored == [(folder / "antrag.pdf").relative_to(db.parent), (folder / "pass_wd_.pdf").relative_to(db.parent)]
    assert wi.list_work_item_files() == ["../../etc/pass:wd?.pdf", "antrag.pdf"]
    consumer = WorkItems(adapter="queue", database=db, input_queue="q")
    paths = consumer.get_work_item_files("*.pdf", tmp_path / "got")
    assert [Path(p).read_bytes() for p in paths] == [b"original", b"original"]
    with pytest.raises(WorkItemFileMissingError, match=r"fehlt\.pdf"):
        consumer.get_work_item_file("fehlt.pdf")
    consumer.remove_work_item_file("antrag.pdf")
    consumer.save_work_item()
    assert not (folder / "antrag.pdf").exists() and (folder / "pass_wd_.pdf").exists()


# -- queue ----------------------------------------------------------------------------------------


def producer(db: Path, queue: str = "uvg") -> WorkItems:
    return WorkItems(adapter="queue", database=db, output_queue=queue)


def consumer(db: Path, queue: str = "uvg", **kwargs) -> WorkItems:
    return WorkItems(adapter="queue", database=db, input_queue=queue, **kwargs)


def test_producer_and_consumer_share_a_named_queue(tmp_path):
    db = tmp_path / "wi.sqlite"
    wi = producer(db)
    first = wi.create_output_work_item({"message_id": "<a@b>", "work_item_key": "<a@b>"}, files=[pdf(tmp_path)],
                                       save=True)
    assert first.created is True
    wi.close()
    reader = consumer(db)
    reader.get_input_work_item()
    assert reader.get_work_item_variables() == {"message_id": "<a@b>"}
    assert reader.list_work_item_files() == ["antrag.pdf"]
    reader.release_input_work_item("DONE")
    with pytest.raises(EmptyQueue, match="'uvg'"):
        reader.get_input_work_item()
    other = consumer(db, queue="andere")
    with pytest.raises(EmptyQueue):
        other.get_input_work_item()


def test_create_with_same_key_keeps_the_existing_item(tmp_path):
    db = tmp_path / "wi.sqlite"
    wi = producer(db)
    first = wi.create_output_work_item({"n": 1, "work_item_key": "<a@b>"}, save=True)
    again = wi.create_output_work_item({"n": 2, "work_item_key": "<a@b>"}, files=[pdf(tmp_path)], save=True)
    assert again.created is False
    assert again.id == first.id
    assert again.payload == {"n": 1}
    assert again.files == []
    other = wi.create_output_work_item({"n": 3, "work_item_key": "<c@d>"}, save=True)
    assert other.created is True
    assert wi.queue.summary("uvg")["total"] == 2
    producer(db, queue="anderes").create_output_work_item({"n": 4, "work_item_key": "<a@b>"}, save=True)
    assert open_queue(db).summary("anderes")["total"] == 1


def _consume(db: Path, fn, failing: bool = False) -> None:
    """Consume every item with ``fn``; ``failing``: an item fails with an application error, which the loop
    reports at its end."""
    wi = consumer(db)
    if failing:
        with pytest.raises(WorkItemsFailedError):
            wi.for_each_input_work_item(fn)
    else:
        wi.for_each_input_work_item(fn)
    wi.close()


def test_application_failure_is_reset_to_new_when_created_again(tmp_path):
    db = tmp_path / "wi.sqlite"
    producer(db).create_output_work_item({"n": 1, "work_item_key": "k"}, files=[pdf(tmp_path, "alt.pdf")], save=True)

    def fail():
        raise ApplicationError("Fachverfahren nicht erreichbar", code="FV_DOWN")

    _consume(db, fail, failing=True)
    [failed] = open_queue(db).list_items("uvg")
    assert (failed.status, failed.exception_type, failed.code) == (
        ItemState.FAILED_APPLICATION, "APPLICATION", "FV_DOWN")
    again = producer(db).create_output_work_item({"n": 2, "work_item_key": "k"}, files=[pdf(tmp_path, "neu.pdf")],
                                                 save=True)
    assert again.created is True and again.id == failed.id
    [reset] = open_queue(db).list_items("uvg")
    assert (reset.status, reset.exception_type, reset.code, reset.message) == (ItemState.NEW, None, None, None)
    assert reset.payload == {"n": 2}
    assert reset.files == ("neu.pdf",)
    assert [p.name for p in (db.parent / "wi-files").rglob("*.pdf")] == ["neu.pdf"]
    _consume(db, lambda: None)
    [done] = open_queue(db).list_items("uvg")
    assert done.status is ItemState.DONE
    assert done.attempts == 2


@pytest.mark.parametrize(
    ("release", "status"),
    [
        (lambda wi: wi.release_input_work_item("DONE"), ItemState.DONE),
        (lambda wi: wi.release_input_work_item("FAILED", "BUSINESS", "ANLAGE_FEHLT", "Urkunde fehlt"),
         ItemState.FAILED_BUSINESS),
    ],
    ids=["done", "business"],
)
def test_done_and_business_failures_stay_when_created_again(tmp_path, release, status):
    db = tmp_path / "wi.sqlite"
    producer(db).create_output_work_item({"n": 1, "work_item_key": "k"}, save=True)
    wi = consumer(db)
    wi.get_input_work_item()
    release(wi)
    again = producer(db).create_output_work_item({"n": 2, "work_item_key": "k"}, save=True)
    assert again.created is False
    [item] = open_queue(db).list_items("uvg")
    assert item.status is status
    assert item.payload == {"n": 1}
    with pytest.raises(EmptyQueue):
        consumer(db).get_input_work_item()


def _fill(db: Path, count: int) -> None:
    wi = producer(db)
    for n in range(count):
        wi.create_output_work_item({"n": n, "work_item_key": f"<{n}@x>"}, save=True)


def test_reservation_is_atomic_across_threads(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 60)
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work():
        try:
            wi = consumer(db)

            def handle():
                with lock:
                    taken.append(wi.get_work_item_variable("n"))

            wi.for_each_input_work_item(handle)
            wi.close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(taken) == list(range(60))
    assert open_queue(db).summary("uvg")["done"] == 60


CONSUMER_SCRIPT = """
import sys
from pathlib import Path
from rathaus.workitems import WorkItems
wi = WorkItems(adapter="queue", database=Path(sys.argv[1]), input_queue="uvg")
wi.for_each_input_work_item(lambda: print(wi.get_work_item_variable("n"), flush=True))
wi.close()
"""


def test_reservation_is_atomic_across_processes(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 60)
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    procs = [
        subprocess.Popen([sys.executable, "-c", CONSUMER_SCRIPT, str(db)], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(4)
    ]
    taken = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        taken += [int(line) for line in out.split()]
    assert sorted(taken) == list(range(60))
    with open_queue(db).store._connect() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_item_of_a_dead_consumer_is_reclaimed_after_its_lease(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 1)
    clock = Clock()
    dead = WorkItems(adapter=QueueAdapter(Settings(database=db, input_queue="uvg", lease_s=600), clock=clock))
    dead.get_input_work_item()  # ... and the machine dies here: no release
    alive = WorkItems(adapter=QueueAdapter(Settings(database=db, input_queue="uvg", lease_s=600), clock=clock))
    clock.now += 599
    with pytest.raises(EmptyQueue):
        alive.get_input_work_item()
    assert open_queue(db).summary("uvg")["in_progress"] == 1
    clock.now += 2
    alive.get_input_work_item()
    assert alive.get_work_item_variable("n") == 0
    alive.release_input_work_item(State.DONE)
    [item] = open_queue(db).list_items("uvg")
    assert (item.status, item.attempts) == (ItemState.DONE, 2)
    with pytest.raises(LeaseLostError, match="gehört nicht mehr"):
        dead.release_input_work_item(State.FAILED, Error.APPLICATION, "X", "zu spät")
    assert open_queue(db).list_items("uvg")[0].status is ItemState.DONE


def test_lease_zero_reclaims_immediately(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 1)
    crashed = consumer(db, lease_s=0)
    crashed.get_input_work_item()  # never released
    second = consumer(db)
    second.get_input_work_item()
    assert second.get_work_item_variable("n") == 0
    with pytest.raises(EmptyQueue):
        consumer(db).get_input_work_item()  # the second consumer's 600 s lease holds


def test_saving_renews_the_lease(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 1)
    clock = Clock()
    wi = WorkItems(adapter=QueueAdapter(Settings(database=db, input_queue="uvg", lease_s=100), clock=clock))
    wi.get_input_work_item()
    clock.now += 90
    wi.set_work_item_variable("zwischenstand", 1)
    wi.save_work_item()
    clock.now += 90
    other = WorkItems(adapter=QueueAdapter(Settings(database=db, input_queue="uvg", lease_s=100), clock=clock))
    with pytest.raises(EmptyQueue):
        other.get_input_work_item()
    wi.release_input_work_item("DONE")


def test_for_each_releases_states_and_records_exceptions(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 5)
    wi = consumer(db)

    def handle():
        n = wi.get_work_item_variable("n")
        wi.set_work_item_variable("aktenzeichen", f"UVG-{n}")
        if n == 1:
            raise BusinessError("Geburtsurkunde fehlt im Antrag <1@x>", code="ANLAGE_FEHLT")
        if n == 2:
            raise TimeoutError("Fachverfahren antwortet nicht")
        if n == 3:
            wi.release_input_work_item("FAILED", "BUSINESS", "KIND_ZU_ALT", "Kind ist über 18")
        return n * 10

    with pytest.raises(WorkItemsFailedError) as caught:  # every item handled, then the application error told
        wi.for_each_input_work_item(handle)
    wi.close()
    items = {item.payload["n"]: item for item in open_queue(db).list_items("uvg")}
    assert str(caught.value).startswith(f"1 von 5 Arbeitselementen mit einem technischen Fehler abgebrochen und "
                                        f"zum erneuten Versuch freigegeben (Arbeitselement {items[2].id}: "
                                        "UNEXPECTED_ERROR). Die übrigen wurden bearbeitet.")
    assert [items[n].status for n in range(5)] == [
        ItemState.DONE, ItemState.FAILED_BUSINESS, ItemState.FAILED_APPLICATION, ItemState.FAILED_BUSINESS,
        ItemState.DONE,
    ]
    assert (items[1].exception_type, items[1].code, items[1].message) == (
        "BUSINESS", "ANLAGE_FEHLT", "Geburtsurkunde fehlt im Antrag <1@x>",
    )
    assert (items[2].exception_type, items[2].code) == ("APPLICATION", "UNEXPECTED_ERROR")
    assert items[2].message == "Fachverfahren antwortet nicht"
    assert (items[3].exception_type, items[3].code) == ("BUSINESS", "KIND_ZU_ALT")
    assert items[4].variables == {"aktenzeichen": "UVG-4"}
    assert items[1].released_at is not None and items[1].reserved_at is not None
    assert open_queue(db).summary("uvg") == {
        "queue": "uvg", "total": 5, "new": 0, "in_progress": 0, "done": 2, "failed_business": 2,
        "failed_application": 1, "failed": 3,
    }


def test_for_each_items_limit_and_no_results(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 5)
    wi = consumer(db)
    assert wi.for_each_input_work_item(lambda: 1, items_limit=2) == [1, 1]
    assert wi.for_each_input_work_item(lambda: 1, return_results=False) is None
    assert open_queue(db).summary("uvg")["done"] == 5


def test_release_rules(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 2)
    wi = consumer(db)
    with pytest.raises(WorkItemUsageError, match="Get Input Work Item"):
        wi.release_input_work_item("DONE")
    wi.get_input_work_item()
    with pytest.raises(WorkItemUsageError, match="exception_type"):
        wi.release_input_work_item("FAILED", code="X")
    with pytest.raises(WorkItemUsageError, match="DONE oder FAILED"):
        wi.release_input_work_item("KAPUTT")
    wi.release_input_work_item("FAILED", "application", "X", "m")
    with pytest.raises(WorkItemUsageError, match="bereits freigegeben"):
        wi.release_input_work_item("DONE")
    with pytest.raises(WorkItemUsageError, match="schon freigegeben"):
        wi.create_output_work_item()
    wi.get_input_work_item()
    wi.close()  # releases the open input as DONE
    assert open_queue(db).summary("uvg") == {
        "queue": "uvg", "total": 2, "new": 0, "in_progress": 0, "done": 1, "failed_business": 0,
        "failed_application": 1, "failed": 1,
    }


def test_get_input_releases_the_previous_item_as_done(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 2)
    wi = consumer(db)
    wi.get_input_work_item()
    wi.get_input_work_item()
    assert [i.status for i in open_queue(db).list_items("uvg")] == [ItemState.DONE, ItemState.IN_PROGRESS]


def test_producer_without_input_queue_and_without_output_queue(tmp_path):
    wi = WorkItems(adapter="queue", database=tmp_path / "wi.sqlite")
    assert wi.get_work_item_payload() == {}
    with pytest.raises(WorkItemsSetupError, match="output_queue"):
        wi.create_output_work_item({"a": 1}, save=True)


def test_settings_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RATHAUS_WORKITEMS_DB", str(tmp_path / "env.sqlite"))
    monkeypatch.setenv("RATHAUS_WORKITEMS_INPUT_QUEUE", "rein")
    monkeypatch.setenv("RATHAUS_WORKITEMS_OUTPUT_QUEUE", "raus")
    monkeypatch.setenv("RATHAUS_WORKITEMS_LEASE_S", "30")
    settings = WorkItems().settings
    assert (settings.adapter, settings.database, settings.input_queue, settings.output_queue, settings.lease_s) == (
        "queue", tmp_path / "env.sqlite", "rein", "raus", 30.0,
    )
    assert WorkItems(output_queue="arg").settings.output_queue == "arg"
    with pytest.raises(WorkItemsSetupError, match="RobocorpAdapter"):
        WorkItems(adapter="RobocorpAdapter")


def test_logs_hold_ids_and_states_but_no_personal_data(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="rathaus.workitems")
    db = tmp_path / "wi.sqlite"
    producer(db).create_output_work_item(
        {"antragsteller": "Jürgen Müller", "iban": "DE02120300000000202051", "work_item_key": "<m@x>"}, save=True
    )

    def fail():
        raise BusinessError("Antrag von Jürgen Müller unvollständig", code="UNVOLLSTAENDIG")

    _consume(db, fail)
    assert "action=release" in caplog.text and "<m@x>" in caplog.text
    assert "Müller" not in caplog.text and "DE02" not in caplog.text


ROBOT_SUITE = """
*** Settings ***
Library    rathaus.WorkItems    adapter=QueueAdapter    database=${DB}    input_queue=uvg
Library    Fachverfahren.py

*** Tasks ***
Bearbeite Anträge
    # every item is handled; the one that failed unexpectedly fails the loop at its end
    Run Keyword And Expect Error    * von 4 Arbeitselementen mit einem technischen Fehler abgebrochen*
    ...    For Each Input Work Item    Bearbeite Antrag

*** Keywords ***
Bearbeite Antrag
    ${n}=    Get Work Item Variable    n
    Set Work Item Variable    bearbeitet    ${True}
    IF    ${n} == 1    Fail    Robot-Test: Server antwortet nicht
    IF    ${n} == 2    Release Input Work Item    FAILED    BUSINESS    ANLAGE_FEHLT    Urkunde fehlt
    IF    ${n} == 3    Pruefe Antrag    ${n}
    RETURN    ${n}
"""


FACHVERFAHREN = """
from rathaus.errors import BusinessError


def pruefe_antrag(n):
    raise BusinessError(f"Robot-Test: Kind {n} ist älter als 18 Jahre", code="KIND_ZU_ALT")
"""


def test_robot_suite_consumes_the_queue(tmp_path):
    from rathaus import errors
    from robot import run

    db = tmp_path / "wi.sqlite"
    _fill(db, 4)
    suite = tmp_path / "consumer.robot"
    suite.write_text(ROBOT_SUITE, encoding="utf-8")
    (tmp_path / "Fachverfahren.py").write_text(FACHVERFAHREN, encoding="utf-8")
    rc = run(str(suite), variable=[f"DB:{db}"], outputdir=str(tmp_path), output="NONE", report="NONE",
             log="NONE", console="none")
    assert rc == 0
    # a rathaus business error raised inside a Robot keyword is recognised by its message
    recognised = hasattr(errors, "recent_error")
    expected_last = ("BUSINESS", "KIND_ZU_ALT") if recognised else ("APPLICATION", "UNEXPECTED_ERROR")
    items = open_queue(db).list_items("uvg")
    assert [(i.status, i.exception_type, i.code) for i in items] == [
        (ItemState.DONE, None, None),
        (ItemState.FAILED_APPLICATION, "APPLICATION", "UNEXPECTED_ERROR"),
        (ItemState.FAILED_BUSINESS, "BUSINESS", "ANLAGE_FEHLT"),
        (ItemState.FAILED_BUSINESS if recognised else ItemState.FAILED_APPLICATION, *expected_last),
    ]
    assert items[3].message == "Robot-Test: Kind 3 ist älter als 18 Jahre"
    assert all(i.variables == {"bearbeitet": True} for i in items)


LISTENER_SUITE = """
*** Settings ***
Library    rathaus.WorkItems    adapter=QueueAdapter    database=${DB}    input_queue=uvg

*** Tasks ***
Erster Antrag scheitert
    ${n}=    Get Work Item Variable    n
    Fail    Robot-Test: Aufgabe bricht ab bei ${n}

Zweiter Antrag bleibt offen bis zum Ende
    Get Input Work Item
    Set Work Item Variable    gesehen    ${True}
"""


def test_robot_listener_releases_failed_tasks_and_open_items(tmp_path):
    from robot import run

    db = tmp_path / "wi.sqlite"
    _fill(db, 2)
    suite = tmp_path / "listener.robot"
    suite.write_text(LISTENER_SUITE, encoding="utf-8")
    rc = run(str(suite), variable=[f"DB:{db}"], outputdir=str(tmp_path), output="NONE", report="NONE",
             log="NONE", console="none")
    assert rc == 1
    first, second = open_queue(db).list_items("uvg")
    assert (first.status, first.exception_type, first.message) == (
        ItemState.FAILED_APPLICATION, "APPLICATION", "Robot-Test: Aufgabe bricht ab bei 0",
    )
    assert second.status is ItemState.DONE
    assert second.variables == {"gesehen": True}


def test_for_each_passes_named_arguments_to_the_function_as_rpaframework_does(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 2)
    wi = consumer(db)
    assert wi.for_each_input_work_item(lambda factor, add=0: wi.get_work_item_variable("n") * factor + add, 10,
                                       add=1) == [1, 11]
    wi.close()
