"""The German web UI: login and sessions, starting runs with uploads, run pages, worklist, admin pages.

Every state-changing form needs the session's CSRF token; refused requests change nothing.
"""

from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest
from items_world import UVG_CASE, application_mail, case_form
from rathaus_controlroom.models import AuditEntry, Credential, ItemState, Run, RunState, Schedule, WorkItem
from rathaus_controlroom.services import artifacts, items, runners, runs
from rathaus_controlroom.web import sessions
from sqlalchemy import func, select
from uihelpers import PASSWORD, Room, csrf, login, make_room, token_of


@pytest.fixture
def room(tmp_path) -> Room:
    room = make_room(tmp_path / "data")
    yield room
    room.db.dispose()


def _count(room: Room, model) -> int:
    with room.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _start(room: Room, user: str, city: str, files=(), fields: str = "", reference: str = "") -> int:
    with room.db.session() as session:
        inputs = [runs.InputItem({"feld": fields} if fields else {},
                                 tuple(runs.InputFile(name, data) for name, data in files),
                                 reference or None)] if files or fields else []
        run = runs.start_run(session, room.principals[user], room.robot(city), inputs,
                             data_dir=room.settings.data_dir)
        return run.id


# --- login, sessions, logout ------------------------------------------------------------------------------------


def test_pages_need_a_login_and_lead_back_after_it(room):
    client = room.client()
    for page in ("/", "/laeufe", "/laeufe/1", "/arbeitsliste", "/zeitplaene"):
        response = client.get(page)
        assert response.status_code == 303
        assert response.headers["location"] == f"/anmelden?weiter={page}"
    form = client.get("/anmelden?weiter=/laeufe")
    assert 'lang="de"' in form.text and '<label for="passwort">Passwort</label>' in form.text
    response = client.post("/anmelden", data={"name": "gi.clerk", "passwort": PASSWORD, "csrf_token": csrf(form.text),
                                              "weiter": "/laeufe"})
    assert (response.status_code, response.headers["location"]) == (303, "/laeufe")
    cookie = response.headers["set-cookie"]
    assert sessions.COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http in the test; https gets Secure


def test_a_wrong_password_or_a_foreign_login_form_logs_nobody_in(room):
    client = room.client()
    form = client.get("/anmelden")
    wrong = client.post("/anmelden", data={"name": "gi.clerk", "passwort": "falsch-falsch-falsch",
                                           "csrf_token": csrf(form.text)})
    assert wrong.status_code == 401
    assert "Benutzername oder Passwort falsch" in wrong.text
    assert sessions.COOKIE not in client.cookies
    foreign = room.client().post("/anmelden", data={"name": "gi.clerk", "passwort": PASSWORD, "csrf_token": "x"})
    assert foreign.status_code == 403 and "Anmeldeformular ist abgelaufen" in foreign.text
    redirect = client.post("/anmelden", data={"name": "gi.clerk", "passwort": PASSWORD,
                                              "csrf_token": csrf(form.text), "weiter": "//evil.example/"})
    assert redirect.headers["location"] == "/"


def test_the_start_page_lists_the_city_robots_with_process_owner_and_version(room):
    page = room.client("gi.clerk").get("/")
    assert page.status_code == 200
    assert "Unterhaltsvorschuss – Antragseingang" in page.text and "Posteingang" in page.text
    assert "Universitätsstadt Gießen" in page.text and "0.1.0" in page.text
    assert "Gewerbeanzeige" not in page.text  # Gießen does not adopt it
    assert f'href="/roboter/{room.robot("giessen")}/starten"' in page.text
    operator = room.client("ops").get("/")
    assert "Gewerbeanzeige" in operator.text and "Lauf starten" not in operator.text


