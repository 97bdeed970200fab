"""Letters from Word templates on the city's letterhead, and their PDF versions (``rathaus.Documents``)."""

from __future__ import annotations

from rathaus.documents.errors import (
    CityDataError,
    DocumentError,
    LetterDataMissingError,
    LibreOfficeMissingError,
    PdfExportError,
    TemplateNotFoundError,
    TemplateSyntaxError,
)
from rathaus.documents.library import Documents

__all__ = [
    "CityDataError",
    "DocumentError",
    "Documents",
    "LetterDataMissingError",
    "LibreOfficeMissingError",
    "PdfExportError",
    "TemplateNotFoundError",
    "TemplateSyntaxError",
]
