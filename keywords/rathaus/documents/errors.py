"""Errors of the Documents library; messages are German because clerks read them."""

from __future__ import annotations

from rathaus.errors import ApplicationError, BusinessError, RathausError


class DocumentError(RathausError):
    """Base class of every error raised by the Documents library."""

    code = "DOCUMENT_ERROR"


class TemplateNotFoundError(DocumentError, ApplicationError):
    """The letter template does not exist or is no Word document."""

    code = "TEMPLATE_NOT_FOUND"


class TemplateSyntaxError(DocumentError, ApplicationError):
    """The template's Jinja placeholders are malformed: the process owner must fix the template."""

    code = "TEMPLATE_SYNTAX"


class LetterDataMissingError(DocumentError, BusinessError):
    """The template uses a value that the case data does not contain."""

    code = "LETTER_DATA_MISSING"


class CityDataError(DocumentError, ApplicationError):
    """The city's master data (letterhead, departments) is missing or incomplete."""

    code = "CITY_DATA"


class PdfExportError(DocumentError, ApplicationError):
    """LibreOffice could not convert the letter to PDF."""

    code = "PDF_EXPORT_FAILED"


class LibreOfficeMissingError(PdfExportError):
    """LibreOffice is not installed where the library looks for it."""

    code = "LIBREOFFICE_MISSING"
