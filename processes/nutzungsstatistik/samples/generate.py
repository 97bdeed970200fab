"""Generate realistic usage exports of two platforms for one city and year (process 'nutzungsstatistik').

Writes three exports that differ as real ones do:

- ``civento_export_<jahr>-01_<jahr>-06.csv``: Civento statistics export, Windows-1252, semicolons, German
  numbers with thousands separators, months as ``01.2025``, an extra ``Abbruchquote`` column with a decimal
  comma, one row per month, service, payment and authentication type, and a closing ``Summe`` row;
- ``civento_export_<jahr>-07_<jahr>-12.csv``: the same platform saved as UTF-8 with a byte order mark,
  months written as ``Juli 2025``;
- ``serviceportal_<jahr>.csv``: a service portal's daily export, UTF-8, commas, ISO dates, English headers,
  payment and authentication types as columns.

With ``--bad`` a fourth, malformed export is added (a figure reads ``k. A.``). The figures are seeded
by city and year, so every run writes the same files; :func:`erwartete_werte` returns the monthly figures
the exports add up to, for tests that check a publication against its inputs.

    python processes/nutzungsstatistik/samples/generate.py --out var/marburg/nutzungsstatistik/exporte \\
        --city marburg --year 2025 --bad
"""

from __future__ import annotations

import argparse
import calendar
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # processes/ for the 'nutzungsstatistik' package

from nutzungsstatistik.kennzahlen import KENNZAHLEN, Kennzahlen, leer  # noqa: E402

MONATE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
#: Inhabitants relative to Marburg, so that the cities' figures differ plausibly.
GROESSE = {"marburg": 1.0, "fulda": 0.9, "giessen": 1.15, "offenbach": 1.7, "wetzlar": 0.7, "limburg": 0.45}
#: Months with elections (postal vote applications soar): federal election 23 Feb 2025, Hessian local
#: elections 15 Mar 2026.
WAHLEN = {2025: {1: 9.0, 2: 16.0}, 2026: {2: 8.0, 3: 14.0}}
CIVENTO_ZAHLUNG = {"keine": "keine", "kreditkarte": "Kreditkarte", "paypal": "PayPal",
                   "lastschrift": "SEPA-Lastschrift", "rechnung": "Rechnung"}
CIVENTO_AUTH = {"bundid": "BundID", "elster": "ELSTER", "ohne": "ohne"}
PORTAL_ZAHLUNG = {"keine": "payment_none", "kreditkarte": "payment_creditcard", "paypal": "payment_paypal",
                  "lastschrift": "payment_directdebit", "rechnung": "payment_invoice"}
PORTAL_AUTH = {"bundid": "auth_bundid", "elster": "auth_elster", "ohne": "auth_none"}
PORTAL_HEADER = ["date", "service", "visits", "completed", "abandoned", *PORTAL_ZAHLUNG.values(),
                 *PORTAL_AUTH.values()]


@dataclass(frozen=True)
class Dienst:
    """An online service as a platform offers it, with its typical usage."""

    name: str
    aufrufe: int  # calls per month in Marburg, before seasonal effects
    abschluss: float  # share of calls that end in a submitted application
    abbruch: float  # share of calls that start an application and abandon it
    zahlung: dict[str, float]
    auth: dict[str, float]
    saison: dict[int, float] | None = None


CIVENTO = (
    Dienst("Anwohnerparkausweis", 820, 0.34, 0.11, {"kreditkarte": 0.42, "paypal": 0.38, "lastschrift": 0.2},
           {"bundid": 0.55, "ohne": 0.45}, {1: 1.7, 2: 1.2, 12: 1.3}),
    Dienst("Hundesteuer-Anmeldung", 240, 0.45, 0.09, {"keine": 1.0}, {"bundid": 0.35, "ohne": 0.65},
           {4: 1.3, 5: 1.3}),
    Dienst("Gewerbeanzeige", 410, 0.29, 0.16, {"kreditkarte": 0.3, "paypal": 0.15, "lastschrift": 0.3,
                                               "rechnung": 0.25}, {"elster": 0.62, "bundid": 0.33, "ohne": 0.05},
           {1: 1.35, 12: 0.7}),
    Dienst("Unterhaltsvorschuss", 160, 0.38, 0.24, {"keine": 1.0}, {"bundid": 1.0}, {8: 1.2, 9: 1.2}),
)
PORTAL = (
    Dienst("Wohnsitzanmeldung", 1350, 0.41, 0.14, {"keine": 1.0}, {"bundid": 1.0}, {4: 1.5, 10: 2.3, 11: 1.4}),
    Dienst("Briefwahl", 120, 0.82, 0.05, {"keine": 1.0}, {"ohne": 0.88, "bundid": 0.12}),
    Dienst("Gewerbeanzeige", 95, 0.31, 0.15, {"kreditkarte": 0.5, "paypal": 0.5}, {"elster": 0.7, "bundid": 0.3}),
)


def _rng(city: str, year: int, seed: int, part: str) -> random.Random:
    return random.Random(f"{seed}-{city}-{year}-{part}")