def test_an_idle_session_expires_with_a_german_page_and_changes_nothing(tmp_path):
    room = make_room(tmp_path / "data", session_timeout_s=1)
    run_id = _start(room, "gi.clerk", "giessen")
    client = room.client("gi.clerk")
    token = token_of(client)
    time.sleep(2.2)
    page = client.get("/")
    assert page.status_code == 401
    assert "Sitzung abgelaufen" in page.text and 'href="/anmelden?weiter=/"' in page.text
    client.cookies.clear()
    login(client, "gi.clerk")
    old_token = token
    time.sleep(2.2)
    cancel = client.post(f"/laeufe/{run_id}/abbrechen", data={"csrf_token": old_token})
    assert cancel.status_code in (401, 403)
    with room.db.session() as session:
        assert session.get(Run, run_id).state is RunState.QUEUED
    room.db.dispose()


def test_logging_out_ends_the_session(room):
    client = room.client("gi.clerk")
    response = client.post("/abmelden", data={"csrf_token": token_of(client)})
    assert response.headers["location"] == "/anmelden?hinweis=abgemeldet"
    assert "Sie haben sich abgemeldet." in client.get("/anmelden?hinweis=abgemeldet").text
    assert client.get("/").status_code == 303


# --- starting runs --------------------------------------------------------------------------------------------


def test_a_clerk_starts_a_run_with_an_upload_and_fields(room):
    client = room.client("gi.clerk")
    robot = room.robot("giessen")
    form = client.get(f"/roboter/{robot}/starten")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    response = client.post(f"/roboter/{robot}/starten",
                           data={"csrf_token": csrf(form.text), "angaben": "aktenzeichen = UVG-2025-1\n",
                                 "referenz": "", "prioritaet": "10"},
                           files=[("dateien", ("antrag-1.eml", application_mail(1), "message/rfc822")),
                                  ("dateien", ("antrag-2.eml", application_mail(2), "message/rfc822"))])
    assert response.status_code == 303
    run_id = int(response.headers["location"].split("/")[2].split("?")[0])
    page = client.get(response.headers["location"])
    assert "Der Lauf wurde angelegt und wartet auf einen Runner." in page.text
    assert 'role="status"' in page.text and "0</span> von <span id=\"faelle-gesamt\">2</span>" in page.text
    assert "Geburtsurkunde.pdf" in page.text and "Lauf abbrechen" in page.text
    with room.db.session() as session:
        rows = session.scalars(select(WorkItem).where(WorkItem.run_id == run_id).order_by(WorkItem.id)).all()
        # each .eml is one case: the mail with its attachments, read as the mailbox producer reads a mail
        assert [row.reference for row in rows] == ["<antrag-1@example.org>", "<antrag-2@example.org>"]
        assert rows[0].payload == {"aktenzeichen": "UVG-2025-1", "message_id": "<antrag-1@example.org>",
                                   "absender": "antrag1@example.org", "betreff": "Antrag auf Unterhaltsvorschuss 1",
                                   "eingang": "02.11.2026", "uebersprungene_anhaenge": [], "quelle": "upload",
                                   "dateien": ["Antrag.pdf", "Geburtsurkunde.pdf"],
                                   "referenz": "<antrag-1@example.org>"}
        assert {row.priority for row in rows} == {10}
        stored = runs.item_file(room.settings.data_dir, rows[0], "Antrag.pdf")
        assert stored.read_bytes() == b"%PDF-1.4 Antrag.pdf"
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == str(run_id))) == "start_run"


def test_a_start_without_csrf_token_is_refused_and_starts_nothing(room):
    client = room.client("gi.clerk")
    robot = room.robot("giessen")
    for data in ({}, {"csrf_token": "gefaelscht"}):
        response = client.post(f"/roboter/{robot}/starten", data=data,
                               files=[("dateien", ("a.eml", b"x", "message/rfc822"))])
        assert response.status_code == 403
        assert "ohne gültiges Sicherheitsmerkmal (CSRF)" in response.text and "nichts geändert" in response.text
    other = room.client("mr.clerk")  # a valid token of another session does not count either
    response = client.post(f"/roboter/{robot}/starten", data={"csrf_token": token_of(other)})
    assert response.status_code == 403
    assert _count(room, Run) == 0 and _count(room, WorkItem) == 0


