"""City administration: a city's users (admins: their city; operators: all) and the audit log as views."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rathaus_controlroom.models import ApiToken, AuditEntry, Role, User
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.items import as_utc
from rathaus_controlroom.services.users import Principal, add_user

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserView:
    """A user as admins see it (never the password hash)."""

    id: int
    name: str
    city_id: str | None
    role: str
    active: bool
    created_at: datetime | None

    @classmethod
    def from_row(cls, user: User) -> UserView:
        return cls(user.id, user.name, user.city_id, user.role.value, user.active, as_utc(user.created_at))


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime | None
    city_id: str | None
    actor: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, entry: AuditEntry) -> AuditView:
        return cls(entry.id, as_utc(entry.at), entry.city_id, entry.actor, entry.action, entry.object_type,
                   entry.object_id, dict(entry.detail or {}))


def _manager(principal: Principal) -> None:
    if principal.role is Role.OPERATOR:
        return
    if principal.role is not Role.ADMIN or principal.city_id is None:
        raise Forbidden("Benutzer verwalten nur Administratorinnen und Administratoren der Stadt und der Betrieb.")


def list_users(session: Session, principal: Principal) -> list[UserView]:
    """Users of the admin's city; operators see every user."""
    _manager(principal)
    query = select(User)
    if principal.role is not Role.OPERATOR:
        query = query.where(User.city_id == principal.city_id)
    return [UserView.from_row(user) for user in session.scalars(query.order_by(User.city_id, User.name))]


def create_user(session: Session, principal: Principal, name: str, role: Role | str, password: str,
                city: str | None = None) -> UserView:
    """Admins create clerks, process owners and admins of their own city; operators create any user."""
    _manager(principal)
    try:
        role = Role(role) if not isinstance(role, Role) else role
    except ValueError:
        allowed = ", ".join(member.value for member in Role)
        raise Invalid(f"Rolle '{role}' ist unbekannt; erlaubt sind: {allowed}.") from None
    if principal.role is Role.ADMIN:
        if role is Role.OPERATOR:
            raise Forbidden("Betreiberkonten (operator) legt nur der Betrieb an.")
        if city not in (None, "", principal.city_id):
            raise Forbidden("Administratorinnen und Administratoren legen nur Benutzer ihrer eigenen Stadt an.")
        city = principal.city_id
    if not isinstance(name, str) or not isinstance(password, str):
        raise Invalid("Bitte Benutzername und Passwort angeben.")
    user = add_user(session, name, role, password, city=city or None)
    audit.record(session, principal, "add_user", "user", user.id, user.city_id, role=user.role.value)
    log.info("action=add_user city=%s user=%s role=%s", user.city_id or "-", user.id, user.role.value)
    return UserView.from_row(user)


def set_active(session: Session, principal: Principal, user_id: int, active: bool) -> UserView:
    """Deactivate (``active=False``) or reactivate a user: admins for their city, operators for every user.

    Deactivation takes effect at once: every request checks ``active`` for sessions and API tokens, and the
    user's API tokens are revoked for good (a reactivated user needs a new one: ``rathaus tokens create``).
    Another city's user is not found (404); nobody can deactivate themselves.
    """
    _manager(principal)
    user = session.get(User, user_id)
    if user is None or (principal.role is not Role.OPERATOR and user.city_id != principal.city_id):
        raise NotFound(f"Benutzer {user_id} gibt es nicht.")
    if user.id == principal.user_id and not active:
        raise Conflict("Den eigenen Zugang können Sie nicht sperren; bitten Sie eine andere Administratorin oder "
                       "einen anderen Administrator darum.")
    if user.active == active:
        state = "aktiv" if active else "gesperrt"
        raise Conflict(f"Benutzer '{user.name}' ist schon {state}; es wurde nichts geändert.")
    user.active = active
    detail: dict[str, Any] = {}
    if not active:
        revoked = session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
                                  .values(revoked=True))
        detail["revoked_tokens"] = revoked.rowcount
    action = "activate_user" if active else "deactivate_user"
    audit.record(session, principal, action, "user", user.id, user.city_id, **detail)
    log.info("action=%s city=%s user=%s", action, user.city_id or "-", user.id)
    session.flush()
    return UserView.from_row(user)


def audit_log(session: Session, principal: Principal, limit: int = 200) -> list[AuditView]:
    """The newest audit entries: a city admin's city, or all for operators."""
    if not 1 <= limit <= 1000:
        raise Invalid("Es lassen sich 1 bis 1000 Einträge abrufen.")
    return [replace(AuditView.from_row(entry), detail=audit.shown_detail(entry, principal))
            for entry in audit.entries(session, principal, limit)]
