"""Marburg's statistics office in real Chromium through ``rathaus controlroom --demo``: the clerk logs in, uploads the
platforms' monthly exports from the start form (one of them malformed), reads on the run page which export was set
aside and why, and downloads the open-data publication from the run's results.

The exports are the process's samples for another year than the API journey's, so both publish months of their own.
Screenshots of the key steps are written into the test's temporary folder.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import test_journey_browser
from test_journey_browser import _log_in, _shot, _start_with_uploads

pytestmark = pytest.mark.browser
page = test_journey_browser.page  # the Chromium page of the other browser journeys

ROOT = Path(__file__).resolve().parents[2]
TITLE = "Nutzungsstatistik"
CLERK = "marburg.sachbearbeitung"
YEAR = 2023


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("exporte-browser")
    subprocess.run([sys.executable, str(ROOT / "processes/nutzungsstatistik/samples/generate.py"), "--out",
                    str(folder), "--city", "marburg", "--year", str(YEAR), "--bad"], check=True,
                   stdout=subprocess.DEVNULL)
    return sorted(folder.glob("*.csv"))


def test_a_marburg_clerk_uploads_exports_reads_which_one_was_set_aside_and_downloads_the_publication(
        demo_room, page, exports, tmp_path):
    from playwright.sync_api import expect

    bad = [path for path in exports if "korrektur" in path.name]
    good = [path for path in exports if path not in bad]
    assert good and bad, [path.name for path in exports]
    _log_in(page, demo_room.url, CLERK)
    _start_with_uploads(page, TITLE, exports)
    _shot(page, tmp_path, "01-lauf-beendet")

    # each uploaded export is a case that ended as it really did: the malformed one waits for the clerk, named
    # with what to do; the run's lines count the ones read
    expect(page.locator("#lauf-ergebnis")).to_have_text(
        f"{len(exports)} Fälle: {len(good)} erledigt, 1 wartet auf die Sachbearbeitung.")
    cases = page.get_by_role("table", name="Fälle dieses Laufs")
    for path in exports:
        expect(cases.get_by_role("row").filter(has_text=path.name)).to_contain_text(
            "Zur Klärung" if path in bad else "Erledigt")
    [aside] = bad
    expect(cases.get_by_role("row").filter(has_text=aside.name)).to_contain_text("neu erstellen")
    expect(page.locator("dl")).to_contain_text(f"Exporte gelesen: {len(good)}")

    # the publication is among the run's results: the clerk downloads the table of the year
    results = page.get_by_role("table", name=re.compile("Protokolle, Berichte"))
    table = results.get_by_role("link", name=re.compile(rf"{YEAR}\.csv$"))
    expect(table).to_have_count(1)
    expect(results.get_by_role("link", name=re.compile(r"\.png$")).first).to_be_visible()
    with page.expect_download() as download:
        table.click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows and {row["monat"][:4] for row in rows} == {str(YEAR)}, rows[:3]
