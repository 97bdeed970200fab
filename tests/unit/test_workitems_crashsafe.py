"""WorkItems that survive a crash: items created with all their files or not at all, dead holders taken over
at once, the items a live other run holds, and the migration of version-1 queue databases."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rathaus.workitems import FileAdapter, ItemState, QueueAdapter, Settings, WorkItems, open_queue
from rathaus.workitems.holders import Holder, holder_is_dead, host_name, new_runner_id, process_start
from rathaus.workitems.model import WorkItem
from rathaus.workitems.queue import STAGING, _parse_crash_at
from rathaus.workitems.storage import SCHEMA_VERSION
from test_workitems import ENV_NAMES, clean_env  # noqa: F401 - the same autouse fixture: no work item settings


def attachments(tmp_path: Path, count: int = 3) -> list[Path]:
    folder = tmp_path / "anhang"
    folder.mkdir(exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"anlage-{n}.pdf"
        path.write_bytes(b"%PDF-1.4 " + bytes([65 + n]) * 1000)
        paths.append(path)
    return paths


def run_python(code: str, *args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new process group (so that its crash hook kills only itself)."""
    clean = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=60, start_new_session=True, check=False)


PRODUCER = """
    import sys
    from pathlib import Path
    from rathaus.workitems import WorkItems
    wi = WorkItems(adapter="queue", database=Path(sys.argv[1]), output_queue="uvg")
    wi.create_output_work_item({"message_id": "<a@x>", "work_item_key": "<a@x>"}, files=sys.argv[2:], save=True)
    print("gespeichert")
"""


# -- atomic creation --------------------------------------------------------------------------------


def test_work_item_save_creates_the_item_with_its_files_in_one_call(tmp_path):
    calls = []

    class Recorder(FileAdapter):
        def create_output(self, parent_id, payload, key=None, files=None):
            calls.append(("create_output", payload, key, sorted(files or {})))
            return "7", True

        def add_file(self, item_id, name, source):
            calls.append(("add_file", name))

    item = WorkItem(Recorder(Settings(adapter="file")), key="<a@x>")
    item.payload = {"n": 1}
    for path in attachments(tmp_path, 2):
        item.add_file(path)
    item.save()
    assert calls == [("create_output", {"n": 1}, "<a@x>", ["anlage-0.pdf", "anlage-1.pdf"])]
    assert (item.id, item.files, item.is_dirty) == ("7", ["anlage-0.pdf", "anlage-1.pdf"], False)


@pytest.mark.parametrize("point", ["create.staged", "create.committed"])
def test_a_producer_killed_while_saving_leaves_a_whole_item_or_none(tmp_path, point):
    db = tmp_path / "wi.sqlite"
    files = attachments(tmp_path)
    killed = run_python(PRODUCER, db, *files, env={"RATHAUS_WORKITEMS_CRASH_AT": f"{point}:1"})
    assert killed.returncode == -signal.SIGKILL and "gespeichert" not in killed.stdout
    assert [p.name for p in (db.parent / "wi-files" / STAGING).iterdir()], "the staged copy is left behind"
    items = open_queue(db).list_items("uvg")
    if point == "create.staged":
        assert items == []  # nothing committed: no item at all
    else:
        assert [i.files for i in items] == [("anlage-0.pdf", "anlage-1.pdf", "anlage-2.pdf")]
    # the next run takes the mail again (same key) or finds the whole item
    again = run_python(PRODUCER, db, *files)
    assert again.returncode == 0, again.stderr
    consumer = WorkItems(adapter="queue", database=db, input_queue="uvg")
    consumer.get_input_work_item()
    got = consumer.get_work_item_files("*.pdf", tmp_path / "got")
    assert [Path(p).read_bytes() for p in got] == [p.read_bytes() for p in files]
    consumer.release_input_work_item("DONE")
    assert list((db.parent / "wi-files" / STAGING).iterdir()) == []


