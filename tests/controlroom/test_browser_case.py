"""The clerk's correction journey in real Chromium: from the run that says cases wait, through the worklist, to the
case page, where the clerk adds the missing IBAN, retries, and closes another case with a reason and a confirm
step. The control room is served by uvicorn on SQLite; the cases are put in place as a robot would leave them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import test_browser_ui
from rathaus_controlroom.models import ItemState, WorkItem
from sqlalchemy import select
from uihelpers import PASSWORD, Room, make_room, waiting_cases

pytestmark = pytest.mark.browser
browser_page = test_browser_ui.browser_page  # the Chromium page, as the other browser tests have it


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Room, str]]:
    from served import serve_app

    room = make_room(tmp_path / "daten")
    try:
        with serve_app(room.app) as url:
            yield room, url
    finally:
        room.db.dispose()


def test_a_clerk_corrects_a_waiting_case_and_closes_another_with_a_reason(served, browser_page):
    from playwright.sync_api import expect

    room, url, page = *served, browser_page
    run_id = waiting_cases(room)
    page.goto(f"{url}/laeufe/{run_id}")
    page.get_by_label("Benutzername").fill("gi.clerk")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()

    expect(page.locator("#lauf-ergebnis")).to_have_text("3 Fälle: 1 eingetragen, 2 warten auf die Sachbearbeitung.")
    page.get_by_role("link", name="Die 2 wartenden Fälle in der Arbeitsliste öffnen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Arbeitsliste")
    page.get_by_role("link", name="<antrag-2@example.org>").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Fall <antrag-2@example.org>")
    expect(page.locator("iframe.document").first).to_have_attribute("title", "Unterlage Antrag.pdf")
    iban = page.get_by_label("IBAN (Pflichtfeld)")
    expect(iban).to_have_value("")
    iban.fill("DE12 500")
    page.get_by_role("button", name="Korrigieren und erneut versuchen").click()
    expect(page.get_by_role("alert").first).to_contain_text("IBAN 'DE12 500' hat nicht die richtige Form")
    expect(page.get_by_label("IBAN (Pflichtfeld)")).to_have_attribute("aria-invalid", "true")
    page.get_by_role("link", name=re.compile("IBAN 'DE12 500'")).click()  # the error list leads to the field
    page.get_by_label("IBAN (Pflichtfeld)").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Korrigieren und erneut versuchen").click()
    expect(page.get_by_role("status").filter(has_text="korrigiert und wird erneut bearbeitet")).to_be_visible()

    page.get_by_role("link", name="<antrag-3@example.org>").click()
    page.get_by_label("Begründung (Pflichtfeld)").fill("Antrag telefonisch zurückgezogen")
    page.get_by_role("button", name="Abschließen …").click()
    expect(page.get_by_role("alert")).to_contain_text("wirklich abschließen")
    page.get_by_role("button", name="Ja, Fall abschließen").click()
    expect(page.get_by_role("status").filter(has_text="mit Begründung geschlossen")).to_be_visible()
    page.get_by_role("link", name="Von Hand abgeschlossen").click()
    expect(page.get_by_role("cell", name="Antrag telefonisch zurückgezogen")).to_be_visible()

    with room.db.session() as session:
        second, third = session.scalars(select(WorkItem).where(WorkItem.reference.in_(
            ["<antrag-2@example.org>", "<antrag-3@example.org>"])).order_by(WorkItem.id)).all()
        assert second.state is ItemState.NEW
        assert second.payload["fall"]["antragsteller"]["iban"] == "DE89 3704 0044 0532 0130 00"
        assert (third.state, third.closed_reason) == (ItemState.DONE, "Antrag telefonisch zurückgezogen")
