"""Hardening: validation errors never echo values, logins are throttled, deactivated users are locked out at once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from items_world import PASSWORD, api_client, build_world
from rathaus_controlroom.models import ApiToken, AuditEntry, LoginFailure, User
from rathaus_controlroom.services import admin, logins
from rathaus_controlroom.services.errors import Conflict, Forbidden, NotFound, Unauthenticated
from sqlalchemy import select
from uihelpers import csrf, login, make_room, token_of

SECRET = "Streng-Geheim-4711"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(db):
    return build_world(db)


# --- validation errors ------------------------------------------------------------------------------------------


def test_api_validation_errors_name_the_field_in_german_without_the_submitted_value(world, tmp_path):
    with api_client(world, tmp_path) as (client, _settings):
        admin_headers = world.headers("giessen.admin")
        broken = client.post("/api/credentials", headers={**admin_headers, "Content-Type": "application/json"},
                             content='{"name": "UVG_PASSWORT", "value": "' + SECRET + '"')
        assert broken.status_code == 422
        assert broken.json() == {
            "detail": "Die Eingaben sind unvollständig oder ungültig: 'Inhalt' ist kein gültiges JSON. "
                      "Bitte prüfen und erneut senden; es wurde nichts geändert.",
            "code": "INVALID",
            "errors": [{"field": "Inhalt", "problem": "ist kein gültiges JSON"}],
        }
        listed = client.post("/api/users", headers=admin_headers, json=["anna", SECRET])
        assert listed.status_code == 422
        assert listed.json()["errors"] == [{"field": "Inhalt", "problem": "muss ein JSON-Objekt sein"}]
        limit = client.get(f"/api/audit?limit={SECRET}", headers=admin_headers)
        assert limit.status_code == 422
        assert limit.json()["errors"] == [{"field": "limit", "problem": "muss eine ganze Zahl sein"}]
        assert "'limit' muss eine ganze Zahl sein" in limit.json()["detail"]
        path = client.get(f"/api/runs/{SECRET}", headers=admin_headers)
        assert path.status_code == 422 and path.json()["errors"] == [
            {"field": "run_id", "problem": "muss eine ganze Zahl sein"}]
        for response in (broken, listed, limit, path):
            assert SECRET not in response.text and "input" not in response.text


def test_ui_validation_errors_show_the_german_page_without_the_value(tmp_path):
    room = make_room(tmp_path / "data")
    client = room.client("gi.admin")
    page = client.get(f"/laeufe/{SECRET}")
    assert page.status_code == 422
    assert "Eingabe ungültig" in page.text and "&#39;run_id&#39; muss eine ganze Zahl sein" in page.text
    assert SECRET not in page.text
    posted = client.post(f"/benutzer/{SECRET}/sperren", data={"csrf_token": token_of(client, "/benutzer")})
    assert posted.status_code == 422 and SECRET not in posted.text and "user_id" in posted.text
    room.db.dispose()


# --- login throttling -------------------------------------------------------------------------------------------


def _throttle(**limits: int) -> logins.Throttle:
    return logins.Throttle(b"k" * 32, **limits)


def _fail(world, throttle, name, address="10.0.0.1", at=NOW, password="falsch-falsch-falsch"):
    with pytest.raises(Unauthenticated, match="Benutzername oder Passwort falsch"):
        logins.sign_in(world.db, throttle, name, password, address, now=at)


def test_five_failures_block_a_name_for_a_while_whether_or_not_it_exists(world):
    throttle = _throttle()
    for name in ("giessen.clerk", "niemand.hier"):
        for minute in range(5):
            _fail(world, throttle, name, address=f"10.0.0.{minute}", at=NOW + timedelta(minutes=minute))
        with pytest.raises(logins.TooManyAttempts,
                           match="Zu viele Fehlversuche – bitte in 11 Minuten erneut versuchen") as blocked:
            logins.sign_in(world.db, throttle, name, PASSWORD, "10.0.1.1", now=NOW + timedelta(minutes=4))
        assert blocked.value.status == 429 and blocked.value.retry_after_s == 11 * 60
    # once the first failure leaves the 15-minute window, the right password works and clears the name's count
    later = NOW + timedelta(minutes=15, seconds=1)
    assert logins.sign_in(world.db, throttle, "giessen.clerk", PASSWORD, "10.0.1.1", now=later).name == "giessen.clerk"
    for _ in range(4):
        _fail(world, throttle, "giessen.clerk", at=later)
    assert logins.sign_in(world.db, throttle, "giessen.clerk", PASSWORD, "10.0.1.1", now=later).city_id == "giessen"
    with world.db.session() as session:
        subjects = session.scalars(select(LoginFailure.subject)).all()
        entries = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.city_id,
                                         AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert all(len(subject) == 64 and "giessen" not in subject for subject in subjects)
    known = [entry for entry in entries if entry.actor == "giessen.clerk"]
    unknown = [entry for entry in entries if entry.actor == logins.UNKNOWN]
    assert len(known) == 9 and {(e.action, e.city_id) for e in known} == {("login_failed", "giessen")}
    assert [e.detail for e in known[:5]] == [{}, {}, {}, {}, {"locked": True}]
    assert len(unknown) == 5 and {e.city_id for e in unknown} == {None}
    assert "niemand" not in str(entries) and "falsch" not in str(entries)


def test_many_failures_from_one_address_block_it_for_every_name(world):
    throttle = _throttle(max_failures=5, max_failures_per_address=3)
    for number in range(3):
        _fail(world, throttle, f"rate.{number}", address="192.0.2.7")
    with pytest.raises(logins.TooManyAttempts, match="in 15 Minuten"):
        logins.sign_in(world.db, throttle, "marburg.clerk", PASSWORD, "192.0.2.7", now=NOW)
    assert logins.sign_in(world.db, throttle, "marburg.clerk", PASSWORD, "192.0.2.8", now=NOW).name == "marburg.clerk"


def test_the_login_page_answers_429_in_german_and_the_right_password_waits_too(tmp_path):
    room = make_room(tmp_path / "data")
    client = room.client()
    for name in ("gi.clerk", "keiner.da"):
        answers = []
        for _ in range(6):
            form = client.get("/anmelden")
            answers.append(client.post("/anmelden", data={"name": name, "passwort": "falsch-falsch-falsch",
                                                          "csrf_token": csrf(form.text), "weiter": "/"}))
        assert [a.status_code for a in answers] == [401] * 5 + [429]
        assert "Zu viele Fehlversuche – bitte in 15 Minuten erneut versuchen." in answers[-1].text
        assert 850 < int(answers[-1].headers["Retry-After"]) <= 900
    form = client.get("/anmelden")
    right = client.post("/anmelden", data={"name": "gi.clerk", "passwort": "ein-langes-Passwort-1",
                                           "csrf_token": csrf(form.text), "weiter": "/"})
    assert right.status_code == 429 and "rathaus_sitzung" not in right.headers.get("set-cookie", "")
    login(room.client(), "mr.clerk")  # other names are not affected
    room.db.dispose()


# --- deactivating users -----------------------------------------------------------------------------------------


def test_admins_deactivate_users_of_their_city_and_their_tokens_stop_at_once(world, tmp_path):
    with api_client(world, tmp_path) as (client, _settings):
        clerk_id = world.who["giessen.clerk"].user_id
        assert client.get("/api/runs", headers=world.headers("giessen.clerk")).status_code == 200
        for user, status in (("marburg.admin", 404), ("giessen.clerk", 403), ("giessen.owner", 403)):
            refused = client.post(f"/api/users/{clerk_id}/deactivate", headers=world.headers(user))
            assert refused.status_code == status, refused.text
        done = client.post(f"/api/users/{clerk_id}/deactivate", headers=world.headers("giessen.admin"))
        assert done.status_code == 200 and done.json()["active"] is False
        stopped = client.get("/api/runs", headers=world.headers("giessen.clerk"))
        assert stopped.status_code == 401 and stopped.json()["detail"] == "API-Token ungültig oder widerrufen."
        again = client.post(f"/api/users/{clerk_id}/deactivate", headers=world.headers("giessen.admin"))
        assert again.status_code == 409 and "schon gesperrt" in again.json()["detail"]
        myself = world.who["giessen.admin"].user_id
        own = client.post(f"/api/users/{myself}/deactivate", headers=world.headers("giessen.admin"))
        assert own.status_code == 409 and "eigenen Zugang" in own.json()["detail"]
        back = client.post(f"/api/users/{clerk_id}/activate", headers=world.headers("giessen.admin"))
        assert back.status_code == 200 and back.json()["active"] is True
        assert client.get("/api/runs", headers=world.headers("giessen.clerk")).status_code == 401  # token revoked
        marburg = world.who["marburg.clerk"].user_id
        assert client.post(f"/api/users/{marburg}/deactivate",
                           headers=world.headers("betrieb")).json()["active"] is False
        assert client.post("/api/users/99999/deactivate", headers=world.headers("betrieb")).status_code == 404
    with world.db.session() as session:
        assert session.scalar(select(ApiToken.revoked).where(ApiToken.user_id == clerk_id)) is True
        entries = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.city_id, AuditEntry.detail)
                                  .order_by(AuditEntry.id)).all()
    assert [tuple(entry) for entry in entries] == [
        ("giessen.admin", "deactivate_user", "giessen", {"revoked_tokens": 1}),
        ("giessen.admin", "activate_user", "giessen", {}),
        ("betrieb", "deactivate_user", "marburg", {"revoked_tokens": 1}),
    ]


def test_a_deactivated_user_cannot_log_in_with_the_same_message_as_a_wrong_password(world):
    with world.db.session() as session:
        admin.set_active(session, world.who["betrieb"], world.who["fulda.clerk"].user_id, active=False)
        with pytest.raises(NotFound):
            admin.set_active(session, world.who["marburg.admin"], world.who["giessen.clerk"].user_id, active=False)
        with pytest.raises(Forbidden):
            admin.set_active(session, world.who["fulda.clerk"], world.who["giessen.clerk"].user_id, active=False)
        with pytest.raises(Conflict):
            admin.set_active(session, world.who["betrieb"], world.who["fulda.clerk"].user_id, active=False)
    _fail(world, _throttle(), "fulda.clerk", password=PASSWORD)


def test_deactivating_in_the_ui_ends_the_users_open_session(tmp_path):
    room = make_room(tmp_path / "data")
    clerk, admin_client = room.client("gi.clerk"), room.client("gi.admin")
    assert clerk.get("/").status_code == 200
    clerk_id = room.principals["gi.clerk"].user_id
    users = admin_client.get("/benutzer")
    assert f'action="/benutzer/{clerk_id}/sperren"' in users.text
    assert f'action="/benutzer/{room.principals["mr.clerk"].user_id}/sperren"' not in users.text
    done = admin_client.post(f"/benutzer/{clerk_id}/sperren", data={"csrf_token": csrf(users.text)})
    assert done.status_code == 303 and done.headers["location"] == "/benutzer?hinweis=benutzer_gesperrt"
    shown = admin_client.get(done.headers["location"])
    assert "seine Sitzungen und API-Tokens gelten nicht mehr" in shown.text
    assert f'action="/benutzer/{clerk_id}/entsperren"' in shown.text
    locked_out = clerk.get("/")
    assert locked_out.status_code == 401 and "Ihr Zugang ist nicht mehr aktiv" in locked_out.text
    foreign = admin_client.post(f"/benutzer/{room.principals['mr.clerk'].user_id}/sperren",
                                data={"csrf_token": csrf(shown.text)})
    assert foreign.status_code == 404
    no_csrf = admin_client.post(f"/benutzer/{clerk_id}/entsperren", data={})
    assert no_csrf.status_code == 403
    with room.db.session() as session:
        assert session.get(User, clerk_id).active is False
        assert session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "deactivate_user"
    audit_page = admin_client.get("/protokoll")
    assert "Benutzer gesperrt" in audit_page.text
    room.db.dispose()


# --- logging of `rathaus controlroom` ---------------------------------------------------------------------------

def test_the_control_room_command_logs_the_services_structured_lines_to_stderr():
    import subprocess
    import sys

    script = ("import logging\n"
              "from rathaus_controlroom.cli import configure_logging\n"
              "configure_logging()\n"
              "logging.getLogger('rathaus_controlroom.services.runs').info('action=start_run city=giessen run=12')\n"
              "logging.getLogger('httpx').info('HTTP Request: POST /api/runner/claim')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout == ""
    assert "INFO rathaus_controlroom.services.runs action=start_run city=giessen run=12" in done.stderr
    assert "HTTP Request" not in done.stderr  # other libraries only from WARNING on
