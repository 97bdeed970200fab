"""Results of `rathaus run` as data (rathaus.core.results): counted from the work item queue, or, with
rpaframework's file adapter, said to be in the devdata files instead of reported as zero."""

from __future__ import annotations

from datetime import datetime, timezone

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
