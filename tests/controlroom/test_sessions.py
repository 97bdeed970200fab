"""Session cookies expire when idle, cannot be forged, and carry their own CSRF token."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from rathaus_controlroom.services.errors import Unauthenticated
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web import sessions
from rathaus_controlroom.web.app import create_app

KEY = b"0" * 64


def test_a_session_names_its_user_and_expires_when_idle():
    value = sessions.issue(KEY, 7)
    assert sessions.read(KEY, value, 60)[0] == 7
    time.sleep(1.1)
    with pytest.raises(Unauthenticated, match="Sitzung ist abgelaufen"):
        sessions.read(KEY, value, 0)
    with pytest.raises(Unauthenticated, match="Keine gültige Sitzung"):
        sessions.read(KEY, value.replace(":", ";", 1), 60)
    with pytest.raises(Unauthenticated, match="Keine gültige Sitzung"):
        sessions.read(b"1" * 64, value, 60)


def test_csrf_tokens_belong_to_one_session():
    first, second = sessions.issue(KEY, 7), sessions.issue(KEY, 7)
    token = sessions.csrf_token(KEY, first)
    assert sessions.csrf_ok(KEY, first, token)
    assert sessions.csrf_ok(KEY, sessions.refresh(KEY, first, 60), token)  # refreshing keeps the token
    assert not sessions.csrf_ok(KEY, second, token)
    assert not sessions.csrf_ok(KEY, first, None)
    assert not sessions.csrf_ok(KEY, first, "gefälscht-ü")  # a non-ASCII token is refused, not an error


def test_the_app_answers_and_publishes_its_openapi(tmp_path):
    from rathaus_controlroom.db import upgrade

    settings = Settings.load(data_dir=tmp_path)
    upgrade(settings.database_url)
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/api/status").json() == {"status": "ok"}
        spec = client.get("/api/openapi.json").json()
        assert spec["info"]["title"] == "rathaus Kontrollraum"
    app.state.database.dispose()
    assert oct((tmp_path / "credential.key").stat().st_mode)[-3:] == "600"
