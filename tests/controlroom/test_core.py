"""The control room's schema, migrations, users and tokens on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from rathaus.core.project import Project
from rathaus_controlroom.models import AuditEntry, Base, City, Robot, Role
from rathaus_controlroom.services.catalogue import sync_catalogue
from rathaus_controlroom.services.errors import Conflict, Invalid, Unauthenticated
from rathaus_controlroom.services.users import add_user, authenticate, create_token, principal_for_token
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

ROOT = Path(__file__).resolve().parents[2]


def test_the_migrations_create_exactly_the_models(db):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_audit_log_refuses_changes_and_deletions(db):
    with db.session() as session:
        session.add(AuditEntry(actor="operator", action="start_run", object_type="run", object_id="1"))
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="unveränderlich"), db.session() as session:
            session.execute(text(statement))
    with db.session() as session:
        assert session.scalar(select(AuditEntry.actor)) == "operator"


def test_the_catalogue_brings_six_cities_and_their_robots(db):
    with db.session() as session:
        robots = sync_catalogue(session, Project(ROOT))
        assert len(robots) >= 18
    with db.session() as session:
        sync_catalogue(session, Project(ROOT))  # twice: nothing duplicated
        assert session.scalars(select(City.id).order_by(City.id)).all() == [
            "fulda", "giessen", "limburg", "marburg", "offenbach", "wetzlar"]
        uvg = session.scalar(select(Robot).where(Robot.city_id == "wetzlar", Robot.process == "unterhaltsvorschuss"))
        assert (uvg.owner_city_id, uvg.version) == ("giessen", "0.1.0")
        assert session.query(Robot).count() == len(robots)


def test_users_log_in_with_argon2_hashes_and_tokens(db):
    with db.session() as session:
        sync_catalogue(session, Project(ROOT))
        user = add_user(session, "anna.clerk", Role.CLERK, "ein-langes-Passwort-1", city="marburg")
        assert user.password_hash.startswith("$argon2id$")
        assert "ein-langes-Passwort-1" not in user.password_hash
    with db.session() as session:
        who = authenticate(session, "anna.clerk", "ein-langes-Passwort-1")
        assert (who.name, who.city_id, who.role) == ("anna.clerk", "marburg", Role.CLERK)
        with pytest.raises(Unauthenticated, match="Benutzername oder Passwort falsch"):
            authenticate(session, "anna.clerk", "falsch-falsch-falsch")
        with pytest.raises(Unauthenticated, match="Benutzername oder Passwort falsch"):
            authenticate(session, "niemand", "ein-langes-Passwort-1")
        token = create_token(session, "anna.clerk")
    with db.session() as session:
        assert principal_for_token(session, token).name == "anna.clerk"
        with pytest.raises(Unauthenticated):
            principal_for_token(session, token + "x")


@pytest.mark.parametrize(("name", "role", "city", "message"), [
    ("Anna", Role.CLERK, "marburg", "Benutzername 'Anna' ist ungültig"),
    ("anna", Role.CLERK, None, "Bitte eine Stadt angeben"),
    ("anna", Role.CLERK, "kassel", "Stadt 'kassel' ist unbekannt"),
    ("anna", Role.OPERATOR, "marburg", "gehören zu keiner Stadt"),
])
def test_bad_users_are_refused_with_the_reason(sqlite_url, name, role, city, message):
    from rathaus_controlroom.db import Database

    db = Database(sqlite_url)
    with db.session() as session:
        sync_catalogue(session, Project(ROOT))
        with pytest.raises(Invalid, match=message):
            add_user(session, name, role, "ein-langes-Passwort-1", city=city)
        add_user(session, "bernd", Role.ADMIN, "ein-langes-Passwort-1", city="giessen")
        with pytest.raises(Conflict, match="gibt es schon"):
            add_user(session, "bernd", Role.ADMIN, "ein-langes-Passwort-1", city="giessen")
        with pytest.raises(Invalid, match="zu kurz"):
            add_user(session, "carla", Role.CLERK, "kurz", city="giessen")
    db.dispose()
