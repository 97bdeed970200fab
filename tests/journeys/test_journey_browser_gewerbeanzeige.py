"""The Gewerbeamt clerk's journey in real Chromium through ``rathaus controlroom --demo``: log in with the form,
upload trade notices from the start form, read the run page, open the notice the robot handed back from the link to
the worklist, complete it in the form generated from the case schema and retry it; the record is in the
Gewerberegister.

Wetzlar's Gewerbeanzeige robot: Offenbach's is the API journey's, which expects only its own receipts in the
robot's ``Gesendet`` folder, and every entered notice sends one. The mails are the process's sample mails with
Message-IDs of their own. Screenshots of the key steps are written into the test's temporary folder.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import test_journey_browser
from test_journey_browser import _correct_and_retry, _log_in, _newest_run, _renamed, _shot, _start_with_uploads

pytestmark = pytest.mark.browser
page = test_journey_browser.page  # the Chromium page of the other browser journeys

ROBOT = "wetzlar/gewerbeanzeige"
MAILDIR = "wetzlar/gewerbe"  # robots/wetzlar/gewerbeanzeige/config.yaml: postfach.url maildir:wetzlar/gewerbe
TITLE = "Gewerbeanzeigen"
CLERK = "wetzlar.sachbearbeitung"
HANDWERK = "<browser-gewa-handwerk@anzeige.example.org>"
IMBISS = "<browser-gewa-imbiss@anzeige.example.org>"


@pytest.fixture(scope="module")
def notices(tmp_path_factory) -> list[Path]:
    """A complete GewA1 as its mail, the GewA1 form of a side business saved from its mail (no e-mail address in
    it), and a mail whose form lacks the owner's birth date and the premises' postcode."""
    from gewerbeanzeige.samples.generate import generate

    samples = {path.stem.split("-", 1)[1]: path for path in generate(tmp_path_factory.mktemp("gewa"), "wetzlar")}
    out = tmp_path_factory.mktemp("gewa-browser")
    handwerk, imbiss = out / "Anmeldung-Elektrotechnik.eml", out / "Anmeldung-Imbiss.eml"
    handwerk.write_bytes(_renamed(samples["anmeldung-handwerk"].read_bytes(), HANDWERK))
    imbiss.write_bytes(_renamed(samples["pflichtangaben-fehlen"].read_bytes(), IMBISS))
    mail = message_from_bytes(samples["anmeldung-nebenerwerb"].read_bytes(), policy=policy.default)
    [form] = list(mail.iter_attachments())
    loose = out / "GewA1_Nguyen.pdf"
    loose.write_bytes(form.get_content())
    return [handwerk, loose, imbiss]


def _entry(demo_room, message_id: str) -> dict:
    [row] = demo_room.rows(
        ROBOT,
        "gewerberegister",
        "SELECT b.registernummer, b.betrieb_name, b.inhaber_geburtsdatum, b.betrieb_plz, "
        "b.betrieb_taetigkeit FROM betriebe b JOIN vorgaenge v ON v.betrieb_id = b.id "
        "WHERE v.eingang_referenz = ?",
        message_id,
    )
    return row


def test_a_wetzlar_clerk_uploads_trade_notices_and_completes_the_one_handed_back(demo_room, page, notices, tmp_path):
    from playwright.sync_api import expect

    _log_in(page, demo_room.url, CLERK)
    _start_with_uploads(page, TITLE, notices)

    # the run page: what became of the three notices, and the way to the two that wait
    expect(page.locator("#lauf-status")).to_contain_text("Fälle warten auf die Sachbearbeitung")
    expect(page.locator("#lauf-ergebnis")).to_have_text(
        re.compile(r"^3 Fälle: 1 eingetragen \(Anmeldung\), 2 warten auf die Sachbearbeitung\.$")
    )
    cases = page.get_by_role("table", name="Fälle dieses Laufs")
    expect(cases.get_by_role("row").filter(has_text=HANDWERK)).to_contain_text("Erledigt")
    loose = cases.get_by_role("row").filter(has_text="GewA1_Nguyen.pdf")
    expect(loose).to_contain_text("Zur Klärung")
    expect(loose).to_contain_text("per Post")
    imbiss = cases.get_by_role("row").filter(has_text=IMBISS)
    expect(imbiss).to_contain_text("Zur Klärung")
    expect(imbiss).to_contain_text("Geburtsdatum fehlt")
    _shot(page, tmp_path, "01-lauf-beendet")
    page.get_by_role("link", name="Die 2 wartenden Fälle in der Arbeitsliste öffnen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Arbeitsliste")
    expect(page.get_by_role("table").first.get_by_role("row")).to_have_count(3)  # the header and the two cases
    page.get_by_role("link", name=IMBISS).click()

    # the case: the form PDF, the robot's reason, the case form with German labels, the missing entries empty
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {IMBISS}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Zur Klärung (Sachbearbeitung)")
    expect(facts).to_contain_text("PFLICHTANGABEN_FEHLEN")
    expect(facts).to_contain_text("Geburtsdatum fehlt")
    expect(page.locator("iframe.document").first).to_have_attribute("title", "Unterlage GewA1_Gewerbeanmeldung.pdf")
    owner = page.get_by_role("group", name="Inhaberin oder Inhaber")
    business = page.get_by_role("group", name="Betrieb", exact=True)
    expect(owner.get_by_label("Name", exact=True)).to_have_value("Yılmaz")
    expect(owner.get_by_label("Geburtsdatum")).to_have_value("")
    expect(business.get_by_label("Name des Betriebs / Firma")).to_have_value("Imbiss am Bahnhof")
    expect(business.get_by_label("Postleitzahl (Betriebsstätte)")).to_have_value("")
    expect(business.get_by_label("Ort (Betriebsstätte)")).to_have_value("Wetzlar")
    _shot(page, tmp_path, "02-fall-pflichtangaben-fehlen")

    # the birth date alone is not enough: refused in German, naming the postcode; what was typed stays
    owner.get_by_label("Geburtsdatum").fill("01.02.1990")
    page.get_by_role("button", name="Korrigieren und erneut versuchen").click()
    expect(page.locator("#fehlerliste")).to_contain_text("Postleitzahl")
    owner = page.get_by_role("group", name="Inhaberin oder Inhaber")
    business = page.get_by_role("group", name="Betrieb", exact=True)
    expect(owner.get_by_label("Geburtsdatum")).to_have_value("01.02.1990")
    expect(business.get_by_label("Postleitzahl (Betriebsstätte)")).to_have_attribute("aria-invalid", "true")
    _shot(page, tmp_path, "03-fall-postleitzahl-fehlt")
    business.get_by_label("Postleitzahl (Betriebsstätte)").fill("35578")
    business.get_by_label("Angemeldete Tätigkeit").fill("Imbiss mit Getränkeverkauf")
    _correct_and_retry(page)

    # the retry enters what the clerk wrote; the case is done, the record in the register
    _newest_run(page, TITLE)
    expect(page.locator("#lauf-ergebnis")).to_have_text(re.compile(r"^1 Fall: 1 eingetragen \(Anmeldung\)\.$"))
    _shot(page, tmp_path, "04-lauf-wiederholt")
    page.goto(f"{demo_room.url}/arbeitsliste?ansicht=erledigt")
    page.get_by_role("link", name=IMBISS).click()
    expect(page.locator("dl.facts")).to_contain_text("Erledigt")
    expect(page.get_by_role("button", name="Korrigieren und erneut versuchen")).to_have_count(0)
    entry = _entry(demo_room, IMBISS)
    receipt = f"{entry['registernummer']}-GewA1-empfangsbescheinigung.pdf"
    expect(page.get_by_role("link", name=receipt)).to_be_visible()  # the receipt, named by the register number
    expect(page.locator("dl.facts")).to_contain_text(entry["registernummer"])  # the case's Aktenzeichen
    letters = page.get_by_role("heading", name="Schreiben").locator("xpath=following-sibling::*[1]")
    expect(letters.get_by_role("link", name=receipt)).to_be_visible()  # a letter, not one of the documents
    _shot(page, tmp_path, "05-fall-erledigt")
    assert (
        entry["betrieb_name"],
        entry["inhaber_geburtsdatum"],
        entry["betrieb_plz"],
        entry["betrieb_taetigkeit"],
    ) == ("Imbiss am Bahnhof", "01.02.1990", "35578", "Imbiss mit Getränkeverkauf"), entry
    assert _entry(demo_room, HANDWERK)["betrieb_name"] == "Elektrotechnik Schäfer GmbH"
    receipts = {"".join(str(m["In-Reply-To"]).split()) for m in demo_room.folder(ROBOT, MAILDIR, "Gesendet")}
    assert {HANDWERK, IMBISS} <= receipts, receipts
