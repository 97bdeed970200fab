"""Robots and runs over HTTP: the city's robot catalogue, starting runs with inputs, history, cancel, artifacts.

HTTP only; :mod:`rathaus.controlroom.services.runs` and :mod:`~rathaus.controlroom.services.artifacts` do the
work and filter by the caller's city. ``POST /api/runs`` takes JSON (``{"robot", "inputs": [{"reference",
"payload", "priority"}]}``) or a multipart upload: the field ``robot``, files in ``dateien`` (each file becomes
one input work item) and further form fields (the payload of every item).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from rathaus.controlroom.services import artifacts, runs
from rathaus.controlroom.services.errors import Invalid
from rathaus.controlroom.services.robots import visible_robots
from rathaus.controlroom.services.runs import InputFile, InputItem, TooLarge
from rathaus.controlroom.services.users import Principal
from rathaus.controlroom.settings import Settings
from rathaus.controlroom.web.deps import Db, csrf_protect, current_principal, get_settings

router = APIRouter(tags=["Läufe"])

Who = Annotated[Principal, Depends(current_principal)]
# the session commits before the answer is sent (FastAPI's default "request" scope commits after it)
Config = Annotated[Settings, Depends(get_settings)]

#: form fields of a multipart start that are not case data
RESERVED_FIELDS = {"robot", "csrf_token", "reference", "priority"}
MAX_INPUTS = 200


class RobotOut(BaseModel):
    """A city robot of the catalogue."""

    id: int
    robot: str
    city: str
    process: str
    title: str
    version: str
    owner: str
    startable: bool


class RunOut(BaseModel):
    """A run; ``items`` (its input work items) only for people of the run's city."""

    id: int
    city: str
    robot_id: int
    robot: str
    title: str
    state: str
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    attempt: int
    cases_done: int
    cases_total: int
    cancel_requested: bool
    exit_code: int | None
    message: str | None
    schedule_id: int | None
    runner: str | None
    requested_by: str | None
    case_data: bool
    items: list[dict[str, Any]] | None = None


class RunPageOut(BaseModel):
    runs: list[RunOut]
    total: int
    page: int
    per_page: int


class ArtifactOut(BaseModel):
    id: int
    run_id: int
    name: str
    kind: str
    size: int
    sha256: str
    created_at: str | None


def _too_large(settings: Settings) -> TooLarge:
    return TooLarge(f"Die Dateien sind zu groß: höchstens {settings.max_upload_bytes // (1024 * 1024)} MB je "
                    "Start. Es wurde nichts gestartet.")


async def read_upload(request: Request) -> AsyncIterator[None]:
    """Refuse oversized (413) and malformed (422) bodies before anything else reads them; close the uploads'
    temporary files after the request."""
    settings: Settings = request.app.state.settings
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.max_upload_bytes:
        raise _too_large(settings)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        yield
        return
    try:
        form = await request.form(max_files=MAX_INPUTS, max_fields=MAX_INPUTS)
    except (MultiPartException, HTTPException, ValueError) as error:
        raise Invalid("Die hochgeladenen Daten sind unvollständig oder fehlerhaft (multipart/form-data) und "
                      f"wurden nicht angenommen: {getattr(error, 'detail', None) or error}.") from None
    try:
        total = sum(value.size or 0 for _, value in form.multi_items() if isinstance(value, UploadFile))
        if total > settings.max_upload_bytes:
            raise _too_large(settings)
        yield
    finally:
        await form.close()


async def _inputs_from_form(request: Request) -> tuple[str, list[InputItem]]:
    form = await request.form()
    robot = str(form.get("robot") or "")
    fields = {key: str(value) for key, value in form.multi_items()
              if not isinstance(value, UploadFile) and key not in RESERVED_FIELDS and key != "dateien"}
    uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    priority = str(form.get("priority") or "0")
    if not priority.lstrip("-").isdigit():
        raise Invalid("Die Priorität muss eine ganze Zahl sein.")
    reference = str(form.get("reference") or "") or None
    items: list[InputItem] = []
    for upload in uploads:
        if not upload.filename:
            continue
        content = await upload.read()
        name = runs.check_file_name(upload.filename.replace("\\", "/").rsplit("/", 1)[-1])
        items.append(InputItem(payload=dict(fields), files=(InputFile(name, content),), priority=int(priority),
                               reference=f"{reference}-{len(items) + 1}" if reference and len(uploads) > 1
                               else reference))
    if not items and fields:
        items.append(InputItem(payload=fields, priority=int(priority), reference=reference))
    return robot, items


