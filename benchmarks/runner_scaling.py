"""Runners that scale: 1, 2 and 4 runner processes of one city on one control room with PostgreSQL, all entering
Unterhaltsvorschuss applications into the same slow sandbox Fachverfahren (300 ms per request).

    .venv/bin/python benchmarks/runner_scaling.py [--cases N] [--per-run K] [--runners 1,2,4] [--delay-ms D]

For each number of runners R, on a fresh PostgreSQL database (127.0.0.1:5432), a fresh Fachverfahren and a fresh
control room served in a process of its own (``support.controlroom_load.serve``):

- the Fachverfahren runs in a process of its own with ``delay_ms`` (every page waits that long before it answers);
  the control room hands its address to every run as the robot's configuration (``settings.robot_config``) and
  its password as the city's credential, as ``rathaus controlroom --demo`` does for its shared systems, so that
  every runner enters into the same system;
- R runner processes (``python -m rathaus_controlroom.runner_cli``, i.e. ``rathaus runner --url … --token-file …``,
  each with a work folder of its own) wait for work;
- Gießen's clerk uploads N complete sample applications (``.eml`` from the process's sample generator) as N/K runs
  of K mails each, one ``POST /api/runs`` after the other: each upload is a run of its own that any runner may take.

Measured from the first upload to the end of the last run (its ``finished_at``; the clerk asks every 2 s whether
all have ended): cases per hour; the machine's CPU use meanwhile (``/proc/stat``: everything, also other load); and
the CPU seconds per case of the benchmark's own processes by kind (Chromium, LibreOffice, Robot Framework, runner,
control room, PostgreSQL, ...; sampled from ``/proc`` every 0.2 s), which say how many cases per hour the machine's
cores can do at most. When other processes used more than a tenth of the machine, a warning says that the figures
are not comparable. Target: at least 3.5 times the cases per hour with 4 runners as with 1. Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from unittest import mock

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "controlroom"), str(ROOT / "keywords"),
                str(ROOT / "controlroom"), str(ROOT / "processes"), str(ROOT / "sandbox"), str(ROOT / "benchmarks")]

from controlroom_concurrency import _database  # noqa: E402
from items_world import build_world  # noqa: E402
from rathaus_controlroom.db import Database  # noqa: E402
from rathaus_sandbox.server import spawn_sandbox  # noqa: E402
from served import runner_process  # noqa: E402
from support import controlroom_load  # noqa: E402
from support.controlroom_load import serve  # noqa: E402
from support.demo_room import DemoRoom  # noqa: E402
from support.sandbox import MANDANT, PASSWORD, USER  # noqa: E402

ROBOT = "giessen/unterhaltsvorschuss"
#: robots/giessen/unterhaltsvorschuss/config.yaml: fachverfahren.passwort_variable
PASSWORD_VARIABLE = "GIESSEN_UVG_FACHVERFAHREN_PASSWORT"
TARGET_RATIO = 3.5
#: share of the machine that other processes may use before the figures are called not comparable
OTHERS_LIMIT = 0.10
#: where serve()'s control-room script makes its app: the robot configuration is set just before
_APP_LINE = "app = create_app(settings)\n"
#: a process's kind by a part of its command line (or, once it has ended, its name); the first match counts
KINDS = (("--type=", "Chromium"), ("chrom", "Chromium"), ("playwright", "Playwright"), ("soffice", "LibreOffice"),
         ("oosplash", "LibreOffice"), ("unoserver", "LibreOffice"), ("runner_cli", "Runner"),
         ("uvicorn", "Kontrollraum"), ("rathaus_sandbox", "Fachverfahren"), ("rathaus.cli run", "rathaus run"),
         ("-m robot", "Robot Framework"), ("postgres", "PostgreSQL"))
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _serve_with_config(database_url: str, data_dir: Path, robot_config: dict) -> Iterator[str]:
    """``serve()`` of tests/support, with ``settings.robot_config`` set as ``demo_systems`` sets it."""
    if _APP_LINE not in controlroom_load.SERVER:
        raise RuntimeError("support.controlroom_load.SERVER has changed: the robot configuration cannot be set")
    script = controlroom_load.SERVER.replace(
        _APP_LINE, f"settings = settings.with_changes(robot_config={robot_config!r})\n{_APP_LINE}")
    with mock.patch.object(controlroom_load, "SERVER", script), serve(database_url, data_dir) as address:
        yield address


def _applications(folder: Path, count: int) -> list[tuple[str, bytes]]:
    """``count`` complete sample applications as the ``.eml`` files a clerk uploads."""
    from unterhaltsvorschuss.samples.generate import generate

    mails = [path for path in generate(folder, good=count) if "-gut-" in path.name]
    return [(path.name, path.read_bytes()) for path in mails]


def _machine_busy() -> tuple[int, int]:
    """(busy, all) CPU time of the machine since boot, all cores, in ticks."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)  # without idle and iowait


