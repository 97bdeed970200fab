"""State shared by the Documents components: default city, LibreOffice settings, the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DocumentsState:
    """Library-wide settings; the components read them, tests may replace ``today``."""

    city: Mapping[str, Any] | Path | None = None
    soffice: str | Path | None = None
    pdf_timeout: float = 120.0
    today: Any = field(default=dt.date.today)


class LibraryComponent:
    """Base of each keyword component: gives access to the shared :class:`DocumentsState`."""

    def __init__(self, state: DocumentsState) -> None:
        self.state = state
