"""Rathaus: Robot Framework keyword libraries for municipal administrative workflows.

Each library is importable in Robot Framework as ``Library    rathaus.<Name>`` and from Python as
``from rathaus import <Name>``. The libraries are imported lazily so that the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LIBRARIES = {
    "Mail": "rathaus.mail",
    "PDF": "rathaus.pdf",
    "WebForms": "rathaus.webforms",
    "Documents": "rathaus.documents",
    "WorkItems": "rathaus.workitems",
    "Process": "rathaus.process",
    "EInvoice": "rathaus.einvoice",
}

__all__ = ["PDF", "Documents", "EInvoice", "Mail", "Process", "WebForms", "WorkItems", "__version__"]


def __getattr__(name: str) -> Any:
    module = _LIBRARIES.get(name)
    if module is None:
        raise AttributeError(f"module 'rathaus' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
