"""The sandbox Gewerberegister through Flask's test client: login, CSRF, timeout, validation, duplicates,
search, Ummeldung, Abmeldung, JSON API and the command line."""

from __future__ import annotations

import base64
import re
import time
from datetime import date, timedelta

import pytest
from rathaus_sandbox.gewerberegister import create_app, store_of
from rathaus_sandbox.gewerberegister.__main__ import build_parser, settings_from_args
from rathaus_sandbox.gewerberegister.settings import Settings
from rathaus_sandbox.gewerberegister.validation import validate_abmeldung, validate_anmeldung, validate_ummeldung

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
USER, PASSWORD = "robot.offenbach", "Geheim-Passwort-4711"
MANDANT = "Stadt Offenbach am Main"


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).strftime("%d.%m.%Y")


def anmeldung(**overrides: str) -> dict[str, str]:
    """A complete, valid Anmeldung as a browser would submit it."""
    values = {
        "inhaber_name": "Öztürk", "inhaber_vorname": "Ayşe", "inhaber_geschlecht": "w",
        "inhaber_geburtsdatum": "17.06.1969", "inhaber_geburtsort": "Izmir", "inhaber_staatsangehoerigkeit": "türkisch",
        "inhaber_strasse": "Waldstraße 66", "inhaber_plz": "63065", "inhaber_ort": "Offenbach am Main",
        "betrieb_name": "Feinkost am Markt", "betrieb_rechtsform": "Einzelunternehmen",
        "betrieb_strasse": "Frankfurter Straße 58", "betrieb_plz": "63065", "betrieb_ort": "Offenbach am Main",
        "betrieb_taetigkeit": "Einzelhandel mit Lebensmitteln", "betrieb_art": "handel", "betrieb_beschaeftigte": "2",
        "betrieb_beginn": _day(-14), "anmeldung_grund": "neugruendung",
        "eingang_datum": _day(-1), "eingang_kanal": "email", "eingang_referenz": "<a-1@example.org>",
    }
    values.update(overrides)
    return values


def ummeldung(**overrides: str) -> dict[str, str]:
    values = {
        "ummeldung_art": "verlegung", "ummeldung_datum": _day(-5), "betrieb_strasse": "Marktplatz 1",
        "betrieb_plz": "63065", "betrieb_ort": "Offenbach am Main",
        "betrieb_taetigkeit": "Einzelhandel mit Lebensmitteln", "betrieb_art": "handel", "betrieb_beschaeftigte": "2",
        "eingang_datum": _day(-1), "eingang_kanal": "email", "eingang_referenz": "<u-1@example.org>",
    }
    values.update(overrides)
    return values


@pytest.fixture
def app(tmp_path):
    return create_app({"database": tmp_path / "register.sqlite", "users": {USER: PASSWORD}, "mandant": MANDANT,
                       "secret_key": "test-secret"})


@pytest.fixture
def client(app):
    return app.test_client()


def token(client, path="/anmelden") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user=USER, password=PASSWORD):
    return client.post("/anmelden", data={"benutzername": user, "passwort": password, "csrf_token": token(client)})


def post(client, path, values):
    return client.post(path, data={**values, "csrf_token": token(client, "/betriebe")})


def errors_of(response) -> dict[str, str]:
    html = response.get_data(as_text=True)
    fields = dict(re.findall(r'<div class="fehler" data-feld="([^"]+)"[^>]*>([^<]+)</div>', html))
    fields.update(re.findall(r'<li class="fehler" data-feld="([^"]+)">([^<]+)</li>', html))
    return fields


def register(client, **overrides) -> str:
    response = post(client, "/betriebe/neu", anmeldung(**overrides))
    assert response.status_code == 302, errors_of(response)
    return response.headers["Location"].split("/")[2].split("?")[0]


@pytest.fixture
def logged_in(client):
    assert login(client).status_code == 302
    return client


def test_status_answers_without_login_and_names_the_mandant(client):
    data = client.get("/status").get_json()
    assert data == {"status": "ok", "dienst": "Gewerberegister (Sandbox)", "mandant": MANDANT}


def test_pages_need_a_login_and_the_login_page_is_german(client):
    response = client.get("/betriebe")
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]
    html = client.get("/anmelden").get_data(as_text=True)
    assert "Anmeldung am Gewerberegister" in html and MANDANT in html and 'lang="de"' in html


def test_wrong_password_is_refused_with_a_german_message(client):
    response = login(client, password="falsch")
    assert "Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch." in response.get_data(as_text=True)
    assert client.get("/betriebe").status_code == 302


def test_posts_without_the_csrf_token_are_rejected(logged_in):
    response = logged_in.post("/betriebe/neu", data=anmeldung())
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert store_of(logged_in.application).all() == []


