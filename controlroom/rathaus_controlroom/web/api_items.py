"""Work-item queues over HTTP: the city's items, the clerk's worklist, retry with edited data, close with a reason.

HTTP only; :mod:`rathaus_controlroom.services.items` does the work and filters by the caller's city.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from rathaus_controlroom.services import items
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.api_processes import get_project
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal, get_settings

router = APIRouter(tags=["Vorgänge"])

Who = Annotated[Principal, Depends(current_principal)]
Config = Annotated[Settings, Depends(get_settings)]
#: a case's documents open in the page (PDF) but can run nothing and load nothing; only the control room frames them
CASE_FILE_CSP = "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
#: file types a browser shows in the case page; everything else downloads
INLINE_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def case_file_response(path, name: str) -> FileResponse:
    """A case's file, the one way (API and UI): PDFs and images inline, everything else as a download; never
    sniffed, never able to run a script."""
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    media = INLINE_TYPES.get(suffix)
    return FileResponse(path, media_type=media or "application/octet-stream", filename=name,
                        content_disposition_type="inline" if media else "attachment",
                        headers={"Content-Security-Policy": CASE_FILE_CSP, "X-Content-Type-Options": "nosniff",
                                 "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "private, no-store"})


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
    #: the process's case schema (JSON Schema of ``payload["fall"]``); only on the single item
    schema_: dict[str, Any] | None = Field(None, alias="schema", serialization_alias="schema")

    model_config = {"populate_by_name": True}

    @classmethod
    def of(cls, view: items.ItemView, schema: dict[str, Any] | None = None) -> ItemOut:
        return cls(**view.__dict__, schema_=schema)


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


@router.get("/items/{item_id}", response_model=ItemOut, response_model_by_alias=True)
def get_item(request: Request, item_id: int, principal: Who, session: Db) -> ItemOut:
    """One work item of your city, with ``payload`` (the case data under ``fall``) and the process's case
    ``schema``."""
    case = items.get_case(session, principal, item_id, get_project(request))
    return ItemOut.of(case.item, case.schema)


@router.get("/items/{item_id}/files/{name}", response_class=FileResponse)
def item_file(item_id: int, name: str, principal: Who, session: Db, settings: Config) -> FileResponse:
    """A document or letter of a work item of your city (PDFs inline, others as a download)."""
    return case_file_response(items.case_file(session, principal, item_id, name, settings.data_dir), name)


@router.get("/worklist", response_model=list[ItemOut])
def worklist(principal: Who, session: Db) -> list[ItemOut]:
    """Cases handed back to the clerks: their data was wrong (failed_business)."""
    return [ItemOut.of(view) for view in items.worklist(session, principal)]


@router.post("/items/{item_id}/retry", response_model=ItemOut, dependencies=[Depends(csrf_protect)])
def retry_item(request: Request, item_id: int, body: RetryIn, principal: Who, session: Db) -> ItemOut:
    """Put a failed item back into the queue, with corrected case data (``payload``: the case data, or the item's
    payload with it under ``fall``; validated against the case schema) or unchanged."""
    return ItemOut.of(items.retry_item(session, principal, item_id, body.payload, project=get_project(request)))


@router.post("/items/{item_id}/close", response_model=ItemOut, dependencies=[Depends(csrf_protect)])
def close_item(item_id: int, body: CloseIn, principal: Who, session: Db) -> ItemOut:
    """Finish a failed item by hand, with the reason."""
    reason = body.reason if isinstance(body.reason, str) else None
    return ItemOut.of(items.close_item(session, principal, item_id, reason))
