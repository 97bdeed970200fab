"""Command line of the control room: ``rathaus controlroom``, ``rathaus users add``, ``rathaus tokens create``.

Passwords are never command line arguments (they would end up in the shell history and the process list):
``users add`` reads them from standard input (``--password-stdin``) or asks for them.
"""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rathaus_controlroom.roles import Role
from rathaus_controlroom.services.errors import Invalid

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The database layer (SQLAlchemy, models, services) is imported inside the commands: every `rathaus`
# command builds this parser, and `rathaus pdf …` should not pay for loading it.

log = logging.getLogger(__name__)

#: the one password of every demo user; printed at start, for demonstrations only
DEMO_PASSWORD = "Kontrollraum-Demo-2025"  # noqa: S105 - a published demo password, never used in production
#: who the audit log names for changes made on the command line
CLI_ACTOR = "kommandozeile"


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: Role
    city: str | None


def _database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL",
                        help="postgresql://user@host/db (default: SQLite in the data folder)")
    parser.add_argument("--data", metavar="DIR", type=Path,
                        help="data folder for uploads, artifacts, keys (default: var/controlroom)")


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register ``controlroom``, ``users`` and ``tokens`` on the ``rathaus`` command line."""
    room = subparsers.add_parser("controlroom", help="start the control room (web UI, API, local runner)")
    _database_arguments(room)
    room.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    room.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    room.add_argument("--demo", action="store_true",
                      help="create demo users for every city (demo password printed at start)")
    room.add_argument("--no-runner", action="store_true", help="start no local runner")
    room.set_defaults(func=cmd_controlroom)

    users = subparsers.add_parser("users", help="manage control room users").add_subparsers(
        dest="users_command", required=True)
    add = users.add_parser("add", help="add a user (password from stdin or a prompt, never an argument)")
    add.add_argument("name", help="user name, e.g. anna.schmidt")
    add.add_argument("--city", help="the user's city (not for operators)")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _database_arguments(add)
    add.set_defaults(func=cmd_users_add)

    tokens = subparsers.add_parser("tokens", help="API tokens").add_subparsers(dest="tokens_command", required=True)
    create = tokens.add_parser("create", help="issue an API token for a user (printed once)")
    create.add_argument("name", help="user name")
    _database_arguments(create)
    create.set_defaults(func=cmd_tokens_create)


def open_database(data: Path | None, database: str | None):
    """Settings, migrated database and synchronised catalogue for a command."""
    from rathaus.core.project import Project

    from rathaus_controlroom.db import Database, upgrade
    from rathaus_controlroom.services.catalogue import sync_catalogue
    from rathaus_controlroom.settings import Settings

    settings = Settings.load(data_dir=data, database_url=database)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.session() as session:
        sync_catalogue(session, Project.locate())
    return settings, db


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Passwort: ")
    if first != getpass.getpass("Passwort wiederholen: "):
        raise Invalid("Die beiden Passwörter stimmen nicht überein; es wurde niemand angelegt.")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    from rathaus_controlroom.services import audit
    from rathaus_controlroom.services.users import add_user

    password = _read_password(args.password_stdin)
    _, db = open_database(args.data, args.database)
    try:
        with db.session() as session:
            user = add_user(session, args.name, args.role, password, city=args.city)
            audit.record(session, CLI_ACTOR, "add_user", "user", user.id, user.city_id, role=user.role.value)
            print(f"Benutzer '{user.name}' angelegt (Rolle {user.role.value}"
                  + (f", Stadt {user.city_id}" if user.city_id else "") + ").")
    finally:
        db.dispose()
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from rathaus_controlroom.models import User
    from rathaus_controlroom.services import audit
    from rathaus_controlroom.services.users import create_token

    _, db = open_database(args.data, args.database)
    try:
        with db.session() as session:
            token = create_token(session, args.name)
            user = session.scalar(select(User).where(User.name == args.name))
            audit.record(session, CLI_ACTOR, "create_token", "user", user.id, user.city_id)
    finally:
        db.dispose()
    print(token)
    print("Das Token wird nur jetzt angezeigt; bitte sicher aufbewahren "
          "(Kopfzeile 'Authorization: Bearer <Token>').", file=sys.stderr)
    return 0


def demo_users(session: Session) -> list[DemoUser]:
    """Per city a clerk and a city admin, a process owner per owning city, one operator."""
    from sqlalchemy import select

    from rathaus_controlroom.models import City, Robot

    cities = list(session.scalars(select(City.id).order_by(City.id)))
    owners = sorted(set(session.scalars(select(Robot.owner_city_id))))
    users = [DemoUser(f"{city}.sachbearbeitung", Role.CLERK, city) for city in cities]
    users += [DemoUser(f"{city}.admin", Role.ADMIN, city) for city in cities]
    users += [DemoUser(f"{city}.prozess", Role.OWNER, city) for city in owners]
    users.append(DemoUser("betrieb", Role.OPERATOR, None))
    return users


def seed_demo(session: Session) -> list[DemoUser]:
    """Create the demo users that do not exist yet (idempotent); returns all of them."""
    from sqlalchemy import select

    from rathaus_controlroom.models import User
    from rathaus_controlroom.services import audit
    from rathaus_controlroom.services.users import add_user

    users = demo_users(session)
    for user in users:
        if session.scalar(select(User.id).where(User.name == user.name)) is None:
            row = add_user(session, user.name, user.role, DEMO_PASSWORD, city=user.city)
            audit.record(session, CLI_ACTOR, "add_user", "user", row.id, row.city_id, role=row.role.value, demo=True)
    return users


#: name of the control room's own runner in every city
LOCAL_RUNNER = "lokal"


def local_runner_tokens(session: Session) -> list[str]:
    """Fresh tokens for the local runner of every city (registered on first start, token renewed on each start).

    Only hashes are stored, so the runner thread gets new tokens each time the control room starts.
    """
    import secrets

    from sqlalchemy import select

    from rathaus_controlroom.models import City, Runner
    from rathaus_controlroom.services import audit
    from rathaus_controlroom.services.runners import TOKEN_PREFIX
    from rathaus_controlroom.services.users import token_hash

    tokens = []
    for city in session.scalars(select(City.id).order_by(City.id)):
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        runner = session.scalar(select(Runner).where(Runner.city_id == city, Runner.name == LOCAL_RUNNER))
        if runner is None:
            runner = Runner(city_id=city, name=LOCAL_RUNNER, token_hash=token_hash(token), active=True)
            session.add(runner)
            session.flush()
            audit.record(session, CLI_ACTOR, "register_runner", "runner", runner.id, city, name=LOCAL_RUNNER)
        else:
            runner.token_hash, runner.active = token_hash(token), True
        tokens.append(token)
    return tokens


def _optional(module: str):
    """A module of the control room that may not exist in this version (runner, scheduler)."""
    name = f"rathaus_controlroom.{module}"
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def _print_demo(users: list[DemoUser], address: str) -> None:
    from rathaus_controlroom.web.ui import ROLE_LABELS

    print("Vorführbetrieb (--demo): Diese Zugänge und das Passwort sind öffentlich bekannt und nur für die "
          "Vorführung gedacht, niemals für echte Daten.")
    print(f"Passwort aller Demo-Zugänge: {DEMO_PASSWORD}")
    for user in users:
        print(f"  {user.name:<28} {ROLE_LABELS[user.role]}" + (f" ({user.city})" if user.city else ""))
    print(f"Anmelden unter {address}anmelden")


def configure_logging() -> None:
    """The services' structured lines (``action=… city=… run=…``, never personal data or secrets) at INFO on
    stderr; other libraries (HTTP clients, the web server) only from WARNING on."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    for name in ("rathaus", "rathaus_controlroom"):
        logging.getLogger(name).setLevel(logging.INFO)


