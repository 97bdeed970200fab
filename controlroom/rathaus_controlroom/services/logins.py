"""Logging in with a password, throttled: too many failures for one user name or one client address block it.

After ``login_max_failures`` failed logins for one user name (or ``login_max_failures_per_address`` from one
client address) within ``login_window_s``, further logins for that name (or from that address) are refused with
429 until the oldest of those failures leaves the window, without checking the password. Names that belong to
no user are counted the same way, so the answer never tells whether a user exists. The failures live in the
database (table ``login_failures``), so that every control-room instance on one PostgreSQL and every restart
sees the same counts; rows hold an HMAC of the name or address and the time, and are deleted once out of the
window. A successful login clears the name's failures (not the address's).

Each failure is audited as ``login_failed``: with the user's name and city when the name belongs to a user
(the city's admins see it), otherwise as ``unbekannt`` without the typed name (it may be a mistyped password).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rathaus_controlroom.db import Database
from rathaus_controlroom.models import LoginFailure, User
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import ControlRoomError, Unauthenticated
from rathaus_controlroom.services.items import as_utc
from rathaus_controlroom.services.users import Principal, authenticate
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)

#: actor of a failed login whose name belongs to no user
UNKNOWN = "unbekannt"


class TooManyAttempts(ControlRoomError):
    """Logins for this name or from this address are blocked for a while (429); ``retry_after_s`` says how long."""

    code = "TOO_MANY_ATTEMPTS"
    status = 429

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, math.ceil(retry_after_s / 60))
        unit = "Minute" if minutes == 1 else "Minuten"
        super().__init__(f"Zu viele Fehlversuche – bitte in {minutes} {unit} erneut versuchen.")
        self.retry_after_s = max(1, retry_after_s)


@dataclass(frozen=True)
class Throttle:
    """Limits of the login throttle and the key that turns names and addresses into HMACs."""

    key: bytes
    max_failures: int = 5
    max_failures_per_address: int = 20
    window_s: int = 900

    @classmethod
    def of(cls, settings: Settings) -> Throttle:
        return cls(settings.session_key, settings.login_max_failures, settings.login_max_failures_per_address,
                   settings.login_window_s)

    def subject(self, kind: str, value: str) -> str:
        return hmac.new(self.key, f"login:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else datetime.now(timezone.utc)


def _blocked_for(session: Session, subject: str, limit: int, window_s: int, now: datetime) -> int:
    """Seconds until ``subject`` may try again (0: not blocked)."""
    recent = [as_utc(moment) for moment in session.scalars(
        select(LoginFailure.at).where(LoginFailure.subject == subject,
                                      LoginFailure.at > now - timedelta(seconds=window_s))
        .order_by(LoginFailure.at.desc()).limit(limit))]
    if len(recent) < limit:
        return 0
    return max(0, math.ceil((recent[-1] + timedelta(seconds=window_s) - now).total_seconds()))


def check(session: Session, throttle: Throttle, name: str, address: str, now: datetime | None = None) -> None:
    """Raise :class:`TooManyAttempts` when the name or the address has too many recent failures."""
    moment = _now(now)
    wait = max(_blocked_for(session, throttle.subject("name", name), throttle.max_failures, throttle.window_s,
                            moment),
               _blocked_for(session, throttle.subject("address", address), throttle.max_failures_per_address,
                            throttle.window_s, moment))
    if wait:
        raise TooManyAttempts(wait)


def sign_in(database: Database, throttle: Throttle, name: str, password: str, address: str,
            now: datetime | None = None) -> Principal:
    """The user for ``name`` and ``password``, or :class:`TooManyAttempts` / ``Unauthenticated``.

    Takes the database (not a session) because a failure must be recorded although the login is refused.
    """
    moment = _now(now)
    name_subject, address_subject = throttle.subject("name", name), throttle.subject("address", address)
    with database.session() as session:
        try:
            check(session, throttle, name, address, moment)
        except TooManyAttempts:
            log.warning("action=login_blocked")
            raise
        try:
            principal = authenticate(session, name, password)
        except Unauthenticated as error:
            failure = error
        else:
            session.execute(delete(LoginFailure).where(LoginFailure.subject == name_subject))
            log.info("action=login user=%s", principal.user_id)
            return principal
        session.execute(delete(LoginFailure).where(LoginFailure.at <= moment - timedelta(seconds=throttle.window_s)))
        session.add_all([LoginFailure(subject=name_subject, at=moment), LoginFailure(subject=address_subject,
                                                                                     at=moment)])
        session.flush()
        try:
            check(session, throttle, name, address, moment)
            locked = False
        except TooManyAttempts:
            locked = True
        user = session.scalar(select(User).where(User.name == name))
        detail = {"locked": True} if locked else {}
        if user is not None:
            audit.record(session, user.name, "login_failed", "user", user.id, user.city_id, **detail)
        else:
            audit.record(session, UNKNOWN, "login_failed", "user", None, None, **detail)
        log.warning("action=login_failed user=%s locked=%s", user.id if user else "-", locked)
    raise failure
