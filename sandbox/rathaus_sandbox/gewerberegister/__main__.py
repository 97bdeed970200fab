"""Serve the sandbox Gewerberegister: ``python -m rathaus_sandbox.gewerberegister --port 8766 --user name:passwort``."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from werkzeug.serving import make_server

from .app import create_app
from .settings import Settings


def parse_user(text: str) -> tuple[str, str]:
    """``name:passwort`` -> (name, passwort)."""
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError(f"Benutzerangabe '{user}:…' ungültig: erwartet NAME:PASSWORT.")
    return user, password


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rathaus_sandbox.gewerberegister",
        description="Sandbox-Gewerberegister für Demos und Tests starten.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Adresse (Standard 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8766, help="Port (Standard 8766, 0 = frei wählen)")
    parser.add_argument("--db", type=Path, help="SQLite-Datei (wird angelegt)")
    parser.add_argument("--user", type=parse_user, action="append", help="NAME:PASSWORT, mehrfach möglich")
    parser.add_argument("--delay-ms", type=int, help="Verzögerung je Anfrage in ms")
    parser.add_argument("--error-rate", type=float, help="Anteil 0..1 der Anfragen mit 503")
    parser.add_argument("--seed", type=int, help="Startwert für die Fehlerauswahl")
    parser.add_argument("--session-timeout", type=float, help="Sitzungsdauer ohne Aktivität in Sekunden")
    parser.add_argument("--mandant", help="Name der Stadt im Kopf der Seiten")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Environment variables first, then the command line on top."""
    settings = Settings.from_env()
    changes: dict[str, object] = {}
    if args.db is not None:
        changes["database"] = args.db
    if args.user:
        changes["users"] = dict(args.user)
    for attr, name in (("delay_ms", "delay_ms"), ("error_rate", "error_rate"), ("seed", "seed"),
                       ("session_timeout", "session_timeout_s"), ("mandant", "mandant")):
        if getattr(args, attr) is not None:
            changes[name] = getattr(args, attr)
    return Settings.from_mapping({**settings.__dict__, **changes}) if changes else replace(settings)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, create_app(settings), threaded=True)
    print(f"Gewerberegister (Sandbox) läuft unter http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
