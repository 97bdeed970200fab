"""The sandbox UVG-Fachverfahren through Flask's test client: login, CSRF, timeout, validation, search, API."""

from __future__ import annotations

import base64
import re
import time

import pytest
from rathaus_sandbox.fachverfahren import create_app
from rathaus_sandbox.fachverfahren.validation import iban_is_valid, parse_amount
from support.sandbox import MANDANT, PASSWORD, USER, sandbox_settings, valid_case

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(tmp_path):
    return create_app(sandbox_settings(tmp_path))


@pytest.fixture
def client(app):
    return app.test_client()


def csrf(client, path="/anmelden"):
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user=USER, password=PASSWORD):
    token = csrf(client)
    return client.post("/anmelden", data={"benutzername": user, "passwort": password, "csrf_token": token})


def submit_case(client, **overrides):
    token = csrf(client, "/faelle/neu")
    return client.post("/faelle/neu", data={**valid_case(**overrides), "csrf_token": token})


def errors_of(response) -> dict[str, str]:
    html = response.get_data(as_text=True)
    return dict(re.findall(r'<div class="fehler" data-feld="([^"]+)"[^>]*>([^<]+)</div>', html))


def test_login_page_shows_mandant_and_asks_for_login(client):
    page = client.get("/faelle")
    assert page.status_code == 302
    assert "/anmelden" in page.headers["Location"]
    html = client.get("/anmelden").get_data(as_text=True)
    assert MANDANT in html
    assert 'for="benutzername"' in html and 'for="passwort"' in html


def test_login_with_right_password_opens_the_case_search(client):
    response = login(client)
    assert response.status_code == 302
    page = client.get("/faelle")
    assert page.status_code == 200
    assert USER in page.get_data(as_text=True)


def test_wrong_password_shows_german_message(client):
    response = login(client, password="falsch")
    assert response.status_code == 200
    assert "Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch." in response.get_data(as_text=True)
    assert client.get("/faelle").status_code == 302


def test_post_without_or_with_wrong_csrf_token_is_rejected(client):
    csrf(client)
    missing = client.post("/anmelden", data={"benutzername": USER, "passwort": PASSWORD})
    assert missing.status_code == 400
    assert "CSRF" in missing.get_data(as_text=True)
    wrong = client.post("/anmelden", data={"benutzername": USER, "passwort": PASSWORD, "csrf_token": "x"})
    assert wrong.status_code == 400


def test_session_expires_after_idle_time(tmp_path):
    client = create_app(sandbox_settings(tmp_path, session_timeout_s=0.3)).test_client()
    login(client)
    assert client.get("/faelle").status_code == 200
    time.sleep(0.5)
    response = client.get("/faelle/neu")
    assert response.status_code == 302
    assert "abgelaufen=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an." in page


def test_logout_ends_the_session(client):
    login(client)
    token = csrf(client, "/faelle")
    assert "Sie wurden abgemeldet." in client.post("/abmelden", data={"csrf_token": token}).get_data(as_text=True)
    assert client.get("/faelle").status_code == 302


def test_new_case_form_has_all_tabs_and_labelled_fields(client):
    login(client)
    html = client.get("/faelle/neu").get_data(as_text=True)
    for tab in ("Antragsteller:in", "Kind", "Anderer Elternteil", "Einkommen des Kindes",
                "Leistung &amp; Bankverbindung", "Anlagen &amp; Bemerkungen"):
        assert tab in html
    assert html.count("<form id=\"fall-neu\"") == 1
    for name in ("antragsteller_name", "kind_geburtsdatum", "antragsteller_iban", "bemerkungen", "anlage_datei"):
        assert f'<label for="{name}">' in html
    assert 'type="radio" id="kind_geschlecht_w"' in html
    assert '<select id="antragsteller_familienstand"' in html
    assert 'enctype="multipart/form-data"' in html