def test_the_session_ends_after_the_timeout(tmp_path):
    app = create_app({"database": tmp_path / "r.sqlite", "users": {USER: PASSWORD}, "session_timeout_s": 0.2})
    client = app.test_client()
    login(client)
    assert client.get("/betriebe").status_code == 200
    time.sleep(0.3)
    response = client.get("/betriebe")
    assert response.status_code == 302 and "abgelaufen=1" in response.headers["Location"]
    assert "Ihre Sitzung ist abgelaufen" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_anmeldung_gets_a_register_number_and_its_vorgang(logged_in):
    number = register(logged_in)
    assert re.fullmatch(rf"GEW-{date.today().year}-00001", number)
    page = logged_in.get(f"/betriebe/{number}?erfolg=angelegt").get_data(as_text=True)
    assert "Der Eintrag wurde angelegt." in page and "&lt;a-1@example.org&gt;" in page
    assert re.search(r'id="erstellt_am">\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} Uhr<', page)
    entry = store_of(logged_in.application).get(number)
    assert entry["inhaber_vorname"] == "Ayşe" and entry["status"] == "angemeldet"
    assert [v["art"] for v in entry["vorgaenge"]] == ["Anmeldung"]
    assert entry["vorgaenge"][0]["eingang_referenz"] == "<a-1@example.org>"


def test_missing_and_malformed_fields_are_named_on_their_tab(logged_in):
    response = post(logged_in, "/betriebe/neu", anmeldung(inhaber_name="", betrieb_plz="6306",
                                                          betrieb_beschaeftigte="zwei", betrieb_art=""))
    errors = errors_of(response)
    assert errors["inhaber_name"] == "Bitte füllen Sie das Pflichtfeld „Name“ aus."
    assert errors["betrieb_plz"] == "Die Postleitzahl muss aus genau 5 Ziffern bestehen."
    assert errors["betrieb_beschaeftigte"] == "Bitte geben Sie eine ganze Zahl ab 0 an."
    assert errors["betrieb_art"] == "Bitte wählen Sie „Art des Betriebs“ aus."
    assert 'id="tab-inhaber"' in response.get_data(as_text=True)
    assert store_of(logged_in.application).all() == []


def test_the_same_anmeldung_is_refused_as_a_duplicate(logged_in):
    number = register(logged_in)
    response = post(logged_in, "/betriebe/neu", anmeldung(inhaber_name="ÖZTÜRK", eingang_referenz="<a-2@x>"))
    assert number in errors_of(response)["duplikat"]
    assert len(store_of(logged_in.application).all()) == 1
    register(logged_in, betrieb_beginn=_day(-13))  # another start is another Anmeldung


def test_search_is_a_post_exact_or_by_prefix_and_counts_hits(logged_in):
    register(logged_in)
    register(logged_in, betrieb_name="Feinkost am Markt Zweigstelle", betrieb_strasse="Waldstraße 1")
    prefix = post(logged_in, "/betriebe", {"inhaber_name": "öztürk", "betrieb_name": "Feinkost am Markt"})
    assert re.search(r'id="trefferzahl">2<', prefix.get_data(as_text=True))
    exact = post(logged_in, "/betriebe", {"inhaber_name": "öztürk", "betrieb_name": "Feinkost am Markt",
                                          "suchart": "genau"})
    html = exact.get_data(as_text=True)
    assert re.search(r'id="trefferzahl">1<', html)
    assert re.search(r'<td class="registernummer"><a [^>]+>GEW-\d{4}-00001</a>', html)
    none = post(logged_in, "/betriebe", {"inhaber_name": "Niemand"})
    assert 'id="trefferzahl">0<' in none.get_data(as_text=True) and 'id="keine-treffer"' in none.get_data(as_text=True)


def test_an_ummeldung_changes_the_entry_and_records_what_changed(logged_in):
    number = register(logged_in)
    form = logged_in.get(f"/betriebe/{number}/ummeldung").get_data(as_text=True)
    assert 'value="Frankfurter Straße 58"' in form  # the form starts with the current values
    response = post(logged_in, f"/betriebe/{number}/ummeldung", ummeldung())
    assert response.status_code == 302
    entry = store_of(logged_in.application).get(number)
    assert entry["betrieb_strasse"] == "Marktplatz 1"
    last = entry["vorgaenge"][-1]
    assert last["art"] == "Ummeldung" and last["wirksam_ab"] == _day(-5)
    assert "Frankfurter Straße 58 → Marktplatz 1" in last["beschreibung"]