def _split(rng: random.Random, total: int, weights: dict[str, float]) -> Counter:
    """``total`` items spread over the keys of ``weights`` at random (multinomial)."""
    keys = list(weights)
    return Counter(rng.choices(keys, weights=[weights[k] for k in keys], k=total)) if total else Counter()


def _month_totals(rng: random.Random, dienst: Dienst, city: str, year: int, month: int) -> tuple[int, int, int]:
    season = (dienst.saison or {}).get(month, 1.0)
    if dienst.name == "Briefwahl":
        season = WAHLEN.get(year, {}).get(month, 1.0)
    calls = max(0, round(dienst.aufrufe * GROESSE.get(city, 1.0) * season * rng.uniform(0.85, 1.15)))
    done = min(calls, round(calls * dienst.abschluss * rng.uniform(0.9, 1.1)))
    abandoned = min(calls - done, round(calls * dienst.abbruch * rng.uniform(0.8, 1.2)))
    return calls, done, abandoned


def civento_rows(city: str, year: int, months: range, seed: int = 2026) -> list[dict]:
    """Rows of a Civento export: one per month, service, payment and authentication type."""
    rng = _rng(city, year, seed, f"civento-{months.start}-{months.stop}")
    rows = []
    for month in months:
        for dienst in CIVENTO:
            calls, done, abandoned = _month_totals(rng, dienst, city, year, month)
            combos = {(z, a): wz * wa for z, wz in dienst.zahlung.items() for a, wa in dienst.auth.items()}
            split = {name: _split(rng, total, combos) for name, total in
                     (("aufrufe", calls), ("abgeschlossen", done), ("abgebrochen", abandoned))}
            for combo in sorted(combos):
                values = {name: split[name][combo] for name in split}
                if any(values.values()):
                    rows.append({"monat": (year, month), "dienst": dienst.name, "zahlung": combo[0],
                                 "auth": combo[1], **values})
    return rows


def portal_rows(city: str, year: int, seed: int = 2026) -> list[dict]:
    """Rows of the service portal's export: one per day and service."""
    rng = _rng(city, year, seed, "serviceportal")
    rows = []
    for month in range(1, 13):
        days = range(1, calendar.monthrange(year, month)[1] + 1)
        weights = {day: (0.45 if calendar.weekday(year, month, day) >= 5 else 1.0) for day in days}
        for dienst in PORTAL:
            calls, done, abandoned = _month_totals(rng, dienst, city, year, month)
            per_day = {name: _split(rng, total, weights) for name, total in
                       (("aufrufe", calls), ("abgeschlossen", done), ("abgebrochen", abandoned))}
            for day in days:
                completed = per_day["abgeschlossen"][day]
                rows.append({
                    "datum": f"{year:04d}-{month:02d}-{day:02d}", "dienst": dienst.name,
                    "aufrufe": per_day["aufrufe"][day], "abgeschlossen": completed,
                    "abgebrochen": per_day["abgebrochen"][day],
                    "zahlung": _split(rng, completed, dienst.zahlung), "auth": _split(rng, completed, dienst.auth),
                })
    rows.sort(key=lambda r: (r["datum"], r["dienst"]))
    return rows