def test_oversized_and_malformed_uploads_are_refused_in_german(tmp_path):
    room = make_room(tmp_path / "data", max_upload_bytes=2048)
    client = room.client("gi.clerk")
    robot = room.robot("giessen")
    token = token_of(client)
    big = client.post(f"/roboter/{robot}/starten", data={"csrf_token": token},
                      files=[("dateien", ("gross.pdf", b"%PDF" + b"0" * 100_000, "application/pdf"))])
    assert big.status_code == 413 and "zusammen größer als 2,0 KB" in big.text
    assert "Bitte weniger oder kleinere Dateien hochladen; es wurde nichts gestartet." in big.text
    almost = client.post(f"/roboter/{robot}/starten", data={"csrf_token": token},
                         files=[("dateien", ("a.pdf", b"1" * 1500, "application/pdf")),
                                ("dateien", ("b.pdf", b"2" * 1500, "application/pdf"))])
    assert almost.status_code == 413  # together too large, though each part is below the limit
    empty = client.post(f"/roboter/{robot}/starten", data={"csrf_token": token},
                        files=[("dateien", ("leer.pdf", b"", "application/pdf"))])
    assert empty.status_code == 422 and "Die Datei &#39;leer.pdf&#39; ist leer" in empty.text
    fields = client.post(f"/roboter/{robot}/starten", data={"csrf_token": token, "angaben": "nur ein Wort"},
                         files=[("dateien", ("a.eml", b"x", "message/rfc822"))])
    assert fields.status_code == 422 and "erwartet wird &#39;Name = Wert&#39;" in fields.text
    assert "nur ein Wort" in fields.text  # the form keeps what was typed
    no_name = b"--abc\r\nContent-Disposition: form-data\r\n\r\nx\r\n--abc--\r\n"
    broken = client.post(f"/roboter/{robot}/starten", content=no_name,
                         headers={"content-type": "multipart/form-data; boundary=abc", "x-csrf-token": token})
    assert broken.status_code == 400 and "es wurde nichts geändert" in broken.text
    assert _count(room, Run) == 0 and _count(room, WorkItem) == 0
    assert not (room.settings.data_dir / "uploads").exists()
    room.db.dispose()


def test_a_duplicate_reference_is_refused_and_nothing_is_started(room):
    client = room.client("gi.clerk")
    robot = room.robot("giessen")
    data = {"csrf_token": token_of(client), "referenz": "UVG-7"}
    files = [("dateien", ("a.pdf", b"%PDF-1.4 a", "application/pdf"))]
    assert client.post(f"/roboter/{robot}/starten", data=data, files=files).status_code == 303
    again = client.post(f"/roboter/{robot}/starten", data=data, files=files)
    assert again.status_code == 409 and "UVG-7" in again.text
    assert _count(room, Run) == 1


@pytest.mark.postgres
def test_starting_and_cancelling_work_the_same_on_postgresql(tmp_path, postgres_url):
    room = make_room(tmp_path / "data", postgres_url)
    client = room.client("gi.clerk")
    response = client.post(f"/roboter/{room.robot('giessen')}/starten", data={"csrf_token": token_of(client)},
                           files=[("dateien", ("antrag.eml", application_mail(1), "message/rfc822"))])
    run_id = int(response.headers["location"].split("/")[2].split("?")[0])
    assert room.client("mr.clerk").get(f"/laeufe/{run_id}").status_code == 404
    assert "Geburtsurkunde.pdf" in client.get(f"/laeufe/{run_id}").text
    client.post(f"/laeufe/{run_id}/abbrechen", data={"csrf_token": token_of(client)})
    assert "Zur Klärung" in client.get(f"/laeufe/{run_id}").text
    room.db.dispose()


# --- run pages --------------------------------------------------------------------------------------------------


