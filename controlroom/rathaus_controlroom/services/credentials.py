"""A city's credentials, encrypted with Fernet (``settings.credential_key``), handed only to its own runs.

A value is written once and never shown again: listings give names and dates, audit entries and logs name the
credential but never its value, and :class:`Secrets` (what a run receives) hides its values in ``repr``.
The key comes from ``RATHAUS_CREDENTIAL_KEY``, ``RATHAUS_CREDENTIAL_KEY_FILE`` or the data folder (settings).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from rathaus_controlroom.models import Credential, Role, Run
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import ControlRoomError, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)

#: a credential is handed to the robot as an environment variable of this name
NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: ... and that name says it holds a secret (robots name theirs in ``passwort_variable``, e.g.
#: GIESSEN_UVG_FACHVERFAHREN_PASSWORT), so that no credential can stand in for a variable that steers programs
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]*_(PASSWORT|PASSWORD|TOKEN|SCHLUESSEL|KEY|GEHEIM|SECRET)$")
#: variables that steer the runner, Python, Robot Framework or the dynamic linker: never a credential
RESERVED_NAMES = frozenset({"PATH", "HOME", "SHELL", "USER", "LOGNAME", "LANG", "LANGUAGE", "TMPDIR", "TEMP", "TMP",
                            "TZ", "PWD", "IFS", "ENV", "BASH_ENV", "TERM", "SSL_CERT_FILE", "SSL_CERT_DIR",
                            "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                            "ALL_PROXY"})
RESERVED_PREFIXES = ("_", "LD_", "LC_", "PYTHON", "RATHAUS_", "ROBOT_", "RPA_", "PLAYWRIGHT_", "DYLD_",
                     "GCONV_", "NODE_", "XDG_")


def is_reserved(name: str) -> bool:
    """Whether ``name`` is an environment variable that a credential must never set (the runner's own, the
    interpreter's, the linker's, the locale's)."""
    upper = name.upper()
    return upper in RESERVED_NAMES or upper.startswith(RESERVED_PREFIXES)
MAX_NAME = 100
MAX_VALUE = 8192


class CredentialKeyError(ControlRoomError):
    """A stored credential cannot be decrypted with the current key (the key was changed)."""

    code = "CREDENTIAL_KEY"
    status = 500


class Secrets(dict[str, str]):
    """Credential values by name for one run; ``repr``/``str`` show the names only."""

    def __repr__(self) -> str:
        return f"Secrets({', '.join(f'{name}=***' for name in sorted(self))})"

    __str__ = __repr__


@dataclass(frozen=True)
class CredentialInfo:
    """What anyone ever sees of a credential again: its name and when it was saved."""

    name: str
    city_id: str
    saved_at: datetime | None

    @classmethod
    def from_row(cls, row: Credential) -> CredentialInfo:
        saved = row.created_at
        if saved is not None and saved.tzinfo is None:
            saved = saved.replace(tzinfo=timezone.utc)
        return cls(row.name, row.city_id, saved)


def _fernet(key: bytes | str | Settings) -> Fernet:
    raw = key.credential_key if isinstance(key, Settings) else key
    return Fernet(raw)


def _admin(principal: Principal) -> str:
    if principal.role is not Role.ADMIN or principal.city_id is None:
        raise Forbidden("Zugangsdaten verwalten nur Administratorinnen und Administratoren der Stadt.")
    return principal.city_id


def _check_name(name: object) -> str:
    if not isinstance(name, str) or len(name) > MAX_NAME or not NAME.match(name):
        shown = str(name)[:MAX_NAME] if isinstance(name, str) else "?"
        raise Invalid(f"Name '{shown}' ist ungültig: ein Name wie eine Umgebungsvariable, z. B. "
                      "GIESSEN_UVG_PASSWORT (Großbuchstaben, Ziffern, '_', beginnt mit einem Buchstaben).")
    if is_reserved(name):
        raise Invalid(f"Name '{name}' ist reserviert: Variablen wie PATH, HOME, LANG, TZ, LD_…, PYTHON…, "
                      "RATHAUS_…, ROBOT_…, RPA_… und Namen mit '_' am Anfang steuern den Runner und dürfen keine "
                      "Zugangsdaten sein.")
    if not SECRET_NAME.match(name):
        raise Invalid(f"Name '{name}' ist nicht erlaubt: Zugangsdaten enden auf _PASSWORT, _PASSWORD, _TOKEN, "
                      "_SCHLUESSEL, _KEY, _GEHEIM oder _SECRET, wie die 'passwort_variable' in der Konfiguration "
                      "des Roboters (z. B. GIESSEN_UVG_FACHVERFAHREN_PASSWORT).")
    return name


def save_credential(session: Session, key: bytes | str | Settings, principal: Principal, name: str,
                    value: str) -> CredentialInfo:
    """Store (or overwrite) the city's credential ``name``; the value is encrypted and never returned."""
    city = _admin(principal)
    name = _check_name(name)
    if not isinstance(value, str) or not value:
        raise Invalid(f"Zugangsdaten '{name}': bitte einen Wert angeben.")
    if len(value) > MAX_VALUE:
        raise Invalid(f"Zugangsdaten '{name}': der Wert ist zu lang (höchstens {MAX_VALUE} Zeichen).")
    ciphertext = _fernet(key).encrypt(value.encode())
    row = session.scalar(select(Credential).where(Credential.city_id == city, Credential.name == name)
                         .with_for_update())
    action = "update_credential" if row else "create_credential"
    if row is None:
        row = Credential(city_id=city, name=name, ciphertext=ciphertext, created_by=principal.user_id)
        session.add(row)
    else:
        row.ciphertext, row.created_by = ciphertext, principal.user_id
        row.created_at = datetime.now(timezone.utc)
    session.flush()
    audit.record(session, principal, action, "credential", name, city)
    log.info("action=%s city=%s name=%s", action, city, name)
    return CredentialInfo.from_row(row)


def list_credentials(session: Session, principal: Principal) -> list[CredentialInfo]:
    """Names and dates of the admin's city's credentials (never values)."""
    city = _admin(principal)
    rows = session.scalars(select(Credential).where(Credential.city_id == city).order_by(Credential.name))
    return [CredentialInfo.from_row(row) for row in rows]


def delete_credential(session: Session, principal: Principal, name: str) -> None:
    city = _admin(principal)
    row = session.scalar(select(Credential).where(Credential.city_id == city, Credential.name == name))
    if row is None:
        raise NotFound(f"Zugangsdaten '{name}' gibt es in Ihrer Stadt nicht.")
    session.delete(row)
    session.flush()
    audit.record(session, principal, "delete_credential", "credential", name, city)
    log.info("action=delete_credential city=%s name=%s", city, name)


def _decrypt(fernet: Fernet, row: Credential) -> str:
    try:
        return fernet.decrypt(row.ciphertext).decode()
    except InvalidToken:
        raise CredentialKeyError(
            f"Zugangsdaten '{row.name}' der Stadt {row.city_id} lassen sich mit dem eingestellten Schlüssel "
            "nicht entschlüsseln; wurde RATHAUS_CREDENTIAL_KEY geändert? Bitte neu speichern.") from None


def credentials_for_run(session: Session, run: Run, key: bytes | str | Settings) -> Secrets:
    """The decrypted credentials of the run's city, for the runner that holds the run (nothing else)."""
    fernet = _fernet(key)
    secrets = Secrets()
    for row in session.scalars(select(Credential).where(Credential.city_id == run.city_id)):
        secrets[row.name] = _decrypt(fernet, row)
    log.info("action=hand_credentials city=%s run=%s count=%d", run.city_id, run.id, len(secrets))
    return secrets


def credential_of(session: Session, city: str, name: str, key: bytes | str | Settings) -> str | None:
    """One decrypted credential of ``city`` for the control room's own use (a mail trigger's mailbox), or ``None``."""
    row = session.scalar(select(Credential).where(Credential.city_id == city, Credential.name == name))
    return None if row is None else _decrypt(_fernet(key), row)
