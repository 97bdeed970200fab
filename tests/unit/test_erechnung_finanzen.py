"""The sandbox finance system (Rechnungseingangsbuch) through Flask's test client."""

from __future__ import annotations

import base64
import re
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from rathaus_sandbox.finanzen import create_app
from rathaus_sandbox.finanzen.__main__ import build_parser, settings_from_args
from rathaus_sandbox.finanzen.db import duplicate_key
from rathaus_sandbox.finanzen.validation import (
    format_amount,
    leitweg_check_digits,
    leitweg_message,
    parse_amount,
    validate_entry,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
USER, PASSWORD, MANDANT = "robot.fulda", "Kasse-Passwort-1", "Stadt Fulda"


def entry(**changes):
    """A complete entry as the browser submits it."""
    values = {
        "buchungskreis": "1000", "kostenstelle": "1066200", "leitweg_id": "06631009-66-69",
        "lieferant": "Lichtwerk Osthessen GmbH & Co. KG", "rechnungsnummer": "LWO-2026-3302",
        "rechnungsdatum": "04.11.2026", "faelligkeit": "18.11.2026", "waehrung": "EUR",
        "netto": "5.287,00", "steuer": "1.004,53", "brutto": "6.291,53", "zahlbetrag": "6.291,53",
        "positionen": "3", "archiv_referenz": "2026/06631009-66-69/Lichtwerk_LWO-2026-3302",
        "bemerkung": "Automatisch übernommen.",
    }
    values.update(changes)
    return values


@pytest.fixture
def app(tmp_path):
    return create_app({"database": tmp_path / "finanzen.sqlite", "users": {USER: PASSWORD}, "mandant": MANDANT,
                       "secret_key": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


def csrf(client, path="/anmelden"):
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, password=PASSWORD):
    return client.post("/anmelden", data={"benutzername": USER, "passwort": password, "csrf_token": csrf(client)})


def submit(client, **changes):
    token = csrf(client, "/rechnungen/neu")
    return client.post("/rechnungen/neu", data={**entry(**changes), "csrf_token": token})


def errors_of(response) -> dict[str, str]:
    html = response.get_data(as_text=True)
    return dict(re.findall(r'<(?:div|li) class="fehler" data-feld="([^"]+)"[^>]*>([^<]+)</(?:div|li)>', html))


def api(client, path, user=USER, password=PASSWORD):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return client.get(path, headers={"Authorization": f"Basic {token}"})


def test_status_answers_without_login(client):
    assert client.get("/status").get_json() == {
        "status": "ok", "dienst": "Finanzverfahren – Rechnungseingangsbuch (Sandbox)", "mandant": MANDANT}


def test_pages_need_a_login_and_a_wrong_password_is_refused(client):
    page = client.get("/rechnungen/neu")
    assert page.status_code == 302 and "/anmelden" in page.headers["Location"]
    refused = login(client, "falsch")
    assert "Anmeldung fehlgeschlagen" in refused.get_data(as_text=True)
    assert login(client).status_code == 302
    assert "Rechnung erfassen" in client.get("/rechnungen/neu").get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused(client):
    login(client)
    response = client.post("/rechnungen/neu", data=entry())
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_a_valid_entry_gets_a_belegnummer_and_is_stored_exactly(client):
    login(client)
    response = submit(client)
    assert response.status_code == 302
    belegnummer = response.headers["Location"].split("/rechnungen/")[1].split("?")[0]
    assert re.fullmatch(rf"ER-{date.today().year}-000001", belegnummer)
    page = client.get(f"/rechnungen/{belegnummer}?erfasst=1").get_data(as_text=True)
    assert "Rechnung wurde erfasst." in page and '<span id="belegnummer">' in page
    stored = api(client, f"/api/rechnungen/{belegnummer}").get_json()
    assert stored["buchungskreis"] == "1000" and stored["kostenstelle"] == "1066200"
    assert stored["rechnungsdatum"] == "2026-11-04" and stored["brutto"] == "6291.53"
    assert stored["positionen"] == 3 and stored["erfasst_von"] == USER and stored["status"] == "erfasst"
    assert stored["lieferant"] == "Lichtwerk Osthessen GmbH & Co. KG"


def test_server_side_validation_names_each_field(client):
    login(client)
    response = submit(client, buchungskreis="10", kostenstelle="", leitweg_id="06631009-66-70",
                      rechnungsdatum="31.02.2026", netto="5287.00", brutto="6.300,00", positionen="0",
                      waehrung="XXX")
    errors = errors_of(response)
    assert errors["buchungskreis"] == "Der Buchungskreis besteht aus 4 Ziffern."
    assert errors["kostenstelle"] == "Pflichtangabe fehlt."
    assert "Prüfziffer der Leitweg-ID" in errors["leitweg_id"]
    assert errors["rechnungsdatum"] == "Bitte ein Datum im Format TT.MM.JJJJ angeben."
    assert errors["netto"].startswith("Bitte einen Betrag")
    assert "positionen" in errors and "waehrung" in errors
    assert "nicht erfasst" in response.get_data(as_text=True)
    assert api(client, "/api/rechnungen").get_json()["anzahl"] == 0


def test_gross_must_be_net_plus_tax_and_due_date_not_before_the_invoice(client):
    login(client)
    errors = errors_of(submit(client, brutto="6.300,00", faelligkeit="01.11.2026"))
    assert errors["brutto"] == "Der Bruttobetrag muss Netto + Steuer ergeben (6.291,53)."
    assert errors["faelligkeit"] == "Die Fälligkeit liegt vor dem Rechnungsdatum."
    future = (date.today() + timedelta(days=3)).strftime("%d.%m.%Y")
    assert errors_of(submit(client, rechnungsdatum=future, faelligkeit=""))["rechnungsdatum"].endswith("Zukunft.")


def test_the_same_invoice_of_the_same_supplier_is_not_entered_twice(client):
    login(client)
    first = submit(client).headers["Location"].split("/rechnungen/")[1].split("?")[0]
    again = submit(client, lieferant="  LICHTWERK osthessen GmbH &  Co. KG ", rechnungsnummer="lwo-2026-3302")
    assert again.status_code == 200
    message = errors_of(again)["duplikat"]
    assert first in message and "bereits" in message
    other_supplier = submit(client, lieferant="Andere GmbH")
    assert other_supplier.status_code == 302
    assert duplicate_key("Müller  GmbH", " RE-1") == duplicate_key("MÜLLER GMBH", "re-1")


def test_search_finds_by_supplier_part_and_exact_invoice_number(client):
    login(client)
    submit(client)
    submit(client, rechnungsnummer="LWO-2026-33021")
    html = client.get("/rechnungen?lieferant=lichtwerk%20%20osthessen&rechnungsnummer=LWO-2026-3302").get_data(
        as_text=True)
    assert html.count('<td class="belegnummer">') == 1
    assert "1 Treffer" in html
    none = client.get("/rechnungen?lieferant=Lichtwerk&rechnungsnummer=LWO-2026-330").get_data(as_text=True)
    assert 'id="keine-treffer"' in none
    found = api(client, "/api/rechnungen?rechnungsnummer=lwo-2026-33021").get_json()
    assert found["anzahl"] == 1
    assert api(client, "/api/rechnungen?leitweg_id=06631009-66").get_json()["anzahl"] == 2


def test_the_api_needs_a_user(client):
    assert client.get("/api/rechnungen").status_code == 401
    assert api(client, "/api/rechnungen", password="falsch").status_code == 401
    assert api(client, "/api/rechnungen/ER-2026-999999").status_code == 404


def test_an_idle_session_ends(tmp_path):
    app = create_app({"database": tmp_path / "f.sqlite", "users": {USER: PASSWORD}, "session_timeout_s": 0.2})
    client = app.test_client()
    login(client)
    assert client.get("/rechnungen").status_code == 200
    time.sleep(0.3)
    response = client.get("/rechnungen")
    assert response.status_code == 302 and "abgelaufen=1" in response.headers["Location"]


def test_maintenance_errors_can_be_injected(tmp_path):
    app = create_app({"database": tmp_path / "f.sqlite", "error_rate": 1.0, "seed": 1})
    client = app.test_client()
    assert client.get("/anmelden").status_code == 503
    assert client.get("/status").status_code == 200


def test_the_command_line_takes_the_common_sandbox_options(tmp_path):
    args = build_parser().parse_args(["--port", "0", "--db", str(tmp_path / "x.sqlite"), "--user", "a:b",
                                      "--mandant", "Stadt Wetzlar", "--session-timeout", "60"])
    settings = settings_from_args(args)
    assert settings.users == {"a": "b"} and settings.mandant == "Stadt Wetzlar"
    assert settings.session_timeout_s == 60 and settings.database == tmp_path / "x.sqlite"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--user", "ohne-passwort"])
    with pytest.raises(ValueError, match="Unbekannte Einstellung"):
        create_app({"farbe": "grün"})


@pytest.mark.parametrize(("text", "value"), [("1.234,56", "1234.56"), ("0,5", "0.5"), ("-12,00", "-12.00"),
                                             ("1234", "1234")])
def test_german_amounts_are_parsed(text, value):
    assert parse_amount(text) == Decimal(value)


def test_bad_amounts_and_formatting():
    assert parse_amount("1,234.56") is None and parse_amount("12,345") is None
    assert format_amount(Decimal("1234567.5")) == "1.234.567,50"
    assert format_amount("-0.5") == "-0,50"


def test_leitweg_check_digits_follow_iso_7064():
    assert leitweg_check_digits("040110001234512345") == "06"
    assert leitweg_message("04011000-1234512345-06") is None
    assert leitweg_message("992-90009-96") is None
    assert "Format" in leitweg_message("0401-")
    assert "Prüfziffer" in leitweg_message("04011000-1234512345-07")


def test_validation_without_errors_returns_an_empty_mapping():
    assert validate_entry(entry(), today=date(2026, 11, 21)) == {}
