"""The short crash-injection test: ``rathaus run giessen/unterhaltsvorschuss`` killed with SIGKILL of its process
group three times, at the places where a crash used to hurt, then run until done.

The kills: while the producer saves the second mail's work item (after the commit, before its files are in
place), between entering the first case in the Fachverfahren and writing its letter, and after its letter was
sent but before its item was released. Every rule of ``tests/support/crashinjection.py`` must hold afterwards.
The long version with 100+ kills at random moments is ``make crashtest`` (benchmarks/crashtest.py).
"""

from __future__ import annotations

import pytest
from support.crashinjection import QUICK_KILLS, quick

pytestmark = pytest.mark.browser


def test_three_kills_lose_nothing_and_enter_nothing_twice(tmp_path):
    result = quick(tmp_path)
    [trial] = result.trials
    assert trial.kills == [str(kill) for kill in QUICK_KILLS], "every crash point must be reached and kill the run"
    assert result.violations == []
    # the case in flight at the kill before its release is answered again, once: allowed, and it must happen
    assert trial.double_letters == 1
    assert trial.runs == len(QUICK_KILLS) + 1, "one run after the kills finishes everything"
