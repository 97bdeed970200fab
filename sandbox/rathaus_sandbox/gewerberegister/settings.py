"""The one settings object of the sandbox Gewerberegister (app factory, command line and start helpers)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_USER = "sachbearbeitung"
DEFAULT_PASSWORD = "sandbox"  # noqa: S105 - sandbox only, documented on the login page
ENV_PREFIX = "RATHAUS_GEWERBEREGISTER_"


@dataclass(frozen=True)
class Settings:
    """How one sandbox instance behaves.

    - ``database``: SQLite file, created on demand (default: a new file in a temporary folder).
    - ``users``: user name -> password (default ``sachbearbeitung`` / ``sandbox``).
    - ``session_timeout_s``: idle time after which the session ends (default 900).
    - ``delay_ms``: slowness added to each request (default 0).
    - ``error_rate``: fraction 0..1 of requests answered with 503 "Wartungsarbeiten" (default 0).
    - ``seed``: makes the error draws reproducible (default: random).
    - ``mandant``: the city shown in the header.
    - ``secret_key``: signs the session cookie (default: random per start, sessions end on restart).
    """

    database: Path | None = None
    users: Mapping[str, str] = field(default_factory=lambda: {DEFAULT_USER: DEFAULT_PASSWORD})
    session_timeout_s: float = 900.0
    delay_ms: int = 0
    error_rate: float = 0.0
    seed: int | None = None
    mandant: str = "Musterstadt"
    secret_key: str | None = None

    @classmethod
    def from_mapping(cls, config: Settings | Mapping[str, Any] | None) -> Settings:
        """Build settings from a mapping with the attribute names above; unknown keys are an error."""
        if config is None:
            return cls()
        if isinstance(config, Settings):
            return config
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(
                f"Unbekannte Einstellung(en) für das Sandbox-Gewerberegister: {', '.join(unknown)}. "
                f"Bekannt sind: {', '.join(sorted(known))}."
            )
        values = dict(config)
        if values.get("database") is not None:
            values["database"] = Path(values["database"])
        if "users" in values:
            values["users"] = dict(values["users"])
        settings = cls(**values)
        if not 0.0 <= settings.error_rate <= 1.0:
            raise ValueError("error_rate muss zwischen 0 und 1 liegen.")
        if settings.session_timeout_s <= 0:
            raise ValueError("session_timeout_s muss größer als 0 sein.")
        return settings

    @classmethod
    def from_env(cls, base: Settings | None = None) -> Settings:
        """Overlay ``RATHAUS_GEWERBEREGISTER_*`` environment variables (fallbacks of the command line)."""
        settings = base or cls()
        env = os.environ
        changes: dict[str, Any] = {}
        if env.get(ENV_PREFIX + "DB"):
            changes["database"] = Path(env[ENV_PREFIX + "DB"])
        if env.get(ENV_PREFIX + "USER"):
            user, _, password = env[ENV_PREFIX + "USER"].partition(":")
            changes["users"] = {user: password}
        for key, name, conv in (
            ("DELAY_MS", "delay_ms", int),
            ("ERROR_RATE", "error_rate", float),
            ("SESSION_TIMEOUT", "session_timeout_s", float),
            ("SEED", "seed", int),
        ):
            if env.get(ENV_PREFIX + key):
                changes[name] = conv(env[ENV_PREFIX + key])
        if env.get(ENV_PREFIX + "MANDANT"):
            changes["mandant"] = env[ENV_PREFIX + "MANDANT"]
        return replace(settings, **changes) if changes else settings

    def database_path(self) -> Path:
        """The SQLite file, choosing a temporary one when none is configured."""
        if self.database is not None:
            return self.database
        return Path(tempfile.mkdtemp(prefix="rathaus-gewerberegister-")) / "gewerberegister.sqlite"
