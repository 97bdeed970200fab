"""The control room in real Chromium: a clerk logs in, starts a run with an upload, watches it finish and opens
its log. The control room runs as ``rathaus controlroom --demo`` with its local runner and SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rathaus.webforms.context import CHROMIUM_ARGS, find_browser
from rathaus_controlroom.cli import DEMO_PASSWORD
from uihelpers import ROOT, ControlRoomProcess

pytestmark = pytest.mark.browser

SAMPLES = ROOT / "processes" / "nutzungsstatistik" / "samples" / "generate.py"


@pytest.fixture
def browser_page() -> Iterator:
    from playwright.sync_api import sync_playwright

    args = list(CHROMIUM_ARGS) + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_browser(), headless=True, args=args)
        context = browser.new_context(locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def control_room(tmp_path) -> Iterator[str]:
    room = ControlRoomProcess(tmp_path / "daten", "--demo")
    try:
        yield room.wait_started()
    finally:
        room.stop()


def _exports(folder: Path) -> list[Path]:
    subprocess.run([sys.executable, str(SAMPLES), "--out", str(folder), "--city", "giessen", "--year", "2025"],
                   check=True, stdout=subprocess.DEVNULL)
    return sorted(folder.glob("*.csv"))


def test_a_clerk_starts_a_run_with_an_upload_watches_it_finish_and_opens_its_log(control_room, browser_page,
                                                                                  tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    exports = _exports(tmp_path / "exporte")
    page.goto(control_room)
    expect(page).to_have_url(re.compile(r"/anmelden\?weiter=/$"))
    page.get_by_label("Benutzername").fill("giessen.sachbearbeitung")
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Roboter")
    row = page.get_by_role("row").filter(has_text="Nutzungsstatistik")
    row.get_by_role("link", name=re.compile("Lauf starten")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lauf starten")
    page.get_by_label("Dateien").set_input_files([str(path) for path in exports])
    page.get_by_role("button", name="Lauf starten").click()

    expect(page).to_have_url(re.compile(r"/laeufe/\d+\?hinweis=gestartet$"))
    expect(page.get_by_role("status").filter(has_text="Der Lauf wurde angelegt")).to_be_visible()
    expect(page.locator("#faelle-gesamt")).to_have_text(str(len(exports)))
    # the page follows the run by itself (progress region, then a reload when it has finished)
    expect(page.locator("#lauf-status")).to_have_attribute("data-state", "succeeded", timeout=120_000)
    expect(page.locator("#faelle-erledigt")).to_have_text(str(len(exports)))
    expect(page.get_by_role("button", name="Lauf abbrechen")).to_have_count(0)
    expect(page.get_by_text("Exporte gelesen")).to_be_visible()
    # the finished run no longer says it waits for a runner
    expect(page).to_have_url(re.compile(r"/laeufe/\d+$"))
    expect(page.get_by_text("wartet auf einen Runner")).to_have_count(0)

    page.get_by_role("link", name="log.html").click()
    expect(page).to_have_url(re.compile(r"/laeufe/\d+/artefakte/log\.html$"))
    expect(page.get_by_text("Nutzungszahlen", exact=False).first).to_be_visible()


def test_the_start_form_is_usable_by_keyboard_and_refuses_a_missing_login(control_room, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(control_room + "anmelden")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_focused()
    page.get_by_label("Benutzername").fill("giessen.sachbearbeitung")
    page.get_by_label("Passwort").fill("falsches-Passwort-123")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Benutzername oder Passwort falsch")
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()
    page.get_by_role("link", name="Läufe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Läufe")
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("status")).to_have_text("Sie haben sich abgemeldet.")
    page.goto(control_room + "laeufe")
    expect(page).to_have_url(re.compile(r"/anmelden\?weiter=/laeufe$"))