def test_the_run_history_filters_by_robot_state_and_date(room):
    first = _start(room, "gi.clerk", "giessen")
    second = _start(room, "gi.clerk", "giessen")
    with room.db.session() as session:
        runs.cancel_run(session, room.principals["gi.clerk"], second)
    client = room.client("gi.clerk")
    everything = client.get("/laeufe")
    assert "Wartet auf einen Runner" in everything.text and "Abgebrochen" in everything.text
    assert f"Lauf {first}" in everything.text and f"Lauf {second}" in everything.text
    cancelled = client.get("/laeufe?status=cancelled")
    assert f"Lauf {second}" in cancelled.text and f">Lauf {first}<" not in cancelled.text
    other_robot = client.get("/laeufe?roboter=giessen/posteingang")
    assert "0 Läufe gefunden" in other_robot.text
    future = client.get("/laeufe?von=2999-01-01")
    assert "0 Läufe gefunden" in future.text
    bad = client.get("/laeufe?von=31.12.2025")
    assert bad.status_code == 422 and "erwartet wird JJJJ-MM-TT" in bad.text


def test_another_citys_run_items_and_artifacts_are_not_found(room):
    run_id = _start(room, "gi.clerk", "giessen", files=[("antrag.eml", b"x")])
    with room.db.session() as session:
        runner, _ = runners.register_runner(session, room.principals["gi.admin"], "rechner-1")
        runners.claim(session, runner.id, "giessen")
        artifacts.store(session, room.settings.data_dir, runner.id, "giessen", run_id, "log.html",
                        _stream(b"<html><body>Protokoll</body></html>"))
        item_id = session.scalar(select(WorkItem.id).where(WorkItem.run_id == run_id))
    marburg = room.client("mr.clerk")
    token = token_of(marburg)
    for page in (f"/laeufe/{run_id}", f"/laeufe/{run_id}/artefakte/log.html", f"/arbeitsliste/{item_id}",
                 f"/roboter/{room.robot('giessen')}/starten", f"/laeufe/{run_id}/fortschritt"):
        response = marburg.get(page)
        assert response.status_code == 404, page
        assert "Nicht gefunden" in response.text or "gibt es nicht" in response.text
    assert marburg.post(f"/laeufe/{run_id}/abbrechen", data={"csrf_token": token}).status_code == 404
    with room.db.session() as session:
        assert session.get(Run, run_id).cancel_requested is False
    giessen = room.client("gi.clerk")
    page = giessen.get(f"/laeufe/{run_id}")
    assert f'href="/laeufe/{run_id}/artefakte/log.html"' in page.text and "Robot-Protokoll" in page.text
    log = giessen.get(f"/laeufe/{run_id}/artefakte/log.html")
    assert log.status_code == 200 and "Protokoll" in log.text
    assert log.headers["content-security-policy"].startswith("sandbox")
    operator = room.client("ops").get(f"/laeufe/{run_id}")
    assert operator.status_code == 200 and "antrag.eml" not in operator.text
    assert "sieht nur die Stadt" in operator.text
    assert room.client("ops").get(f"/laeufe/{run_id}/artefakte/log.html").status_code == 404


def _stream(data: bytes):
    import io

    return io.BytesIO(data)


def test_cancelling_a_queued_run_hands_its_cases_to_the_worklist(room):
    run_id = _start(room, "gi.clerk", "giessen", files=[("antrag.eml", b"x")])
    client = room.client("gi.clerk")
    response = client.post(f"/laeufe/{run_id}/abbrechen", data={"csrf_token": token_of(client)})
    assert response.headers["location"] == f"/laeufe/{run_id}?hinweis=abbruch"
    page = client.get(response.headers["location"])
    assert 'data-state="cancelled">Abgebrochen</span>' in page.text and "Lauf abbrechen" not in page.text
    again = client.post(f"/laeufe/{run_id}/abbrechen", data={"csrf_token": token_of(client)})
    assert again.status_code == 409 and "schon beendet" in again.text
    assert client.get(f"/laeufe/{run_id}/fortschritt").json()["state"] == "cancelled"


# --- worklist ---------------------------------------------------------------------------------------------------


#: the case data of a failed application: IBAN and the child's birth date are missing
MISSING = {**UVG_CASE, "antragsteller": {**UVG_CASE["antragsteller"], "iban": ""},
           "kind": {**UVG_CASE["kind"], "geburtsdatum": ""}}


