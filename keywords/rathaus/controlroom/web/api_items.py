"""Routes of the control room (api_items); filled in by its owner module's work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
