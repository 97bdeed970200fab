"""Process owners publish the repository's current version; cities see whether their robot runs the newest one.

The repository is a small project in a temporary folder (process.yaml and CHANGELOG.md of two processes), so that
the tests can raise versions without touching the real processes.
"""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import yaml
from items_world import api_client, build_world
from rathaus.core.project import Project
from rathaus_controlroom.models import AuditEntry, ProcessVersion, Robot
from rathaus_controlroom.services import publishing
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid
from sqlalchemy import func, select
from uihelpers import csrf, make_room

PROCESSES = {
    # name: (title, owner city)
    "unterhaltsvorschuss": ("Unterhaltsvorschuss – Antragseingang", "giessen"),
    "nutzungsstatistik": ("Nutzungsstatistik", "marburg"),
}


def _today() -> str:
    return datetime.now(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y")


def set_version(project: Project, name: str, version: str, changes: str | None = "- Neue Prüfung der Anlagen.",
                changelog: bool = True) -> None:
    """process.yaml of ``name`` at ``version``; its CHANGELOG gets a ``## [version]`` section with ``changes``
    (None: no section for it) above the sections already there."""
    title, owner = PROCESSES[name]
    folder = project.processes / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schema.yaml").write_text("type: object\n", encoding="utf-8")
    (folder / "process.yaml").write_text(yaml.safe_dump({
        "name": name, "title": title, "owner": owner, "version": version, "description": "Testprozess.",
        "schema": "schema.yaml", "steps": [{"task": "Bearbeiten"}],
    }, allow_unicode=True), encoding="utf-8")
    path = folder / "CHANGELOG.md"
    if not changelog:
        path.unlink(missing_ok=True)
        return
    old = path.read_text(encoding="utf-8").split("\n", 2)[2] if path.is_file() else ""
    section = f"## [{version}] – 2026-12-01\n\n{changes}\n\n" if changes is not None else ""
    path.write_text(f"# Änderungen: {title}\n\n{section}{old}", encoding="utf-8")


@pytest.fixture
def project(tmp_path) -> Project:
    root = tmp_path / "projekt"
    for folder in ("processes", "robots", "resources"):
        (root / folder).mkdir(parents=True)
    project = Project(root)
    set_version(project, "unterhaltsvorschuss", "0.1.0", "- Anträge aus dem Postfach übernehmen.")
    set_version(project, "nutzungsstatistik", "0.1.0", "- Kennzahlen der Bibliotheken veröffentlichen.")
    return project


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def api(world, project, tmp_path):
    with api_client(world, tmp_path / "data") as (client, _settings):
        client.app.state.project = project
        yield client


def _publish(api, world, user: str, process: str = "unterhaltsvorschuss", **body: str):
    return api.post(f"/api/processes/{process}/publish", headers=world.headers(user), json=body or None)


def _counts(world) -> tuple[int, int]:
    with world.db.session() as session:
        return (session.scalar(select(func.count()).select_from(ProcessVersion)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def _catalogue(api, world, user: str) -> dict[str, dict]:
    response = api.get("/api/processes", headers=world.headers(user))
    assert response.status_code == 200, response.text
    return {entry["process"]: entry for entry in response.json()}


# --- publishing -------------------------------------------------------------------------------------------------


def test_an_owner_publishes_the_repository_version_with_its_changelog(api, world):
    response = _publish(api, world, "giessen.owner")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == "0.1.0" and body["published_by"] == "giessen.owner"
    assert body["changelog"] == "- Anträge aus dem Postfach übernehmen."
    with world.db.session() as session:
        row = session.scalar(select(ProcessVersion))
        assert (row.process, row.version, row.owner_city_id) == ("unterhaltsvorschuss", "0.1.0", "giessen")
        assert row.published_by == world.who["giessen.owner"].user_id
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "publish_version"))
        assert (entry.actor, entry.city_id, entry.object_type, entry.object_id) == (
            "giessen.owner", "giessen", "process", "unterhaltsvorschuss")
        assert entry.detail == {"version": "0.1.0", "previous": None}


def test_a_duplicate_lower_or_undocumented_version_is_refused_and_changes_nothing(api, world, project):
    assert _publish(api, world, "giessen.owner").status_code == 201
    set_version(project, "unterhaltsvorschuss", "0.2.0", "- Größere Anhänge gehen an die Sachbearbeitung.")
    assert _publish(api, world, "giessen.owner", version="0.2.0").status_code == 201
    before = _counts(world)

    again = _publish(api, world, "giessen.owner")
    assert again.status_code == 409 and "Version 0.2.0 von 'unterhaltsvorschuss' ist bereits veröffentlicht" \
        in again.json()["detail"]

    set_version(project, "unterhaltsvorschuss", "0.1.5", "- Zurückgedreht.")
    lower = _publish(api, world, "giessen.owner")
    assert lower.status_code == 409 and "niedriger als die bereits veröffentlichte Version 0.2.0" \
        in lower.json()["detail"]

    set_version(project, "unterhaltsvorschuss", "0.10.0", changes=None)
    undocumented = _publish(api, world, "giessen.owner")
    assert undocumented.status_code == 422
    assert "CHANGELOG.md hat keinen Abschnitt '## [0.10.0]'" in undocumented.json()["detail"]

    set_version(project, "unterhaltsvorschuss", "0.10.0", changes="")
    assert "ist leer" in _publish(api, world, "giessen.owner").json()["detail"]

    set_version(project, "unterhaltsvorschuss", "0.10.0", changelog=False)
    assert "CHANGELOG.md fehlt" in _publish(api, world, "giessen.owner").json()["detail"]

    set_version(project, "unterhaltsvorschuss", "0.10.0", "- Neue Hauptfunktion.")
    stale = _publish(api, world, "giessen.owner", version="0.3.0")
    assert stale.status_code == 409 and "inzwischen Version 0.10.0, nicht 0.3.0" in stale.json()["detail"]
    assert _counts(world) == before

    # semver order, not text order: 0.10.0 comes after 0.2.0
    assert _publish(api, world, "giessen.owner", version="0.10.0").status_code == 201
    assert [v["version"] for v in _catalogue(api, world, "fulda.clerk")["unterhaltsvorschuss"]["versions"]] == [
        "0.10.0", "0.2.0", "0.1.0"]


@pytest.mark.parametrize("user", ["giessen.clerk", "giessen.admin", "betrieb"])
def test_only_process_owners_may_publish(api, world, user):
    response = _publish(api, world, user)
    assert response.status_code == 403
    assert "nur Prozessverantwortliche" in response.json()["detail"]
    assert _counts(world) == (0, 0)


def test_an_owner_of_another_city_is_told_who_owns_the_process(api, world):
    response = _publish(api, world, "marburg.owner")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Den Prozess 'unterhaltsvorschuss' verantwortet Gießen.")
    assert _publish(api, world, "giessen.owner", "gibt-es-nicht").status_code == 404
    assert _counts(world) == (0, 0)
    assert _publish(api, world, "marburg.owner", "nutzungsstatistik").status_code == 201


def test_the_service_refuses_the_same_way(world, project):
    with world.db.session() as session:
        with pytest.raises(Forbidden, match="verantwortet Gießen"):
            publishing.publish_version(session, world.who["marburg.owner"], project, "unterhaltsvorschuss")
        publishing.publish_version(session, world.who["giessen.owner"], project, "unterhaltsvorschuss")
        with pytest.raises(Conflict, match="bereits veröffentlicht"):
            publishing.publish_version(session, world.who["giessen.owner"], project, "unterhaltsvorschuss")
    set_version(project, "unterhaltsvorschuss", "1.0.0", changes=None)
    with world.db.session() as session, pytest.raises(Invalid, match=r"## \[1\.0\.0\]"):
        publishing.publish_version(session, world.who["giessen.owner"], project, "unterhaltsvorschuss")


# --- the catalogue and the adoption view --------------------------------------------------------------------------


def test_cities_see_whether_their_robot_runs_the_newest_published_version(api, world, project):
    nothing = _catalogue(api, world, "fulda.clerk")["unterhaltsvorschuss"]
    assert nothing["newest"] is None and nothing["own_robot"]["status"] == "nothing_published"
    _publish(api, world, "giessen.owner")
    set_version(project, "unterhaltsvorschuss", "0.2.0", "- Größere Anhänge gehen an die Sachbearbeitung.")
    _publish(api, world, "giessen.owner")

    fulda = _catalogue(api, world, "fulda.clerk")
    entry = fulda["unterhaltsvorschuss"]
    assert entry["newest"] == "0.2.0" and entry["owner"] == "giessen"
    assert entry["versions"][0]["changelog"] == "- Größere Anhänge gehen an die Sachbearbeitung."
    assert entry["own_robot"] == {
        "city": "fulda", "version": "0.1.0", "status": "outdated",
        "hint": f"Version 0.2.0 veröffentlicht am {_today()} – Ihr Roboter nutzt 0.1.0: bitte CHANGELOG lesen "
                "und in robots/fulda/unterhaltsvorschuss/config.yaml die Version anheben."}
    assert entry["adoption"] is None and entry["repository"] is None  # not the owner
    assert fulda["nutzungsstatistik"]["own_robot"] is None  # Fulda has not adopted it

    with world.db.session() as session:
        session.scalar(select(Robot).where(Robot.city_id == "fulda")).version = "0.2.0"
    current = _catalogue(api, world, "fulda.clerk")["unterhaltsvorschuss"]["own_robot"]
    assert current["status"] == "current" and "neueste veröffentlichte Version 0.2.0" in current["hint"]


def test_owners_see_which_city_runs_which_version_of_their_processes(api, world, project):
    _publish(api, world, "giessen.owner")
    set_version(project, "unterhaltsvorschuss", "0.2.0")
    with world.db.session() as session:
        session.scalar(select(Robot).where(Robot.city_id == "fulda")).version = "0.2.0"

    giessen = _catalogue(api, world, "giessen.owner")
    entry = giessen["unterhaltsvorschuss"]
    assert {(r["city"], r["version"], r["status"]) for r in entry["adoption"]} == {
        ("giessen", "0.1.0", "current"), ("fulda", "0.2.0", "unpublished")}
    assert entry["repository"] == {"version": "0.2.0", "publishable": True, "reason": None,
                                   "changelog": "- Neue Prüfung der Anlagen."}
    assert giessen["nutzungsstatistik"]["adoption"] is None  # owned by Marburg

    marburg = _catalogue(api, world, "marburg.owner")["nutzungsstatistik"]
    assert {(r["city"], r["status"]) for r in marburg["adoption"]} == {
        ("giessen", "nothing_published"), ("marburg", "nothing_published")}
    assert marburg["repository"]["publishable"] is True
    assert marburg["own_robot"]["city"] == "marburg"
    # the adoption view carries versions only: no runs, items or payloads of other cities
    assert set(marburg) == {"process", "title", "owner", "newest", "versions", "own_robot", "adoption",
                            "repository"}

    _publish(api, world, "giessen.owner")
    published = _catalogue(api, world, "giessen.owner")["unterhaltsvorschuss"]
    assert published["repository"]["publishable"] is False
    assert "bereits veröffentlicht" in published["repository"]["reason"]
    assert {(r["city"], r["status"]) for r in published["adoption"]} == {("giessen", "outdated"),
                                                                          ("fulda", "current")}
    operator = _catalogue(api, world, "betrieb")["unterhaltsvorschuss"]
    assert operator["own_robot"] is None and operator["adoption"] is None and operator["newest"] == "0.2.0"


def test_the_api_needs_a_login_and_documents_the_endpoints(api):
    assert api.get("/api/processes").status_code == 401
    paths = api.get("/api/openapi.json").json()["paths"]
    assert "/api/processes" in paths and "post" in paths["/api/processes/{name}/publish"]


def test_the_migration_creates_the_process_versions_table(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from rathaus_controlroom.models import Base

    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert "process_versions" in connection.dialect.get_table_names(connection)


# --- the page "Prozesse" ------------------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[str] = []
        self.labels: set[str] = set()
        self.hidden: set[str] = set()
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden":
            self.hidden.add(values.get("name", ""))
        elif tag in ("input", "select", "textarea"):
            self.inputs.append(values.get("id", "?"))
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"])
        if tag in ("h1", "h2", "h3", "h4"):
            self.headings.append(int(tag[1]))


@pytest.fixture
def room(tmp_path, project, database_url):
    set_version(project, "unterhaltsvorschuss", "0.2.0", "- Größere Anhänge gehen an die Sachbearbeitung.")
    room = make_room(tmp_path / "data", database_url)
    room.app.state.project = project
    yield room
    room.db.dispose()


def _stored(room) -> list[str]:
    with room.db.session() as session:
        return list(session.scalars(select(ProcessVersion.version)))


def test_the_owner_publishes_on_the_processes_page(room):
    client = room.client("gi.owner")
    page = client.get("/prozesse")
    assert page.status_code == 200
    assert '<a href="/prozesse" aria-current="page">Prozesse</a>' in page.text
    assert "Version im Repository: 0.2.0" in page.text and "Größere Anhänge gehen an die Sachbearbeitung." in page.text
    assert 'action="/prozesse/unterhaltsvorschuss/veroeffentlichen"' in page.text
    assert "Übernehmende Städte" in page.text and "Noch keine Version veröffentlicht." in page.text
    parser = _Page()
    parser.feed(page.text)
    assert "bestaetigt-unterhaltsvorschuss" in parser.inputs
    assert set(parser.inputs) <= parser.labels and {"csrf_token", "version"} <= parser.hidden
    assert parser.headings[0] == 1 and all(b - a <= 1 for a, b in zip(parser.headings, parser.headings[1:],
                                                                       strict=False))
    token = csrf(page.text)

    assert client.post("/prozesse/unterhaltsvorschuss/veroeffentlichen",
                       data={"version": "0.2.0", "bestaetigt": "ja"}).status_code == 403  # no CSRF token
    unconfirmed = client.post("/prozesse/unterhaltsvorschuss/veroeffentlichen",
                              data={"csrf_token": token, "version": "0.2.0"})
    assert unconfirmed.status_code == 422 and "Bitte bestätigen Sie" in unconfirmed.text
    assert _stored(room) == []

    done = client.post("/prozesse/unterhaltsvorschuss/veroeffentlichen",
                       data={"csrf_token": token, "version": "0.2.0", "bestaetigt": "ja"})
    assert done.status_code == 303 and done.headers["location"] == "/prozesse?hinweis=veroeffentlicht"
    after = client.get(done.headers["location"]).text
    assert "Die Version ist veröffentlicht" in after
    assert "Neueste veröffentlichte Version: <strong>0.2.0</strong>" in after
    assert "Diese Version kann nicht veröffentlicht werden: Version 0.2.0 von &#39;unterhaltsvorschuss&#39; ist " \
           "bereits veröffentlicht" in after
    # adoption: every adopting city's robot with its pinned version
    assert re.search(r'<th scope="row">Stadt Fulda</th><td>0\.1\.0</td><td>Version 0\.2\.0 veröffentlicht am \S+ '
                     r'– Der Roboter nutzt 0\.1\.0: die Stadt sollte das CHANGELOG lesen', after)

    again = client.post("/prozesse/unterhaltsvorschuss/veroeffentlichen",
                        data={"csrf_token": token, "version": "0.2.0", "bestaetigt": "ja"})
    assert again.status_code == 409 and "bereits veröffentlicht" in again.text
    assert _stored(room) == ["0.2.0"]


def test_a_city_admin_sees_that_their_robot_is_behind(room):
    owner = room.client("gi.owner")
    owner.post("/prozesse/unterhaltsvorschuss/veroeffentlichen",
               data={"csrf_token": csrf(owner.get("/prozesse").text), "version": "0.2.0", "bestaetigt": "ja"})
    admin = room.client("gi.admin")
    page = admin.get("/prozesse")
    assert page.status_code == 200
    assert (f"Version 0.2.0 veröffentlicht am {_today()} – Ihr Roboter nutzt 0.1.0: bitte CHANGELOG lesen und in "
            "robots/giessen/unterhaltsvorschuss/config.yaml die Version anheben.") in page.text
    assert "veroeffentlichen" not in page.text and "Übernehmende Städte" not in page.text
    parser = _Page()
    parser.feed(page.text)
    assert parser.headings[0] == 1 and set(parser.inputs) <= parser.labels

    refused = admin.post("/prozesse/unterhaltsvorschuss/veroeffentlichen",
                         data={"csrf_token": csrf(page.text), "version": "0.2.0", "bestaetigt": "ja"})
    assert refused.status_code == 403 and "nur Prozessverantwortliche" in refused.text
    marburg = room.client("mr.admin").get("/prozesse").text
    assert "Ihr Roboter nutzt" not in marburg.split('id="prozess-unterhaltsvorschuss"')[1].split("<section")[0]
    assert _stored(room) == ["0.2.0"]
