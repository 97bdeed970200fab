"""A small control-room world for the items, schedules, credentials and admin tests: three cities, robots, users.

Cities and robots are inserted directly (not from the repository's catalogue) so that the tests do not change
when processes are added. Users: ``<city>.<role>`` for giessen and marburg, ``fulda.clerk``, and ``betrieb``
(operator); each has an API token in ``World.tokens``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from rathaus_controlroom.db import Database
from rathaus_controlroom.models import City, Robot, Role, Run, RunState, User
from rathaus_controlroom.services.users import Principal, create_token
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.app import create_app

PASSWORD = "ein-langes-Passwort-1"
#: complete Unterhaltsvorschuss case data (processes/unterhaltsvorschuss/fall.schema.yaml)
UVG_CASE = {
    "antragsteller": {"name": "Beispiel", "vorname": "Mia", "geburtsdatum": "14.03.1990", "strasse": "Marktplatz 1",
                      "plz": "35390", "ort": "Gießen", "familienstand": "ledig", "staatsangehoerigkeit": "deutsch",
                      "iban": "DE89370400440532013000", "email": "", "telefon": "", "lebt_mit_kind": True},
    "kind": {"name": "Beispiel", "vorname": "Ben", "geburtsdatum": "01.02.2019", "geburtsort": "Gießen",
             "geschlecht": "m"},
    "elternteil": {"name": "", "vorname": "", "anschrift_bekannt": "nein", "anschrift": "",
                   "vaterschaft_festgestellt": "ja"},
    "einkommen": {"waisenrente": "", "unterhalt": "0"},
    "leistung": {"beginn": "01.2027"},
    "anlagen": {"geburtsurkunde": True, "unterhaltstitel": False},
    "erklaerung": {"ort": "Gießen", "datum": "02.11.2026"},
}
ROBOTS = {
    # city/process: owner city
    "giessen/unterhaltsvorschuss": "giessen",
    "giessen/nutzungsstatistik": "marburg",
    "marburg/nutzungsstatistik": "marburg",
    "fulda/unterhaltsvorschuss": "giessen",
}
USERS = {
    "giessen.clerk": ("giessen", Role.CLERK),
    "giessen.admin": ("giessen", Role.ADMIN),
    "giessen.owner": ("giessen", Role.OWNER),
    "marburg.clerk": ("marburg", Role.CLERK),
    "marburg.admin": ("marburg", Role.ADMIN),
    "marburg.owner": ("marburg", Role.OWNER),
    "fulda.clerk": ("fulda", Role.CLERK),
    "betrieb": (None, Role.OPERATOR),
}


def case_form(data: dict, prefix: str = "fall") -> dict[str, str]:
    """The case page's form fields for case data (``fall.antragsteller.iban`` …; yes/no as ``ja`` or left out)."""
    fields: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            fields.update(case_form(value, name))
        elif value is True:
            fields[name] = "ja"
        elif value not in (False, None):
            fields[name] = str(value)
    return fields


def application_mail(number: int = 1, attachments: tuple[str, ...] = ("Antrag.pdf", "Geburtsurkunde.pdf")) -> bytes:
    """An application mail as a clerk saves it from the mail program (``.eml``), with PDF attachments."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = f"Antrag {number} <antrag{number}@example.org>"
    message["To"] = "uvg@giessen.example"
    message["Subject"] = f"Antrag auf Unterhaltsvorschuss {number}"
    message["Message-ID"] = f"<antrag-{number}@example.org>"
    message["Date"] = "Mon, 02 Nov 2026 09:30:00 +0100"
    message.set_content("Sehr geehrte Damen und Herren, anbei mein Antrag.")
    for name in attachments:
        message.add_attachment(b"%PDF-1.4 " + name.encode(), maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()


@dataclass
class World:
    db: Database
    robots: dict[str, int] = field(default_factory=dict)
    who: dict[str, Principal] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def run(self, robot: str) -> int:
        """A queued run of ``city/process`` (as the runs service would start it)."""
        city = robot.split("/", maxsplit=1)[0]
        with self.db.session() as session:
            run = Run(city_id=city, robot_id=self.robots[robot], state=RunState.QUEUED, attempt=0, cases_done=0,
                      cases_total=0)
            session.add(run)
            session.flush()
            return run.id

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)  # once: argon2 is slow on purpose


def build_world(db: Database) -> World:
    world = World(db)
    with db.session() as session:
        session.add_all([City(id="giessen", name="Gießen"), City(id="marburg", name="Marburg"),
                         City(id="fulda", name="Fulda")])
        session.flush()
        for key, owner in ROBOTS.items():
            city, process = key.split("/")
            robot = Robot(city_id=city, process=process, title=process.title(), version="0.1.0", owner_city_id=owner)
            session.add(robot)
            session.flush()
            world.robots[key] = robot.id
        for name, (city, role) in USERS.items():
            user = User(name=name, role=role, city_id=city, password_hash=_password_hash(), active=True)
            session.add(user)
            session.flush()
            world.who[name] = Principal.of(user)
            world.tokens[name] = create_token(session, name)
    return world


@contextmanager
def api_client(world: World, data_dir: Path, **changes: object) -> Iterator[tuple[TestClient, Settings]]:
    """A test client of the whole application on the world's database."""
    settings = Settings.load(data_dir=data_dir, database_url=world.db.url)
    if changes:
        settings = settings.with_changes(**changes)
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            yield client, settings
    finally:
        app.state.database.dispose()
