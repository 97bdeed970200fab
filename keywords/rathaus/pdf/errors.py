"""Errors of the PDF library.

Every message is one German line for the clerk: it names the file and says what to do next.
All of them are :class:`~rathaus.errors.BusinessError`: a PDF that cannot be read belongs to the case,
so a retry will not help and the case goes to a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rathaus.errors import BusinessError

#: How many allowed field names an error message lists before it shortens the list.
MAX_LISTED_NAMES = 12


def one_line(text: str) -> str:
    """Collapse whitespace and line breaks so that a message fits on one line."""
    return " ".join(str(text).split())


def file_label(path: str | Path) -> str:
    """The file name as a clerk knows it, without the folders of the robot's machine."""
    return Path(path).name or str(path)


class PdfError(BusinessError):
    """A PDF could not be read or processed."""

    code = "PDF_ERROR"

    def __init__(self, message: str, *, path: str | Path | None = None, code: str | None = None) -> None:
        super().__init__(one_line(message), code=code)
        self.path = Path(path) if path is not None else None


class PdfNotFoundError(PdfError):
    """The file does not exist or is a folder."""

    code = "PDF_NOT_FOUND"

    def __init__(self, path: str | Path) -> None:
        super().__init__(
            f"Die Datei '{file_label(path)}' wurde nicht gefunden. "
            "Bitte prüfen Sie den Pfad oder legen Sie die Datei erneut ab.",
            path=path,
        )


class NotAPdfError(PdfError):
    """The file is something else, e.g. a text file or an image renamed to ``.pdf``."""

    code = "NOT_A_PDF"

    def __init__(self, path: str | Path) -> None:
        super().__init__(
            f"Die Datei '{file_label(path)}' ist keine PDF-Datei (anderes Dateiformat). "
            "Bitte fordern Sie den Antrag als PDF an.",
            path=path,
        )


class PdfBrokenError(PdfError):
    """The file starts like a PDF but is damaged or truncated."""

    code = "PDF_BROKEN"

    def __init__(self, path: str | Path, detail: str = "") -> None:
        extra = f" ({one_line(detail)})" if detail else ""
        super().__init__(
            f"Die Datei '{file_label(path)}' ist keine lesbare PDF-Datei (beschädigt oder abgeschnitten)"
            f"{extra}. Bitte fordern Sie die Datei erneut an.",
            path=path,
        )


class PdfTooLargeError(PdfError):
    """A stream of the PDF (page content, image, embedded file) inflates beyond the library's limit."""

    code = "PDF_TOO_LARGE"

    def __init__(self, path: str | Path, limit_mb: int) -> None:
        super().__init__(
            f"Die Datei '{file_label(path)}' enthält Daten, die entpackt größer als {limit_mb} MB sind "
            "(möglicherweise eine Dekompressionsbombe); sie wird nicht gelesen. Bitte fordern Sie eine "
            "kleinere Fassung der Datei an oder prüfen Sie sie von Hand.",
            path=path,
        )


class PdfEncryptedError(PdfError):
    """The PDF needs a password to be opened."""

    code = "PDF_ENCRYPTED"

    def __init__(self, path: str | Path) -> None:
        super().__init__(
            f"Die Datei '{file_label(path)}' ist mit einem Kennwort geschützt und kann nicht gelesen werden. "
            "Bitte fordern Sie eine Fassung ohne Kennwort an.",
            path=path,
        )


class PageOutOfRangeError(PdfError):
    """A page was asked for that the document does not have."""

    code = "PDF_PAGE_OUT_OF_RANGE"

    def __init__(self, path: str | Path, page: int, page_count: int) -> None:
        super().__init__(
            f"Die Datei '{file_label(path)}' hat {page_count} Seite(n), Seite {page} gibt es nicht. "
            "Bitte prüfen Sie die Seitenangabe.",
            path=path,
        )
        self.page = page
        self.page_count = page_count


def shorten_names(names: Iterable[str], limit: int = MAX_LISTED_NAMES) -> str:
    """``a, b, c`` or ``a, b, … (und 17 weitere)`` for long lists."""
    names = list(names)
    if not names:
        return "(keine)"
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", … (und {len(names) - limit} weitere)"


class UnknownFieldError(PdfError):
    """A field name that the form does not have."""

    code = "PDF_UNKNOWN_FIELD"

    def __init__(self, path: str | Path, name: str, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        super().__init__(
            f"Das Formular '{file_label(path)}' hat kein Feld '{name}'. "
            f"Vorhandene Felder: {shorten_names(allowed)}.",
            path=path,
        )
        self.field = name
        self.allowed = allowed


class InvalidFieldValueError(PdfError):
    """A value that the field cannot take, e.g. an option a radio group does not offer."""

    code = "PDF_INVALID_FIELD_VALUE"

    def __init__(self, path: str | Path, name: str, value: object, allowed: Iterable[str]) -> None:
        super().__init__(
            f"Das Feld '{name}' im Formular '{file_label(path)}' erlaubt den Wert '{value}' nicht. "
            f"Erlaubt: {shorten_names(allowed)}.",
            path=path,
        )
        self.field = name