def _start_demo(settings, db) -> tuple[list[DemoUser], Any]:
    """The demo users and the cities' long-lived sandbox systems."""
    from rathaus_controlroom.demo_systems import start_demo_systems

    with db.session() as session:
        users = seed_demo(session)
    print("Vorführbetrieb: die Fachverfahren, Gewerberegister und Finanzsysteme der Städte starten …", flush=True)
    return users, start_demo_systems(settings, db)


def cmd_controlroom(args: argparse.Namespace) -> int:
    import uvicorn

    from rathaus_controlroom.web.app import create_app

    configure_logging()
    settings, db = open_database(args.data, args.database)
    users, systems = _start_demo(settings, db) if args.demo else ([], None)
    app = create_app(settings, db)
    host = "localhost" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104 - only for the address shown
    address = f"http://{host}:{args.port}/"
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning"))
    stop = threading.Event()
    local: list = []  # the local runner's handle, once started

    def after_start() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.should_exit:
            return
        scheduler = _optional("scheduler")
        if scheduler is not None:
            scheduler.start_scheduler(db, settings, stop)
        mailwatch = _optional("mailwatch")
        if mailwatch is not None:
            mailwatch.start_mail_watchers(db, settings, stop)
        if not args.no_runner:
            runner = _optional("runner")
            if runner is not None:
                with db.session() as session:
                    tokens = local_runner_tokens(session)
                local.append(runner.start_local_runner(f"http://{host}:{args.port}", tokens,
                                                       settings.data_dir / "runner"))
        print(f"Kontrollraum läuft: {address} (Datenbank {settings.shown_database()}, "
              f"Daten {settings.data_dir}). Beenden mit Strg+C.", flush=True)
        if users:
            _print_demo(users, address)
        sys.stdout.flush()
        while not server.should_exit:  # Ctrl+C: stop the clock and the runner before the web server goes
            threading.Event().wait(0.2)
        stop.set()
        for handle in local:
            handle.stop_event.set()

    threading.Thread(target=after_start, name="controlroom-start", daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after its graceful shutdown
        pass
    finally:
        stop.set()
        for handle in local:
            handle.stop_event.set()
        if systems is not None:
            systems.stop()
        db.dispose()
    print("Kontrollraum beendet.", flush=True)
    return 0
