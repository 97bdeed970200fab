"""Real concurrent clients against a real control room, for the concurrency test and benchmark.

:func:`serve` starts the control room in a process of its own (uvicorn, as ``rathaus controlroom`` serves it),
so that the clients measured here do not share its interpreter. :func:`run_load` then drives it with real
HTTP clients at the same time:

- rounds of concurrent run starts (``POST /api/runs``, multipart with files, as the start form sends them),
- clients polling a run's progress (``GET /api/runs/{id}`` and ``GET /api/runs/{id}/progress`` in turn),
- optionally a runner asking for work (``POST /api/runner/claim``), as the local runner does every 2 s.

Every answer is recorded with its kind, status and time from sending to the end of the body. Importable
without pytest (``benchmarks/controlroom_concurrency.py`` uses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

#: the control room as ``rathaus controlroom`` serves it (without its local runner; with its clock when asked)
SERVER = """
import sys, threading
import uvicorn
from rathaus_controlroom.scheduler import start_scheduler
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.app import create_app

url, data, port, clock = sys.argv[1:]
settings = Settings.load(data_dir=data, database_url=url)
app = create_app(settings)
if clock == "clock":
    start_scheduler(app.state.database, settings, threading.Event())
uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(port), log_level="warning")).run()
"""
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(database_url: str, data_dir: Path, timeout_s: float = 30.0, clock: bool = False) -> Iterator[str]:
    """The control room on a migrated database, in a child process (with its clock when ``clock``), running this
    tree's code; yields its base address."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("keywords", "controlroom"))
    log = data_dir / "server.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-c", SERVER, database_url, str(data_dir), str(port),
                                    "clock" if clock else "-"], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/status", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"control room did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()  # uvicorn waits for open requests: a runner's waiting claim may hold it up
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass(frozen=True)
class Load:
    """What the clients do at the same time."""

    starts: int = 8  # concurrent run starts per round
    rounds: int = 1
    pollers: int = 50  # clients polling a run's progress
    poll_interval_s: float = 1.0  # each poller's pause between two requests (the run page polls every 2 s)
    files_per_start: int = 3
    file_bytes: int = 100_000
    claim_interval_s: float = 2.0  # with a runner token: how often the runner asks for work


@dataclass(frozen=True)
class Answer:
    kind: str  # start, run, progress, claim
    status: int  # 0: no answer (connection error or timeout)
    seconds: float
    detail: str = ""


def _files(load: Load, number: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    body = b"%PDF-1.4\n" + bytes(range(256)) * (load.file_bytes // 256)
    return [("dateien", (f"antrag-{number}-{position}.pdf", body, "application/pdf"))
            for position in range(load.files_per_start)]


async def _timed(answers: list[Answer], kind: str, send) -> httpx.Response | None:
    began = time.perf_counter()
    try:
        response = await send()
    except httpx.HTTPError as error:
        answers.append(Answer(kind, 0, time.perf_counter() - began, f"{type(error).__name__}: {error}"))
        return None
    detail = "" if response.is_success else response.text[:300]
    answers.append(Answer(kind, response.status_code, time.perf_counter() - began, detail))
    return response


async def _load(url: str, headers: dict[str, str], robot: str, load: Load, runner_headers: dict[str, str] | None,
                ) -> tuple[list[Answer], list[int]]:
    answers: list[Answer] = []
    limits = httpx.Limits(max_connections=load.starts + load.pollers + 4, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        first = await client.post("/api/runs", data={"robot": robot}, files=_files(load, 0), headers=headers)
        first.raise_for_status()  # not measured: a run to poll from the first moment
        started = [first.json()["id"]]
        stop = asyncio.Event()

        async def poller(number: int) -> None:
            await asyncio.sleep(load.poll_interval_s * number / max(load.pollers, 1))  # spread over the interval
            turn = number
            while not stop.is_set():
                run_id = started[turn % len(started)]
                kind, path = (("run", f"/api/runs/{run_id}") if turn % 2 == 0
                              else ("progress", f"/api/runs/{run_id}/progress"))
                await _timed(answers, kind, lambda path=path: client.get(path, headers=headers))
                turn += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), load.poll_interval_s)

        async def runner() -> None:
            while not stop.is_set():
                await _timed(answers, "claim", lambda: client.post("/api/runner/claim", headers=runner_headers))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), load.claim_interval_s)

        async def start(number: int) -> None:
            response = await _timed(answers, "start", lambda: client.post(
                "/api/runs", data={"robot": robot, "reference": f"Last-{number}"}, files=_files(load, number),
                headers=headers))
            if response is not None and response.status_code == 201:
                started.append(response.json()["id"])

        background = [asyncio.create_task(poller(number)) for number in range(load.pollers)]
        if runner_headers:
            background.append(asyncio.create_task(runner()))
        await asyncio.sleep(load.poll_interval_s)  # the pollers are under way
        for round_number in range(load.rounds):
            await asyncio.gather(*(start(round_number * load.starts + number + 1) for number in range(load.starts)))
            await asyncio.sleep(0.5)
        await asyncio.sleep(load.poll_interval_s)
        stop.set()
        await asyncio.gather(*background)
    return answers, started[1:]


def run_load(url: str, headers: dict[str, str], robot: str, load: Load,
             runner_headers: dict[str, str] | None = None) -> tuple[list[Answer], list[int]]:
    """Drive the control room with ``load``; the answers and the ids of the runs started under load."""
    return asyncio.run(_load(url, headers, robot, load, runner_headers))


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(answers: list[Answer]) -> dict[str, dict[str, float]]:
    """Per kind of request: count, failures (not 2xx), p50, p95 and max seconds."""
    kinds: dict[str, dict[str, float]] = {}
    for kind in sorted({a.kind for a in answers}):
        chosen = [a for a in answers if a.kind == kind]
        seconds = [a.seconds for a in chosen]
        kinds[kind] = {"count": len(chosen), "failed": sum(not 200 <= a.status < 300 for a in chosen),
                       "p50": statistics.median(seconds), "p95": percentile(seconds, 0.95), "max": max(seconds)}
    return kinds
