"""Robots and runs over HTTP: the city's robot catalogue, starting runs with inputs, history, cancel, artifacts.

HTTP only; :mod:`rathaus_controlroom.services.runs` and :mod:`~rathaus_controlroom.services.artifacts` do the
work and filter by the caller's city. ``POST /api/runs`` takes JSON (``{"robot", "inputs": [{"reference",
"payload", "priority"}]}``) or a multipart upload: the field ``robot``, files in ``dateien`` (each file becomes
one input work item) and further form fields (the payload of every item).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Security
from fastapi.responses import FileResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from rathaus_controlroom.db import Database
from rathaus_controlroom.services import artifacts, runs
from rathaus_controlroom.services.errors import Invalid
from rathaus_controlroom.services.robots import visible_robots
from rathaus_controlroom.services.runs import InputItem
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal, get_settings


class Problem(BaseModel):
    """A refusal: ``detail`` says in German what was wrong and what to do."""

    detail: str


#: refusals every route of this router may answer
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Nicht angemeldet: Token fehlt, ist ungültig oder die Sitzung lief ab."},
    403: {"model": Problem, "description": "Für diese Rolle nicht erlaubt oder ohne gültiges CSRF-Merkmal."},
    404: {"model": Problem, "description": "Gibt es nicht oder gehört zu einer anderen Stadt."},
    422: {"model": Problem, "description": "Eingaben ungültig; es wurde nichts geändert."},
}
#: API tokens (``rh_…``) as ``Authorization: Bearer``; browsers use the session cookie instead (documented only,
#: ``current_principal`` checks both)
bearer = HTTPBearer(auto_error=False, scheme_name="ApiToken",
                    description="API-Token (rathaus tokens create NAME) als 'Authorization: Bearer rh_…'.")

router = APIRouter(tags=["Läufe"], dependencies=[Security(bearer)], responses=ERRORS)

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
    #: the mail trigger that started the run (new mail in the robot's mailbox)
    trigger_id: int | None = None
    runner: str | None
    requested_by: str | None
    case_data: bool
    items: list[dict[str, Any]] | None = None
    #: only in the answer to a start: uploaded mails that already were cases (reference, item_id, state,
    #: aktenzeichen); they were not started again
    bereits_vorhanden: list[dict[str, Any]] | None = None


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


async def read_complete_body(request: Request, settings: Settings) -> None:
    """Read a multipart body up to ``max_upload_bytes`` and refuse it when it was cut off.

    Starlette ends a form silently at the end of the data, dropping a file part whose closing boundary never
    came; a start with a cut-off upload would then run with fewer (or no) items. So the raw body must end with
    the closing boundary ``--<boundary>--`` (413 when too large, 422 when incomplete). Bodies without a boundary
    are left to the form parser, which refuses them. The body is kept for the form parser (Starlette's cache).
    """
    limit = settings.max_upload_bytes + 64 * 1024  # room for the part headers and form fields
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise runs.too_large(settings.max_upload_bytes)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise runs.too_large(settings.max_upload_bytes)
            chunks.append(chunk)
    except ClientDisconnect:
        raise Invalid(runs.INCOMPLETE_UPLOAD) from None
    body = b"".join(chunks)
    request._body = body  # Starlette's cache of the body: request.form() parses it from here
    if length.isdigit() and int(length) != len(body):
        raise Invalid(runs.INCOMPLETE_UPLOAD)
    if boundary and not body.rstrip(b"\r\n\t ").endswith(b"--" + boundary + b"--"):
        raise Invalid(runs.INCOMPLETE_UPLOAD)


async def read_upload(request: Request) -> AsyncIterator[None]:
    """Refuse oversized (413), cut-off and malformed (422) bodies before anything else reads them; close the
    uploads' temporary files after the request."""
    settings: Settings = request.app.state.settings
    await read_complete_body(request, settings)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        yield
        return
    try:
        form = await request.form(max_files=MAX_INPUTS, max_fields=MAX_INPUTS)
    except (MultiPartException, HTTPException, ValueError) as error:
        raise Invalid("Die hochgeladenen Daten sind unvollständig oder fehlerhaft (multipart/form-data) und "
                      f"wurden nicht angenommen: {getattr(error, 'detail', None) or error}.") from None
    try:
        yield
    finally:
        await form.close()


def _inputs_from_form(form: FormData, settings: Settings) -> tuple[str, list[InputItem]]:
    """The robot and input items of a parsed upload (in a worker thread: reads the uploads' temporary files)."""
    robot = str(form.get("robot") or "")
    fields = {key: str(value) for key, value in form.multi_items()
              if not isinstance(value, UploadFile) and key not in RESERVED_FIELDS and key != "dateien"}
    files = [(upload.filename or "", upload.file.read()) for _, upload in form.multi_items()
             if isinstance(upload, UploadFile)]
    items = runs.build_inputs(files, fields, settings.max_upload_bytes, reference=str(form.get("reference") or ""),
                              priority=str(form.get("priority") or "0"))
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


class InputIn(BaseModel):
    """One input work item of a JSON start."""

    reference: str | None = Field(None, description="Eindeutige Referenz des Vorgangs, z. B. ein Aktenzeichen.")
    payload: dict[str, Any] = Field(default_factory=dict, description="Falldaten des Vorgangs.")
    priority: int = 0


class StartIn(BaseModel):
    """A JSON start: the robot (id, ``city/process`` or process) and its input items."""

    robot: str = Field(..., examples=["giessen/unterhaltsvorschuss"])
    inputs: list[InputIn] = Field(default_factory=list, max_length=MAX_INPUTS)


def _inline(schema: Any, definitions: dict[str, Any]) -> Any:
    """A JSON schema with its local ``$defs`` references replaced by the definitions (OpenAPI has no ``$defs``)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inline(value, definitions) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(value, definitions) for value in schema]
    return schema


_START_SCHEMA = StartIn.model_json_schema()
START_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _inline(_START_SCHEMA, _START_SCHEMA.get("$defs", {}))},
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["robot"],
        "properties": {
            "robot": {"type": "string", "description": "Roboter: Nummer, 'stadt/prozess' oder Prozess."},
            "dateien": {"type": "array", "items": {"type": "string", "format": "binary"},
                        "description": "Je Datei ein Vorgang; leere Dateien werden abgelehnt."},
            "reference": {"type": "string", "description": "Referenz; bei mehreren Dateien mit -1, -2 …"},
            "priority": {"type": "integer", "default": 0},
            "csrf_token": {"type": "string", "description": "Nur bei Anmeldung über das Sitzungs-Cookie."},
        },
        "additionalProperties": {"type": "string", "description": "Weitere Felder: Falldaten jedes Vorgangs."},
    }},
}}}


@router.post("/runs", response_model=RunOut, status_code=201, openapi_extra=START_BODY,
             responses={409: {"model": Problem, "description": "Referenz doppelt."},
                        413: {"model": Problem, "description": "Upload zu groß; nichts gestartet."}},
             dependencies=[Depends(current_principal), Depends(read_upload), Depends(csrf_protect)])
async def start(request: Request, who: Who, settings: Config) -> RunOut:
    """Start a robot of the caller's city with input work items (JSON or an upload of files and fields)."""
    # the body is read here, without blocking; everything after it (the uploads' temporary files, the
    # database, writing the files) in a worker thread, so that other requests go on meanwhile
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        read = partial(_inputs_from_form, await request.form(), settings)
    else:
        read = partial(_inputs_from_body, await request.body())
    return await run_in_threadpool(_start_run, request.app.state.database, who, read, settings)


def _inputs_from_body(body: bytes) -> tuple[str, list[InputItem]]:
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid("Der Inhalt ist kein gültiges JSON; es wurde nichts gestartet.") from None
    return _inputs_from_json(data)


def _start_run(database: Database, who: Principal, read: Callable[[], tuple[str, list[InputItem]]],
               settings: Settings) -> RunOut:
    """Queue the run in a session of this (worker) thread, committed before the answer is sent."""
    robot, items = read()
    if not robot:
        raise Invalid("Welcher Roboter? Bitte 'robot' angeben (z. B. 'marburg/posteingang' oder die Nummer).")
    with database.session() as session:
        run = runs.start_run(session, who, robot, items, data_dir=settings.data_dir)
        known = [case.as_dict() for case in run.known_cases]
        return RunOut(**runs.view(session, who, run).as_dict(), bereits_vorhanden=known or None)


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


class RunCountOut(BaseModel):
    """Runs of one robot of one city in one state (no case data)."""

    city: str
    process: str
    state: str
    count: int


@router.get("/runs/statistics", response_model=list[RunCountOut])
def statistics(who: Who, session: Db, settings: Config, since: str | None = None) -> list[RunCountOut]:
    """Runs per city, process and state, as the page 'Statistik' shows them: process owners see every city
    adopting their processes, operators all; ``since`` (JJJJ-MM-TT) counts runs from that day on."""
    day = _day(since, "since")
    moment = datetime.combine(day, time.min, ZoneInfo(settings.timezone)) if day else None
    return [RunCountOut(**row) for row in runs.run_counts(session, who, since=moment)]


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


#: artifacts that open in the browser (in a sandbox); everything else downloads
INLINE_KINDS = ("log", "report")
#: the Robot log's scripts run, but in an opaque origin: they cannot act with the user's session
ARTIFACT_CSP = "sandbox allow-scripts allow-popups allow-downloads"


def artifact_response(view: artifacts.ArtifactView, path: Path) -> FileResponse:
    """The one way artifacts leave the control room (API and UI): sandboxed, not sniffed, downloads as files
    except the Robot log and report."""
    inline = view.kind in INLINE_KINDS
    return FileResponse(path, media_type=artifacts.media_type(view.name), filename=view.name.rsplit("/", 1)[-1],
                        content_disposition_type="inline" if inline else "attachment",
                        headers={"Content-Security-Policy": ARTIFACT_CSP, "X-Content-Type-Options": "nosniff"})


@router.get("/runs/{run_id}/artifacts/{name:path}", response_class=FileResponse, responses=ERRORS)
def artifact_download(run_id: int, name: str, who: Who, session: Db) -> FileResponse:
    """One artifact; the Robot log and report open in the browser (sandboxed), others download."""
    view, path = artifacts.open_artifact(session, who, run_id, name)
    return artifact_response(view, path)


@router.get("/runs/{run_id}/inputs/{item_id}/files/{name}")
def input_file(run_id: int, item_id: int, name: str, who: Who, session: Db, settings: Config) -> FileResponse:
    """An uploaded input file of a run of the caller's city."""
    path = runs.input_file(session, who, run_id, item_id, name, settings.data_dir)
    return FileResponse(path, filename=name, content_disposition_type="attachment",
                        headers={"Content-Security-Policy": ARTIFACT_CSP, "X-Content-Type-Options": "nosniff"})
