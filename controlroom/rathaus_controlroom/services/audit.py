"""The append-only audit log: who started, cancelled, scheduled or changed what, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rathaus_controlroom.models import AuditEntry, Role
from rathaus_controlroom.services.errors import Forbidden
from rathaus_controlroom.services.users import Principal

#: detail keys that may carry case data (a clerk's reason): shown only to the entry's own city
CASE_DETAIL = ("reason",)
#: who acts when no person does
SCHEDULER = "zeitplan"
SYSTEM = "system"


def record(session: Session, actor: Principal | str, action: str, object_type: str, object_id: object,
           city_id: str | None, **detail: Any) -> AuditEntry:
    """Append one entry. ``detail`` holds references and counts only, never personal data or secrets."""
    name = actor.name if isinstance(actor, Principal) else actor
    entry = AuditEntry(actor=name, action=action, object_type=object_type,
                       object_id=None if object_id is None else str(object_id), city_id=city_id, detail=detail)
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, principal: Principal, limit: int = 200) -> list[AuditEntry]:
    """The newest entries a city admin (their city) or an operator (all) may read."""
    if principal.role is Role.OPERATOR:
        query = select(AuditEntry)
    elif principal.role is Role.ADMIN:
        query = select(AuditEntry).where(AuditEntry.city_id == principal.city_id)
    else:
        raise Forbidden("Das Protokoll können nur Administratorinnen und Administratoren der Stadt einsehen.")
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def shown_detail(entry: AuditEntry, principal: Principal) -> dict[str, Any]:
    """An entry's detail as ``principal`` may read it: case data only for people of the entry's city."""
    own = principal.city_id is not None and principal.city_id == entry.city_id
    return {key: value for key, value in (entry.detail or {}).items() if own or key not in CASE_DETAIL}
