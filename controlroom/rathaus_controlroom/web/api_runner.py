"""The runner API (``Authorization: Bearer rr_…``) and the city admin's runner management.

Runners claim runs of their city, send heartbeats with progress, upload artifacts and report the outcome; they
hold no database credentials. HTTP only: :mod:`rathaus_controlroom.services.runners` does the work.
"""

from __future__ import annotations

import time
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from rathaus_controlroom import signals
from rathaus_controlroom.db import Database
from rathaus_controlroom.services import artifacts, runners
from rathaus_controlroom.services.errors import Invalid
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.deps import (
    Db,
    RunnerIdentity,
    csrf_protect,
    current_principal,
    get_settings,
    runner_identity,
)

router = APIRouter()

Machine = Annotated[RunnerIdentity, Depends(runner_identity)]
Who = Annotated[Principal, Depends(current_principal)]
# the session commits before the answer is sent (FastAPI's default "request" scope commits after it)
Config = Annotated[Settings, Depends(get_settings)]


class HeartbeatIn(BaseModel):
    """Progress of the run: cases done of total (from the robot's work item queue)."""

    cases_done: int | None = None
    cases_total: int | None = None


class HeartbeatOut(BaseModel):
    cancel: bool
    lease_until: str


class ItemResult(BaseModel):
    """How one input item ended: done, failed_business or failed_application, with the robot's code/message."""

    id: int
    state: str
    code: str | None = None
    message: str | None = None


class FinishIn(BaseModel):
    exit_code: int
    message: str | None = None
    items: list[ItemResult] = []
    cases_done: int | None = None
    cases_total: int | None = None
    #: the runner stopped the robot on a cancel request (only then does a cancelled run end CANCELLED)
    stopped: bool | None = None


class RunnerIn(BaseModel):
    name: str
    city: str | None = None


class RunnerOut(BaseModel):
    id: int
    city: str
    name: str
    active: bool
    last_seen_at: str | None
    token: str | None = None


# --- runner machines ---------------------------------------------------------------------------------------------

#: longest wait of a claim for work (``warten``), and how often a waiting claim looks again without a signal (a run
#: queued by another control-room instance on the same database, a lease that ran out)
MAX_CLAIM_WAIT_S = 30.0
CLAIM_RECHECK_S = 1.0


def _claim_job(database: Database, machine: RunnerIdentity, settings: Settings) -> dict[str, Any] | None:
    with database.session() as session:
        run = runners.claim(session, machine.runner_id, machine.city_id, lease_s=settings.lease_s)
        if run is None:
            return None
        job = runners.job(session, run, settings.credential_key, item_key=settings.session_key,
                          robot_config=settings.robot_config)
        job["lease_s"] = settings.lease_s
        return job


@router.post("/runner/claim", tags=["Runner"], responses={204: {"description": "Nichts zu tun"}})
async def claim(request: Request, machine: Machine, settings: Config,
                warten: Annotated[float, Query(ge=0, le=MAX_CLAIM_WAIT_S)] = 0) -> Any:
    """The next run of the runner's city (its robot, input items, the city's credentials), or 204.

    With ``warten`` (seconds, at most 30) an idle runner's claim waits for work: it is answered as soon as a run
    of its city is queued (within a second, also when another control-room instance queued it), or with 204 when
    the time is up. The waiting holds no database connection and blocks nothing.
    """
    database = request.app.state.database
    deadline = time.monotonic() + warten
    while True:
        waiter = signals.RUN_QUEUED.waiter()  # before looking: a run queued meanwhile is not missed
        try:
            job = await run_in_threadpool(_claim_job, database, machine, settings)
        except BaseException:
            waiter.close()
            raise
        remaining = deadline - time.monotonic()
        if job is not None or remaining <= 0:
            waiter.close()
            return job if job is not None else Response(status_code=204)
        await waiter.wait(min(remaining, CLAIM_RECHECK_S))
        if await request.is_disconnected():  # the runner is gone: claim nothing it would never run
            return Response(status_code=204)


