"""The control room under concurrent clients: 8 run starts at once while 50 clients poll progress.

For SQLite and for PostgreSQL, a fresh migrated database with the test world (tests/controlroom/items_world.py)
and the control room served by uvicorn in a process of its own (tests/support/controlroom_load.py). Real HTTP
clients then, at the same time:

- start runs in rounds of 8 concurrent ``POST /api/runs`` (multipart, 3 PDF files of 100 kB each, as the start
  form sends them; each file becomes an input item and is written to the data folder),
- poll progress: 50 clients, each once a second (the run page polls every 2 s), ``GET /api/runs/{id}`` and
  ``GET /api/runs/{id}/progress`` in turn,
- one runner asks for work every 2 s (``POST /api/runner/claim``), as the local runner does.

Reports count, failures (not 2xx), p50, p95 and max latency per kind of request, measured at the clients from
sending to the end of the answer. Target: every answer within 1 s, none failed. Exits 1 when it is missed.

    .venv/bin/python benchmarks/controlroom_concurrency.py [--database sqlite|postgresql|both] [--rounds N]

PostgreSQL: ``RATHAUS_BENCH_POSTGRES`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432``, trust auth);
a database of its own is created and dropped. ``run()`` returns the rows for ``run_all.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # support.controlroom_load (a foreign `tests` package shadows tests.support)
sys.path.insert(0, str(ROOT / "tests" / "controlroom"))  # items_world

from items_world import build_world  # noqa: E402
from rathaus_controlroom.db import Database, upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from support.controlroom_load import Load, run_load, serve, summary  # noqa: E402

POSTGRES = os.environ.get("RATHAUS_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
TARGET_S = 1.0
ROBOT = "giessen/unterhaltsvorschuss"
KINDS = {"start": "POST /api/runs (3 files)", "run": "GET /api/runs/{id}", "progress": "GET /api/runs/{id}/progress",
         "claim": "POST /api/runner/claim"}


@contextlib.contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'controlroom.sqlite'}"
        upgrade(url)
        yield url
        return
    name = f"rathaus_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(f"{POSTGRES}/{name}")
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(kind: str, load: Load) -> dict[str, dict[str, float]]:
    """One load on a fresh ``kind`` database; the figures per kind of request."""
    with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp)) as url:
        database = Database(url)
        try:
            world = build_world(database)
        finally:
            database.dispose()
        with serve(url, Path(tmp) / "daten") as address:
            registered = httpx.post(f"{address}/api/runners", json={"name": "runner-1"},
                                    headers=world.headers("giessen.admin"), timeout=30)
            registered.raise_for_status()
            runner = {"Authorization": f"Bearer {registered.json()['token']}"}
            answers, _ = run_load(address, world.headers("giessen.clerk"), ROBOT, load, runner_headers=runner)
        return summary(answers)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def run(databases: tuple[str, ...] = ("sqlite", "postgresql"), rounds: int = 3) -> list[dict[str, object]]:
    """Rows: database, request, count, failed, p50/p95/max seconds, target seconds."""
    load = Load(starts=8, rounds=rounds, pollers=50, poll_interval_s=1.0, files_per_start=3, file_bytes=100_000,
                claim_interval_s=2.0)
    rows: list[dict[str, object]] = []
    for kind in databases:
        figures = measure(kind, load)
        for request, name in KINDS.items():
            row = figures.get(request)
            if row:
                rows.append({"name": f"{kind}: {name}", "count": int(row["count"]), "failed": int(row["failed"]),
                             "p50_s": row["p50"], "p95_s": row["p95"], "max_s": row["max"], "target_s": TARGET_S})
    return rows


def missed(row: dict[str, object]) -> bool:
    return bool(row["failed"]) or float(row["max_s"]) > float(row["target_s"])  # type: ignore[arg-type]


def print_rows(rows: list[dict[str, object]]) -> int:
    """Print the table; the number of rows that missed the target."""
    print(f"\n{'requests (8 concurrent starts, 50 pollers)':<52} {'count':>6} {'failed':>7} {'p50':>8} {'p95':>8} "
          f"{'max':>8} {'target':>8}")
    for row in rows:
        print(f"{row['name']:<52} {row['count']:>6} {row['failed']:>7} {_ms(row['p50_s']):>8} "  # type: ignore[arg-type]
              f"{_ms(row['p95_s']):>8} {_ms(row['max_s']):>8} {'≤ ' + _ms(row['target_s']):>8}"  # type: ignore[arg-type]
              f"{'  MISSED' if missed(row) else ''}")
    return sum(missed(row) for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 8 concurrent starts (default: 3)")
    args = parser.parse_args()
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    return 1 if print_rows(run(databases, args.rounds)) else 0


if __name__ == "__main__":
    sys.exit(main())