def _failed_case(room: Room) -> int:
    run_id = _start(room, "gi.clerk", "giessen", fields="x", reference="UVG-9")
    with room.db.session() as session:
        item = session.scalar(select(WorkItem).where(WorkItem.run_id == run_id))
        item.payload = {"message_id": "<antrag-9@example.org>", "quelle": "postfach", "fall": MISSING}
        items.record_item_result(session, item, ItemState.FAILED_BUSINESS, "PFLICHTANGABEN_FEHLEN",
                                 "Antrag UVG-9: IBAN fehlt; Geburtsdatum des Kindes fehlt.")
        return item.id


def test_a_clerk_corrects_a_case_and_retries_it(room):
    item_id = _failed_case(room)
    client = room.client("gi.clerk")
    worklist = client.get("/arbeitsliste")
    assert "UVG-9" in worklist.text and "IBAN fehlt; Geburtsdatum des Kindes fehlt." in worklist.text
    page = client.get(f"/arbeitsliste/{item_id}")
    # the form comes from the case schema: German labels, help texts, groups as fieldsets
    assert '<label for="fall-antragsteller-iban">IBAN <span class="required">(Pflichtfeld)</span></label>' in page.text
    assert "<legend>Anderer Elternteil</legend>" in page.text and 'id="fall-antragsteller-iban-hilfe"' in page.text
    assert "Dieser Fall hat keine Datenfelder" not in page.text
    still = client.post(f"/arbeitsliste/{item_id}/wiederholen",
                        data={"csrf_token": csrf(page.text), **case_form(MISSING),
                              "fall.antragsteller.iban": "DE89 3704 0044 0532 0130 00"})
    assert still.status_code == 422 and "Kind: Geburtsdatum fehlt" in still.text
    described = 'aria-describedby="fall-kind-geburtsdatum-hilfe fall-kind-geburtsdatum-fehler" aria-invalid="true"'
    assert described in still.text
    assert 'value="DE89 3704 0044 0532 0130 00"' in still.text  # what was typed stays
    corrected = {**MISSING, "antragsteller": {**MISSING["antragsteller"], "iban": "DE89 3704 0044 0532 0130 00"},
                 "kind": UVG_CASE["kind"]}
    response = client.post(f"/arbeitsliste/{item_id}/wiederholen",
                           data={"csrf_token": csrf(page.text), **case_form(corrected)})
    assert response.headers["location"] == "/arbeitsliste?hinweis=wiederholt"
    with room.db.session() as session:
        item = session.get(WorkItem, item_id)
        assert item.state is ItemState.NEW
        assert item.payload == {"message_id": "<antrag-9@example.org>", "quelle": "postfach", "fall": corrected}
    assert "Keine offenen Fälle" in client.get("/arbeitsliste").text


def test_a_clerk_closes_a_case_only_with_a_reason(room):
    item_id = _failed_case(room)
    client = room.client("gi.clerk")
    token = token_of(client, "/arbeitsliste")
    missing = client.post(f"/arbeitsliste/{item_id}/abschliessen", data={"csrf_token": token, "grund": " "})
    assert missing.status_code == 422 and "bitte einen Grund" in missing.text
    without_csrf = client.post(f"/arbeitsliste/{item_id}/abschliessen", data={"grund": "per Post erledigt"})
    assert without_csrf.status_code == 403
    ask = client.post(f"/arbeitsliste/{item_id}/abschliessen", data={"csrf_token": token,
                                                                    "grund": "per Post erledigt"})
    assert ask.status_code == 200 and "wirklich abschließen" in ask.text  # the confirm step, without JavaScript
    assert 'name="bestaetigt" value="ja"' in ask.text and 'name="grund" value="per Post erledigt"' in ask.text
    with room.db.session() as session:
        assert session.get(WorkItem, item_id).state is ItemState.FAILED_BUSINESS
    done = client.post(f"/arbeitsliste/{item_id}/abschliessen", data={"csrf_token": token, "bestaetigt": "ja",
                                                                     "grund": "per Post erledigt"})
    assert done.status_code == 303
    with room.db.session() as session:
        item = session.get(WorkItem, item_id)
        assert (item.state, item.closed_reason) == (ItemState.DONE, "per Post erledigt")
    assert room.client("mr.clerk").get(f"/arbeitsliste/{item_id}").status_code == 404
    assert room.client("ops").get("/arbeitsliste").status_code == 403


