"""The clerks' journeys in real Chromium through ``rathaus controlroom --demo``, as a clerk does them in the page:
log in with the form, start a run with uploads from the start form, wait for the run page to say it has finished,
follow its link to the waiting cases, open one, correct it in the form generated from the case schema and retry,
or close it with a reason and a confirmation.

Wetzlar's Unterhaltsvorschuss and Limburg's Posteingang (the API journey of Unterhaltsvorschuss is Gießen's: each
counts the records of its own city's Fachverfahren). The mails are the processes' sample mails with Message-IDs
of their own, so that they are new to the control room even after the API journeys of the same session uploaded
the samples (an upload of a known mail is refused: BEREITS_VORHANDEN). Screenshots of the key steps are written
into each test's temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from rathaus.webforms.context import CHROMIUM_ARGS, find_browser
from support.demo_room import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
#: a run of a few cases on this 2-core machine, with the robot's start, takes well under this
RUN_TIMEOUT_MS = 150_000


@pytest.fixture
def page(tmp_path) -> Iterator:
    """A Chromium page (Debian chromium, no Playwright download) at a common office screen width."""
    from playwright.sync_api import sync_playwright

    args = list(CHROMIUM_ARGS) + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_browser(), headless=True, args=args)
        context = browser.new_context(locale="de-DE", viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def _shot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def _renamed(raw: bytes, message_id: str) -> bytes:
    """The mail ``raw`` with another Message-ID: the same application, a mail the control room does not know."""
    mail = message_from_bytes(raw, policy=policy.default)
    mail.replace_header("Message-ID", message_id)
    return mail.as_bytes()


def _log_in(page, url: str, user: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roboter")


def _start_with_uploads(page, robot_title: str, files: list[Path]) -> None:
    """From the robot list: the robot's start form, its file input, start; waits for the run to finish."""
    from playwright.sync_api import expect

    page.get_by_role("row").filter(has_text=robot_title).get_by_role("link", name=re.compile("Lauf starten")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lauf starten")
    page.get_by_label("Dateien").set_input_files([str(path) for path in files])
    page.get_by_role("button", name="Lauf starten").click()
    expect(page.get_by_role("status").filter(has_text="Der Lauf wurde angelegt")).to_be_visible()
    expect(page.locator("#faelle-gesamt")).to_have_text(str(len(files)))
    _wait_finished(page)


def _wait_finished(page) -> None:
    """The run page follows the run by itself and reloads once it has finished."""
    from playwright.sync_api import expect

    expect(page.locator("#lauf-status")).to_have_attribute("data-state", re.compile("succeeded|failed|cancelled"),
                                                           timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#lauf-status")).to_have_attribute("data-state", "succeeded")
    expect(page.get_by_role("heading", name="Ergebnis der Fälle")).to_be_visible()


def _correct_and_retry(page) -> None:
    """The case form's "Korrigieren und erneut versuchen", accepted: the worklist says the case is retried."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Korrigieren und erneut versuchen").click()
    expect(page.get_by_role("status").filter(has_text="korrigiert und wird erneut bearbeitet")).to_be_visible()


def _expect_states(page, states: dict[str, str]) -> None:
    """The run page's table of cases shows each case (by reference) in its state."""
    from playwright.sync_api import expect

    cases = page.get_by_role("table", name="Fälle dieses Laufs")
    for reference, state in states.items():
        expect(cases.get_by_role("row").filter(has_text=reference)).to_contain_text(state)


def _newest_run(page, robot_title: str) -> None:
    """The clerk's way to the run a retry started: Läufe, the newest run of the robot."""
    from playwright.sync_api import expect

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Läufe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Läufe")
    page.get_by_role("row").filter(has_text=robot_title).first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lauf")
    _wait_finished(page)


# --- Wetzlar: Unterhaltsvorschuss ------------------------------------------------------------------------------

UVG_TITLE = "Unterhaltsvorschuss"
UVG_CLERK = "wetzlar.sachbearbeitung"
COMPLETE = "<browser-uvg-gut@antrag.example.org>"
INCOMPLETE = "<browser-uvg-unvollstaendig@antrag.example.org>"
TOO_OLD = "<browser-uvg-zu-alt@antrag.example.org>"


@pytest.fixture(scope="module")
def uvg_mails(tmp_path_factory) -> dict[str, Path]:
    """Three applications as .eml with Message-IDs of their own: complete, without IBAN and the child's birth date,
    and one for a child who is already 18. ``--good 5``: applicants other than the API journey's."""
    samples = tmp_path_factory.mktemp("uvg-samples")
    subprocess.run([sys.executable, str(ROOT / "processes/unterhaltsvorschuss/samples/generate.py"), "--out",
                    str(samples), "--good", "5"], check=True, stdout=subprocess.DEVNULL)
    out = tmp_path_factory.mktemp("uvg-browser")
    mails = {}
    for sample, message_id, name in (("05-gut-5.eml", COMPLETE, "Antrag-Grossmann.eml"),
                                     ("07-unvollstaendig.eml", INCOMPLETE, "Antrag-Becker.eml"),
                                     ("08-zu-alt.eml", TOO_OLD, "Antrag-Nguyen.eml")):
        path = out / name
        path.write_bytes(_renamed((samples / sample).read_bytes(), message_id))
        mails[message_id] = path
    return mails


def test_a_wetzlar_clerk_uploads_applications_corrects_one_in_the_form_and_closes_another(demo_room, page, uvg_mails,
                                                                                         tmp_path):
    from playwright.sync_api import expect

    _log_in(page, demo_room.url, UVG_CLERK)
    _shot(page, tmp_path, "01-roboter")
    _start_with_uploads(page, UVG_TITLE, list(uvg_mails.values()))

    # the run page says honestly what became of the three mails, and leads to the two that wait
    expect(page.locator("#lauf-status")).to_contain_text("Fälle warten auf die Sachbearbeitung")
    expect(page.locator("#lauf-ergebnis")).to_have_text("3 Fälle: 1 eingetragen, 2 warten auf die Sachbearbeitung.")
    _expect_states(page, {COMPLETE: "Erledigt", INCOMPLETE: "Zur Klärung", TOO_OLD: "Zur Klärung"})
    _shot(page, tmp_path, "02-lauf-beendet")
    page.get_by_role("link", name="Die 2 wartenden Fälle in der Arbeitsliste öffnen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Arbeitsliste")
    waiting = page.get_by_role("table").first
    expect(waiting.get_by_role("row")).to_have_count(3)  # the header and the two cases of this run
    _shot(page, tmp_path, "03-arbeitsliste")
    page.get_by_role("link", name=INCOMPLETE).click()

    # the case: the application PDF in the page, the robot's reason, the form with German labels from the schema
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {INCOMPLETE}")
    expect(page.locator("dl.facts")).to_contain_text("Zur Klärung (Sachbearbeitung)")
    expect(page.locator("dl.facts")).to_contain_text("PFLICHTANGABEN_FEHLEN")
    expect(page.locator("dl.facts")).to_contain_text("IBAN fehlt")
    expect(page.locator("dl.facts")).to_contain_text("noch keines")  # no Aktenzeichen yet
    document = page.locator("iframe.document").first
    expect(document).to_have_attribute("title", "Unterlage Antrag_UVG_Becker.pdf")
    expect(page.get_by_role("link", name="Antrag_UVG_Becker.pdf")).to_be_visible()
    applicant = page.get_by_role("group", name="Antragstellende Person")
    child = page.get_by_role("group", name="Kind", exact=True)
    expect(applicant.get_by_label("Name (Pflichtfeld)", exact=True)).to_have_value("Becker")
    expect(applicant.get_by_label("Straße und Hausnummer (Pflichtfeld)")).to_have_value("Ludwigstraße 61")
    expect(applicant.get_by_label("IBAN (Pflichtfeld)")).to_have_value("")
    expect(child.get_by_label("Geburtsdatum (Pflichtfeld)")).to_have_value("")
    expect(page.get_by_text("Das Kind lebt bei der antragstellenden Person")).to_be_visible()
    _shot(page, tmp_path, "04-fall-unvollstaendig")

    # a birth date the schema does not accept: refused in German, naming the field; the rest of the input stays
    applicant.get_by_label("IBAN (Pflichtfeld)").fill("DE89 3704 0044 0532 0130 00")
    child.get_by_label("Geburtsdatum (Pflichtfeld)").fill("im Februar")
    page.get_by_role("button", name="Korrigieren und erneut versuchen").click()
    expect(page.locator("#fehlerliste")).to_contain_text("Geburtsdatum")
    birth_date = page.get_by_role("group", name="Kind", exact=True).get_by_label("Geburtsdatum (Pflichtfeld)")
    expect(birth_date).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("group", name="Antragstellende Person").get_by_label("IBAN (Pflichtfeld)")).to_have_value(
        "DE89 3704 0044 0532 0130 00")
    _shot(page, tmp_path, "05-fall-falsches-datum")

    page.get_by_role("group", name="Kind", exact=True).get_by_label("Geburtsdatum (Pflichtfeld)").fill("01.02.2019")
    _correct_and_retry(page)

    # the retry: the robot enters the corrected application; the case has its Aktenzeichen
    _newest_run(page, UVG_TITLE)
    expect(page.locator("#lauf-ergebnis")).to_have_text("1 Fall: 1 eingetragen.")
    _shot(page, tmp_path, "06-lauf-wiederholt")
    page.goto(f"{demo_room.url}/arbeitsliste")
    page.get_by_role("link", name="Vom Roboter erledigt").click()
    row = page.get_by_role("row").filter(has_text=INCOMPLETE)
    expect(row).to_contain_text(re.compile(r"UVG-\d{4}-\d+"))
    number = re.search(r"UVG-\d{4}-\d+", row.inner_text()).group(0)
    row.get_by_role("link", name=INCOMPLETE).click()
    expect(page.locator("dl.facts")).to_contain_text("Erledigt")
    expect(page.locator("dl.facts")).to_contain_text(number)
    expect(page.get_by_role("button", name="Korrigieren und erneut versuchen")).to_have_count(0)
    _shot(page, tmp_path, "07-fall-eingetragen")
    [entered] = demo_room.rows("wetzlar/unterhaltsvorschuss", "fachverfahren",
                               "SELECT antragsteller_iban, kind_geburtsdatum FROM faelle WHERE aktenzeichen = ?",
                               number)
    assert entered["kind_geburtsdatum"] == "01.02.2019", entered

    # the other waiting case is closed by hand: a reason, a confirmation, and the reason shown with the case
    page.goto(f"{demo_room.url}/arbeitsliste")
    page.get_by_role("link", name=TOO_OLD).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {TOO_OLD}")
    _shot(page, tmp_path, "08-fall-zu-alt")
    page.get_by_role("button", name="Abschließen …").click()  # no reason: the page asks for one
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {TOO_OLD}")
    reason = "Kind ist volljährig; Antragstellerin telefonisch informiert, Antrag zurückgezogen."
    page.get_by_label("Begründung (Pflichtfeld)").fill(reason)
    page.get_by_role("button", name="Abschließen …").click()
    expect(page.get_by_role("alert")).to_contain_text("wirklich abschließen")
    expect(page.locator("dl.facts")).to_contain_text(reason)
    _shot(page, tmp_path, "09-abschliessen-bestaetigen")
    page.get_by_role("button", name="Ja, Fall abschließen").click()
    expect(page.get_by_role("status").filter(has_text="mit Begründung geschlossen")).to_be_visible()
    page.get_by_role("link", name="Von Hand abgeschlossen").click()
    expect(page.get_by_role("row").filter(has_text=TOO_OLD)).to_contain_text(reason)
    page.get_by_role("link", name=TOO_OLD).click()
    expect(page.locator("dl.facts")).to_contain_text(reason)
    _shot(page, tmp_path, "10-fall-abgeschlossen")


# --- Limburg: Posteingang --------------------------------------------------------------------------------------

POST_TITLE = "Posteingang"
POST_CLERK = "limburg.sachbearbeitung"
SEED = 4711  # Message-IDs <key>.4711.limburg@…: not the API journey's


@pytest.fixture(scope="module")
def post_mails(tmp_path_factory) -> dict[str, Path]:
    from posteingang.samples.generate import generate

    paths = generate(tmp_path_factory.mktemp("posteingang-browser"), "limburg", seed=SEED)
    return {path.stem.split("-", 1)[1]: path for path in paths}


def test_a_limburg_clerk_uploads_mails_and_chooses_the_department_of_the_unclear_one(demo_room, page, post_mails,
                                                                                    tmp_path):
    from playwright.sync_api import expect

    routed = f"<geburtsurkunde.{SEED}.limburg@beispiel.rathaus.test>"
    unclear = f"<mehrdeutig.{SEED}.limburg@beispiel.rathaus.test>"
    _log_in(page, demo_room.url, POST_CLERK)
    _start_with_uploads(page, POST_TITLE, [post_mails["geburtsurkunde"], post_mails["mehrdeutig"]])

    expect(page.locator("#lauf-ergebnis")).to_contain_text("2 Fälle")
    expect(page.locator("#lauf-ergebnis")).to_contain_text("1 wartet auf die Sachbearbeitung")
    _expect_states(page, {routed: "Erledigt", unclear: "Zur Klärung"})
    _shot(page, tmp_path, "01-lauf-beendet")
    page.get_by_role("link", name="Den wartenden Fall in der Arbeitsliste öffnen").click()
    page.get_by_role("link", name=unclear).click()

    # two departments fit equally: the clerk reads the mail's data and chooses the department
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {unclear}")
    expect(page.locator("dl.facts")).to_contain_text("GLEICHSTAND")
    expect(page.get_by_label("Betreff")).to_have_value("Baustelle und Lärm vor unserem Haus")
    expect(page.get_by_label("Gelesener Text")).to_have_value(re.compile("Baustelle"))
    expect(page.get_by_label("Gelesener Text")).not_to_be_editable()
    department = page.get_by_label("Zuständiger Fachbereich")
    expect(department.locator("option")).to_contain_text(["– keine Angabe –", "Fachdienst Bürgerbüro",
                                                          "Fachdienst Sicherheit und Ordnung"])
    _shot(page, tmp_path, "02-fall-gleichstand")
    department.select_option(label="Fachdienst Sicherheit und Ordnung")
    page.get_by_label("Bemerkung für den Laufzettel").fill("Lärm durch die Baustelle ab 6 Uhr: Ordnungsamt.")
    _correct_and_retry(page)

    _newest_run(page, POST_TITLE)
    expect(page.locator("#lauf-ergebnis")).to_have_text(re.compile(r"^1 Fall: 1 [^,]+\.$"))
    expect(page.locator("#lauf-ergebnis")).not_to_contain_text("wartet")
    _shot(page, tmp_path, "03-lauf-wiederholt")
    page.goto(f"{demo_room.url}/arbeitsliste?ansicht=erledigt")
    page.get_by_role("link", name=unclear).click()
    expect(page.locator("dl.facts")).to_contain_text("Erledigt")
    expect(page.get_by_label("Zuständiger Fachbereich")).to_have_value("ordnungsamt")
    _shot(page, tmp_path, "04-fall-erledigt")
