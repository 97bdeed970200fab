"""Sandbox "Gewerberegister": a stand-in for a city's trade register software (demos and tests only).

``create_app(settings)`` builds the Flask app; ``python -m rathaus_sandbox.gewerberegister`` serves it with
the same command line as the sandbox Fachverfahren (``--host --port --db --user NAME:PW --mandant``). The
JSON API under ``/api/`` exists for tests and the acceptance suite only; real register software offers none.
"""

from __future__ import annotations

from .app import create_app, store_of
from .settings import DEFAULT_PASSWORD, DEFAULT_USER, Settings

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "Settings", "create_app", "store_of"]