def _german(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _civento_text(rows: list[dict], month_style: str) -> str:
    lines = ["Monat;Onlinedienst;Aufrufe;Abgeschlossen;Abgebrochen;Zahlungsart;Authentifizierung;Abbruchquote"]
    totals = Counter()
    for row in rows:
        year, month = row["monat"]
        label = f"{month:02d}.{year}" if month_style == "numerisch" else f"{MONATE[month - 1]} {year}"
        started = row["abgeschlossen"] + row["abgebrochen"]
        quote = f"{100 * row['abgebrochen'] / started:.1f}".replace(".", ",") if started else ""
        lines.append(";".join([label, row["dienst"], _german(row["aufrufe"]), _german(row["abgeschlossen"]),
                               _german(row["abgebrochen"]), CIVENTO_ZAHLUNG[row["zahlung"]],
                               CIVENTO_AUTH[row["auth"]], quote]))
        totals.update({k: row[k] for k in ("aufrufe", "abgeschlossen", "abgebrochen")})
    lines.append(";".join(["Summe", "", _german(totals["aufrufe"]), _german(totals["abgeschlossen"]),
                           _german(totals["abgebrochen"]), "", "", ""]))
    return "\r\n".join(lines) + "\r\n"


def _portal_text(rows: list[dict]) -> str:
    lines = [",".join(PORTAL_HEADER)]
    for row in rows:
        lines.append(",".join([
            row["datum"], row["dienst"], str(row["aufrufe"]), str(row["abgeschlossen"]), str(row["abgebrochen"]),
            *(str(row["zahlung"][art]) for art in PORTAL_ZAHLUNG), *(str(row["auth"][art]) for art in PORTAL_AUTH),
        ]))
    return "\n".join(lines) + "\n"


def erwartete_werte(
    city: str = "marburg", year: int = 2025, seed: int = 2026
) -> dict[tuple[str, str, str], Kennzahlen]:
    """The monthly figures the three good exports add up to, keyed by (month, service, platform)."""
    result: dict[tuple[str, str, str], Kennzahlen] = {}
    for months in (range(1, 7), range(7, 13)):
        for row in civento_rows(city, year, months, seed):
            key = (f"{row['monat'][0]:04d}-{row['monat'][1]:02d}", row["dienst"], "civento")
            figures = result.setdefault(key, leer())
            for name in ("aufrufe", "abgeschlossen", "abgebrochen"):
                figures[name] += row[name]
            figures[f"zahlung_{row['zahlung']}"] += row["abgeschlossen"]
            figures[f"authentifizierung_{row['auth']}"] += row["abgeschlossen"]
    for row in portal_rows(city, year, seed):
        key = (row["datum"][:7], row["dienst"], "serviceportal")
        figures = result.setdefault(key, leer())
        for name in ("aufrufe", "abgeschlossen", "abgebrochen"):
            figures[name] += row[name]
        for art, count in row["zahlung"].items():
            figures[f"zahlung_{art}"] += count
        for art, count in row["auth"].items():
            figures[f"authentifizierung_{art}"] += count
    return {key: {name: figures[name] for name in KENNZAHLEN} for key, figures in sorted(result.items())}


def generate(out: Path, city: str = "marburg", year: int = 2025, bad: bool = False, seed: int = 2026) -> list[Path]:
    """Writes the exports into ``out``; returns their paths (the malformed one last)."""
    out.mkdir(parents=True, exist_ok=True)
    first = out / f"civento_export_{year}-01_{year}-06.csv"
    first.write_bytes(_civento_text(civento_rows(city, year, range(1, 7), seed), "numerisch").encode("cp1252"))
    second = out / f"civento_export_{year}-07_{year}-12.csv"
    second.write_bytes(b"\xef\xbb\xbf" + _civento_text(civento_rows(city, year, range(7, 13), seed), "name")
                       .encode("utf-8"))
    portal = out / f"serviceportal_{year}.csv"
    portal.write_bytes(_portal_text(portal_rows(city, year, seed)).encode("utf-8"))
    paths = [first, second, portal]
    if bad:
        paths.append(write_malformed(out, city, year, seed))
    return paths


def write_malformed(out: Path, city: str = "marburg", year: int = 2025, seed: int = 2026) -> Path:
    """A May correction export whose third data row (line 4) has ``k. A.`` as its calls."""
    lines = _civento_text(civento_rows(city, year, range(5, 6), seed + 1), "numerisch").split("\r\n")
    cells = lines[3].split(";")
    cells[2] = "k. A."
    lines[3] = ";".join(cells)
    path = out / f"civento_export_{year}-05_korrektur.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    return path


def write_correction(out: Path, city: str = "marburg", year: int = 2025, month: int = 3,
                     seed: int = 2026) -> tuple[Path, dict[tuple[str, str, str], Kennzahlen]]:
    """A valid Civento export that delivers ``month`` again with different figures; returns the file and
    the month's new figures keyed by (month, service, platform)."""
    rows = civento_rows(city, year, range(month, month + 1), seed + 7)
    path = out / f"civento_export_{year}-{month:02d}_nachlieferung.csv"
    path.write_bytes(_civento_text(rows, "numerisch").encode("cp1252"))
    figures: dict[tuple[str, str, str], Kennzahlen] = {}
    for row in rows:
        values = figures.setdefault((f"{year:04d}-{month:02d}", row["dienst"], "civento"), leer())
        for name in ("aufrufe", "abgeschlossen", "abgebrochen"):
            values[name] += row[name]
        values[f"zahlung_{row['zahlung']}"] += row["abgeschlossen"]
        values[f"authentifizierung_{row['auth']}"] += row["abgeschlossen"]
    return path, figures


def write_devdata(root: Path, city: str = "marburg", year: int = 2025) -> Path:
    """``devdata/env.json`` for local runs from the repository root (VS Code, ``rcc``), and the sample
    exports in that environment's RATHAUS_HOME; returns the env file."""
    env = {"RATHAUS_HOME": "var/devdata", "RATHAUS_RUN_DIR": f"output/devdata/{city}-nutzungsstatistik"}
    path = HERE.parent / "devdata" / "env.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(env, indent=2) + "\n", encoding="utf-8")
    generate(root / env["RATHAUS_HOME"] / city / "nutzungsstatistik" / "exporte", city, year, bad=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the exports (a city's 'quelle' folder)")
    parser.add_argument("--city", default="marburg", choices=sorted(GROESSE))
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--bad", action="store_true", help="add a malformed export")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--devdata", action="store_true",
                        help="write devdata/env.json and the exports under its RATHAUS_HOME (var/devdata)")
    args = parser.parse_args(argv)
    if args.devdata:
        print(write_devdata(Path.cwd(), args.city, args.year))
        return 0
    if args.out is None:
        parser.error("--out or --devdata is required")
    for path in generate(args.out, args.city, args.year, args.bad, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
