"""What the sandbox web apps share: settings, command line, login/CSRF/session guard, page frame and styles.

Each app (``fachverfahren``, ``gewerberegister``, ``finanzen``) keeps its own domain routes, fields, validation
and templates; :func:`rathaus_sandbox.webapp.site.create_sandbox_app` gives it the common scaffolding.
"""

from __future__ import annotations

from .cli import SandboxCommand, parse_user
from .settings import DEFAULT_PASSWORD, SandboxSettings
from .site import SandboxSite, api_denied, api_user, create_sandbox_app, login_required

__all__ = [
    "DEFAULT_PASSWORD",
    "SandboxCommand",
    "SandboxSettings",
    "SandboxSite",
    "api_denied",
    "api_user",
    "create_sandbox_app",
    "login_required",
    "parse_user",
]