# --- admin pages ------------------------------------------------------------------------------------------------


def test_an_admin_previews_creates_pauses_and_resumes_schedules(room):
    client = room.client("gi.admin")
    token = token_of(client, "/zeitplaene")
    robot = str(room.robot("giessen"))
    invalid = client.post("/zeitplaene", data={"csrf_token": token, "roboter": robot, "cron": "jeden Montag"})
    assert invalid.status_code == 422 and "Cron-Ausdruck &#39;jeden Montag&#39; ist ungültig" in invalid.text
    assert _count(room, Schedule) == 0
    preview = client.post("/zeitplaene", data={"csrf_token": token, "roboter": robot, "cron": "30 7 * * 1-5",
                                               "feiertage": "ja", "aktion": "vorschau"})
    assert preview.status_code == 200 and preview.text.count("07:30 Uhr</li>") == 5
    assert _count(room, Schedule) == 0
    saved = client.post("/zeitplaene", data={"csrf_token": token, "roboter": robot, "cron": "30 7 * * 1-5",
                                             "feiertage": "ja"})
    assert saved.headers["location"] == "/zeitplaene?hinweis=zeitplan"
    with room.db.session() as session:
        schedule_id = session.scalar(select(Schedule.id))
    page = client.get("/zeitplaene")
    assert "<code>30 7 * * 1-5</code>" in page.text and "werden übersprungen" in page.text
    client.post(f"/zeitplaene/{schedule_id}/pausieren", data={"csrf_token": token})
    assert "Pausiert" in client.get("/zeitplaene").text
    client.post(f"/zeitplaene/{schedule_id}/fortsetzen", data={"csrf_token": token})
    with room.db.session() as session:
        assert session.get(Schedule, schedule_id).paused is False
    assert room.client("gi.clerk").get("/zeitplaene").status_code == 403
    marburg = room.client("mr.admin")
    refused = marburg.post(f"/zeitplaene/{schedule_id}/pausieren", data={"csrf_token": token_of(marburg)})
    assert refused.status_code == 404


def test_credentials_are_saved_and_never_shown_again(room):
    client = room.client("gi.admin")
    token = token_of(client, "/zugangsdaten")
    bad = client.post("/zugangsdaten", data={"csrf_token": token, "name": "kleines passwort", "wert": "geheim"})
    assert bad.status_code == 422 and _count(room, Credential) == 0
    response = client.post("/zugangsdaten", data={"csrf_token": token, "name": "GIESSEN_UVG_PASSWORT",
                                                  "wert": "Sehr-Geheim-4711"})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "GIESSEN_UVG_PASSWORT" in page.text and "Sehr-Geheim-4711" not in page.text
    assert "Der Wert wird nicht mehr angezeigt" in page.text
    assert room.client("gi.clerk").get("/zugangsdaten").status_code == 403
    assert "GIESSEN_UVG_PASSWORT" not in room.client("mr.admin").get("/zugangsdaten").text


def test_admins_register_runners_and_see_the_token_once(room):
    client = room.client("gi.admin")
    response = client.post("/runner", data={"csrf_token": token_of(client, "/runner"), "name": "rechner-7"})
    assert response.status_code == 201 and "nur jetzt" in response.text
    token = response.text.split('id="runner-token">')[1].split("<")[0]
    assert token.startswith("rr_")
    later = client.get("/runner")
    assert "rechner-7" in later.text and token not in later.text
    assert room.client("mr.admin").get("/runner").text.count("rechner-7") == 0
    assert room.client("gi.clerk").get("/runner").status_code == 403


