"""Work-item queues over HTTP: the city's items, the clerk's worklist, retry with edited data, close with a reason.

HTTP only; :mod:`rathaus_controlroom.services.items` does the work and filters by the caller's city.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from rathaus_controlroom.services import items
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal

router = APIRouter(tags=["Vorgänge"])

Who = Annotated[Principal, Depends(current_principal)]


class ItemOut(BaseModel):
    """A work item with its case data (only for clerks and admins of its city)."""

    id: int
    robot_id: int
    process: str
    run_id: int | None
    reference: str
    state: str
    priority: int
    attempts: int
    next_attempt_at: datetime | None
    payload: dict[str, Any]
    error_code: str | None
    error_message: str | None
    closed_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, view: items.ItemView) -> ItemOut:
        return cls(**view.__dict__)


class CountOut(BaseModel):
    """Items per city, process and state, without case data."""

    city: str
    process: str
    state: str
    count: int


class RetryIn(BaseModel):
    """The corrected case data; leave ``payload`` out to retry unchanged."""

    payload: Any = None


class CloseIn(BaseModel):
    """Why the case is finished by hand (required)."""

    reason: Any = None


@router.get("/items", response_model=list[ItemOut])
def list_items(principal: Who, session: Db, robot: str | None = None, state: str | None = None) -> list[ItemOut]:
    """Work items of your city (clerks and admins), optionally of one robot (id or process) and one state."""
    return [ItemOut.of(view) for view in items.list_items(session, principal, robot, state)]


@router.get("/items/counts", response_model=list[CountOut])
def item_counts(principal: Who, session: Db) -> list[CountOut]:
    """Counts per city, process and state: your city; process owners: adopting cities; operators: all."""
    return [CountOut(**row) for row in items.item_counts(session, principal)]


@router.get("/items/{item_id}", response_model=ItemOut)
def get_item(item_id: int, principal: Who, session: Db) -> ItemOut:
    """One work item of your city."""
    return ItemOut.of(items.get_item(session, principal, item_id))


@router.get("/worklist", response_model=list[ItemOut])
def worklist(principal: Who, session: Db) -> list[ItemOut]:
    """Cases handed back to the clerks: their data was wrong (failed_business)."""
    return [ItemOut.of(view) for view in items.worklist(session, principal)]


@router.post("/items/{item_id}/retry", response_model=ItemOut, dependencies=[Depends(csrf_protect)])
def retry_item(item_id: int, body: RetryIn, principal: Who, session: Db) -> ItemOut:
    """Put a failed item back into the queue, with corrected data (``payload``) or unchanged."""
    return ItemOut.of(items.retry_item(session, principal, item_id, body.payload))


@router.post("/items/{item_id}/close", response_model=ItemOut, dependencies=[Depends(csrf_protect)])
def close_item(item_id: int, body: CloseIn, principal: Who, session: Db) -> ItemOut:
    """Finish a failed item by hand, with the reason."""
    reason = body.reason if isinstance(body.reason, str) else None
    return ItemOut.of(items.close_item(session, principal, item_id, reason))
