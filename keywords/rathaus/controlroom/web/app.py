"""The control room's FastAPI application: every route module's router, one error page per failure."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from rathaus.controlroom.db import Database
from rathaus.controlroom.services.errors import ControlRoomError
from rathaus.controlroom.settings import Settings
from rathaus.controlroom.web import api_admin, api_items, api_runner, api_runs, api_schedules, ui


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """The web application on ``settings`` (the database must be migrated: ``db.upgrade``)."""
    app = FastAPI(title="rathaus Kontrollraum", version="0.1.0", openapi_url="/api/openapi.json",
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    for module in (api_runs, api_runner, api_items, api_schedules, api_admin):
        app.include_router(module.router, prefix="/api")
    app.include_router(ui.router)

    @app.exception_handler(ControlRoomError)
    async def _refused(request: Request, error: ControlRoomError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(error), "code": error.code}, status_code=error.status)
        return ui.error_page(request, error)

    @app.get("/api/status", tags=["Betrieb"])
    def status() -> dict[str, str]:
        """Whether the control room answers (no login needed)."""
        return {"status": "ok"}

    return app
