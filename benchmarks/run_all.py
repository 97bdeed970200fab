"""Run every benchmark (rathaus against its rpaframework counterpart) and print one table of ratios, then the
control room's latencies under concurrent clients (``controlroom_concurrency.py``), its start delays, claims and
starts by new mail, and how runners scale (``runner_scaling.py``, about 6 minutes), each in a table of its own.

    .venv/bin/python benchmarks/run_all.py

Exits 1 when a target is missed. Run it on an otherwise idle machine: both sides are measured in the same
run, but the rathaus side is CPU-bound and suffers more from other load than the network-bound side.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BENCHMARKS = ["bench_pdf", "bench_mail", "bench_forms", "bench_statistik", "bench_einvoice_official", "bench_letters",
              "bench_uvg_e2e"]
#: benchmarks with a latency target instead of a ratio (their module prints its own table)
LATENCY_BENCHMARKS = ["controlroom_concurrency", "start_delay", "claims", "mail_trigger", "runner_scaling"]


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def main() -> int:
    rows = []
    for name in BENCHMARKS:
        rows.extend(importlib.import_module(name).run())
    print(f"\n{'benchmark':<48} {'rathaus':>10} {'rpaframework':>13} {'ratio':>8} {'target':>8}")
    missed = 0
    for row in rows:
        if "limit_s" in row:  # an absolute limit instead of a ratio (no rpaframework counterpart)
            ok = row["rathaus_s"] <= row["limit_s"]
            missed += not ok
            print(f"{row['name']:<48} {_seconds(row['rathaus_s']):>10} {'≤ ' + _seconds(row['limit_s']):>13} "
                  f"{row.get('note', ''):>17}{'' if ok else '  MISSED'}")
            continue
        ok = row["ratio"] >= row["target"]
        missed += not ok
        print(f"{row['name']:<48} {_seconds(row['rathaus_s']):>10} {_seconds(row['rpa_s']):>13} "
              f"{row['ratio']:>7.1f}× {row['target']:>7.0f}×{'' if ok else '  MISSED'}")
    for name in LATENCY_BENCHMARKS:
        module = importlib.import_module(name)
        missed += module.print_rows(module.run())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