def test_the_audit_log_shows_who_did_what_to_city_admins_only(room):
    _start(room, "gi.clerk", "giessen")
    page = room.client("gi.admin").get("/protokoll")
    assert page.status_code == 200 and "Lauf gestartet" in page.text and "gi.clerk" in page.text
    assert "Lauf gestartet" not in room.client("mr.admin").get("/protokoll").text
    assert room.client("gi.clerk").get("/protokoll").status_code == 403


def test_admins_add_users_of_their_own_city(room):
    client = room.client("gi.admin")
    token = token_of(client, "/benutzer")
    short = client.post("/benutzer", data={"csrf_token": token, "name": "neu.clerk", "rolle": "clerk",
                                           "passwort": "kurz"})
    assert short.status_code == 422 and "zu kurz" in short.text and 'value="neu.clerk"' in short.text
    operator = client.post("/benutzer", data={"csrf_token": token, "name": "neu.ops", "rolle": "operator",
                                              "passwort": PASSWORD})
    assert operator.status_code == 403
    created = client.post("/benutzer", data={"csrf_token": token, "name": "neu.clerk", "rolle": "clerk",
                                             "passwort": PASSWORD})
    assert created.headers["location"] == "/benutzer?hinweis=benutzer"
    page = client.get("/benutzer")
    assert "neu.clerk" in page.text and "Sachbearbeitung" in page.text and "mr.clerk" not in page.text
    login(room.client(), "neu.clerk")
    assert room.client("gi.clerk").get("/benutzer").status_code == 403


def test_process_owners_see_counts_of_adopting_cities_but_no_cases(room):
    _start(room, "gi.clerk", "giessen", files=[("antrag-wetzlar.eml", b"x")])
    page = room.client("gi.owner").get("/statistik")
    assert page.status_code == 200 and "unterhaltsvorschuss" in page.text
    assert "Wartet auf einen Runner" in page.text and "antrag-wetzlar.eml" not in page.text
    assert room.client("gi.clerk").get("/statistik").status_code == 200  # their own city's counts


# --- accessibility ----------------------------------------------------------------------------------------------


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[str] = []
        self.labels: set[str] = set()
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.lang = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag in ("input", "select", "textarea") and values.get("type") not in ("hidden", "submit"):
            self.inputs.append(values.get("id", "?"))
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"])
        if tag in ("h1", "h2", "h3", "h4"):
            self.headings.append(int(tag[1]))
        if tag == "th" and "scope" not in values:
            self.th_without_scope += 1


@pytest.mark.parametrize(("user", "pages"), [
    ("gi.clerk", ["/", "/laeufe", "/arbeitsliste", "/laeufe/{run}", "/roboter/{robot}/starten",
                  "/arbeitsliste/{item}"]),
    ("gi.admin", ["/zeitplaene", "/zugangsdaten", "/runner", "/protokoll", "/arbeitsliste", "/benutzer"]),
    ("gi.owner", ["/statistik", "/laeufe"]),
    ("ops", ["/", "/laeufe", "/runner", "/protokoll", "/benutzer", "/statistik", "/gibt-es-nicht"]),
    (None, ["/anmelden"]),
])
def test_every_page_is_german_labelled_and_ordered(room, user, pages):
    item = _failed_case(room)
    run = _start(room, "gi.clerk", "giessen")
    client = room.client(user)
    for page in pages:
        response = client.get(page.format(run=run, robot=room.robot("giessen"), item=item))
        parser = _Form()
        parser.feed(response.text)
        assert parser.lang == "de", page
        assert 'class="skip-link" href="#inhalt"' in response.text
        assert set(parser.inputs) <= parser.labels, (page, set(parser.inputs) - parser.labels)
        assert parser.headings and parser.headings[0] == 1, page
        assert all(b - a <= 1 for a, b in zip(parser.headings, parser.headings[1:], strict=False)), page
        assert parser.th_without_scope == 0, page
        assert "http://" not in response.text.replace("http://testserver", ""), page  # nothing external


