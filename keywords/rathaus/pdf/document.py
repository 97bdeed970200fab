"""Keywords about the document as a whole."""

from __future__ import annotations

from pathlib import Path

from robotlibcore import keyword

from rathaus.pdf import reader
from rathaus.pdf._base import PdfComponent


class DocumentKeywords(PdfComponent):
    """Document information."""

    @keyword
    def get_metadata(self, path: str | Path) -> dict[str, str | int | None]:
        """Returns the document information of the PDF as a dictionary.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |

        Keys: ``title``, ``author``, ``subject``, ``keywords``, ``creator``, ``producer`` (text or
        ``None``), ``created`` and ``modified`` (ISO 8601 like ``2025-04-28T10:15:00+02:00``, or the raw
        text when the date cannot be parsed) and ``pages`` (number of pages).

        Example:
        | ${info}=    Get Metadata    ${ANTRAG}
        | Should Be Equal    ${info}[title]    Antrag auf Unterhaltsvorschuss

        See `Get Page Count` and `Get Form Fields`.
        """
        return reader.read_metadata(path)
