"""The Documents library class that puts the keyword components together."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from robotlibcore import DynamicCore

from rathaus import __version__
from rathaus.documents.base import DocumentsState
from rathaus.documents.export import PdfExportKeywords
from rathaus.documents.letters import LetterKeywords
from rathaus.translation import load_translation


class Documents(DynamicCore):
    """Letters on the city's letterhead from Word templates, and their PDF versions.

    Templates are ordinary ``.docx`` files that departments edit in Word; placeholders are Jinja
    (docxtpl): ``{{ antragsteller.name }}``, ``{% if aktenzeichen %}…{% endif %}``, and paragraph-level
    loops ``{%p for u in fehlende_unterlagen %}``. The letterhead comes from the city's master data
    (``resources/cities/<stadt>/stadt.yaml``) as ``stadt``; the department block as ``amt``; today's
    date as ``heute``. A placeholder without a value is an error, never an empty gap.

    PDF export uses LibreOffice (Debian package ``libreoffice-writer``).

    | =Import argument= | =Description= |
    | ``city`` | Default master data of the city: a YAML file or a dictionary. |
    | ``soffice`` | LibreOffice executable; default ``soffice`` on PATH. |
    | ``pdf_timeout`` | Seconds a PDF conversion may take, default 120. |
    | ``language`` | Keyword language: ``en`` (default) or ``de`` for German names and documentation. |

    Example:
    | Library | rathaus.Documents | city=${CURDIR}/../resources/cities/giessen/stadt.yaml |

    From Python:
    | docs = Documents(city=Path("resources/cities/giessen/stadt.yaml"))
    | docs.create_letter(template, Path("out/brief.docx"), fall)
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(
        self,
        city: Mapping[str, Any] | Path | None = None,
        soffice: str | Path | None = None,
        pdf_timeout: float = 120.0,
        language: str = "en",
    ) -> None:
        """The import arguments are described in the table of the library introduction."""
        translation = load_translation(Path(__file__).parent, language, "rathaus.Documents")
        self.state = DocumentsState(city=city, soffice=soffice, pdf_timeout=pdf_timeout)
        super().__init__(
            [LetterKeywords(self.state), PdfExportKeywords(self.state)],
            translation=translation,
        )
