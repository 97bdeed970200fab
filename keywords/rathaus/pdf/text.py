"""Keywords for the text of pages."""

from __future__ import annotations

from pathlib import Path

from robotlibcore import keyword

from rathaus.pdf import reader
from rathaus.pdf._base import PdfComponent


class TextKeywords(PdfComponent):
    """Read the text layer of single pages or page ranges."""

    @keyword
    def get_text_from_page(self, path: str | Path, page: int = 1) -> str:
        """Returns the text of one page.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |
        | ``page`` | Page number, starting at 1. |

        Only this page is read, so it stays fast on long documents. A page the document does not have
        fails with ``PageOutOfRangeError``. Form field values appear in the text only once the form has
        been flattened (see `Fill Form`); use `Get Form Fields` for them otherwise. Scanned pages
        without a text layer give an empty string.

        Example:
        | ${text}=    Get Text From Page    ${BESCHEID}    2
        | Should Contain    ${text}    Unterhaltsvorschuss

        See `Get Text From Pages` for several pages and `Get Page Count`.
        """
        return reader.read_text(path, [int(page)])[int(page)]

    @keyword
    def get_text_from_pages(
        self, path: str | Path, pages: str | list[int] | None = None
    ) -> dict[int, str]:
        """Returns the text of several pages as a dictionary of page number to text.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |
        | ``pages`` | Page numbers as a list or as text like ``1,3-5``; all pages when not given. |

        Only the pages asked for are read. A page the document does not have fails with
        ``PageOutOfRangeError`` before any text is read.

        Example:
        | ${texte}=    Get Text From Pages    ${BESCHEID}    1,3-5
        | Should Contain    ${texte}[3]    Widerspruch
        | ${alle}=    Get Text From Pages    ${BESCHEID}

        See `Get Text From Page` for a single page.
        """
        return reader.read_text(path, reader.parse_page_spec(pages))

    @keyword
    def get_page_count(self, path: str | Path) -> int:
        """Returns the number of pages of the PDF.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |

        Example:
        | ${seiten}=    Get Page Count    ${ANTRAG}
        | Should Be Equal As Integers    ${seiten}    2

        See `Get Text From Pages` and `Get Metadata`.
        """
        return reader.page_count(path)
