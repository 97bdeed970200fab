"""The one command line of the sandbox web apps: ``python -m rathaus_sandbox.<app> --port P --user name:passwort``.

``--host --port --db --user NAME:PW (repeatable) --delay-ms --error-rate --seed --session-timeout --mandant``;
environment variables ``<ENV_PREFIX>*`` of the app's settings are the fallbacks. The process prints one line
``… läuft unter http://host:port/`` that ``rathaus_sandbox.server.spawn_sandbox`` waits for.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from .settings import SandboxSettings


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: the runner reads only the URL line of this process."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def parse_user(text: str) -> tuple[str, str]:
    """``name:passwort`` -> (name, passwort)."""
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError(f"Benutzerangabe '{user}:…' ungültig: erwartet NAME:PASSWORT.")
    return user, password


@dataclass(frozen=True)
class SandboxCommand:
    """The command line of one sandbox app.

    - ``module``: the package run with ``python -m`` (shown as the program name).
    - ``description``: German help text.
    - ``default_port``: port without ``--port``.
    - ``banner``: German product name of the start line ``<banner> läuft unter http://…/``.
    - ``create_app``: the app factory, called with the settings.
    - ``settings``: the app's :class:`SandboxSettings` subclass.
    - ``quiet``: no access log by default; ``--log-requests`` turns it on.
    """

    module: str
    description: str
    default_port: int
    banner: str
    create_app: Callable[[Any], Any]
    settings: type[SandboxSettings]
    quiet: bool = False

    def build_parser(self) -> argparse.ArgumentParser:
        port = self.default_port
        parser = argparse.ArgumentParser(prog=f"python -m {self.module}", description=self.description)
        parser.add_argument("--host", default="127.0.0.1", help="Adresse (Standard 127.0.0.1)")
        parser.add_argument("--port", type=int, default=port, help=f"Port (Standard {port}, 0 = frei wählen)")
        parser.add_argument("--db", type=Path, help="SQLite-Datei (wird angelegt)")
        parser.add_argument("--user", type=parse_user, action="append", help="NAME:PASSWORT, mehrfach möglich")
        parser.add_argument("--delay-ms", type=int, help="Verzögerung je Anfrage in ms")
        parser.add_argument("--error-rate", type=float, help="Anteil 0..1 der Anfragen mit 503")
        parser.add_argument("--seed", type=int, help="Startwert für die Fehlerauswahl")
        parser.add_argument("--session-timeout", type=float, help="Sitzungsdauer ohne Aktivität in Sekunden")
        parser.add_argument("--mandant", help="Name der Stadt im Kopf der Seiten")
        if self.quiet:
            parser.add_argument("--log-requests", action="store_true", help="jede Anfrage protokollieren")
        return parser

    def settings_from_args(self, args: argparse.Namespace) -> Any:
        """Environment variables first, then the command line on top."""
        settings_cls = self.settings
        settings = settings_cls.from_env()
        changes: dict[str, object] = {}
        if args.db is not None:
            changes["database"] = args.db
        if args.user:
            changes["users"] = dict(args.user)
        for attr, name in (("delay_ms", "delay_ms"), ("error_rate", "error_rate"), ("seed", "seed"),
                           ("session_timeout", "session_timeout_s"), ("mandant", "mandant")):
            if getattr(args, attr) is not None:
                changes[name] = getattr(args, attr)
        return settings_cls.from_mapping({**settings.__dict__, **changes}) if changes else replace(settings)

    def main(self, argv: list[str] | None = None) -> int:
        args = self.build_parser().parse_args(argv)
        try:
            settings = self.settings_from_args(args)
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        handler = _QuietHandler if self.quiet and not args.log_requests else None
        server = make_server(args.host, args.port, self.create_app(settings), threaded=True, request_handler=handler)
        print(f"{self.banner} läuft unter http://{args.host}:{server.server_port}/", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return 0
