"""The settings base class of the sandbox web apps (app factory, command line and start helpers)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Self

DEFAULT_PASSWORD = "sandbox"  # noqa: S105 - sandbox only, documented in the README and the login page hint


@dataclass(frozen=True)
class SandboxSettings:
    """How one sandbox instance behaves.

    - ``database``: SQLite file, created on demand (default: a new file in a temporary folder).
    - ``users``: user name -> password (default ``sachbearbeitung`` / ``sandbox``).
    - ``session_timeout_s``: idle time after which the session ends (default 900).
    - ``delay_ms``: slowness added to each request (default 0).
    - ``error_rate``: fraction 0..1 of requests answered with 503 "Wartungsarbeiten" (default 0).
    - ``seed``: makes the error draws reproducible (default: random).
    - ``mandant``: the city shown in the header.
    - ``secret_key``: signs the session cookie (default: random per start, sessions end on restart).

    Subclasses name their product (``PRODUCT``, German, for error messages), the prefix of their environment
    variables (``ENV_PREFIX``) and the stem of their temporary database (``DB_STEM``).
    """

    PRODUCT: ClassVar[str] = "Sandbox"
    ENV_PREFIX: ClassVar[str] = "RATHAUS_SANDBOX_"
    DB_STEM: ClassVar[str] = "sandbox"

    database: Path | None = None
    users: Mapping[str, str] = field(default_factory=lambda: {"sachbearbeitung": DEFAULT_PASSWORD})
    session_timeout_s: float = 900.0
    delay_ms: int = 0
    error_rate: float = 0.0
    seed: int | None = None
    mandant: str = "Musterstadt"
    secret_key: str | None = None

    @classmethod
    def from_mapping(cls, config: SandboxSettings | Mapping[str, Any] | None) -> Self:
        """Build settings from a mapping with the attribute names above; unknown keys are an error."""
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(
                f"Unbekannte Einstellung(en) für das {cls.PRODUCT}: {', '.join(unknown)}. "
                f"Bekannt sind: {', '.join(sorted(known))}."
            )
        values = dict(config)
        if values.get("database") is not None:
            values["database"] = Path(values["database"])
        if "users" in values:
            values["users"] = dict(values["users"])
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse values the app cannot work with (``ValueError`` with a German message)."""
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate muss zwischen 0 und 1 liegen.")

    @classmethod
    def from_env(cls, base: Self | None = None) -> Self:
        """Overlay ``<ENV_PREFIX>*`` environment variables (fallbacks of the command line)."""
        settings = base or cls()
        env = os.environ
        prefix = cls.ENV_PREFIX
        changes: dict[str, Any] = {}
        if env.get(prefix + "DB"):
            changes["database"] = Path(env[prefix + "DB"])
        if env.get(prefix + "USER"):
            user, _, password = env[prefix + "USER"].partition(":")
            changes["users"] = {user: password}
        for key, name, conv in (
            ("DELAY_MS", "delay_ms", int),
            ("ERROR_RATE", "error_rate", float),
            ("SESSION_TIMEOUT", "session_timeout_s", float),
            ("SEED", "seed", int),
        ):
            if env.get(prefix + key):
                changes[name] = conv(env[prefix + key])
        if env.get(prefix + "MANDANT"):
            changes["mandant"] = env[prefix + "MANDANT"]
        return replace(settings, **changes) if changes else settings

    def database_path(self) -> Path:
        """The SQLite file, choosing a temporary one when none is configured."""
        if self.database is not None:
            return self.database
        return Path(tempfile.mkdtemp(prefix=f"rathaus-{self.DB_STEM}-")) / f"{self.DB_STEM}.sqlite"
