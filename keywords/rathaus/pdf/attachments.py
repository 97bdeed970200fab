"""Keywords for files embedded in a PDF (e.g. XRechnung XML in a ZUGFeRD invoice, scanned enclosures)."""

from __future__ import annotations

from pathlib import Path

from robotlibcore import keyword

from rathaus.pdf import reader
from rathaus.pdf._base import PdfComponent


class AttachmentKeywords(PdfComponent):
    """List and save embedded files under safe names."""

    @keyword
    def get_embedded_files(self, path: str | Path) -> list[dict[str, str | int | None]]:
        """Returns the files embedded in the PDF as a list of dictionaries.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |

        Each dictionary has ``name`` (as stored in the PDF, may contain anything), ``file_name`` (the safe
        name `Save Embedded Files` will use), ``size`` in bytes, ``mime_type`` and ``description``
        (``None`` when not given). A PDF without embedded files gives an empty list.

        Example:
        | ${anhaenge}=    Get Embedded Files    ${RECHNUNG}
        | Length Should Be    ${anhaenge}    1
        | Should Be Equal    ${anhaenge}[0][file_name]    factur-x.xml

        See `Save Embedded Files`.
        """
        return reader.list_embedded_files(path)

    @keyword
    def save_embedded_files(self, path: str | Path, folder: str | Path) -> list[str]:
        """Saves every embedded file into a folder and returns the paths written.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |
        | ``folder`` | Target folder; created when missing. |

        File names are made safe: folder parts such as ``../../`` are dropped, characters that Windows
        forbids are replaced, two files with the same name become ``name.pdf`` and ``name (2).pdf``.
        Files of the same name already in the folder are overwritten, so a rerun gives the same result.

        Example:
        | ${dateien}=    Save Embedded Files    ${ANTRAG}    ${OUTPUT_DIR}/anlagen
        | Length Should Be    ${dateien}    2

        See `Get Embedded Files` to look before saving.
        """
        return [str(p) for p in reader.save_embedded_files(path, folder)]
