"""Signed session cookies with an idle timeout, and CSRF tokens bound to the session."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from rathaus_controlroom.services.errors import Unauthenticated

COOKIE = "rathaus_sitzung"


def issue(key: bytes, user_id: int) -> str:
    """A new session value: user id and a random session id, signed with a timestamp."""
    return TimestampSigner(key, salt="sitzung").sign(f"{user_id}:{secrets.token_urlsafe(16)}").decode()


def read(key: bytes, value: str, max_age_s: int) -> tuple[int, str]:
    """(user id, session id) of a valid session; German errors for an expired or forged cookie."""
    try:
        raw = TimestampSigner(key, salt="sitzung").unsign(value, max_age=max_age_s).decode()
    except SignatureExpired:
        raise Unauthenticated("Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.") from None
    except BadSignature:
        raise Unauthenticated("Keine gültige Sitzung. Bitte melden Sie sich an.") from None
    user_id, _, session_id = raw.partition(":")
    return int(user_id), session_id


def refresh(key: bytes, value: str, max_age_s: int) -> str:
    """The same session signed anew: activity moves the idle timeout forward."""
    user_id, session_id = read(key, value, max_age_s)
    return TimestampSigner(key, salt="sitzung").sign(f"{user_id}:{session_id}").decode()


def csrf_token(key: bytes, session_value: str) -> str:
    """The CSRF token of a session (HMAC of its session id): forms carry it in the field ``csrf_token``."""
    _, _, session_part = session_value.partition(":")
    session_id = session_part.split(".", 1)[0]
    return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(key: bytes, session_value: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(key, session_value).encode(), (token or "").encode())
