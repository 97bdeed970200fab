"""Sandbox finance system: a stand-in for a city's Rechnungseingangsbuch (demos and tests only).

``create_app(settings)`` builds the Flask app; ``python -m rathaus_sandbox.finanzen`` serves it. The JSON API
under ``/api/`` exists for tests and the acceptance suite only; the finance systems it stands for offer none
to the robot, which enters invoices through the browser like a clerk.
"""

from __future__ import annotations

from .app import create_app, database_of
from .settings import DEFAULT_PASSWORD, DEFAULT_USER, Settings

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "Settings", "create_app", "database_of"]