def test_a_committed_item_whose_rename_was_cut_short_is_finished_by_its_consumer(tmp_path):
    db = tmp_path / "wi.sqlite"
    files = attachments(tmp_path, 2)
    assert run_python(PRODUCER, db, *files, env={"RATHAUS_WORKITEMS_CRASH_AT": "create.committed"}).returncode < 0
    adapter = QueueAdapter(Settings(database=db, input_queue="uvg"))
    [item] = adapter.list_items("uvg")
    folder = adapter.store.files_dir(item.id)
    assert (adapter.files_root / STAGING / folder).is_dir() and not (adapter.files_root / folder).exists()
    adapter.get_file(item.id, "anlage-1.pdf", tmp_path / "b.pdf")  # no reserve before: finishes on demand
    assert (tmp_path / "b.pdf").read_bytes() == files[1].read_bytes()
    assert sorted(p.name for p in (adapter.files_root / folder).iterdir()) == ["anlage-0.pdf", "anlage-1.pdf"]


def test_a_failing_create_leaves_no_item_and_no_staged_files(tmp_path, monkeypatch):
    db = tmp_path / "wi.sqlite"
    wi = WorkItems(adapter="queue", database=db, output_queue="uvg")
    adapter = wi.adapter

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(adapter.store, "create", broken)
    with pytest.raises(sqlite3.OperationalError):
        wi.create_output_work_item({"n": 1, "work_item_key": "k"}, files=[str(p) for p in attachments(tmp_path)],
                                   save=True)
    monkeypatch.undo()
    assert open_queue(db).list_items("uvg") == []
    assert list((adapter.files_root / STAGING).iterdir()) == []


def test_a_kept_item_drops_the_staged_copies(tmp_path):
    db = tmp_path / "wi.sqlite"
    wi = WorkItems(adapter="queue", database=db, output_queue="uvg")
    first = wi.create_output_work_item({"n": 1, "work_item_key": "k"}, files=[str(attachments(tmp_path, 1)[0])],
                                       save=True)
    again = wi.create_output_work_item({"n": 2, "work_item_key": "k"},
                                       files=[str(p) for p in attachments(tmp_path, 2)], save=True)
    assert (again.created, again.id, again.files) == (False, first.id, ["anlage-0.pdf"])
    assert list((wi.adapter.files_root / STAGING).iterdir()) == []
    assert len(list(wi.adapter.files_root.rglob("*.pdf"))) == 1


def test_orphan_staging_folders_are_removed_only_when_their_creator_is_gone(tmp_path):
    db = tmp_path / "wi.sqlite"
    adapter = QueueAdapter(Settings(database=db, output_queue="uvg"))
    staging = adapter.files_root / STAGING
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_name = f"{host_name()}_{gone.stdout.strip()}_1_dead"
    alive_name = f"{host_name()}_{os.getpid()}_{process_start(os.getpid())}_alive"
    for name in (dead_name, alive_name):
        (staging / name).mkdir(parents=True)
        (staging / name / "a.pdf").write_bytes(b"x")
    adapter.create_output(None, {"n": 1})  # the first create looks for leftovers
    assert sorted(p.name for p in staging.iterdir()) == [alive_name]


def test_file_adapter_writes_an_item_and_its_files_in_one_write(tmp_path):
    out = tmp_path / "out" / "work-items.json"
    adapter = FileAdapter(Settings(adapter="file", output_path=out))
    files = {name: path for name, path in zip(["Antrag.pdf", "antrag.pdf?"], attachments(tmp_path, 2), strict=True)}
    item_id, created = adapter.create_output(None, {"n": 1}, key="k", files=files)
    assert (item_id, created) == ("1", True)
    [written] = json.loads(out.read_text(encoding="utf-8"))
    assert written == {"payload": {"n": 1}, "files": {"Antrag.pdf": "files/0/Antrag.pdf",
                                                      "antrag.pdf?": "files/0/antrag.pdf_"}}
    assert (out.parent / "files/0/antrag.pdf_").read_bytes() == files["antrag.pdf?"].read_bytes()
    assert adapter.create_output(None, {"n": 2}, key="k", files=files) == ("1", False)
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 1