def test_valid_case_is_stored_with_aktenzeichen(client, app):
    login(client)
    response = submit_case(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fall wurde angelegt." in page
    aktenzeichen = re.search(r'<span id="aktenzeichen">(UVG-\d{4}-\d{6})</span>', page).group(1)
    case = app.extensions["rathaus_store"].get(aktenzeichen)
    assert case["kind_vorname"] == "Lea"
    assert case["antragsteller_iban"] == "DE89370400440532013000"
    assert case["antragsteller_lebt_mit_kind"] is True
    assert case["anlagen_unterhaltstitel"] is False
    assert case["erstellt_von"] == USER
    assert case["erstellt_am"]


def test_validation_messages_per_field_and_summary(client):
    login(client)
    response = submit_case(
        client,
        antragsteller_name="",
        antragsteller_plz="3539",
        kind_geburtsdatum="31.02.2018",
        antragsteller_iban="DE00 3704 0044 0532 0130 00",
        einkommen_unterhalt="12.5",
        antragsteller_familienstand="",
        antragsteller_lebt_mit_kind="",
        erklaerung_datum="01.01.2999",
    )
    assert response.status_code == 200
    errors = errors_of(response)
    assert errors["antragsteller_name"] == "Bitte füllen Sie das Pflichtfeld „Name“ aus."
    assert "5 Ziffern" in errors["antragsteller_plz"]
    assert "TT.MM.JJJJ" in errors["kind_geburtsdatum"]
    assert "IBAN" in errors["antragsteller_iban"]
    assert "123,45" in errors["einkommen_unterhalt"]
    assert "Familienstand" in errors["antragsteller_familienstand"]
    assert "lebt" in errors["antragsteller_lebt_mit_kind"]
    assert "Zukunft" in errors["erklaerung_datum"]
    html = response.get_data(as_text=True)
    assert 'id="fehlerliste"' in html
    assert "Bitte korrigieren Sie 8 Angaben" in html


def test_child_must_be_under_18_at_benefit_start(client):
    login(client)
    errors = errors_of(submit_case(client, kind_geburtsdatum="15.12.2007", leistung_beginn="01.2026"))
    assert "18 Jahre" in errors["kind_geburtsdatum"]


def test_anschrift_required_when_known(client):
    login(client)
    errors = errors_of(submit_case(client, elternteil_anschrift=""))
    assert "Anschrift" in errors["elternteil_anschrift"]
    assert submit_case(client, elternteil_anschrift="", elternteil_anschrift_bekannt="nein").status_code == 302


def test_duplicate_case_names_the_existing_aktenzeichen(client):
    login(client)
    first = submit_case(client)
    aktenzeichen = first.headers["Location"].split("/faelle/")[1].split("?")[0]
    second = submit_case(client, antragsteller_name="MÜLLER", bemerkungen="zweiter Versuch")
    html = second.get_data(as_text=True)
    assert second.status_code == 200
    assert f"bereits den Fall {aktenzeichen}" in html
    assert 'data-feld="duplikat"' in html
    other_child = submit_case(client, kind_vorname="Mia")
    assert other_child.status_code == 302


def test_search_by_names_birth_date_and_aktenzeichen(client):
    login(client)
    submit_case(client)
    submit_case(client, antragsteller_name="Schmidt", kind_name="Schmidt", kind_vorname="Ömer",
                kind_geburtsdatum="05.06.2019")
    html = client.get("/faelle", query_string={"kind_vorname": "ömer"}).get_data(as_text=True)
    assert "Schmidt, Ömer" in html and "Müller, Lea" not in html
    html = client.get("/faelle", query_string={"antragsteller_name": "Mül"}).get_data(as_text=True)
    assert "Müller, Jürgen" in html and "Schmidt" not in html
    html = client.get("/faelle", query_string={"kind_geburtsdatum": "03.04.2018"}).get_data(as_text=True)
    assert "Müller, Lea" in html
    html = client.get("/faelle", query_string={"aktenzeichen": "UVG-"}).get_data(as_text=True)
    assert html.count("data-aktenzeichen=") == 2
    html = client.get("/faelle", query_string={"kind_name": "Niemand"}).get_data(as_text=True)
    assert "Keine Fälle gefunden." in html


def test_case_detail_page_and_unknown_case(client):
    login(client)
    location = submit_case(client).headers["Location"]
    detail = client.get(location.split("?")[0]).get_data(as_text=True)
    assert "Frankfurter Straße 12" in detail
    assert "Fall wurde angelegt." not in detail
    assert client.get("/faelle/UVG-1999-000999").status_code == 404


def test_api_lists_cases_for_session_or_basic_auth(client, app):
    assert client.get("/api/faelle").status_code == 401
    login(client)
    submit_case(client)
    data = client.get("/api/faelle").get_json()
    assert data["anzahl"] == 1
    case = data["faelle"][0]
    assert case["kind_name"] == "Müller"
    assert case["aktenzeichen"].startswith("UVG-")
    assert case["antragsteller_lebt_mit_kind"] is True
    other = app.test_client()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert other.get("/api/faelle", headers={"Authorization": f"Basic {auth}"}).get_json()["anzahl"] == 1
    wrong = base64.b64encode(f"{USER}:nein".encode()).decode()
    assert other.get("/api/faelle", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    single = other.get(f"/api/faelle/{case['aktenzeichen']}", headers={"Authorization": f"Basic {auth}"})
    assert single.get_json()["kind_vorname"] == "Lea"


def test_error_rate_is_reproducible_with_a_seed(tmp_path):
    def statuses(seed):
        client = create_app(sandbox_settings(tmp_path, error_rate=0.5, seed=seed)).test_client()
        return [client.get("/anmelden").status_code for _ in range(40)]

    first = statuses(7)
    assert first == statuses(7)
    assert 5 < first.count(503) < 35
    client = create_app(sandbox_settings(tmp_path, error_rate=1.0)).test_client()
    page = client.get("/anmelden")
    assert page.status_code == 503
    assert "Wartungsarbeiten" in page.get_data(as_text=True)
    assert client.get("/status").status_code == 200


def test_delay_slows_each_request(tmp_path):
    client = create_app(sandbox_settings(tmp_path, delay_ms=120)).test_client()
    start = time.perf_counter()
    client.get("/anmelden")
    assert time.perf_counter() - start >= 0.12


def test_exercise_form_has_40_fields_and_echoes_values(client):
    html = client.get("/uebung/formular-40").get_data(as_text=True)
    assert len(re.findall(r'name="feld_\d\d"', html)) == 40
    assert "<select" in html
    token = CSRF.search(html).group(1)
    result = client.post("/uebung/formular-40", data={
        "csrf_token": token, "feld_01": "Müller", "feld_11": "HE",
        "_ereignisse": '{"feld_01": {"input": 1, "change": 1}}'})
    text = result.get_data(as_text=True)
    assert 'id="ergebnis"' in text
    assert "Müller" in text and '"feld_11": "HE"' in text.replace("\\u00fc", "ü")


def test_unknown_setting_is_refused(tmp_path):
    with pytest.raises(ValueError, match="timeout"):
        create_app({"timeout": 5})


def test_iban_and_amount_rules():
    assert iban_is_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_is_valid("DE89 3704 0044 0532 0130 01")
    assert not iban_is_valid("DE89")
    assert parse_amount("1.234,56") is not None
    assert parse_amount("123,45") is not None
    assert parse_amount("12.5") is None


def test_spawned_sandbox_answers_and_stops(tmp_path):
    import json
    import urllib.request

    from rathaus_sandbox.server import spawn_sandbox

    with spawn_sandbox(database=tmp_path / "fv.sqlite", users={USER: PASSWORD}, mandant=MANDANT) as server:
        with urllib.request.urlopen(server.url + "status") as response:
            assert json.load(response)["mandant"] == MANDANT
        process = server.process
    assert process.poll() is not None
    assert (tmp_path / "fv.sqlite").exists()


def test_threaded_sandbox_serves_on_a_free_port(tmp_path):
    import urllib.request

    from rathaus_sandbox.server import start_sandbox

    with start_sandbox(sandbox_settings(tmp_path)) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url + "anmelden") as response:
            assert MANDANT in response.read().decode()
        assert server.database == tmp_path / "fachverfahren.sqlite"