class CpuByKind(threading.Thread):
    """CPU ticks of this process's descendants (and of PostgreSQL's backends of ``database``), sampled from
    ``/proc`` every 0.2 s: what a process used in its last 0.2 s before it was reaped is not counted."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database, self.stop = database, threading.Event()
        self.seen: dict[int, tuple[str, int]] = {}  # pid -> (command line, ticks)
        self.before: dict[int, int] = {}  # ticks of the processes that were there at the start

    def start(self) -> None:
        self._sample()
        self.before = {pid: ticks for pid, (_, ticks) in self.seen.items()}
        super().start()

    def _sample(self) -> None:
        processes = {}
        for entry in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                fields = stat[stat.rfind(")") + 2:].split()
                processes[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), command.strip(),
                                         stat[stat.find("(") + 1:stat.rfind(")")])
        for pid, (parent, ticks, command, name) in processes.items():
            ancestor = parent
            while ancestor > 1 and ancestor != os.getpid() and ancestor not in self.seen:
                ancestor = processes.get(ancestor, (0,))[0]
            backend = command.startswith("postgres:") and f" {self.database} " in command
            if pid in self.seen or ancestor > 1 or backend:
                known = self.seen.get(pid)  # an ended process has no command line left, only its name
                self.seen[pid] = (command or (known[0] if known else name), max(ticks, known[1] if known else 0))

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def seconds(self) -> Counter[str]:
        """CPU seconds by kind of process."""
        totals: Counter[str] = Counter()
        for pid, (command, ticks) in self.seen.items():
            kind = next((name for part, name in KINDS if part in command), "andere")
            totals[kind] += (ticks - self.before.get(pid, 0)) / TICKS_PER_S
        return totals


def _wait_until_seen(client: httpx.Client, admin: dict[str, str], count: int, timeout_s: float = 60) -> None:
    """Until ``count`` runners have asked for work (their first claim records them as seen)."""
    deadline = time.monotonic() + timeout_s
    while sum(1 for r in client.get("/api/runners", headers=admin).json() if r["last_seen_at"]) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"Nicht alle {count} Runner haben sich innerhalb von {timeout_s:g} s gemeldet.")
        time.sleep(0.2)


def _wait_until_done(client: httpx.Client, timeout_s: float = 1800) -> None:
    """Until no run is queued or running, asking every 2 s: the clerk's polling takes CPU from the runners."""
    deadline = time.monotonic() + timeout_s
    while any(client.get("/api/runs", params={"state": state, "per_page": 1}).json()["total"]
              for state in ("queued", "running")):
        if time.monotonic() > deadline:
            raise SystemExit(f"Die Läufe sind nach {timeout_s:g} s noch nicht fertig.")
        time.sleep(2)


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def measure(runners: int, mails: list[tuple[str, bytes]], per_run: int, delay_ms: int) -> dict[str, object]:
    """One round: ``runners`` runner processes working off ``mails`` uploaded as runs of ``per_run`` mails each."""
    with (tempfile.TemporaryDirectory(prefix="skalierung", dir="/tmp") as tmp,  # short: Chromium's sockets
          _database("postgresql", Path(tmp)) as url):
        folder = Path(tmp)
        database = Database(url)
        try:
            world = build_world(database)
        finally:
            database.dispose()
        fachverfahren = spawn_sandbox(app="uvg", database=folder / "fachverfahren.sqlite", users={USER: PASSWORD},
                                      mandant=MANDANT, delay_ms=delay_ms, timeout_s=60)
        cpu = CpuByKind(url.rsplit("/", 1)[-1])
        try:
            config = {ROBOT: {"fachverfahren": {"url": fachverfahren.url}}}
            with (_serve_with_config(url, folder / "daten", config) as address,
                  httpx.Client(base_url=address, timeout=60) as client, contextlib.ExitStack() as machines):
                admin = world.headers("giessen.admin")
                client.post("/api/credentials", json={"name": PASSWORD_VARIABLE, "value": PASSWORD},
                            headers=admin).raise_for_status()
                for number in range(1, runners + 1):
                    token = client.post("/api/runners", json={"name": f"rechner-{number}"}, headers=admin).json()
                    machines.enter_context(runner_process(address, token["token"], folder / f"rechner-{number}"))
                _wait_until_seen(client, admin, runners)
                client.headers.update(world.headers("giessen.clerk"))
                cpu.start()
                busy, total = _machine_busy()
                began = time.time()
                ids = [DemoRoom.start(client, ROBOT, mails[start:start + per_run])
                       for start in range(0, len(mails), per_run)]
                _wait_until_done(client)
                finished = [DemoRoom.wait(client, run_id) for run_id in ids]
                busy_after, total_after = _machine_busy()
                window = time.time() - began
                cpu.stop.set()
                cpu.join()
        finally:
            fachverfahren.stop()
    failed = [run for run in finished if run["state"] != "succeeded"]
    if failed:
        raise SystemExit(f"{len(failed)} von {len(finished)} Läufen mit {runners} Runnern sind nicht gelungen: "
                         f"{failed[0]['message']}")
    done = sum(item["state"] == "done" for run in finished for item in run["items"] or [])
    if done != len(mails):
        raise SystemExit(f"Mit {runners} Runnern wurden {done} von {len(mails)} Anträgen erledigt.")
    seconds = max(_timestamp(run["finished_at"]) for run in finished) - began
    durations = sorted(_timestamp(run["finished_at"]) - _timestamp(run["started_at"]) for run in finished)
    pauses = [0.0]  # between the end of a runner's run and the start of its next one: claiming and preparing
    for name in {run["runner"] for run in finished}:
        own = sorted((run for run in finished if run["runner"] == name), key=lambda run: run["started_at"])
        pauses += [_timestamp(b["started_at"]) - _timestamp(a["finished_at"]) for a, b in itertools.pairwise(own)]
    own_cpu = cpu.seconds()
    machine_cpu = (busy_after - busy) / max(1, total_after - total)
    return {"runners": runners, "cases": done, "runs": len(finished), "seconds": seconds,
            "per_hour": done / seconds * 3600, "run_s": durations[len(durations) // 2],
            "runs_per_runner": sorted(Counter(run["runner"] for run in finished).values()),
            "busy": sum(durations) / (runners * seconds), "pause_s": max(pauses), "machine_cpu": machine_cpu,
            "other_cpu": max(0.0, machine_cpu - sum(own_cpu.values()) / (window * (os.cpu_count() or 1))),
            "cpu_s": {kind: value / done for kind, value in own_cpu.most_common()}, "delay_ms": delay_ms}


def _line(figures: dict[str, object], base: dict[str, object] | None) -> str:
    ratio = f", {figures['per_hour'] / base['per_hour']:.2f}× von 1 Runner" if base else ""
    cpu = ", ".join(f"{kind} {value:.2f}" for kind, value in figures["cpu_s"].items() if value >= 0.01)
    return (f"{figures['runners']} Runner: {figures['cases']} Fälle in {figures['runs']} Läufen in "
            f"{figures['seconds']:.1f} s = {figures['per_hour']:.0f} Fälle je Stunde{ratio}; Lauf im Median "
            f"{figures['run_s']:.1f} s, Läufe je Runner {figures['runs_per_runner']}, Runner beschäftigt "
            f"{figures['busy']:.0%}, längste Pause zwischen zwei Läufen {figures['pause_s'] * 1000:.0f} ms; CPU der "
            f"Maschine {figures['machine_cpu']:.0%} (davon andere Prozesse {figures['other_cpu']:.0%}); "
            f"CPU-Sekunden je Fall {sum(figures['cpu_s'].values()):.2f} ({cpu})")


def run(cases: int = 32, per_run: int = 4, counts: tuple[int, ...] = (1, 2, 4), delay_ms: int = 300,
        ) -> list[dict[str, object]]:
    if counts[0] != 1:
        raise SystemExit("Die erste Messung muss die mit 1 Runner sein (die anderen werden mit ihr verglichen).")
    with tempfile.TemporaryDirectory() as tmp:
        mails = _applications(Path(tmp), cases)
    rows: list[dict[str, object]] = []
    for count in counts:
        rows.append(measure(count, mails, per_run, delay_ms))
        print(_line(rows[-1], rows[0] if len(rows) > 1 else None), flush=True)
    return rows


def print_rows(rows: list[dict[str, object]]) -> int:
    base, cores = rows[0], os.cpu_count() or 1
    print(f"\n{'runners (Fachverfahren ' + str(base['delay_ms']) + ' ms per request)':<44} {'cases':>5} "
          f"{'time':>8} {'cases/h':>8} {'ratio':>6} {'ideal':>6} {'CPU':>5} {'others':>6} {'CPU s/case':>10} "
          f"{'target':>7}")
    missed = 0
    for row in rows:
        ratio = row["per_hour"] / base["per_hour"]
        ok = row["runners"] != 4 or ratio >= TARGET_RATIO
        missed += not ok
        print(f"{str(row['runners']) + ' runner(s), ' + str(row['runs']) + ' runs':<44} {row['cases']:>5} "
              f"{row['seconds']:>6.1f} s {row['per_hour']:>8.0f} {ratio:>5.2f}× {row['runners']:>5}× "
              f"{row['machine_cpu']:>5.0%} {row['other_cpu']:>6.0%} {sum(row['cpu_s'].values()):>10.2f} "
              f"{'≥ 3.5×' if row['runners'] == 4 else '':>7}{'' if ok else '  MISSED'}")
    per_case = sum(base["cpu_s"].values())
    ceiling = cores * 3600 / per_case
    print(f"the machine's {cores} cores at the {per_case:.2f} CPU s per case of 1 runner: at most {ceiling:.0f} "
          f"cases/h = {ceiling / base['per_hour']:.2f}× of 1 runner")
    others = max(row["other_cpu"] for row in rows)
    if others > OTHERS_LIMIT:
        print(f"Warnung: andere Prozesse belegten bis zu {others:.0%} der Maschine; die Verhältnisse sind so nicht "
              "vergleichbar (auf einer sonst ruhigen Maschine wiederholen).")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=32, help="applications per round (default 32)")
    parser.add_argument("--per-run", type=int, default=4, help="applications per upload, i.e. per run (default 4)")
    parser.add_argument("--runners", default="1,2,4", help="numbers of runners, comma-separated (default 1,2,4)")
    parser.add_argument("--delay-ms", type=int, default=300, help="the Fachverfahren's delay per request")
    args = parser.parse_args()
    counts = tuple(int(part) for part in args.runners.split(","))
    return 1 if print_rows(run(args.cases, args.per_run, counts, args.delay_ms)) else 0


if __name__ == "__main__":
    sys.exit(main())
