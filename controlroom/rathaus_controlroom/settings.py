"""The control room's one settings object; the only place that reads its environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from rathaus.errors import ApplicationError

#: environment variables (all optional)
ENV_DATA = "RATHAUS_CONTROLROOM_DATA"
ENV_DATABASE = "RATHAUS_CONTROLROOM_DATABASE"
ENV_CREDENTIAL_KEY = "RATHAUS_CREDENTIAL_KEY"
ENV_CREDENTIAL_KEY_FILE = "RATHAUS_CREDENTIAL_KEY_FILE"


class SettingsError(ApplicationError):
    """The control room cannot start with these settings."""

    code = "CONTROLROOM_SETTINGS"


def _secret_file(path: Path, make: bytes) -> bytes:
    """Read a key file, or create it (owner-only) with ``make`` on first start."""
    if path.is_file():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(make)
    return make


@dataclass(frozen=True)
class Settings:
    """What the control room needs to start; validated by :meth:`load`."""

    #: SQLAlchemy URL: ``sqlite:///…`` (default, in the data folder) or ``postgresql://…``
    database_url: str
    #: uploads, artifacts, keys and the embedded database live here
    data_dir: Path
    #: signs session cookies and CSRF tokens
    session_key: bytes
    #: Fernet key that encrypts credentials
    credential_key: bytes
    session_timeout_s: int = 1800
    max_upload_bytes: int = 20 * 1024 * 1024
    #: a runner that has not sent a heartbeat for this long loses its run
    lease_s: int = 60
    #: application failures of a work item are retried this often, with growing waits
    max_item_attempts: int = 3
    retry_base_s: int = 60
    timezone: str = "Europe/Berlin"
    #: configuration overrides per city robot (``<city>/<process>`` -> keys of its config.yaml) handed to runners
    #: with each run: the demo's shared sandbox systems
    robot_config: dict[str, Any] = field(default_factory=dict)
    #: the Bundesland whose public holidays schedules may skip
    holiday_subdivision: str = "HE"
    #: failed logins of one user name within ``login_window_s`` after which it is refused for a while
    login_max_failures: int = 5
    #: the same for one client address (higher: a city hall's clerks often share one address)
    login_max_failures_per_address: int = 20
    login_window_s: int = 900

    @classmethod
    def load(cls, data_dir: Path | str | None = None, database_url: str | None = None) -> Settings:
        """Arguments first, then ``RATHAUS_CONTROLROOM_*`` variables, then defaults under ``var/controlroom``."""
        from rathaus.core.project import Project

        folder = Path(data_dir or os.environ.get(ENV_DATA) or Project.locate().home / "controlroom").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        url = database_url or os.environ.get(ENV_DATABASE) or f"sqlite:///{folder / 'controlroom.sqlite'}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise SettingsError(
                f"Datenbank '{url.split('@')[-1]}' wird nicht unterstützt: erlaubt sind sqlite:///PFAD und postgresql://…"
            )
        session_key = _secret_file(folder / "session.key", secrets.token_hex(32).encode())
        raw_key = os.environ.get(ENV_CREDENTIAL_KEY)
        key_file = os.environ.get(ENV_CREDENTIAL_KEY_FILE)
        if raw_key:
            credential_key = raw_key.encode()
        elif key_file:
            try:
                credential_key = Path(key_file).read_bytes().strip()
            except OSError as error:
                raise SettingsError(f"Schlüsseldatei '{key_file}' ist nicht lesbar ({error.strerror}).") from None
        else:
            credential_key = _secret_file(folder / "credential.key", Fernet.generate_key())
        try:
            Fernet(credential_key)
        except ValueError:
            raise SettingsError(
                "Der Schlüssel für Zugangsdaten ist ungültig: erwartet wird ein Fernet-Schlüssel (32 Bytes, base64)."
            ) from None
        return cls(database_url=url, data_dir=folder, session_key=session_key, credential_key=credential_key)

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @property
    def is_postgresql(self) -> bool:
        return self.database_url.startswith("postgresql")

    def shown_database(self) -> str:
        """The database URL without a password, for messages."""
        if "@" not in self.database_url:
            return self.database_url
        scheme, rest = self.database_url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