def _inputs_from_json(data: Any) -> tuple[str, list[InputItem]]:
    if not isinstance(data, dict):
        raise Invalid("Erwartet wird ein JSON-Objekt {\"robot\": …, \"inputs\": […]}.")
    raw = data.get("inputs") or []
    if not isinstance(raw, list) or len(raw) > MAX_INPUTS:
        raise Invalid(f"'inputs' muss eine Liste mit höchstens {MAX_INPUTS} Eingaben sein.")
    items = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise Invalid(f"Eingabe {number} ist kein Objekt: erwartet wird {{'reference', 'payload', 'priority'}}.")
        payload = entry.get("payload", {})
        priority = entry.get("priority", 0)
        reference = entry.get("reference")
        if not isinstance(payload, dict):
            raise Invalid(f"Eingabe {number}: die Daten (payload) müssen ein JSON-Objekt sein.")
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise Invalid(f"Eingabe {number}: die Priorität muss eine ganze Zahl sein.")
        if reference is not None and not isinstance(reference, str):
            raise Invalid(f"Eingabe {number}: die Referenz muss ein Text sein.")
        items.append(InputItem(payload=payload, priority=priority, reference=reference))
    return str(data.get("robot") or ""), items


@router.get("/robots", response_model=list[RobotOut])
def robots(who: Who, session: Db) -> list[RobotOut]:
    """The robots the caller may see; ``startable`` marks those of their own city they may start."""
    return [RobotOut(id=r.id, robot=f"{r.city_id}/{r.process}", city=r.city_id, process=r.process, title=r.title,
                     version=r.version, owner=r.owner_city_id,
                     startable=r.city_id == who.city_id and who.role.value != "operator")
            for r in visible_robots(session, who)]


@router.post("/runs", response_model=RunOut, status_code=201,
             dependencies=[Depends(current_principal), Depends(read_upload), Depends(csrf_protect)])
async def start(request: Request, who: Who, session: Db, settings: Config) -> RunOut:
    """Start a robot of the caller's city with input work items (JSON or an upload of files and fields)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        robot, items = await _inputs_from_form(request)
    else:
        try:
            data = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Invalid("Der Inhalt ist kein gültiges JSON; es wurde nichts gestartet.") from None
        robot, items = _inputs_from_json(data)
    if not robot:
        raise Invalid("Welcher Roboter? Bitte 'robot' angeben (z. B. 'marburg/posteingang' oder die Nummer).")
    run = runs.start_run(session, who, robot, items, data_dir=settings.data_dir)
    return RunOut(**runs.view(session, who, run).as_dict())


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"'{name}' ist kein Datum: erwartet wird JJJJ-MM-TT, z. B. 2026-03-31.") from None


@router.get("/runs", response_model=RunPageOut)
def history(who: Who, session: Db, settings: Config, robot: str | None = None, state: str | None = None,
            since: str | None = None, until: str | None = None, page: int = 1, per_page: int = runs.PAGE_SIZE,
            ) -> RunPageOut:
    """Run history, newest first; filters: robot (id, process or city/process), state, since/until (days)."""
    result = runs.list_runs(session, who, robot=robot, state=state, since=_day(since, "since"),
                            until=_day(until, "until"), page=page, per_page=per_page, timezone_name=settings.timezone)
    return RunPageOut(runs=[RunOut(**v.as_dict()) for v in result.runs], total=result.total, page=result.page,
                      per_page=result.per_page)


@router.get("/runs/{run_id}", response_model=RunOut)
def run_detail(run_id: int, who: Who, session: Db) -> RunOut:
    """One run with its progress (cases done of total) and, for its city, its input items."""
    return RunOut(**runs.get_run(session, who, run_id).as_dict())


@router.get("/runs/{run_id}/progress")
def run_progress(run_id: int, who: Who, session: Db) -> dict[str, Any]:
    """State and cases done of total, for live updates."""
    return runs.progress(session, who, run_id)


@router.post("/runs/{run_id}/cancel", response_model=RunOut, dependencies=[Depends(csrf_protect)])
def cancel(run_id: int, who: Who, session: Db) -> RunOut:
    """Cancel a run: a queued one at once, a running one at its runner's next heartbeat."""
    run = runs.cancel_run(session, who, run_id)
    return RunOut(**runs.view(session, who, run).as_dict())


@router.get("/runs/{run_id}/artifacts", response_model=list[ArtifactOut])
def artifact_list(run_id: int, who: Who, session: Db) -> list[ArtifactOut]:
    """The run's log, output, letters and screenshots (people of the run's city only)."""
    return [ArtifactOut(**a.as_dict()) for a in artifacts.list_artifacts(session, who, run_id)]


@router.get("/runs/{run_id}/artifacts/{name:path}")
def artifact_download(run_id: int, name: str, who: Who, session: Db) -> FileResponse:
    """One artifact; HTML (the Robot log), PDFs and images open in the browser, others download."""
    view, path = artifacts.open_artifact(session, who, run_id, name)
    inline = view.kind in ("log", "report", "letter", "screenshot", "summary")
    return FileResponse(path, media_type=artifacts.media_type(view.name),
                        filename=view.name.rsplit("/", 1)[-1], content_disposition_type="inline" if inline
                        else "attachment", headers={"X-Content-Type-Options": "nosniff"})


@router.get("/runs/{run_id}/inputs/{item_id}/files/{name}")
def input_file(run_id: int, item_id: int, name: str, who: Who, session: Db, settings: Config) -> FileResponse:
    """An uploaded input file of a run of the caller's city."""
    path = runs.input_file(session, who, run_id, item_id, name, settings.data_dir)
    return FileResponse(path, filename=name, headers={"X-Content-Type-Options": "nosniff"})
