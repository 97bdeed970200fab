"""Read and fill PDF forms, read page text, embedded files and metadata.

``Library    rathaus.PDF`` in Robot Framework, ``from rathaus import PDF`` in Python. The keywords are
thin; the work is done by the functions in :mod:`rathaus.pdf.reader`, which the ``rathaus pdf`` command
line uses too.
"""

from __future__ import annotations

from pathlib import Path

from robotlibcore import DynamicCore

from rathaus.pdf.attachments import AttachmentKeywords
from rathaus.pdf.document import DocumentKeywords
from rathaus.pdf.errors import (
    InvalidFieldValueError,
    NotAPdfError,
    PageOutOfRangeError,
    PdfBrokenError,
    PdfEncryptedError,
    PdfError,
    PdfNotFoundError,
    PdfTooLargeError,
    UnknownFieldError,
)
from rathaus.pdf.fields import FormFieldKeywords
from rathaus.pdf.text import TextKeywords
from rathaus.translation import load_translation

__all__ = [
    "PDF",
    "InvalidFieldValueError",
    "NotAPdfError",
    "PageOutOfRangeError",
    "PdfBrokenError",
    "PdfEncryptedError",
    "PdfError",
    "PdfNotFoundError",
    "PdfTooLargeError",
    "UnknownFieldError",
]


class PDF(DynamicCore):
    """Read and fill PDF forms, and read page text, embedded files and metadata.

    Every keyword takes the PDF's path; there is nothing to open or close. Form fields are named as
    in the form's hierarchy, joined with dots, e.g. ``kind.geburtsdatum``; the command line
    ``rathaus pdf fields antrag.pdf`` lists them.

    Values: text fields give a string (``None`` when empty), checkboxes ``True`` or ``False``, radio
    groups and choice fields the selected export value (``None`` when nothing is selected).

    A file that cannot be read fails with one German sentence naming the file and what to do, as a
    business error (``PdfNotFoundError``, ``NotAPdfError``, ``PdfBrokenError``, ``PdfEncryptedError``,
    ``UnknownFieldError``, ...): the case goes to a clerk, a retry will not help.

    Example:
    | ***** Settings *****
    | Library    rathaus.PDF
    |
    | ***** Tasks *****
    | Antrag lesen
    |     ${felder}=    `Get Form Fields`    ${ANTRAG}
    |     Should Be Equal    ${felder}[kind.name]    Müller
    |     `Get Form Field Value`    ${ANTRAG}    kind.geschlecht    ==    w
    |     ${text}=    `Get Text From Page`    ${ANTRAG}    1
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(self, language: str = "en") -> None:
        """| =Arguments= | =Description= |
        | ``language`` | Keyword language: ``en`` (default) or ``de`` for German names and documentation. |
        """
        super().__init__(
            [FormFieldKeywords(self), TextKeywords(self), AttachmentKeywords(self), DocumentKeywords(self)],
            translation=load_translation(Path(__file__).parent, language, "rathaus.PDF"),
        )