def test_the_same_ummeldung_is_not_recorded_twice_nor_one_that_changes_nothing(logged_in):
    number = register(logged_in)
    post(logged_in, f"/betriebe/{number}/ummeldung", ummeldung())
    again = post(logged_in, f"/betriebe/{number}/ummeldung", ummeldung())
    assert "bereits als Ummeldung" in errors_of(again)["duplikat"]
    nothing = post(logged_in, f"/betriebe/{number}/ummeldung", ummeldung(eingang_referenz="<u-2@x>"))
    assert "ändert keine Angabe" in errors_of(nothing)["ummeldung_art"]
    assert len(store_of(logged_in.application).get(number)["vorgaenge"]) == 2


def test_an_abmeldung_before_the_start_is_refused_and_a_valid_one_closes_the_entry(logged_in):
    number = register(logged_in)
    received = {"eingang_datum": _day(-1), "eingang_kanal": "email"}
    early = post(logged_in, f"/betriebe/{number}/abmeldung",
                 {"abmeldung_datum": _day(-30), "abmeldung_grund": "aufgabe", **received})
    assert "vor dem Beginn der Tätigkeit" in errors_of(early)["abmeldung_datum"]
    done = post(logged_in, f"/betriebe/{number}/abmeldung",
                {"abmeldung_datum": _day(-2), "abmeldung_grund": "aufgabe", **received})
    assert done.status_code == 302
    page = logged_in.get(f"/betriebe/{number}").get_data(as_text=True)
    assert 'id="status">abgemeldet<' in page and f'id="abmeldung_datum" data-feld="abmeldung_datum">{_day(-2)}<' in page
    assert 'id="ummeldung"' not in page
    closed_again = post(logged_in, f"/betriebe/{number}/ummeldung", ummeldung())
    assert "abgemeldet" in errors_of(closed_again)["status"]


def test_unknown_register_numbers_give_a_german_404(logged_in):
    response = logged_in.get("/betriebe/GEW-2000-99999")
    assert response.status_code == 404 and "existiert nicht" in response.get_data(as_text=True)


def test_the_json_api_needs_basic_auth_and_lists_entries_with_history(logged_in):
    number = register(logged_in)
    anonymous = logged_in.application.test_client().get("/api/betriebe")
    assert anonymous.status_code == 401
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    data = logged_in.application.test_client().get("/api/betriebe", headers={"Authorization": f"Basic {auth}"})
    body = data.get_json()
    assert body["anzahl"] == 1 and body["betriebe"][0]["registernummer"] == number
    assert body["betriebe"][0]["vorgaenge"][0]["art"] == "Anmeldung"
    one = logged_in.get(f"/api/betriebe/{number}").get_json()
    assert one["betrieb_name"] == "Feinkost am Markt"
    assert logged_in.get("/api/betriebe/GEW-1-1").status_code == 404


def test_validation_rules_for_minors_registers_and_implausible_dates():
    minor = validate_anmeldung(anmeldung(inhaber_geburtsdatum=_day(-365 * 16)))
    assert "minderjährig" in minor["inhaber_geburtsdatum"]
    assert "Registergericht" in validate_anmeldung(anmeldung(betrieb_registernummer="HRB 12345"))[
        "betrieb_registergericht"]
    assert "Form" in validate_anmeldung(anmeldung(betrieb_registergericht="AG Offenbach",
                                                  betrieb_registernummer="12345"))["betrieb_registernummer"]
    assert "Zukunft" in validate_anmeldung(anmeldung(betrieb_beginn=_day(400)))["betrieb_beginn"]
    assert "Zukunft" in validate_anmeldung(anmeldung(eingang_datum=_day(1)))["eingang_datum"]
    entry = {"status": "angemeldet", "betrieb_beginn": _day(-14), **{k: v for k, v in anmeldung().items()}}
    assert "vor dem Beginn" in validate_ummeldung(ummeldung(ummeldung_datum=_day(-20)), entry)["ummeldung_datum"]
    assert validate_abmeldung({"abmeldung_datum": _day(-1), "abmeldung_grund": "tod", "eingang_datum": _day(-1),
                               "eingang_kanal": "post"}, entry) == {}


def test_command_line_settings_and_unknown_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RATHAUS_GEWERBEREGISTER_MANDANT", "Stadt Fulda")
    args = build_parser().parse_args(["--db", str(tmp_path / "x.sqlite"), "--user", "a:b", "--session-timeout", "60"])
    settings = settings_from_args(args)
    assert settings.users == {"a": "b"} and settings.session_timeout_s == 60 and settings.mandant == "Stadt Fulda"
    with pytest.raises(ValueError, match="Unbekannte Einstellung"):
        Settings.from_mapping({"datenbank": "x"})
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--user", "ohne-passwort"])
