"""Local users with argon2 password hashes, their roles, and API tokens (only a hash is stored)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rathaus_controlroom.models import ApiToken, City, Role, User
from rathaus_controlroom.services.errors import Conflict, Invalid, NotFound, Unauthenticated

_HASHER = PasswordHasher()
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
#: prefix that makes a token recognisable in a secret scanner and in support requests
TOKEN_PREFIX = "rh_"  # noqa: S105 - a public prefix, not a secret


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user's name, city (``None`` for operators) and role."""

    user_id: int
    name: str
    city_id: str | None
    role: Role

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.name, user.city_id, user.role)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, name: str, role: Role | str, password: str, city: str | None = None) -> User:
    """Create a user. Operators have no city; every other role needs one."""
    role = Role(role) if isinstance(role, str) else role
    if not _NAME.match(name):
        raise Invalid(f"Benutzername '{name}' ist ungültig: 2–64 Zeichen, Kleinbuchstaben, Ziffern, '.', '_', '-'.")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"Das Passwort für '{name}' ist zu kurz: mindestens {MIN_PASSWORD} Zeichen.")
    if role is Role.OPERATOR and city:
        raise Invalid("Betreiber (operator) gehören zu keiner Stadt: bitte keine Stadt angeben.")
    if role is not Role.OPERATOR:
        if not city:
            raise Invalid(f"Die Rolle '{role.value}' gehört zu einer Stadt: Bitte eine Stadt angeben.")
        if session.get(City, city) is None:
            known = ", ".join(session.scalars(select(City.id).order_by(City.id)))
            raise Invalid(f"Stadt '{city}' ist unbekannt; bekannt sind: {known}.")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise Conflict(f"Benutzer '{name}' gibt es schon.")
    user = User(name=name, role=role, city_id=city, password_hash=_HASHER.hash(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, name: str, password: str) -> Principal:
    """The user for a name and password; one message for every failure, so names cannot be probed."""
    user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
    failure = Unauthenticated("Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch.")
    if user is None:
        _HASHER.hash(password)  # same cost as a real check
        raise failure
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return Principal.of(user)


def create_token(session: Session, name: str) -> str:
    """A new API token for user ``name``; the plain token is returned once and never stored."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"Benutzer '{name}' gibt es nicht.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token)))
    session.flush()
    return token


def principal_for_token(session: Session, token: str) -> Principal:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token), ApiToken.revoked.is_(False)))
    user = session.get(User, row.user_id) if row else None
    if user is None or not user.active:
        raise Unauthenticated("API-Token ungültig oder widerrufen.")
    return Principal.of(user)
