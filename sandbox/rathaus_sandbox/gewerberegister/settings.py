"""The one settings object of the sandbox Gewerberegister (app factory, command line and start helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..webapp.settings import DEFAULT_PASSWORD, SandboxSettings

DEFAULT_USER = "sachbearbeitung"
ENV_PREFIX = "RATHAUS_GEWERBEREGISTER_"

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "ENV_PREFIX", "Settings"]


@dataclass(frozen=True)
class Settings(SandboxSettings):
    """How one sandbox instance behaves: the attributes of :class:`SandboxSettings`.

    Environment variables: ``RATHAUS_GEWERBEREGISTER_*``.
    """

    PRODUCT: ClassVar[str] = "Sandbox-Gewerberegister"
    ENV_PREFIX: ClassVar[str] = ENV_PREFIX
    DB_STEM: ClassVar[str] = "gewerberegister"

    def check(self) -> None:
        super().check()
        if self.session_timeout_s <= 0:
            raise ValueError("session_timeout_s muss größer als 0 sein.")
