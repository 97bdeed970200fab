"""Start delay: from a clerk's "Lauf starten", or from a schedule's due time, until a runner holds the run.

    .venv/bin/python benchmarks/start_delay.py [--database sqlite|postgresql|both]

The control room runs as ``rathaus controlroom`` serves it, with its clock, in a process of its own; one runner of
the city waits for work as ``rathaus runner`` does (a long-polled claim) and reports each run finished at once, so
that what is measured is the control room's dispatch, not a robot. Measured:

- 20 clerk starts, one every 0.3 s (``POST /api/runs``): from the start's answer to the runner's claim;
- 50 schedules due in the same minute (made through the API for the next full minute): from the due time to the
  runner's claim of each (one runner takes them one after the other).

Before issue 11 the clock looked every 30 s and idle runners asked every 5 s. Target: p95 at most 2 s (the robot's
own start, 1-2 s for ``rathaus run``, comes on top). Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "controlroom"), str(ROOT / "keywords"),
                str(ROOT / "controlroom")]

from controlroom_concurrency import _database  # noqa: E402
from items_world import build_world  # noqa: E402
from rathaus_controlroom.db import Database  # noqa: E402
from rathaus_controlroom.runner import RunnerClient  # noqa: E402
from support.controlroom_load import percentile, serve  # noqa: E402

TARGET_S = 2.0
BERLIN = ZoneInfo("Europe/Berlin")
class Runner(threading.Thread):
    """A runner that waits for work and finishes each run at once; records when it held each run."""

    def __init__(self, url: str, token: str, poll_s: float | None = None) -> None:
        super().__init__(daemon=True)
        self.client = RunnerClient(url, token)
        self.claimed: dict[int, float] = {}
        self.stop = threading.Event()
        self.poll_s = poll_s  #: ask every poll_s seconds without waiting, as runners did before issue 11

    def run(self) -> None:
        while not self.stop.is_set():
            job = self.client.claim(10.0) if self.poll_s is None else self.client.claim()
            if job is not None:
                self.claimed[job["run"]] = time.time()
                self.client.finish(job["run"], 0, "Sofort beendet (Messung).", [])
            elif self.poll_s is not None:
                self.stop.wait(self.poll_s)


def _figures(delays: list[float]) -> dict[str, float]:
    return {"count": len(delays), "p50": percentile(delays, 0.5), "p95": percentile(delays, 0.95),
            "max": max(delays)}


def measure(kind: str, poll_s: float | None = None) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp)) as url:
        database = Database(url)
        try:
            world = build_world(database)
        finally:
            database.dispose()
        with (serve(url, Path(tmp) / "daten", clock=True) as address,
              httpx.Client(base_url=address, timeout=30) as client):
            admin, clerk = world.headers("giessen.admin"), world.headers("giessen.clerk")
            token = client.post("/api/runners", json={"name": "runner-1"}, headers=admin).json()["token"]
            runner = Runner(address, token, poll_s)
            runner.start()
            time.sleep(1)
            answered: dict[int, float] = {}
            for _ in range(20):
                started = client.post("/api/runs", json={"robot": "giessen/unterhaltsvorschuss"}, headers=clerk)
                started.raise_for_status()
                answered[started.json()["id"]] = time.time()
                time.sleep(0.3)
            # 50 schedules for the next full minute that is at least 5 s away
            due = (datetime.now(timezone.utc) + timedelta(seconds=65)).replace(second=0, microsecond=0)
            local = due.astimezone(BERLIN)
            for number in range(50):
                robot = ("unterhaltsvorschuss", "nutzungsstatistik")[number % 2]
                made = client.post("/api/schedules", headers=admin,
                                   json={"robot": robot, "cron": f"{local.minute} {local.hour} * * *"})
                made.raise_for_status()
            deadline = time.time() + (due - datetime.now(timezone.utc)).total_seconds() + 60
            while time.time() < deadline and len(runner.claimed) < 70:
                time.sleep(0.2)
            runner.stop.set()
            starts = [runner.claimed[run] - at for run, at in answered.items() if run in runner.claimed]
            fired = sorted(at - due.timestamp() for run, at in runner.claimed.items() if run not in answered)
            if len(starts) < 20 or len(fired) < 50:
                raise SystemExit(f"{kind}: nur {len(starts)} von 20 Starts und {len(fired)} von 50 Zeitplänen "
                                 "wurden geholt")
            return {"clerk": _figures(starts), "schedules": _figures(fired)}


def run(databases: tuple[str, ...] = ("sqlite", "postgresql"), poll_s: float | None = None) -> list[dict[str, object]]:
    rows = []
    for kind in databases:
        figures = measure(kind, poll_s)
        rows.append({"name": f"{kind}: 20 Starts der Sachbearbeitung bis zum Runner", **figures["clerk"]})
        rows.append({"name": f"{kind}: 50 Zeitpläne derselben Minute bis zum Runner", **figures["schedules"]})
    return rows


def print_rows(rows: list[dict[str, object]]) -> int:
    print(f"\n{'start delay':<52} {'count':>5} {'p50':>8} {'p95':>8} {'max':>8} {'target':>9}")
    missed = 0
    for row in rows:
        ok = row["p95"] <= TARGET_S
        missed += not ok
        print(f"{row['name']:<52} {row['count']:>5} {row['p50'] * 1000:>5.0f} ms {row['p95'] * 1000:>5.0f} ms "
              f"{row['max'] * 1000:>5.0f} ms {'≤ 2000 ms':>9}{'' if ok else '  MISSED'}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runner-poll", type=float, default=None,
                        help="the runner asks every N seconds without waiting (as before issue 11: 5)")
    args = parser.parse_args()
    rows = run(("sqlite", "postgresql") if args.database == "both" else (args.database,), args.runner_poll)
    return 1 if print_rows(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
