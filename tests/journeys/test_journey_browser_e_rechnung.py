"""Fulda's Rechnungseingang clerk in real Chromium through ``rathaus controlroom --demo``: log in with the form,
upload two e-invoices from the start form, read the run page, open the invoice the robot handed back for its
Leitweg-ID from the link to the worklist, correct the routing in the form generated from the case schema and retry;
the invoice is booked in the finance system under the office the clerk chose.

The invoices are the process's sample invoices with numbers of their own, so that they are new to the finance system
even after the API journey of the same session booked its own. Screenshots of the key steps are written into the
test's temporary folder.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import test_journey_browser
from erechnung.samples import sample_generator
from test_journey_browser import _correct_and_retry, _log_in, _newest_run, _shot, _start_with_uploads

pytestmark = pytest.mark.browser
page = test_journey_browser.page  # the Chromium page of the other browser journeys

ROBOT = "fulda/e-rechnung"
TITLE = "E-Rechnung – Rechnungseingang"
CLERK = "fulda.sachbearbeitung"
LIGHTS, WORKSHOP = "LW-BR-2026-0417", "KT-BR-2026-0815"
TIEFBAU = "06631009-66-69"  # resources/cities/fulda/leitweg.yaml: Tiefbauamt, 1000 / 1066200
ABFALL = "06631009-EBF-30"  # Eigenbetrieb Abfallwirtschaft, 2000 / 2100000
TYPO = "06631009-EBF-41"  # Abfallwirtschaft's Leitweg-ID with wrong check digits


@pytest.fixture(scope="module")
def invoices(tmp_path_factory) -> list[Path]:
    """An XRechnung (UBL) for the street lights, right as it is, and a ZUGFeRD PDF for the sweeper's inspection
    whose only fault is a typo in the check digits of its Leitweg-ID."""
    generator = sample_generator()
    fulda = generator.load_city("fulda")
    lights = generator._invoice(fulda, generator.SUPPLIERS["licht"], "tiefbau", LIGHTS, 23, random.Random(LIGHTS))
    workshop = generator._invoice(
        fulda, generator.SUPPLIERS["werkstatt"], "eigenbetrieb", WORKSHOP, 24, random.Random(WORKSHOP), leitweg_id=TYPO
    )
    out = tmp_path_factory.mktemp("e-rechnung-browser")
    xml, pdf = out / f"XRechnung_{LIGHTS}.xml", out / f"Rechnung_{WORKSHOP}.pdf"
    xml.write_bytes(generator.ubl_xml(lights))
    pdf.write_bytes(generator.zugferd_pdf(workshop))
    return [xml, pdf]


def _booked(demo_room, number: str) -> dict:
    [row] = demo_room.rows(
        ROBOT,
        "finanzsystem",
        "SELECT belegnummer, buchungskreis, kostenstelle, leitweg_id, "
        "bemerkung FROM rechnungen WHERE rechnungsnummer = ?",
        number,
    )
    return row


def test_a_fulda_clerk_uploads_invoices_and_corrects_the_leitweg_id_of_the_one_handed_back(
    demo_room, page, invoices, tmp_path
):
    from playwright.sync_api import expect

    _log_in(page, demo_room.url, CLERK)
    _start_with_uploads(page, TITLE, invoices)

    # the run page: one invoice booked, one waits, and which one and why
    expect(page.locator("#lauf-status")).to_contain_text("Fälle warten auf die Sachbearbeitung")
    expect(page.locator("#lauf-ergebnis")).to_have_text("2 Fälle: 1 erfasst, 1 wartet auf die Sachbearbeitung.")
    cases = page.get_by_role("table", name="Fälle dieses Laufs")
    expect(cases.get_by_role("row").filter(has_text=f"XRechnung_{LIGHTS}.xml")).to_contain_text("Erledigt")
    waiting = cases.get_by_role("row").filter(has_text=f"Rechnung_{WORKSHOP}.pdf")
    expect(waiting).to_contain_text("Zur Klärung")
    expect(waiting).to_contain_text(TYPO)
    reference = waiting.get_by_role("link").first.inner_text()  # the control room names an uploaded file's case
    _shot(page, tmp_path, "01-lauf-beendet")
    page.get_by_role("link", name="Den wartenden Fall in der Arbeitsliste öffnen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Arbeitsliste")
    worklist = page.get_by_role("table").first
    expect(worklist.get_by_role("row")).to_have_count(2)  # the header and the one case of this run
    worklist.get_by_role("row").nth(1).get_by_role("link").first.click()

    # the case: the invoice PDF in the page, the robot's reason, the routing in the form with German labels
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {reference}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Zur Klärung (Sachbearbeitung)")
    expect(facts).to_contain_text("LEITWEG_PRUEFEN")
    expect(facts).to_contain_text(TYPO)
    expect(facts).to_contain_text(WORKSHOP)
    expect(page.locator("iframe.document").first).to_have_attribute("title", f"Unterlage Rechnung_{WORKSHOP}.pdf")
    expect(page.get_by_label("Rechnungsnummer")).to_have_value(WORKSHOP)
    expect(page.get_by_label("Rechnungssteller")).to_have_value("Kommunaltechnik Rhön-Vogelsberg GmbH")
    expect(page.get_by_label("Leitweg-ID")).to_have_value(TYPO)
    expect(page.get_by_label("Buchungskreis")).to_have_value("")
    expect(page.get_by_label("Kostenstelle")).to_have_value("")
    _shot(page, tmp_path, "02-fall-leitweg-pruefen")

    page.get_by_label("Leitweg-ID").fill(ABFALL)
    _correct_and_retry(page)

    # the retry books the invoice under Abfallwirtschaft's Buchungskreis and Kostenstelle
    _newest_run(page, TITLE)
    expect(page.locator("#lauf-ergebnis")).to_have_text("1 Fall: 1 erfasst.")
    _shot(page, tmp_path, "03-lauf-wiederholt")
    page.goto(f"{demo_room.url}/arbeitsliste")
    page.get_by_role("link", name="Vom Roboter erledigt").click()
    _shot(page, tmp_path, "04-erledigt")
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.locator("dl.facts")).to_contain_text("Erledigt")
    expect(page.get_by_label("Leitweg-ID")).to_have_value(ABFALL)
    expect(page.get_by_label("Buchungskreis")).to_have_value("2000")
    expect(page.get_by_label("Kostenstelle")).to_have_value("2100000")
    expect(page.get_by_role("button", name="Korrigieren und erneut versuchen")).to_have_count(0)
    _shot(page, tmp_path, "05-fall-erfasst")
    booked = _booked(demo_room, WORKSHOP)
    expect(page.locator("dl.facts")).to_contain_text(booked["belegnummer"])  # the Belegnummer is its Aktenzeichen
    assert (booked["buchungskreis"], booked["kostenstelle"], booked["leitweg_id"]) == ("2000", "2100000", ABFALL)
    assert "Zuordnung von der Sachbearbeitung korrigiert (Leitweg-ID)" in booked["bemerkung"], booked
    lights = _booked(demo_room, LIGHTS)
    assert (lights["buchungskreis"], lights["kostenstelle"], lights["leitweg_id"]) == ("1000", "1066200", TIEFBAU)
