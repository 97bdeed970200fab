"""City administration over HTTP: credentials (write-only values), users, and the audit log.

HTTP only; :mod:`rathaus_controlroom.services.credentials` and :mod:`~rathaus_controlroom.services.admin` do
the work. Request bodies accept any JSON values and the services check them, so that a validation error never
echoes a submitted secret or password back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from rathaus_controlroom.services import admin, credentials
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal, get_settings

router = APIRouter(tags=["Verwaltung"])

Who = Annotated[Principal, Depends(current_principal)]
Config = Annotated[Settings, Depends(get_settings)]


class CredentialIn(BaseModel):
    """``name`` is the environment variable the robot reads; ``value`` is stored encrypted, never shown again."""

    name: Any = None
    value: Any = None

    def __repr__(self) -> str:  # never show the value, e.g. in a traceback
        return f"CredentialIn(name={self.name!r}, value=***)"

    __str__ = __repr__


class CredentialOut(BaseModel):
    name: str
    city: str
    saved_at: datetime | None

    @classmethod
    def of(cls, info: credentials.CredentialInfo) -> CredentialOut:
        return cls(name=info.name, city=info.city_id, saved_at=info.saved_at)


class UserIn(BaseModel):
    name: Any = None
    role: Any = None
    password: Any = None
    city: Any = None

    def __repr__(self) -> str:
        return f"UserIn(name={self.name!r}, role={self.role!r}, city={self.city!r}, password=***)"

    __str__ = __repr__


class UserOut(BaseModel):
    id: int
    name: str
    city: str | None
    role: str
    active: bool
    created_at: datetime | None

    @classmethod
    def of(cls, view: admin.UserView) -> UserOut:
        return cls(id=view.id, name=view.name, city=view.city_id, role=view.role, active=view.active,
                   created_at=view.created_at)


class AuditOut(BaseModel):
    id: int
    at: datetime | None
    city: str | None
    actor: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, view: admin.AuditView) -> AuditOut:
        return cls(id=view.id, at=view.at, city=view.city_id, actor=view.actor, action=view.action,
                   object_type=view.object_type, object_id=view.object_id, detail=view.detail)


@router.get("/credentials", response_model=list[CredentialOut])
def list_credentials(principal: Who, session: Db) -> list[CredentialOut]:
    """Names and dates of your city's credentials (city admins); values are never shown."""
    return [CredentialOut.of(info) for info in credentials.list_credentials(session, principal)]


@router.post("/credentials", response_model=CredentialOut, status_code=201, dependencies=[Depends(csrf_protect)])
def save_credential(body: CredentialIn, principal: Who, session: Db, settings: Config) -> CredentialOut:
    """Save or overwrite a credential of your city (city admins); the answer holds its name, not its value."""
    info = credentials.save_credential(session, settings, principal, body.name, body.value)
    return CredentialOut.of(info)


@router.delete("/credentials/{name}", status_code=204, dependencies=[Depends(csrf_protect)])
def delete_credential(name: str, principal: Who, session: Db) -> Response:
    credentials.delete_credential(session, principal, name)
    return Response(status_code=204)


@router.get("/users", response_model=list[UserOut])
def list_users(principal: Who, session: Db) -> list[UserOut]:
    """Users of your city (city admins) or of every city (operators)."""
    return [UserOut.of(view) for view in admin.list_users(session, principal)]


@router.post("/users", response_model=UserOut, status_code=201, dependencies=[Depends(csrf_protect)])
def create_user(body: UserIn, principal: Who, session: Db) -> UserOut:
    """A new local user: city admins for their city (not operators), operators for any city."""
    return UserOut.of(admin.create_user(session, principal, body.name, body.role or "", body.password, body.city))


@router.post("/users/{user_id}/deactivate", response_model=UserOut, dependencies=[Depends(csrf_protect)])
def deactivate_user(user_id: int, principal: Who, session: Db) -> UserOut:
    """Deactivate a user (city admins: their city; operators: all): sessions and API tokens stop at once."""
    return UserOut.of(admin.set_active(session, principal, user_id, active=False))


@router.post("/users/{user_id}/activate", response_model=UserOut, dependencies=[Depends(csrf_protect)])
def activate_user(user_id: int, principal: Who, session: Db) -> UserOut:
    """Reactivate a deactivated user; their old API tokens stay revoked."""
    return UserOut.of(admin.set_active(session, principal, user_id, active=True))


@router.get("/audit", response_model=list[AuditOut])
def audit_log(principal: Who, session: Db, limit: int = 200) -> list[AuditOut]:
    """The newest audit entries: your city's (city admins) or all (operators)."""
    return [AuditOut.of(view) for view in admin.audit_log(session, principal, limit)]
