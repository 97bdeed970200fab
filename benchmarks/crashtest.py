"""Crash injection for ``rathaus run giessen/unterhaltsvorschuss`` (``make crashtest``).

    .venv/bin/python benchmarks/crashtest.py [--kills 100] [--good 14] [--seed 2026] [--keep]

Trials on a fresh ``RATHAUS_HOME`` each, with 20 sample applications (14 complete, 6 of every bad kind) in the
Maildir inbox: 4 to 8 runs per trial are killed (SIGKILL of the whole process group) after a random delay or at
a random crash point of the work item library (while the producer saves a mail's attachments, between entry
and letter, before a release, ...), then the robot runs until every mail is handled and the trial is checked:
each complete application entered exactly once, each mail in exactly one folder, no wrong letter, at most the
case in flight at a kill with its letter twice, no run reporting success with cases still reserved. The rules
and how they are checked: ``tests/support/crashinjection.py``. Trials until at least ``--kills`` kills
happened; prints one line per trial and the figures at the end, exits 1 on any violation. Trials with a
violation (or all with ``--keep``) are kept in the work folder with the logs of every run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.crashinjection import campaign  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="kills at least (default 100)")
    parser.add_argument("--good", type=int, default=14, help="complete applications per trial (plus 6 bad ones)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep every trial's home, not only failed ones")
    parser.add_argument("--workdir", type=Path, help="folder for samples and kept trials (default: a new one)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rathaus-crashtest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Crashtest in {workdir}: mindestens {args.kills} Abbrüche, {args.good + 6} Anträge je Versuch", flush=True)
    result = campaign(workdir, kills=args.kills, good=args.good, seed=args.seed, keep=args.keep,
                      log=lambda line: print(line, flush=True))
    print()
    for line in result.figures():
        print(line)
    for violation in result.violations:
        print(f"  - {violation}")
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
