"""Results of `rathaus run` as data (rathaus.core.results): counted from the work item queue, or, with
rpaframework's file adapter, said to be in the devdata files instead of reported as zero."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from rathaus.core.results import build_result
from rathaus.workitems.queue import open_queue

STEPS = [{"task": "Anträge aus dem Postfach übernehmen", "produces": True},
         {"task": "Anträge bearbeiten", "consumes": True}]
PROCESS = {"outcomes": {"eingetragen": "Eingetragen"}}


def test_a_run_on_the_queue_counts_its_cases(tmp_path):
    started = datetime.now(timezone.utc)
    database = tmp_path / "workitems.sqlite"
    queue = open_queue(database)
    queue.close()
    env = {"RATHAUS_HOME": str(tmp_path), "RATHAUS_WORKITEMS_DB": str(database)}
    result = build_result("giessen/unterhaltsvorschuss", PROCESS, STEPS, [0, 0], [], started, tmp_path, env)
    assert result.state == "succeeded" and result.counts["verarbeitet"] == 0
    assert "Verarbeitet: 0" in result.lines


def test_with_the_file_adapter_nothing_is_counted_as_zero(tmp_path):
    started = datetime.now(timezone.utc)
    env = {"RATHAUS_HOME": str(tmp_path), "RPA_WORKITEMS_ADAPTER": "FileAdapter",
           "RPA_INPUT_WORKITEM_PATH": str(tmp_path / "work-items.json")}
    result = build_result("giessen/unterhaltsvorschuss", PROCESS, STEPS, [0, 0], [], started, tmp_path, env)
    assert result.counts == {} and not any(line.startswith("Verarbeitet") for line in result.lines)
    assert any("Dateiadapter" in line and "RPA_OUTPUT_WORKITEM_PATH" in line for line in result.lines)


def test_a_step_that_reads_files_reports_each_files_outcome_into_the_result(tmp_path, monkeypatch):
    from rathaus.core.runner import RUN_DIR_ENV, file_outcomes, record_file_outcome

    assert record_file_outcome("a.csv", "done") is None  # outside rathaus run: nothing recorded
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    record_file_outcome("a.csv", "failed_application", "UNEXPECTED", "erst")
    record_file_outcome("b.csv", "failed_business", "EXPORT_ZELLE", "b.csv: Zeile 4 ist keine Zahl.")
    record_file_outcome("a.csv", "done")  # the last report of a file counts
    with (tmp_path / "dateien.jsonl").open("a", encoding="utf-8") as stream:
        stream.write('{"name": "c.csv", "sta')  # cut off by a crash
    assert file_outcomes(tmp_path) == [
        {"name": "b.csv", "state": "failed_business", "code": "EXPORT_ZELLE",
         "message": "b.csv: Zeile 4 ist keine Zahl."},
        {"name": "a.csv", "state": "done", "code": None, "message": None}]
    with pytest.raises(ValueError, match="state must be one of"):
        record_file_outcome("a.csv", "erledigt")