# -- dead holders -------------------------------------------------------------------------------------


CONSUMER_DIES = """
    import os, signal, sys
    from pathlib import Path
    from rathaus.workitems import WorkItems
    wi = WorkItems(adapter="queue", database=Path(sys.argv[1]), input_queue="uvg")
    wi.get_input_work_item()
    print(wi.settings.runner_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _fill(db: Path, count: int) -> None:
    wi = WorkItems(adapter="queue", database=db, output_queue="uvg")
    for n in range(count):
        wi.create_output_work_item({"n": n, "work_item_key": f"<{n}@x>"}, save=True)


def test_the_items_of_a_dead_holder_on_this_host_are_taken_over_at_once(tmp_path, caplog):
    db = tmp_path / "wi.sqlite"
    _fill(db, 2)
    died = run_python(CONSUMER_DIES, db)
    assert died.returncode == -signal.SIGKILL
    held = open_queue(db).list_items("uvg", ItemState.IN_PROGRESS)
    assert [(i.payload["n"], i.runner) for i in held] == [(0, died.stdout.strip())]
    assert open_queue(db).reserved_elsewhere("uvg") == 0  # a dead holder holds nothing
    wi = WorkItems(adapter="queue", database=db, input_queue="uvg", lease_s=600)
    with caplog.at_level("INFO", logger="rathaus.workitems"):
        wi.get_input_work_item()
    assert wi.get_work_item_variable("n") == 0  # not the next new item: the dead holder's, at once
    assert "action=reclaim queue=uvg item=1 attempt=2 reason=holder_gone" in caplog.text
    wi.release_input_work_item("DONE")


def test_a_live_holder_keeps_its_items_and_counts_as_reserved_elsewhere(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 3)
    holder = QueueAdapter(Settings(database=db, input_queue="uvg"))  # this process: alive
    holder.reserve_input()
    other = QueueAdapter(Settings(database=db, input_queue="uvg"))
    assert other.reserved_elsewhere() == 1
    assert holder.reserved_elsewhere() == 0  # its own item is not elsewhere
    assert other.reserve_input() == "2"
    assert (other.reserved_elsewhere(), holder.reserved_elsewhere()) == (1, 1)


def test_reserved_elsewhere_ignores_run_out_leases_and_holders_in_another_form(tmp_path):
    db = tmp_path / "wi.sqlite"
    _fill(db, 3)
    clock = [1_800_000_000.0]
    for runner, lease in (("anderer-rechner:1:2:abc", 600), ("frei-gewaehlt", 600), (new_runner_id(), 10)):
        QueueAdapter(Settings(database=db, input_queue="uvg", runner_id=runner, lease_s=lease),
                     clock=lambda: clock[0]).reserve_input()
    reader = QueueAdapter(Settings(database=db, input_queue="uvg"), clock=lambda: clock[0])
    assert reader.reserved_elsewhere("uvg") == 3
    clock[0] += 11
    assert reader.reserved_elsewhere("uvg") == 2


def test_holder_liveness_checks_host_pid_start_time_and_zombies():
    me = new_runner_id()
    host, pid, start, token = me.rsplit(":", 3)
    assert (host, int(pid), start == process_start(os.getpid()), len(token)) == (host_name(), os.getpid(), True, 8)
    assert holder_is_dead(me) is False
    assert holder_is_dead(f"{host}:{pid}:{int(start) + 1}:x") is True  # the pid was reused by a newer process
    assert holder_is_dead(f"anderswo:{pid}:{int(start) + 1}:x") is False  # another host: unknown, wait for lease
    assert holder_is_dead("host:kaputt") is False and holder_is_dead(None) is False
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    while True:  # exited, but not reaped yet
        stat = Path(f"/proc/{zombie.pid}/stat").read_text()
        if stat.rpartition(")")[2].split()[0] == "Z":
            break
    assert Holder(host_name(), zombie.pid, "-").is_dead() is True
    zombie.wait()
    assert Holder(host_name(), zombie.pid, "-").is_dead() is True


def test_crash_points_are_parsed():
    assert _parse_crash_at("create.staged:3") == ("create.staged", 3)
    assert _parse_crash_at("release") == ("release", 1)
    assert _parse_crash_at(None) == (None, 0)
    assert _parse_crash_at("release:0") == (None, 0)


# -- schema version 2 ---------------------------------------------------------------------------------


V1_SCHEMA = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, key TEXT, parent_id TEXT,
    status TEXT NOT NULL DEFAULT 'pending', payload TEXT NOT NULL, original_payload TEXT NOT NULL,
    exception_type TEXT, code TEXT, message TEXT, attempts INTEGER NOT NULL DEFAULT 0, runner TEXT,
    lease_until REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL, reserved_at REAL, released_at REAL
);
CREATE UNIQUE INDEX items_queue_key ON items (queue, key) WHERE key IS NOT NULL;
CREATE INDEX items_queue_status ON items (queue, status, id);
CREATE TABLE files (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE, name TEXT NOT NULL, stored TEXT NOT NULL,
    PRIMARY KEY (item_id, name)
);
PRAGMA user_version=1;
"""


