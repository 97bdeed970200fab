"""The robots' work item API (``Authorization: Bearer ri_…``, the item token of one run attempt).

``rathaus.WorkItems`` with ``RPA_WORKITEMS_ADAPTER=controlroom`` calls these routes while a runner runs the robot:
reserve, release, variables, files and new output items. HTTP only: :mod:`rathaus_controlroom.services.robot_items`
does the work, and refuses every call of an attempt that is no longer the run's current one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from rathaus_controlroom.services import robot_items
from rathaus_controlroom.services.errors import Invalid
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.deps import Db, _bearer, get_settings

router = APIRouter(tags=["Runner"])
Config = Annotated[Settings, Depends(get_settings)]


def attempt_of(request: Request) -> tuple[int, int]:
    """(run id, attempt) of the item token in the request."""
    return robot_items.read_token(request.app.state.settings.session_key, _bearer(request))


Attempt = Annotated[tuple[int, int], Depends(attempt_of)]


class ReleaseIn(BaseModel):
    """``state``: DONE or FAILED; a FAILED item names ``exception_type`` (BUSINESS or APPLICATION), code, message."""

    state: str
    exception_type: str | None = None
    code: str | None = None
    message: str | None = None


class PayloadIn(BaseModel):
    payload: dict[str, Any]


def _run(session: Db, attempt: tuple[int, int]):
    return robot_items.current_run(session, *attempt)


@router.post("/runner/items/reserve", responses={204: {"description": "Keine Vorgänge mehr"}})
def reserve(attempt: Attempt, session: Db, settings: Config) -> Any:
    """Reserve the next item of the run's robot (its variables and file names), or 204."""
    item = robot_items.reserve(session, _run(session, attempt), settings.lease_s)
    if item is None:
        return Response(status_code=204)
    return robot_items.RobotItem.of(item).as_dict()


@router.get("/runner/items")
def run_items(attempt: Attempt, session: Db) -> list[dict[str, Any]]:
    """The items the run worked on or created (for its summary)."""
    return [robot_items.RobotItem.of(item).as_dict() for item in robot_items.run_items(session, _run(session, attempt))]


@router.get("/runner/items/{item_id}")
def item(item_id: int, attempt: Attempt, session: Db) -> dict[str, Any]:
    """One item of the run's robot."""
    return robot_items.RobotItem.of(robot_items.item_for_reading(session, _run(session, attempt), item_id)).as_dict()


@router.post("/runner/items/{item_id}/release")
def release(item_id: int, body: ReleaseIn, attempt: Attempt, session: Db, settings: Config) -> dict[str, Any]:
    """Release a reserved item as DONE or FAILED."""
    state = body.state.strip().upper()
    if state not in ("DONE", "COMPLETED", "FAILED"):
        raise Invalid(f"Status '{body.state[:20]}' ist unbekannt: DONE oder FAILED.")
    exception = {"type": body.exception_type, "code": body.code, "message": body.message}
    item = robot_items.release(session, _run(session, attempt), item_id, state != "FAILED", exception,
                               max_attempts=settings.max_item_attempts, retry_base_s=settings.retry_base_s)
    return robot_items.RobotItem.of(item).as_dict()


@router.put("/runner/items/{item_id}/payload")
def save_payload(item_id: int, body: PayloadIn, attempt: Attempt, session: Db) -> dict[str, Any]:
    """Replace the variables of an item the run holds."""
    return robot_items.RobotItem.of(robot_items.save_payload(session, _run(session, attempt), item_id,
                                                             body.payload)).as_dict()


@router.get("/runner/items/{item_id}/files/{name}")
def get_file(item_id: int, name: str, attempt: Attempt, session: Db, settings: Config) -> FileResponse:
    """One file of an item of the run's robot."""
    path = robot_items.file_path(session, _run(session, attempt), item_id, name, settings.data_dir)
    return FileResponse(path, filename=name, media_type="application/octet-stream")


@router.put("/runner/items/{item_id}/files/{name}")
async def put_file(item_id: int, name: str, request: Request, attempt: Attempt, settings: Config) -> dict[str, Any]:
    """Attach a file (the request body) to an item the run holds."""
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - closed below
    try:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_upload_bytes:
                raise Invalid(f"Die Datei '{name[:100]}' ist zu groß für den Kontrollraum.")
            if getattr(spool, "_rolled", True):  # on disk now: write in a worker thread, not on the event loop
                await run_in_threadpool(spool.write, chunk)
            else:
                spool.write(chunk)
        await run_in_threadpool(spool.seek, 0)

        def store() -> dict[str, Any]:
            with request.app.state.database.session() as session:
                run = robot_items.current_run(session, *attempt)
                row = robot_items.put_file(session, run, item_id, name, spool, settings.data_dir)
                return robot_items.RobotItem.of(row).as_dict()

        return await run_in_threadpool(store)
    finally:
        spool.close()


@router.delete("/runner/items/{item_id}/files/{name}")
def remove_file(item_id: int, name: str, attempt: Attempt, session: Db, settings: Config) -> dict[str, Any]:
    """Remove a file from an item the run holds."""
    return robot_items.RobotItem.of(robot_items.remove_file(session, _run(session, attempt), item_id, name,
                                                            settings.data_dir)).as_dict()


@router.post("/runner/items", status_code=201)
async def create(request: Request, attempt: Attempt, settings: Config) -> dict[str, Any]:
    """A new output item with all its files at once (multipart: ``payload`` JSON, optional ``reference`` and
    ``parent_id``, files ``dateien``); ``created`` is false when an item with that reference is kept."""
    import json

    try:
        form = await request.form(max_files=1000, max_fields=10, max_part_size=settings.max_upload_bytes)
    except (MultiPartException, ValueError) as error:
        raise Invalid(f"Neuer Vorgang fehlerhaft übertragen: {error}.") from None
    try:
        try:
            payload = json.loads(str(form.get("payload") or "{}"))
        except ValueError:
            raise Invalid("Die Daten (payload) des neuen Vorgangs sind kein JSON.") from None
        reference = form.get("reference")
        parent = str(form.get("parent_id") or "").strip()
        files = [(upload.filename or "datei", upload.file) for upload in form.getlist("dateien")
                 if isinstance(upload, UploadFile)]

        def store() -> dict[str, Any]:
            with request.app.state.database.session() as session:
                run = robot_items.current_run(session, *attempt)
                row, created = robot_items.create_output(
                    session, run, settings.data_dir, payload, str(reference) if reference else None,
                    int(parent) if parent.isdigit() else None, files)
                return {**robot_items.RobotItem.of(row).as_dict(), "created": created}

        return await run_in_threadpool(store)
    finally:
        await form.close()
