"""Claims: 8 runners of one city claiming queued runs at the same time, on PostgreSQL (127.0.0.1:5432).

    .venv/bin/python benchmarks/claims.py [--runs N] [--claimers K] [--http]

N runs (default 2,000) are queued; K claimers (default 8) take them until none is left, each in a thread with
sessions of its own, calling the claim that ``POST /api/runner/claim`` calls (``services.runners.claim``:
``SELECT … FOR UPDATE SKIP LOCKED`` and a conditional ``UPDATE``). Counted: claims per second and runs claimed
twice (must be 0). ``--http`` claims through the HTTP API of a control room served in a process of its own
instead (each claimer an HTTP client with a runner token of its own), which is what runners do.
Targets: at least 500 claims per second (service), none twice.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "controlroom"), str(ROOT / "keywords"),
                str(ROOT / "controlroom")]

from controlroom_concurrency import _database  # noqa: E402
from items_world import build_world  # noqa: E402
from rathaus_controlroom.db import Database  # noqa: E402
from rathaus_controlroom.models import Robot, Run, Runner, RunState  # noqa: E402
from rathaus_controlroom.services import runners  # noqa: E402
from sqlalchemy import select  # noqa: E402
from support.controlroom_load import serve  # noqa: E402

TARGET_PER_S = 500


def _queue(database: Database, count: int) -> None:
    with database.session() as session:
        robot = session.scalar(select(Robot).where(Robot.city_id == "giessen", Robot.process == "unterhaltsvorschuss"))
        now = datetime.now(timezone.utc)
        session.add_all([Run(city_id="giessen", robot_id=robot.id, state=RunState.QUEUED, created_at=now)
                         for _ in range(count)])


def _all_at_once(claim_all: Callable[[Any], None], claimers: list[Any]) -> float:
    """Seconds until ``claim_all(claimer)``, started in a thread for each claimer at once, ended for all."""
    threads = [threading.Thread(target=claim_all, args=(claimer,)) for claimer in claimers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _service_claims(database: Database, claimers: int) -> tuple[list[int], float]:
    with database.session() as session:
        ids = []
        for number in range(claimers):
            runner = Runner(city_id="giessen", name=f"runner-{number}", token_hash=f"bench-{number}", active=True)
            session.add(runner)
            session.flush()
            ids.append(runner.id)
    claimed: list[int] = []
    lock = threading.Lock()

    def claim_all(runner_id: int) -> None:
        while True:
            with database.session() as session:
                run = runners.claim(session, runner_id, "giessen")
                if run is None:
                    return
                with lock:
                    claimed.append(run.id)

    return claimed, _all_at_once(claim_all, ids)


def _http_claims(url: str, database: Database, world, claimers: int, folder: Path) -> tuple[list[int], float]:
    with serve(url, folder) as address, httpx.Client(base_url=address, timeout=30) as admin:
        tokens = [admin.post("/api/runners", json={"name": f"runner-{n}"}, headers=world.headers("giessen.admin"))
                  .json()["token"] for n in range(claimers)]
        claimed: list[int] = []
        lock = threading.Lock()

        def claim_all(token: str) -> None:
            with httpx.Client(base_url=address, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
                while True:
                    answer = client.post("/api/runner/claim")
                    if answer.status_code == 204:
                        return
                    answer.raise_for_status()
                    with lock:
                        claimed.append(answer.json()["run"])

        return claimed, _all_at_once(claim_all, tokens)


def measure(count: int = 2000, claimers: int = 8, http: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, _database("postgresql", Path(tmp)) as url:
        database = Database(url)
        try:
            world = build_world(database)
            _queue(database, count)
            if http:
                claimed, seconds = _http_claims(url, database, world, claimers, Path(tmp) / "daten")
            else:
                claimed, seconds = _service_claims(database, claimers)
        finally:
            database.dispose()
    twice = sum(1 for _, times in Counter(claimed).items() if times > 1)
    return {"runs": count, "claimed": len(set(claimed)), "twice": twice, "seconds": seconds,
            "per_s": len(claimed) / seconds, "claimers": claimers, "http": http}


def _line(figures: dict[str, float]) -> str:
    how = "über die HTTP-API" if figures["http"] else "Dienst (wie die API ihn aufruft)"
    return (f"{figures['claimers']} Claimer, {figures['runs']} Läufe ({how}): {figures['per_s']:.0f} Claims/s, "
            f"{figures['claimed']} geholt, {figures['twice']} doppelt")


def run() -> list[dict[str, object]]:
    return [measure(), measure(count=500, http=True)]


def print_rows(rows: list[dict[str, object]]) -> int:
    missed = 0
    print()
    for figures in rows:
        ok = figures["twice"] == 0 and figures["claimed"] == figures["runs"] and (
            figures["http"] or figures["per_s"] >= TARGET_PER_S)
        missed += not ok
        print(_line(figures) + ("" if ok else "  MISSED"))
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--claimers", type=int, default=8)
    parser.add_argument("--http", action="store_true")
    args = parser.parse_args()
    return 1 if print_rows([measure(args.runs, args.claimers, args.http)]) else 0


if __name__ == "__main__":
    sys.exit(main())
