"""The control room's FastAPI application: every route module's router, one error page per failure."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Security
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from rathaus_controlroom.db import Database
from rathaus_controlroom.services.errors import ControlRoomError
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web import (
    api_admin,
    api_items,
    api_processes,
    api_runner,
    api_runner_items,
    api_runs,
    api_schedules,
    api_triggers,
    ui,
)
from rathaus_controlroom.web.validation import problems, summary

STATIC = Path(__file__).with_name("static")

#: German texts for HTTP errors that happen before a route runs (unknown address, wrong method, bad form)
_HTTP_MESSAGES = {
    400: "Die Anfrage war fehlerhaft, zum Beispiel ein beschädigtes Formular oder ein abgebrochener Datei-Upload. "
         "Bitte die Seite neu laden und erneut absenden; es wurde nichts geändert.",
    404: "Diese Seite gibt es nicht. Bitte prüfen Sie die Adresse oder gehen Sie zur Startseite.",
    405: "Diese Aktion ist hier nicht möglich. Bitte benutzen Sie die Schaltflächen der Seite.",
    413: "Die Anfrage ist zu groß. Bitte laden Sie kleinere Dateien hoch; es wurde nichts geändert.",
}


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """The web application on ``settings`` (the database must be migrated: ``db.upgrade``)."""
    app = FastAPI(title="rathaus Kontrollraum", version="0.1.0", openapi_url="/api/openapi.json",
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    # every API route takes a bearer token (users: rh_…, runners: rr_…); OpenAPI shows the scheme on all of them
    for module in (api_runs, api_runner, api_runner_items, api_items, api_schedules, api_triggers, api_admin,
                   api_processes):
        app.include_router(module.router, prefix="/api", dependencies=[Security(api_runs.bearer)])
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(ControlRoomError)
    async def _refused(request: Request, error: ControlRoomError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(error), "code": error.code, **(error.details or {})},
                                status_code=error.status)
        return await run_in_threadpool(ui.error_page, request, error)  # looks up who is asking: not on the loop

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> Response:
        if request.url.path.startswith(("/api/", "/static/")):
            return await http_exception_handler(request, error)
        message = _HTTP_MESSAGES.get(error.status_code, "Die Anfrage konnte nicht bearbeitet werden.")
        return await run_in_threadpool(ui.error_page, request, ControlRoomError(message), status=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _bad_form(request: Request, error: RequestValidationError) -> Response:
        """German, naming each field and its problem, never echoing a submitted value (passwords, secrets)."""
        listed = problems(error.errors())
        message = summary(listed)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message, "code": "INVALID", "errors": listed}, status_code=422)
        return await run_in_threadpool(ui.error_page, request, ControlRoomError(message), status=422)

    @app.get("/api/status", tags=["Betrieb"])
    def status() -> dict[str, str]:
        """Whether the control room answers (no login needed)."""
        return {"status": "ok"}

    return app
