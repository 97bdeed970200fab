"""WebForms against the sandbox Fachverfahren in real Chromium."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import urllib.request
from base64 import b64encode

import pytest
from rathaus.errors import ApplicationError
from rathaus.webforms import FieldValueError, SiteUnreachableError, UnknownFieldError
from robot.api.types import Secret
from support.sandbox import PASSWORD, USER, valid_case

pytestmark = pytest.mark.browser


def login(lib, sandbox):
    lib.open_browser(sandbox.url + "anmelden")
    lib.fill_text("Benutzername", USER)
    lib.fill_text("Passwort", Secret(PASSWORD))
    lib.submit_form()


def api_cases(sandbox):
    request = urllib.request.Request(sandbox.url + "api/faelle")
    request.add_header("Authorization", "Basic " + b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    with urllib.request.urlopen(request) as response:
        return json.load(response)["faelle"]


def browser_case(**overrides):
    """The valid case as Fill Form takes it: labels for some keys, booleans for checkboxes, visible texts."""
    case = valid_case(**overrides)
    case["antragsteller_lebt_mit_kind"] = True
    case["anlagen_geburtsurkunde"] = True
    case["anlagen_unterhaltstitel"] = False
    case["Familienstand"] = "dauernd getrennt lebend"  # label + visible option text
    del case["antragsteller_familienstand"]
    case["Geschlecht"] = "weiblich"  # radio group legend + option label
    del case["kind_geschlecht"]
    case["Straße und Hausnummer"] = case.pop("antragsteller_strasse")
    case["Eingang über"] = "E-Mail"
    del case["eingangskanal"]
    return case


def test_login_fill_all_tabs_upload_and_read_aktenzeichen(webforms, sandbox, tmp_path):
    login(webforms, sandbox)
    assert webforms.get_url().endswith("/faelle")
    webforms.go_to(sandbox.url + "faelle/neu")
    urkunde = tmp_path / "Geburtsurkunde Müller.pdf"
    urkunde.write_bytes(b"%PDF-1.4\n% Testanlage\n")
    case = browser_case(bemerkungen="Straße: Gießener Weg 1\nRückfrage bei Frau Özdemir")
    case["anlage_datei"] = str(urkunde)
    webforms.fill_form(case, form="#fall-neu")
    values = webforms.get_form_values("#fall-neu")
    assert values["antragsteller_familienstand"] == "getrennt"
    assert values["kind_geschlecht"] == "w"
    assert values["anlage_datei"] == ["Geburtsurkunde Müller.pdf"]
    webforms.submit_form("Fall anlegen")
    webforms.wait_for_text("Fall wurde angelegt.")
    aktenzeichen = webforms.get_text("#aktenzeichen")
    assert aktenzeichen.startswith("UVG-")
    stored = next(c for c in api_cases(sandbox) if c["aktenzeichen"] == aktenzeichen)
    assert stored["antragsteller_name"] == "Müller"
    assert stored["antragsteller_strasse"] == "Frankfurter Straße 12"
    assert stored["antragsteller_ort"] == "Gießen"
    assert stored["antragsteller_familienstand"] == "getrennt"
    assert stored["kind_geschlecht"] == "w"
    assert stored["eingangskanal"] == "email"
    assert stored["antragsteller_lebt_mit_kind"] is True
    assert stored["anlagen_unterhaltstitel"] is False
    assert stored["bemerkungen"] == "Straße: Gießener Weg 1\nRückfrage bei Frau Özdemir"
    assert stored["anlage_dateiname"].endswith(".pdf")
    assert stored["anlage_bytes"] == urkunde.stat().st_size


def test_validation_messages_are_read_back(webforms, sandbox):
    login(webforms, sandbox)
    webforms.go_to(sandbox.url + "faelle/neu")
    webforms.fill_form(browser_case(antragsteller_plz="3539", kind_vorname="Ben",
                                    antragsteller_iban="DE00 3704 0044 0532 0130 00"))
    webforms.submit_form()
    messages = webforms.get_validation_messages()
    assert set(messages) == {"antragsteller_plz", "antragsteller_iban"}
    assert "5 Ziffern" in messages["antragsteller_plz"]
    assert webforms.get_validation_messages(selector="#nicht-da") == {}


def test_duplicate_is_reported_with_aktenzeichen(webforms, sandbox):
    login(webforms, sandbox)
    for _ in range(2):
        webforms.go_to(sandbox.url + "faelle/neu")
        webforms.fill_form(browser_case(kind_vorname="Emil"))
        webforms.submit_form()
    assert "bereits den Fall UVG-" in webforms.get_validation_messages()["duplikat"]


def test_unknown_field_lists_the_form_fields(webforms, sandbox):
    login(webforms, sandbox)
    webforms.go_to(sandbox.url + "faelle/neu")
    with pytest.raises(UnknownFieldError) as caught:
        webforms.fill_form({"kind_name": "Müller", "kind_lieblingsfarbe": "blau"})
    message = str(caught.value)
    assert "'kind_lieblingsfarbe'" in message
    assert "kind_geburtsdatum („Geburtsdatum“)" in message
    assert caught.value.code == "UNKNOWN_FIELD"
    assert isinstance(caught.value, ApplicationError)
    assert webforms.get_form_values()["kind_name"] == ""  # nothing was filled


def test_ambiguous_label_and_bad_option_are_explained_without_values(webforms, sandbox):
    login(webforms, sandbox)
    webforms.go_to(sandbox.url + "faelle/neu")
    with pytest.raises(FieldValueError) as caught:
        webforms.fill_form({"Name": "Müller", "Familienstand": "Lebenspartnerschaft"})
    message = str(caught.value)
    assert "antragsteller_name, kind_name, elternteil_name" in message
    assert "ledig" in message
    assert "Lebenspartnerschaft" not in message and "Müller" not in message


def test_react_style_page_sees_the_values(webforms, sandbox):
    webforms.open_browser(sandbox.url + "uebung/reaktiv")
    webforms.fill_form({"Name": "Müller", "r_ort": "Gießen", "Bemerkung": "Straße", "Familienstand": "ledig",
                        "Einverstanden": True})
    state = json.loads(webforms.get_text("#zustand"))
    assert state == {"r_name": "Müller", "r_ort": "Gießen", "r_bemerkung": "Straße",
                     "r_familienstand": "ledig", "r_einverstanden": True}


def test_exercise_form_fires_input_and_change_for_every_field(webforms, sandbox):
    from rathaus_sandbox.fachverfahren.fields import exercise_fields

    webforms.open_browser(sandbox.url + "uebung/formular-40")
    fields = exercise_fields()
    # by label for the wrapped ones (label only, no id), by name for the others
    values = {(f.label if f.implicit_label else f.name): ("HE" if f.kind == "select" else f"Wert {f.name} ä")
              for f in fields}
    webforms.fill_form(values, form="#formular-40")
    counts = webforms.ctx.page.evaluate("() => window.ereignisse")
    assert set(counts) == {f.name for f in fields}
    assert all(c["input"] == 1 and c["change"] == 1 for c in counts.values())
    webforms.submit_form()
    data = json.loads(webforms.get_text("#ergebnis-daten") or
                      webforms.ctx.page.evaluate("() => document.getElementById('ergebnis-daten').textContent"))
    assert data["werte"]["feld_11"] == "HE"
    assert data["werte"]["feld_05"] == "Wert feld_05 ä"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_site_is_an_application_error_with_url(webforms):
    url = f"http://127.0.0.1:{_free_port()}/anmelden"
    with pytest.raises(SiteUnreachableError) as caught:
        webforms.open_browser(url)
    assert f"'{url}' ist nicht erreichbar" in str(caught.value)
    assert caught.value.code == "SITE_UNREACHABLE"


def test_failure_writes_a_screenshot_and_names_it(webforms, sandbox):
    webforms.open_browser(sandbox.url + "anmelden")
    with pytest.raises(ApplicationError) as caught:
        webforms.fill_form({"gibt_es_nicht": "x"})
    assert "Bildschirmfoto: " in str(caught.value)
    path = str(caught.value).rsplit("Bildschirmfoto: ", 1)[1]
    assert path.endswith(".png")
    with open(path, "rb") as shot:
        assert shot.read(8) == b"\x89PNG\r\n\x1a\n"


def test_wait_for_missing_element_times_out_as_application_error(webforms, sandbox):
    webforms.open_browser(sandbox.url + "anmelden")
    with pytest.raises(ApplicationError) as caught:
        webforms.wait_for_element("#gibt-es-nicht", timeout=0.3)
    assert caught.value.code == "TIMEOUT"


def test_secret_password_never_reaches_the_robot_log(sandbox, tmp_path):
    suite = tmp_path / "anmeldung.robot"
    suite.write_text(textwrap.dedent(f"""\
        *** Settings ***
        Library    rathaus.WebForms    screenshot_on_failure=False

        *** Variables ***
        ${{PASSWORT: Secret}}    %{{UVG_TEST_PASSWORT}}

        *** Test Cases ***
        Anmelden
            Open Browser    {sandbox.url}anmelden
            Fill Text    Benutzername    {USER}
            Fill Text    Passwort    ${{PASSWORT}}
            Submit Form
            ${{url}} =    Get Url
            Should End With    ${{url}}    /faelle
            &{{felder}} =    Create Dictionary    benutzername={USER}    passwort=${{PASSWORT}}
            Go To    {sandbox.url}abmelden
            Fill Form    ${{felder}}
            Submit Form    Anmelden
        """), encoding="utf-8")
    # Own process: Playwright's sync API allows one instance per thread, and the module fixture has one.
    env = {**os.environ, "UVG_TEST_PASSWORT": PASSWORD}
    result = subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(tmp_path / "out"), "--loglevel", "TRACE",
         "--console", "none", str(suite)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    rc = result.returncode
    output = (tmp_path / "out" / "output.xml").read_text(encoding="utf-8")
    assert rc == 0, output[-3000:]
    assert PASSWORD not in output
    assert USER in output
