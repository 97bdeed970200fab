"""``rathaus users add``, ``rathaus tokens create`` and ``rathaus controlroom`` against a temporary data folder."""

from __future__ import annotations

import argparse
import io

import httpx
import pytest
from rathaus_controlroom import cli
from rathaus_controlroom.db import Database
from rathaus_controlroom.models import AuditEntry, Role, Runner, User
from rathaus_controlroom.services.errors import Conflict, Invalid
from rathaus_controlroom.services.users import authenticate, principal_for_token
from rathaus_controlroom.settings import Settings
from sqlalchemy import func, select
from uihelpers import ControlRoomProcess, csrf


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="rathaus")
    cli.add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def _db(data) -> Database:
    return Database(Settings.load(data_dir=data).database_url)


def test_users_add_reads_the_password_from_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-Passwort-1\n"))
    assert _run("users", "add", "anna.schmidt", "--city", "giessen", "--role", "clerk", "--password-stdin",
                "--data", str(tmp_path)) == 0
    assert "Benutzer 'anna.schmidt' angelegt (Rolle clerk, Stadt giessen)." in capsys.readouterr().out
    db = _db(tmp_path)
    with db.session() as session:
        principal = authenticate(session, "anna.schmidt", "ein-langes-Passwort-1")
        assert (principal.city_id, principal.role) == ("giessen", Role.CLERK)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "add_user"))
        assert (entry.actor, entry.city_id) == ("kommandozeile", "giessen")
        assert "Passwort" not in str(entry.detail)
    db.dispose()


def test_users_add_asks_twice_and_refuses_different_passwords(tmp_path, monkeypatch):
    answers = iter(["ein-langes-Passwort-1", "ein-anderes-Passwort"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(Invalid, match="stimmen nicht überein"):
        _run("users", "add", "betrieb.eins", "--role", "operator", "--data", str(tmp_path))
    answers = iter(["ein-langes-Passwort-1", "ein-langes-Passwort-1"])
    assert _run("users", "add", "betrieb.eins", "--role", "operator", "--data", str(tmp_path)) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-Passwort-1\n"))
    with pytest.raises(Conflict, match="gibt es schon"):
        _run("users", "add", "betrieb.eins", "--role", "operator", "--password-stdin", "--data", str(tmp_path))


def test_a_password_is_never_a_command_line_argument(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _run("users", "add", "anna", "--city", "giessen", "--role", "clerk", "--password", "geheim",
             "--data", str(tmp_path))
    assert "unrecognized arguments" in capsys.readouterr().err


def test_users_add_refuses_unknown_cities_and_short_passwords(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-Passwort-1\n"))
    with pytest.raises(Invalid, match="Stadt 'kassel' ist unbekannt"):
        _run("users", "add", "anna", "--city", "kassel", "--role", "clerk", "--password-stdin",
             "--data", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("kurz\n"))
    with pytest.raises(Invalid, match="zu kurz"):
        _run("users", "add", "anna", "--city", "giessen", "--role", "clerk", "--password-stdin",
             "--data", str(tmp_path))
    db = _db(tmp_path)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    db.dispose()


def test_tokens_create_prints_a_working_token_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-Passwort-1\n"))
    _run("users", "add", "anna", "--city", "marburg", "--role", "admin", "--password-stdin", "--data", str(tmp_path))
    capsys.readouterr()
    assert _run("tokens", "create", "anna", "--data", str(tmp_path)) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert token.startswith("rh_") and "nur jetzt angezeigt" in printed.err
    db = _db(tmp_path)
    with db.session() as session:
        assert principal_for_token(session, token).name == "anna"
    db.dispose()
    with pytest.raises(Exception, match="Benutzer 'niemand' gibt es nicht"):
        _run("tokens", "create", "niemand", "--data", str(tmp_path))


def test_demo_users_are_created_once_per_city_and_role(tmp_path):
    _, db = cli.open_database(tmp_path, None)
    with db.session() as session:
        first = cli.seed_demo(session)
    with db.session() as session:
        again = cli.seed_demo(session)
        assert first == again
        assert session.scalar(select(func.count()).select_from(User)) == len(first)
        names = {user.name for user in first}
        assert {"giessen.sachbearbeitung", "giessen.admin", "marburg.sachbearbeitung", "giessen.prozess",
                "offenbach.prozess", "betrieb"} <= names
        assert authenticate(session, "wetzlar.admin", cli.DEMO_PASSWORD).role is Role.ADMIN
        tokens = cli.local_runner_tokens(session)
    with db.session() as session:
        assert len(tokens) == 6 and len(set(tokens)) == 6
        cli.local_runner_tokens(session)  # a restart renews the tokens and adds no runners
        assert session.scalar(select(func.count()).select_from(Runner)) == 6
    db.dispose()


def test_the_controlroom_command_starts_with_demo_logins(tmp_path):
    room = ControlRoomProcess(tmp_path / "daten", "--demo", "--no-runner")
    try:
        address = room.wait_started()
        output = "\n".join(room.lines)
        assert f"Passwort aller Demo-Zugänge: {cli.DEMO_PASSWORD}" in output
        assert "nur für die Vorführung" in output and "giessen.sachbearbeitung" in output
        with httpx.Client(base_url=address, timeout=10, follow_redirects=False) as client:
            assert client.get("/api/status").json() == {"status": "ok"}
            form = client.get("/anmelden")
            login = client.post("/anmelden", data={"name": "giessen.sachbearbeitung", "passwort": cli.DEMO_PASSWORD,
                                                   "csrf_token": csrf(form.text)})
            assert login.status_code == 303
            assert "Unterhaltsvorschuss" in client.get("/").text
    finally:
        assert room.stop() == 0  # Ctrl+C ends it cleanly
    assert (tmp_path / "daten" / "controlroom.sqlite").is_file()