def test_a_cut_off_upload_in_the_start_form_starts_nothing(room):
    client = room.client("gi.clerk")
    robot = room.robot("giessen")
    token = token_of(client)
    body = (f'--grenze\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--grenze\r\nContent-Disposition: form-data; name="dateien"; filename="antrag.pdf"\r\n'
            'Content-Type: application/pdf\r\n\r\n%PDF-1.4 Antrag auf Unterhal').encode()
    cut = client.post(f"/roboter/{robot}/starten", content=body,
                      headers={"content-type": "multipart/form-data; boundary=grenze"})
    assert cut.status_code == 422
    assert "Der Upload ist unvollständig angekommen – bitte erneut hochladen; es wurde nichts gestartet." in cut.text
    assert _count(room, Run) == 0 and _count(room, WorkItem) == 0
    assert not (room.settings.data_dir / "uploads").exists()
    whole = client.post(f"/roboter/{robot}/starten", content=body + b"tsvorschuss\r\n--grenze--\r\n",
                        headers={"content-type": "multipart/form-data; boundary=grenze"})
    assert whole.status_code == 303, whole.text
    assert _count(room, WorkItem) == 1


def test_the_run_page_links_uploads_and_artifacts_download_safely(room):
    run_id = _start(room, "gi.clerk", "giessen", files=[("antrag.eml", b"From: a@example.org\r\n\r\nText")])
    with room.db.session() as session:
        runner, _ = runners.register_runner(session, room.principals["gi.admin"], "rechner-1")
        runners.claim(session, runner.id, "giessen")
        for name, data in (("log.html", b"<html><body>Protokoll</body></html>"), ("brief.pdf", b"%PDF-1.4")):
            artifacts.store(session, room.settings.data_dir, runner.id, "giessen", run_id, name, _stream(data))
        item_id = session.scalar(select(WorkItem.id).where(WorkItem.run_id == run_id))
    client = room.client("gi.clerk")
    link = f"/api/runs/{run_id}/inputs/{item_id}/files/antrag.eml"
    assert f'href="{link}"' in client.get(f"/laeufe/{run_id}").text
    upload = client.get(link)
    assert upload.status_code == 200 and upload.content.endswith(b"Text")
    assert upload.headers["content-disposition"].startswith("attachment")
    log = client.get(f"/laeufe/{run_id}/artefakte/log.html")
    assert log.headers["content-disposition"].startswith("inline")
    assert (log.headers["x-content-type-options"], log.headers["content-security-policy"]) == (
        "nosniff", "sandbox allow-scripts allow-popups allow-downloads")
    letter = client.get(f"/laeufe/{run_id}/artefakte/brief.pdf")
    assert letter.headers["content-disposition"].startswith("attachment")
    assert letter.headers["content-security-policy"].startswith("sandbox")
    assert room.client("mr.clerk").get(link).status_code == 404


def test_a_refused_close_or_retry_keeps_what_the_clerk_typed(room):
    item_id = _failed_case(room)
    client = room.client("gi.clerk")
    token = token_of(client, f"/arbeitsliste/{item_id}")
    missing = client.post(f"/arbeitsliste/{item_id}/abschliessen", data={"csrf_token": token, "grund": "   "})
    assert missing.status_code == 422 and "bitte einen Grund für das Abschließen angeben" in missing.text
    assert '<textarea id="grund"' in missing.text and "Fall abschließen" in missing.text  # the form, not an error page
    bad = client.post(f"/arbeitsliste/{item_id}/wiederholen",
                      data={"csrf_token": token, **case_form(MISSING), "fall.antragsteller.plz": "353"})
    assert bad.status_code == 422 and "Postleitzahl &#39;353&#39; hat nicht die richtige Form" in bad.text
    assert 'value="353"' in bad.text and 'value="Beispiel"' in bad.text
    with room.db.session() as session:
        assert session.get(WorkItem, item_id).state is ItemState.FAILED_BUSINESS


def test_a_user_without_city_is_refused_in_neutral_words(room):
    client = room.client("ops")
    answer = client.post("/benutzer", data={"csrf_token": token_of(client, "/benutzer"), "name": "neu.person",
                                            "rolle": "clerk", "passwort": PASSWORD})
    assert answer.status_code == 422 and "Bitte eine Stadt angeben" in answer.text
    assert "--city" not in answer.text
