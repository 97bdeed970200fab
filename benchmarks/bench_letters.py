"""Letters to PDF: one long-lived LibreOffice (unoserver, what ``Convert To PDF`` does now) against a new LibreOffice
per letter (``soffice --convert-to pdf``, what it did before and what a robot without a conversion server does).

    .venv/bin/python benchmarks/bench_letters.py [--letters N]

The letters are the Unterhaltsvorschuss process's Nachforderung, filled for N applicants. Both sides convert the
same files, interleaved; medians per letter. The long-lived LibreOffice's start (once per robot) is shown apart.
Exits 1 when the target (at most 0.15 s per letter) is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "keywords")]

from rathaus.documents import Documents  # noqa: E402
from rathaus.documents.export import PdfExportKeywords  # noqa: E402
from rathaus.documents.office import OfficeServer, uno_python  # noqa: E402

TEMPLATE = ROOT / "processes" / "unterhaltsvorschuss" / "templates" / "nachforderung.docx"
CITY = ROOT / "resources" / "cities" / "giessen" / "stadt.yaml"
LIMIT_S = 0.15


def _letters(folder: Path, count: int) -> list[Path]:
    docs = Documents(city=CITY)
    return [docs.create_letter(TEMPLATE, folder / f"nachforderung-{n}.docx", {
        "antragsteller": {"vorname": "Jürgen", "name": f"Müller-{n}", "strasse": "Frankfurter Straße 12",
                          "plz": "35392", "ort": "Gießen", "email": "juergen.mueller@example.org"},
        "kind": {"vorname": "Lea", "name": "Müller", "geburtsdatum": "03.04.2018"},
        "aktenzeichen": f"UVG-2026-{n:06d}", "eingang": "02.11.2026", "frist": "05.12.2026",
        "fehlende_unterlagen": ["Geburtsurkunde des Kindes"], "amt": "jugendamt"}) for n in range(count)]


def measure(count: int) -> dict[str, float]:
    soffice = shutil.which("soffice")
    python = uno_python(soffice) if soffice else None
    if not soffice or not python:
        raise SystemExit("LibreOffice and python3-uno are needed (make setup)")
    with tempfile.TemporaryDirectory(prefix="bench-briefe-") as work:
        letters = _letters(Path(work), count)
        server = OfficeServer(soffice, python)
        started = time.perf_counter()
        server.start()
        start_s = time.perf_counter() - started
        once, each = [], []
        per_letter = PdfExportKeywords(Documents().state)
        try:
            for letter in letters:
                t = time.perf_counter()
                server.convert(letter, letter.with_name(letter.stem + "-a.pdf"), timeout=120)
                once.append(time.perf_counter() - t)
                t = time.perf_counter()
                per_letter._run_soffice(soffice, letter, letter.with_name(letter.stem + "-b.pdf"), 120)
                each.append(time.perf_counter() - t)
        finally:
            server.stop()
    return {"server_s": statistics.median(once), "per_letter_s": statistics.median(each), "start_s": start_s,
            "letters": count}


def run(count: int = 20) -> list[dict]:
    figures = measure(count)
    return [{
        "name": f"Brief → PDF, je Brief ({count} Briefe; gegen LibreOffice je Brief)",
        "rathaus_s": figures["server_s"], "rpa_s": figures["per_letter_s"],
        "ratio": figures["per_letter_s"] / figures["server_s"], "target": 5,
    }, {
        "name": "Brief → PDF, je Brief (dauerhaftes LibreOffice)",
        "rathaus_s": figures["server_s"], "limit_s": LIMIT_S,
        "note": f"Start {figures['start_s']:.1f} s",
    }]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20)
    figures = measure(parser.parse_args().letters)
    print(f"{figures['letters']} Briefe: dauerhaftes LibreOffice {figures['server_s'] * 1000:.0f} ms je Brief "
          f"(Start einmal {figures['start_s']:.1f} s), LibreOffice je Brief {figures['per_letter_s'] * 1000:.0f} ms, "
          f"Faktor {figures['per_letter_s'] / figures['server_s']:.1f}")
    print(json.dumps(figures))
    return 0 if figures["server_s"] <= LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
