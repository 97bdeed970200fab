"""Sandbox "UVG-Fachverfahren": a stand-in for the Unterhaltsvorschuss specialist system (demos and tests only).

``create_app(settings)`` builds the Flask app; ``python -m rathaus_sandbox.fachverfahren`` serves it. The JSON
API under ``/api/`` exists for tests and the acceptance suite only; real Fachverfahren offer none.
"""

from __future__ import annotations

from .app import create_app, database_of
from .settings import DEFAULT_PASSWORD, DEFAULT_USER, Settings

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "Settings", "create_app", "database_of"]
