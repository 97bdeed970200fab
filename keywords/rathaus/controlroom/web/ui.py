"""Routes of the control room (ui); filled in by its owner module's work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()


def error_page(request, error):  # replaced by the UI module's German error page
    from fastapi.responses import PlainTextResponse

    return PlainTextResponse(str(error), status_code=error.status)