def test_a_version_1_database_is_migrated_in_place(tmp_path):
    db = tmp_path / "wi.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(V1_SCHEMA)
        rows = [("pending", None), ("in_progress", None), ("done", None), ("failed", "BUSINESS"),
                ("failed", "APPLICATION"), ("failed", None)]
        for n, (status, kind) in enumerate(rows):
            conn.execute("INSERT INTO items (queue, key, status, payload, original_payload, exception_type, "
                         "lease_until, created_at, updated_at) VALUES ('uvg', ?, ?, ?, ?, ?, 1, 1, 1)",
                         (f"k{n}", status, json.dumps({"n": n}), json.dumps({"n": n}), kind))
        conn.execute("INSERT INTO files VALUES (1, 'antrag.pdf', 'antrag.pdf')")
    conn.close()
    (tmp_path / "wi-files" / "1").mkdir(parents=True)
    (tmp_path / "wi-files" / "1" / "antrag.pdf").write_bytes(b"%PDF alt")
    queue = open_queue(db)
    assert [i.status for i in queue.list_items("uvg")] == [
        ItemState.NEW, ItemState.IN_PROGRESS, ItemState.DONE, ItemState.FAILED_BUSINESS,
        ItemState.FAILED_APPLICATION, ItemState.FAILED_APPLICATION,
    ]
    with queue.store._connect() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert open_queue(db).summary("uvg")["failed_application"] == 2  # opening again changes nothing
    consumer = WorkItems(adapter="queue", database=db, input_queue="uvg")
    consumer.get_input_work_item()
    assert consumer.get_work_item_variable("n") == 0
    assert Path(consumer.get_work_item_file("antrag.pdf", tmp_path / "a.pdf")).read_bytes() == b"%PDF alt"
    consumer.release_input_work_item("DONE")
    producer = WorkItems(adapter="queue", database=db, output_queue="uvg")
    assert producer.create_output_work_item({"n": 40, "work_item_key": "k4"}, save=True).created is True  # reset
    assert producer.create_output_work_item({"n": 30, "work_item_key": "k3"}, save=True).created is False  # kept
    fresh = producer.create_output_work_item({"n": 99, "work_item_key": "neu"}, save=True)
    statuses = {i.key: i.status for i in open_queue(db).list_items("uvg")}
    assert (statuses["k4"], statuses["k3"], statuses[fresh.key]) == (
        ItemState.NEW, ItemState.FAILED_BUSINESS, ItemState.NEW)
