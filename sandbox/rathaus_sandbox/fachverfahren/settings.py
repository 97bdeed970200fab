"""The one settings object of the sandbox Fachverfahren (app factory, command line and start helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..webapp.settings import DEFAULT_PASSWORD, SandboxSettings

DEFAULT_USER = "sachbearbeitung"

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "Settings"]


@dataclass(frozen=True)
class Settings(SandboxSettings):
    """How one sandbox instance behaves: the attributes of :class:`SandboxSettings`, plus

    - ``max_upload_mb``: largest attachment of a new case (default 10).

    Environment variables: ``RATHAUS_SANDBOX_*``.
    """

    PRODUCT: ClassVar[str] = "Sandbox-Fachverfahren"
    ENV_PREFIX: ClassVar[str] = "RATHAUS_SANDBOX_"
    DB_STEM: ClassVar[str] = "fachverfahren"

    max_upload_mb: int = 10
