"""What `rathaus run` prints after a run: counts per outcome, and why a step failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path

import robot
import robot.api
from rathaus.core.runner import RunSummary, _failure_messages, _merge_logs

START = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)


class _Status(Enum):  # the values of rathaus.workitems.states.ItemState
    DONE = "done"
    FAILED_BUSINESS = "failed_business"
    FAILED_APPLICATION = "failed_application"
    NEW = "new"


@dataclass
class _Item:
    status: _Status
    variables: dict = field(default_factory=dict)
    exception_type: str | None = None
    code: str | None = None
    message: str | None = None
    released_at: datetime | None = START + timedelta(minutes=1)


def test_outcomes_are_counted_by_their_label_in_the_process_order():
    items = [
        _Item(_Status.DONE, {"ergebnis": "erfasst"}), _Item(_Status.DONE, {"ergebnis": "erfasst"}),
        _Item(_Status.DONE, {"ergebnis": "abgelehnt"}), _Item(_Status.DONE, {}),
        _Item(_Status.FAILED_BUSINESS, exception_type="BUSINESS", code="KEIN_ANHANG", message="<m1@x> ohne Anhang"),
        _Item(_Status.FAILED_APPLICATION, exception_type="APPLICATION", code="FV_DOWN", message="<m2@x> System aus"),
        _Item(_Status.NEW, released_at=None),
        _Item(_Status.DONE, {"ergebnis": "erfasst"}, released_at=START - timedelta(days=1)),  # an earlier run
    ]
    outcomes = {"erfasst": "Erfasst", "vorhanden": "Bereits erfasst", "abgelehnt": "Abgelehnt"}
    lines = RunSummary.from_items(items, START, outcomes).lines()
    assert lines == [
        "Verarbeitet: 6", "Erfasst: 2", "Abgelehnt: 1", "Erledigt: 1",
        "An die Sachbearbeitung übergeben: 1", "Fehlgeschlagen: 1", "Noch offen in der Warteschlange: 1",
        "  - [KEIN_ANHANG] <m1@x> ohne Anhang", "  - [FV_DOWN] <m2@x> System aus",
    ]


def test_the_first_outcome_shows_even_at_zero():
    assert RunSummary.from_items([], START, {"eingetragen": "Eingetragen", "vorhanden": "Vorhanden"}).lines()[:2] == [
        "Verarbeitet: 0", "Eingetragen: 0"]


def test_a_failed_step_says_why(tmp_path: Path):
    suite = tmp_path / "schritt.robot"
    suite.write_text(
        "*** Settings ***\nSuite Setup    Fail    Postfach 'uvg@example.org' nicht erreichbar: Server prüfen.\n\n"
        "*** Tasks ***\nAnträge bearbeiten\n    No Operation\n", encoding="utf-8")
    robot.run(str(suite), outputdir=str(tmp_path), log="NONE", report="NONE", stdout=None, console="none")
    assert _failure_messages(tmp_path / "output.xml") == ["Postfach 'uvg@example.org' nicht erreichbar: Server prüfen."]
    assert _failure_messages(tmp_path / "fehlt.xml") == ["Der Schritt hat kein Protokoll geschrieben (abgebrochen?)."]


def test_the_merged_run_has_one_log_and_one_report(tmp_path: Path):
    outputs = []
    for number, task in enumerate(("Anträge lesen", "Anträge bearbeiten"), start=1):
        suite = tmp_path / f"schritt-{number}.robot"
        suite.write_text(f"*** Tasks ***\n{task}\n    No Operation\n", encoding="utf-8")
        step_dir = tmp_path / f"schritt-{number}"
        robot.run(str(suite), outputdir=str(step_dir), log="NONE", report="NONE", stdout=None, console="none")
        outputs.append(step_dir / "output.xml")
    log = _merge_logs([*outputs, tmp_path / "fehlt" / "output.xml"], tmp_path, "giessen/unterhaltsvorschuss")
    assert log == tmp_path / "log.html" and log.is_file()
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "log.html" in report  # the report links to the merged log
    merged = robot.api.ExecutionResult(str(tmp_path / "output.xml")).suite
    assert [test.name for test in merged.all_tests] == ["Anträge lesen", "Anträge bearbeiten"]