@router.post("/runner/runs/{run_id}/heartbeat", response_model=HeartbeatOut, tags=["Runner"])
def heartbeat(run_id: int, body: HeartbeatIn, machine: Machine, session: Db, settings: Config) -> HeartbeatOut:
    """Extend the lease and store progress; ``cancel`` tells the runner to stop the robot."""
    run = runners.heartbeat(session, machine.runner_id, machine.city_id, run_id, lease_s=settings.lease_s,
                            cases_done=body.cases_done, cases_total=body.cases_total)
    return HeartbeatOut(cancel=bool(run.cancel_requested), lease_until=run.lease_until.isoformat())


@router.post("/runner/runs/{run_id}/finish", tags=["Runner"])
def finish(run_id: int, body: FinishIn, machine: Machine, session: Db, settings: Config) -> dict[str, Any]:
    """Report the outcome: exit code, a German summary and each input item's result."""
    run = runners.finish(session, machine.runner_id, machine.city_id, run_id, body.exit_code, body.message,
                         [result.model_dump() for result in body.items], max_item_attempts=settings.max_item_attempts,
                         retry_base_s=settings.retry_base_s, cases_done=body.cases_done,
                         cases_total=body.cases_total, stopped=body.stopped)
    return {"id": run.id, "state": run.state.value}


@router.post("/runner/runs/{run_id}/artifacts", tags=["Runner"], status_code=201)
async def upload_artifact(run_id: int, request: Request, machine: Machine, settings: Config) -> dict[str, Any]:
    """Upload one artifact: form field ``name`` (relative path, e.g. ``log.html``) and file ``datei``."""
    try:
        form = await request.form(max_files=1, max_fields=4)
    except (MultiPartException, ValueError) as error:
        raise Invalid(f"Artefakt-Upload fehlerhaft: {error}.") from None
    try:
        upload = form.get("datei")
        name = form.get("name")
        if not isinstance(upload, UploadFile) or not isinstance(name, str):
            raise Invalid("Artefakt-Upload braucht das Feld 'name' und die Datei 'datei'.")
        # copying the file and the database work in a worker thread, with a session of its own
        return await run_in_threadpool(_store_artifact, request.app.state.database, settings, machine, run_id, name,
                                       upload.file)
    finally:
        await form.close()


def _store_artifact(database: Database, settings: Settings, machine: RunnerIdentity, run_id: int, name: str,
                    file: IO[bytes]) -> dict[str, Any]:
    with database.session() as session:
        return artifacts.store(session, settings.data_dir, machine.runner_id, machine.city_id, run_id, name,
                               file).as_dict()


@router.get("/runner/runs/{run_id}/inputs/{item_id}/files/{name}", tags=["Runner"])
def input_file(run_id: int, item_id: int, name: str, machine: Machine, session: Db, settings: Config) -> FileResponse:
    """An uploaded file of an input item of the run this runner holds."""
    path = runners.input_file(session, machine.runner_id, machine.city_id, run_id, item_id, name, settings.data_dir)
    return FileResponse(path, filename=name)


# --- runner management (city admins; operators for every city) ---------------------------------------------------

@router.get("/runners", response_model=list[RunnerOut], tags=["Runner"])
def runner_list(who: Who, session: Db) -> list[RunnerOut]:
    """The city's runners and when each last called in."""
    return [RunnerOut(**view.as_dict()) for view in runners.list_runners(session, who)]


@router.post("/runners", response_model=RunnerOut, status_code=201, tags=["Runner"],
             dependencies=[Depends(csrf_protect)])
def runner_add(body: RunnerIn, who: Who, session: Db) -> RunnerOut:
    """Register a runner; its token (``rr_…``) is shown in this answer only."""
    row, token = runners.register_runner(session, who, body.name, body.city)
    return RunnerOut(**runners.RunnerView.from_row(row).as_dict(), token=token)


@router.post("/runners/{runner_id}/deactivate", response_model=RunnerOut, tags=["Runner"],
             dependencies=[Depends(csrf_protect)])
def runner_deactivate(runner_id: int, who: Who, session: Db) -> RunnerOut:
    """Revoke a runner's token."""
    return RunnerOut(**runners.deactivate_runner(session, who, runner_id).as_dict())
