"""Usage statistics: reading and summing platform exports, rathaus against rpaframework's RPA.Tables.

One case = the three sample exports of one city and year (two Civento exports with 126 rows each, the
service portal's daily export with 1095 rows) read and summed into figures per month, online service and
platform, as the process 'nutzungsstatistik' does before it publishes:

- **rathaus**: ``nutzungsstatistik.exporte.lese_export`` per file (encoding detection, header and cell
  checks, duplicate and totals checks included) and ``statistik.zusammenfuehren``.
- **RPA.Tables**: ``Tables.read_table_from_csv`` per file with the right delimiter and encoding given (no
  detection), the totals row filtered out, then the rows as dictionaries summed with the same cell parsers
  (``parse_monat``, ``parse_anzahl``): the same result with less checking.

Both results are compared with the figures the sample generator put into the exports (outside the timing).
The sides take turns case by case; median of ``CASES`` cases after ``WARMUP``.
Run: ``.venv/bin/python benchmarks/bench_statistik.py``; exits 1 when the target is missed.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "processes"))

from nutzungsstatistik.exporte import Plattform, lese_export, plattform_fuer
from nutzungsstatistik.kennzahlen import KENNZAHLEN, leer, parse_anzahl, parse_monat
from nutzungsstatistik.samples.generate import PORTAL_AUTH, PORTAL_ZAHLUNG, erwartete_werte, generate
from nutzungsstatistik.statistik import zusammenfuehren

CASES = 15
WARMUP = 2
TARGET_RATIO = 2.0  # rathaus at most half of RPA.Tables' time per case
PLATTFORMEN = [Plattform("civento", "civento", "civento*.csv"),
               Plattform("serviceportal", "serviceportal", "serviceportal*.csv")]
CIVENTO_ZAHLUNG = {"keine": "keine", "kreditkarte": "kreditkarte", "paypal": "paypal",
                   "sepa-lastschrift": "lastschrift", "rechnung": "rechnung"}
CIVENTO_AUTH = {"bundid": "bundid", "elster": "elster", "ohne": "ohne"}


def rathaus_case(paths: list[Path]) -> dict:
    exports = [lese_export(path, plattform_fuer(path, PLATTFORMEN)) for path in paths]
    return {(k.monat, k.onlinedienst, k.plattform): v for k, v in zusammenfuehren({}, exports).werte.items()}


def rpa_case(paths: list[Path], tables) -> dict:
    result: dict = {}
    for path in paths:
        if path.name.startswith("civento"):
            encoding = "utf-8-sig" if path.read_bytes()[:3] == b"\xef\xbb\xbf" else "cp1252"
            table = tables.read_table_from_csv(str(path), header=True, delimiters=";", encoding=encoding)
            tables.filter_table_by_column(table, "Monat", "!=", "Summe")
            for row in table.iter_dicts(with_index=False):
                figures = result.setdefault((parse_monat(row["Monat"]), row["Onlinedienst"], "civento"), leer())
                done = parse_anzahl(row["Abgeschlossen"], True)
                figures["aufrufe"] += parse_anzahl(row["Aufrufe"], True)
                figures["abgeschlossen"] += done
                figures["abgebrochen"] += parse_anzahl(row["Abgebrochen"], True)
                figures[f"zahlung_{CIVENTO_ZAHLUNG[row['Zahlungsart'].casefold()]}"] += done
                figures[f"authentifizierung_{CIVENTO_AUTH[row['Authentifizierung'].casefold()]}"] += done
        else:
            table = tables.read_table_from_csv(str(path), header=True, delimiters=",", encoding="utf-8")
            for row in table.iter_dicts(with_index=False):
                figures = result.setdefault((parse_monat(row["date"]), row["service"], "serviceportal"), leer())
                figures["aufrufe"] += parse_anzahl(row["visits"], False)
                figures["abgeschlossen"] += parse_anzahl(row["completed"], False)
                figures["abgebrochen"] += parse_anzahl(row["abandoned"], False)
                for art, column in PORTAL_ZAHLUNG.items():
                    figures[f"zahlung_{art}"] += parse_anzahl(row[column], False)
                for art, column in PORTAL_AUTH.items():
                    figures[f"authentifizierung_{art}"] += parse_anzahl(row[column], False)
    return {key: {name: values[name] for name in KENNZAHLEN} for key, values in result.items()}


def measure(paths: list[Path], expected: dict) -> tuple[float, float]:
    """Median seconds per case (rathaus, RPA.Tables); both results checked against ``expected``."""
    from RPA.Tables import Tables

    tables = Tables()
    ours, theirs = [], []
    for case in range(WARMUP + CASES):
        start = time.perf_counter()
        rpa = rpa_case(paths, tables)
        middle = time.perf_counter()
        mine = rathaus_case(paths)
        end = time.perf_counter()
        if rpa != expected or mine != expected:
            raise AssertionError("A side summed the exports wrongly.")
        if case >= WARMUP:
            theirs.append(middle - start)
            ours.append(end - middle)
    return statistics.median(ours), statistics.median(theirs)


def run() -> list[dict]:
    """One row: reading and summing one city's year of exports."""
    with tempfile.TemporaryDirectory(prefix="bench-statistik-") as folder:
        paths = generate(Path(folder), "offenbach", 2025)
        rathaus_s, rpa_s = measure(paths, erwartete_werte("offenbach", 2025))
    return [{
        "name": "Nutzungsexporte lesen + summieren (3 Dateien, 1347 Zeilen)",
        "rathaus_s": rathaus_s,
        "rpa_s": rpa_s,
        "ratio": rpa_s / rathaus_s,
        "target": TARGET_RATIO,
    }]


def main() -> int:
    rows = run()
    ok = True
    for row in rows:
        met = row["ratio"] >= row["target"]
        ok &= met
        print(f"{row['name']}: rathaus {row['rathaus_s'] * 1000:.1f} ms, RPA.Tables {row['rpa_s'] * 1000:.1f} ms, "
              f"Faktor {row['ratio']:.1f} (Ziel ≥ {row['target']:g}) {'erreicht' if met else 'VERFEHLT'}")
    print(json.dumps(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
