"""Serve the sandbox Gewerberegister: ``python -m rathaus_sandbox.gewerberegister --port 8766 --user name:passwort``."""

from __future__ import annotations

import sys

from ..webapp.cli import SandboxCommand, parse_user
from .app import create_app
from .settings import Settings

COMMAND = SandboxCommand(
    module="rathaus_sandbox.gewerberegister",
    description="Sandbox-Gewerberegister für Demos und Tests starten.",
    default_port=8766,
    banner="Gewerberegister (Sandbox)",
    create_app=create_app,
    settings=Settings,
)
build_parser = COMMAND.build_parser
settings_from_args = COMMAND.settings_from_args
main = COMMAND.main

__all__ = ["COMMAND", "build_parser", "main", "parse_user", "settings_from_args"]

if __name__ == "__main__":
    sys.exit(main())
