"""End to end: ``rathaus run giessen/unterhaltsvorschuss`` on N sample applications (default 200) in the robot's
Maildir inbox, with the sandbox Fachverfahren in real Chromium and letters as PDF, on one machine.

    .venv/bin/python benchmarks/bench_uvg_e2e.py [--applications N] [--compare]

Prints the wall time, cases per hour, and the share of the run's time spent on letters (Create Letter, Convert To
PDF), entry in the Fachverfahren (Enter Case In Fachverfahren) and mail (reading, answering, filing), from the
keyword times in the run's ``output.xml``. ``--compare`` runs the same applications a second time with one
LibreOffice per letter (``RATHAUS_OFFICE_SERVER=off``), as before the long-lived LibreOffice. Exits 1 when fewer than
6,000 cases per hour are done.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "processes"), str(ROOT / "sandbox"), str(ROOT / "keywords")]

ROBOT = "giessen/unterhaltsvorschuss"
MAILDIR = "giessen/uvg"  # robots/giessen/unterhaltsvorschuss/config.yaml: postfach.url maildir:giessen/uvg
TARGET_PER_HOUR = 6000
#: keyword name -> share of the run it counts for (the outermost matching keyword of a call counts)
SHARES = {name.lower(): share for name, share in {
    "Create Letter": "Briefe", "Convert To PDF": "Briefe",
    "Enter Case In Fachverfahren": "Eingabe im Fachverfahren",
    "Prepare Work Item From Mail": "Mail", "List Messages": "Mail", "Send Message": "Mail", "File Mail": "Mail",
    "Move Message": "Mail",
}.items()}


def _shares(output_root: Path) -> dict[str, float]:
    from robot.api import ExecutionResult, ResultVisitor

    totals: dict[str, float] = {}

    class Sum(ResultVisitor):
        def __init__(self) -> None:
            self.inside: list[str | None] = []

        def start_keyword(self, keyword) -> None:
            share = SHARES.get((keyword.name or "").strip().lower())
            outer = any(self.inside)
            self.inside.append(share)
            if share and not outer:
                totals[share] = totals.get(share, 0.0) + keyword.elapsed_time.total_seconds()

        def end_keyword(self, keyword) -> None:
            self.inside.pop()

    for output in sorted(output_root.rglob("schritt-*/output.xml")):  # the steps' own, not the merged one
        ExecutionResult(str(output)).visit(Sum())
    return totals


def run_once(count: int, office: bool, keep: bool = False) -> dict[str, object]:
    from rathaus_sandbox.samples import deliver
    from unterhaltsvorschuss.samples.generate import generate

    home = Path(tempfile.mkdtemp(prefix="e2e", dir="/tmp"))  # short: Chromium's sockets live in its tmp
    try:
        (home / "tmp").mkdir()
        mails = generate(home / "beispiele", good=max(0, count - 6))[:count]
        deliver(mails, home / MAILDIR)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RATHAUS_", "RPA_"))}
        env.update({"RATHAUS_HOME": str(home), "TMPDIR": str(home / "tmp")})
        if not office:
            env["RATHAUS_OFFICE_SERVER"] = "off"
        started = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "rathaus"), "run", ROBOT, "--output",
                               str(home / "ausgabe"), "--result", str(home / "ergebnis.json")], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"rathaus run endete mit {done.returncode}:\n{done.stdout[-3000:]}")
        result = json.loads((home / "ergebnis.json").read_text(encoding="utf-8"))
        cases = len(result["items"])
        shares = _shares(home / "ausgabe")
        return {"cases": cases, "seconds": seconds, "per_hour": cases / seconds * 3600,
                "shares": {name: value / seconds for name, value in sorted(shares.items())},
                "counts": result["counts"], "office": office}
    finally:
        if keep:
            print(f"RATHAUS_HOME des Laufs: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _line(figures: dict[str, object]) -> str:
    shares = ", ".join(f"{name} {share:.0%}" for name, share in figures["shares"].items())
    how = "dauerhaftes LibreOffice" if figures["office"] else "LibreOffice je Brief"
    return (f"{figures['cases']} Fälle in {figures['seconds']:.1f} s = {figures['per_hour']:.0f} Fälle je Stunde "
            f"({how}; Anteile: {shares})")


def run(count: int = 200) -> list[dict]:
    figures = run_once(count, office=True)
    print(_line(figures))
    return [{"name": f"Unterhaltsvorschuss Ende zu Ende, {figures['cases']} Fälle, je Fall",
             "rathaus_s": figures["seconds"] / max(1, figures["cases"]), "limit_s": 3600 / TARGET_PER_HOUR,
             "note": f"{figures['per_hour']:.0f}/h"}]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=200)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    figures = run_once(args.applications, office=True)
    print(_line(figures))
    if args.compare:
        before = run_once(args.applications, office=False)
        print(_line(before))
        print(f"Faktor {figures['per_hour'] / before['per_hour']:.2f}")
    print(json.dumps(figures))
    return 0 if figures["per_hour"] >= TARGET_PER_HOUR else 1


if __name__ == "__main__":
    sys.exit(main())
