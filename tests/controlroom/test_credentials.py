"""Credentials: encrypted at rest, write-only, only for runs of their city, never in answers, logs or audit."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from items_world import api_client, build_world
from rathaus_controlroom.models import AuditEntry, Credential, Run
from rathaus_controlroom.services import credentials
from rathaus_controlroom.services.errors import Forbidden, Invalid, NotFound
from sqlalchemy import select

SECRET = "Sehr-Geheim-7f3a9c"
OTHER = "Anderes-Geheimnis-42b"


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def key():
    return Fernet.generate_key()


def _everything_stored(world) -> str:
    with world.db.session() as session:
        audit = [(e.actor, e.action, e.object_id, str(e.detail)) for e in session.scalars(select(AuditEntry))]
        rows = [(c.name, c.ciphertext) for c in session.scalars(select(Credential))]
    return repr(audit) + repr(rows)


def test_a_credential_is_encrypted_and_only_its_citys_runs_get_it(world, key, caplog):
    caplog.set_level(logging.DEBUG)
    admin = world.who["giessen.admin"]
    giessen_run_id, marburg_run_id = world.run("giessen/unterhaltsvorschuss"), world.run("marburg/nutzungsstatistik")
    with world.db.session() as session:
        info = credentials.save_credential(session, key, admin, "GIESSEN_UVG_PASSWORT", SECRET)
        credentials.save_credential(session, key, world.who["marburg.admin"], "MARBURG_PASSWORT", OTHER)
        assert SECRET not in repr(info)
    with world.db.session() as session:
        row = session.scalar(select(Credential).where(Credential.name == "GIESSEN_UVG_PASSWORT"))
        assert SECRET.encode() not in row.ciphertext
        assert Fernet(key).decrypt(row.ciphertext).decode() == SECRET
        giessen_run, marburg_run = session.get(Run, giessen_run_id), session.get(Run, marburg_run_id)
        given = credentials.credentials_for_run(session, giessen_run, key)
        assert given == {"GIESSEN_UVG_PASSWORT": SECRET}
        assert credentials.credentials_for_run(session, marburg_run, key) == {"MARBURG_PASSWORT": OTHER}
        assert SECRET not in repr(given) and SECRET not in str(given)
        assert "GIESSEN_UVG_PASSWORT=***" in repr(given)
        assert [c.name for c in credentials.list_credentials(session, admin)] == ["GIESSEN_UVG_PASSWORT"]
    stored = _everything_stored(world)
    for value in (SECRET, OTHER):
        assert value not in stored
        assert value not in caplog.text
    assert "GIESSEN_UVG_PASSWORT" in caplog.text  # the name is logged, the value never


def test_overwriting_makes_new_ciphertext_and_an_audit_entry_without_the_value(world, key):
    admin = world.who["giessen.admin"]
    run_id = world.run("giessen/unterhaltsvorschuss")
    with world.db.session() as session:
        credentials.save_credential(session, key, admin, "UVG_PASSWORT", SECRET)
        before = session.scalar(select(Credential.ciphertext))
    with world.db.session() as session:
        credentials.save_credential(session, key, admin, "UVG_PASSWORT", OTHER)
        after = session.scalar(select(Credential.ciphertext))
        assert before != after and session.query(Credential).count() == 1
        run = session.get(Run, run_id)
        assert credentials.credentials_for_run(session, run, key) == {"UVG_PASSWORT": OTHER}
        actions = session.execute(select(AuditEntry.action, AuditEntry.object_id, AuditEntry.city_id)).all()
        assert actions == [("create_credential", "UVG_PASSWORT", "giessen"),
                           ("update_credential", "UVG_PASSWORT", "giessen")]
    assert SECRET not in _everything_stored(world) and OTHER not in _everything_stored(world)


def test_a_changed_key_gives_a_clear_error_without_the_value(world, key):
    run_id = world.run("giessen/unterhaltsvorschuss")
    with world.db.session() as session:
        credentials.save_credential(session, key, world.who["giessen.admin"], "UVG_PASSWORT", SECRET)
        run = session.get(Run, run_id)
        with pytest.raises(credentials.CredentialKeyError, match=r"'UVG_PASSWORT'.*nicht entschlüsseln") as error:
            credentials.credentials_for_run(session, run, Fernet.generate_key())
        assert SECRET not in str(error.value)


@pytest.mark.parametrize(("name", "message"), [
    ("uvg_passwort", "ist ungültig"), ("1PASSWORT", "ist ungültig"), ("PASS-WORT", "ist ungültig"),
    ("A" * 101, "ist ungültig"), (None, "ist ungültig")])
def test_names_must_be_environment_variable_names(world, key, name, message):
    with world.db.session() as session, pytest.raises(Invalid, match=message):
        credentials.save_credential(session, key, world.who["giessen.admin"], name, SECRET)


def test_only_city_admins_manage_credentials(world, key):
    with world.db.session() as session:
        for user in ("giessen.clerk", "giessen.owner", "betrieb"):
            with pytest.raises(Forbidden, match="nur Administratorinnen"):
                credentials.save_credential(session, key, world.who[user], "X_PASSWORT", SECRET)
            with pytest.raises(Forbidden):
                credentials.list_credentials(session, world.who[user])
        credentials.save_credential(session, key, world.who["giessen.admin"], "X_PASSWORT", SECRET)
        with pytest.raises(NotFound, match="'X_PASSWORT' gibt es in Ihrer Stadt nicht"):
            credentials.delete_credential(session, world.who["marburg.admin"], "X_PASSWORT")
        with pytest.raises(Invalid, match="Wert"):
            credentials.save_credential(session, key, world.who["giessen.admin"], "Y_PASSWORT", "")


def test_the_credentials_api_never_shows_a_value(world, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with api_client(world, tmp_path) as (client, _settings):
        admin = world.headers("giessen.admin")
        saved = client.post("/api/credentials", json={"name": "GIESSEN_UVG_PASSWORT", "value": SECRET},
                            headers=admin)
        assert saved.status_code == 201, saved.text
        assert set(saved.json()) == {"name", "city", "saved_at"}
        texts = [saved.text]
        listed = client.get("/api/credentials", headers=admin)
        assert [c["name"] for c in listed.json()] == ["GIESSEN_UVG_PASSWORT"]
        texts.append(listed.text)
        # malformed requests do not echo the value either
        for body in ({"name": "klein", "value": SECRET}, {"name": "GUT", "value": [SECRET]},
                     {"nme": "GUT", "value": SECRET}):
            bad = client.post("/api/credentials", json=body, headers=admin)
            assert bad.status_code == 422
            texts.append(bad.text)
        for user in ("giessen.clerk", "giessen.owner", "betrieb"):
            refused = client.post("/api/credentials", json={"name": "X_PASSWORT", "value": OTHER},
                                  headers=world.headers(user))
            assert refused.status_code == 403
            assert client.get("/api/credentials", headers=world.headers(user)).status_code == 403
        assert client.get("/api/credentials", headers=world.headers("marburg.admin")).json() == []
        gone = client.delete("/api/credentials/GIESSEN_UVG_PASSWORT", headers=world.headers("marburg.admin"))
        assert gone.status_code == 404
        audit = client.get("/api/audit", headers=admin)
        texts.append(audit.text)
        assert [e["action"] for e in audit.json()] == ["create_credential"]
        assert client.delete("/api/credentials/GIESSEN_UVG_PASSWORT", headers=admin).status_code == 204
        assert client.get("/api/credentials", headers=admin).json() == []
        texts.append(client.get("/api/audit", headers=admin).text)
    for text in texts:
        assert SECRET not in text and OTHER not in text
    assert SECRET not in caplog.text and OTHER not in caplog.text
    assert SECRET not in _everything_stored(world)


@pytest.mark.parametrize("name", ["PATH", "HOME", "SHELL", "USER", "LANG", "TMPDIR", "TZ", "LD_PRELOAD",
                                  "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONSTARTUP", "RATHAUS_HOME",
                                  "RATHAUS_CONFIG_OVERRIDE", "RATHAUS_PROJECT", "ROBOT_OPTIONS", "RPA_SECRET_KEY",
                                  "LD_AUDIT_PASSWORT", "PYTHON_TOKEN", "RATHAUS_UVG_PASSWORT", "_PASSWORT"])
def test_reserved_environment_names_are_refused_at_save(world, key, name):
    with world.db.session() as session:
        with pytest.raises(Invalid, match=r"reserviert|ungültig") as refused:
            credentials.save_credential(session, key, world.who["giessen.admin"], name, SECRET)
        assert SECRET not in str(refused.value)
        assert credentials.list_credentials(session, world.who["giessen.admin"]) == []


@pytest.mark.parametrize("name", ["GIESSEN_URL", "DEBUG", "GIESSEN_BENUTZER", "PASSWORT"])
def test_a_credential_name_must_say_that_it_holds_a_secret(world, key, name):
    with world.db.session() as session:
        with pytest.raises(Invalid, match="_PASSWORT, _PASSWORD, _TOKEN"):
            credentials.save_credential(session, key, world.who["giessen.admin"], name, SECRET)
        for allowed in ("GIESSEN_UVG_FACHVERFAHREN_PASSWORT", "GIESSEN_API_TOKEN", "GIESSEN_DMS_SCHLUESSEL"):
            credentials.save_credential(session, key, world.who["giessen.admin"], allowed, SECRET)


def test_the_api_refuses_a_reserved_name_with_a_german_message(world, tmp_path):
    with api_client(world, tmp_path) as (client, _settings):
        refused = client.post("/api/credentials", json={"name": "PYTHONPATH", "value": "/tmp/boese"},
                              headers=world.headers("giessen.admin"))
        assert refused.status_code == 422
        assert "reserviert" in refused.text and "/tmp/boese" not in refused.text
