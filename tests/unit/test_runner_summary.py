"""What `rathaus run` prints after a run: counts per outcome, and why a step failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path

import robot
from rathaus.process.runner import RunSummary, _failure_messages

START = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)


class _Status(Enum):
    DONE = "done"
    FAILED = "failed"
    PENDING = "pending"


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
        _Item(_Status.FAILED, exception_type="BUSINESS", code="KEIN_ANHANG", message="<m1@x> ohne Anhang"),
        _Item(_Status.FAILED, exception_type="APPLICATION", code="FV_DOWN", message="<m2@x> System aus"),
        _Item(_Status.PENDING, released_at=None),
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
