"""The sandbox finance system as ``rathaus run`` starts it (own process), filled in real Chromium.

These are the pages and locators the e-invoice robot's ``finance.resource`` relies on: login, the search
form ``#suche`` with ``#keine-treffer`` / ``td.belegnummer``, the entry form ``#rechnung-neu``, the
validation messages ``.fehler[data-feld]`` and ``#belegnummer`` on the entry's page.
"""

from __future__ import annotations

import json
import urllib.request
from base64 import b64encode

import pytest
from rathaus_sandbox.server import spawn_sandbox
from robot.api.types import Secret

pytestmark = pytest.mark.browser

USER, PASSWORD = "robot.fulda", "Kasse-Passwort-7"


@pytest.fixture(scope="module")
def finanzen(tmp_path_factory):
    with spawn_sandbox(app="finanzen", database=tmp_path_factory.mktemp("finanzen") / "finanzen.sqlite",
                       users={USER: PASSWORD}, mandant="Stadt Fulda") as server:
        yield server


def entry(**changes):
    values = {
        "buchungskreis": "2000", "kostenstelle": "2100000", "leitweg_id": "06631009-EBF-30",
        "lieferant": "Glanzvoll Gebäudedienste KG", "rechnungsnummer": "GGD-2026-1105",
        "rechnungsdatum": "05.11.2026", "faelligkeit": "05.12.2026", "waehrung": "EUR",
        "netto": "1.436,70", "steuer": "272,97", "brutto": "1.709,67", "zahlbetrag": "1.709,67",
        "positionen": "3", "archiv_referenz": "2026/06631009-EBF-30/Glanzvoll_Gebäudedienste_KG_GGD-2026-1105",
        "bemerkung": "Automatisch aus E-Rechnung übernommen.",
    }
    values.update(changes)
    return values


def api(server, path):
    request = urllib.request.Request(server.url + path)
    request.add_header("Authorization", "Basic " + b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def search(lib, server, supplier, number):
    lib.go_to(server.url + "rechnungen")
    lib.fill_form({"lieferant": supplier, "rechnungsnummer": number}, form="#suche")
    lib.submit_form("Suchen")
    return lib.get_text("css=#keine-treffer, #ergebnisse tbody tr:first-child td.belegnummer")


def test_the_spawned_sandbox_reports_its_service(finanzen):
    with urllib.request.urlopen(finanzen.url + "status") as response:
        status = json.load(response)
    assert status == {"status": "ok", "dienst": "Finanzverfahren – Rechnungseingangsbuch (Sandbox)",
                      "mandant": "Stadt Fulda"}


def test_enter_an_invoice_in_chromium_find_it_and_be_refused_twice(webforms, finanzen):
    webforms.open_browser(finanzen.url + "anmelden")
    webforms.fill_text("benutzername", USER)
    webforms.fill_text("passwort", Secret(PASSWORD))
    webforms.submit_form()
    assert webforms.get_url().endswith("/rechnungen")
    assert search(webforms, finanzen, "Glanzvoll Gebäudedienste KG", "GGD-2026-1105").startswith("Keine")

    webforms.go_to(finanzen.url + "rechnungen/neu")
    webforms.fill_form(entry(), form="#rechnung-neu")
    webforms.submit_form("Rechnung erfassen", form="#rechnung-neu")
    assert webforms.get_validation_messages() == {}
    belegnummer = webforms.get_text("#belegnummer")
    stored = api(finanzen, f"api/rechnungen/{belegnummer}")
    assert (stored["buchungskreis"], stored["kostenstelle"], stored["zahlbetrag"]) == ("2000", "2100000", "1709.67")
    assert stored["lieferant"] == "Glanzvoll Gebäudedienste KG"

    assert search(webforms, finanzen, "Glanzvoll Gebäudedienste KG", "GGD-2026-1105") == belegnummer
    webforms.go_to(finanzen.url + "rechnungen/neu")
    webforms.fill_form(entry(steuer="272,96"), form="#rechnung-neu")
    webforms.submit_form("Rechnung erfassen", form="#rechnung-neu")
    assert "Netto + Steuer" in webforms.get_validation_messages()["brutto"]
    webforms.fill_form(entry(), form="#rechnung-neu")
    webforms.submit_form("Rechnung erfassen", form="#rechnung-neu")
    assert belegnummer in webforms.get_validation_messages()["duplikat"]
    assert api(finanzen, "api/rechnungen")["anzahl"] == 1
    webforms.close_browser()
