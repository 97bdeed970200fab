"""City administration: admins manage their city's users and read its audit log; operators see all."""

from __future__ import annotations

import pytest
from items_world import api_client, build_world
from rathaus_controlroom.models import AuditEntry, Role, User
from rathaus_controlroom.services import admin
from rathaus_controlroom.services.errors import Forbidden
from rathaus_controlroom.services.users import authenticate
from sqlalchemy import select

NEW_PASSWORD = "noch-ein-langes-Passwort"


@pytest.fixture
def world(db):
    return build_world(db)


def test_admins_create_users_of_their_own_city_only(world):
    with world.db.session() as session:
        made = admin.create_user(session, world.who["giessen.admin"], "giessen.neu", "clerk", NEW_PASSWORD)
        assert (made.city_id, made.role) == ("giessen", "clerk")
        with pytest.raises(Forbidden, match="nur Benutzer ihrer eigenen Stadt"):
            admin.create_user(session, world.who["giessen.admin"], "x.neu", "clerk", NEW_PASSWORD, city="marburg")
        with pytest.raises(Forbidden, match="nur der Betrieb"):
            admin.create_user(session, world.who["giessen.admin"], "x.neu", "operator", NEW_PASSWORD)
        for user in ("giessen.clerk", "giessen.owner"):
            with pytest.raises(Forbidden):
                admin.create_user(session, world.who[user], "x.neu", "clerk", NEW_PASSWORD)
            with pytest.raises(Forbidden):
                admin.list_users(session, world.who[user])
        operator_made = admin.create_user(session, world.who["betrieb"], "marburg.neu", Role.ADMIN, NEW_PASSWORD,
                                          city="marburg")
        assert operator_made.city_id == "marburg"
    with world.db.session() as session:
        assert authenticate(session, "giessen.neu", NEW_PASSWORD).city_id == "giessen"
        names = [u.name for u in admin.list_users(session, world.who["giessen.admin"])]
        assert names == ["giessen.admin", "giessen.clerk", "giessen.neu", "giessen.owner"]
        assert len(admin.list_users(session, world.who["betrieb"])) == session.query(User).count()
        entries = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.city_id)).all()
        assert entries == [("giessen.admin", "add_user", "giessen"), ("betrieb", "add_user", "marburg")]
        assert NEW_PASSWORD not in str(session.scalars(select(AuditEntry.detail)).all())


def test_the_users_and_audit_api_for_every_role(world, tmp_path):
    with api_client(world, tmp_path) as (client, _settings):
        giessen = world.headers("giessen.admin")
        made = client.post("/api/users", json={"name": "giessen.neu", "role": "clerk", "password": NEW_PASSWORD},
                           headers=giessen)
        assert made.status_code == 201, made.text
        assert set(made.json()) == {"id", "name", "city", "role", "active", "created_at"}
        assert made.json()["city"] == "giessen"
        short = client.post("/api/users", json={"name": "giessen.kurz", "role": "clerk", "password": "kurz"},
                            headers=giessen)
        assert short.status_code == 422 and "zu kurz" in short.json()["detail"]
        twice = client.post("/api/users", json={"name": "giessen.neu", "role": "clerk", "password": NEW_PASSWORD},
                            headers=giessen)
        assert twice.status_code == 409
        unknown = client.post("/api/users", json={"name": "giessen.x", "role": "chef", "password": NEW_PASSWORD},
                              headers=giessen)
        assert unknown.status_code == 422 and "Rolle 'chef' ist unbekannt" in unknown.json()["detail"]
        listed = client.get("/api/users", headers=giessen).json()
        assert {u["city"] for u in listed} == {"giessen"}
        assert all("password" not in str(u) and "$argon2" not in str(u) for u in listed)
        assert len(client.get("/api/users", headers=world.headers("betrieb")).json()) == 9
        for user in ("giessen.clerk", "giessen.owner", "marburg.clerk"):
            assert client.get("/api/users", headers=world.headers(user)).status_code == 403
            assert client.post("/api/users", json={"name": "x.y", "role": "clerk", "password": NEW_PASSWORD},
                               headers=world.headers(user)).status_code == 403
            assert client.get("/api/audit", headers=world.headers(user)).status_code == 403
        by_operator = client.post("/api/users", json={"name": "fulda.admin", "role": "admin", "city": "fulda",
                                                      "password": NEW_PASSWORD}, headers=world.headers("betrieb"))
        assert by_operator.status_code == 201 and by_operator.json()["city"] == "fulda"
        audit = client.get("/api/audit", headers=giessen).json()
        assert [(e["actor"], e["action"], e["city"]) for e in audit] == [("giessen.admin", "add_user", "giessen")]
        assert client.get("/api/audit", headers=world.headers("marburg.admin")).json() == []
        everything = client.get("/api/audit?limit=10", headers=world.headers("betrieb")).json()
        assert [e["city"] for e in everything] == ["fulda", "giessen"]  # newest first
        assert client.get("/api/audit?limit=0", headers=giessen).status_code == 422
        assert client.get("/api/users").status_code == 401
        for text in (made.text, short.text, str(audit), str(everything)):
            assert NEW_PASSWORD not in text
    with world.db.session() as session:
        assert authenticate(session, "fulda.admin", NEW_PASSWORD).role is Role.ADMIN
