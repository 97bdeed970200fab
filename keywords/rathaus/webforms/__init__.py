"""WebForms: fast, event-true form entry into Fachverfahren web applications (Playwright, Chromium).

``Library    rathaus.WebForms`` in Robot Framework, ``from rathaus.webforms import WebForms`` in Python.
"""

from __future__ import annotations

from .errors import (
    BrowserStartError,
    FieldValueError,
    PageTimeoutError,
    ServerError,
    SiteUnreachableError,
    UnknownFieldError,
    WebFormsError,
)
from .library import WebForms

__all__ = [
    "BrowserStartError",
    "FieldValueError",
    "PageTimeoutError",
    "ServerError",
    "SiteUnreachableError",
    "UnknownFieldError",
    "WebForms",
    "WebFormsError",
]
