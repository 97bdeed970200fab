"""Routes of the control room (api_schedules); filled in by its owner module's work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
