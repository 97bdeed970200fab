"""The one settings object of the sandbox finance system (app factory, command line and start helpers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ..webapp.settings import DEFAULT_PASSWORD, SandboxSettings

DEFAULT_USER = "rechnungseingang"

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "Settings"]


@dataclass(frozen=True)
class Settings(SandboxSettings):
    """How one instance of the sandbox finance system behaves: the attributes of :class:`SandboxSettings`,
    with the default user ``rechnungseingang`` / ``sandbox``.

    Environment variables: ``RATHAUS_FINANZEN_*``.
    """

    PRODUCT: ClassVar[str] = "Sandbox-Finanzverfahren"
    ENV_PREFIX: ClassVar[str] = "RATHAUS_FINANZEN_"
    DB_STEM: ClassVar[str] = "finanzen"

    users: Mapping[str, str] = field(default_factory=lambda: {DEFAULT_USER: DEFAULT_PASSWORD})
