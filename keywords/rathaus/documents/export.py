"""Keywords that turn Word letters into PDF with LibreOffice."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword

from rathaus.documents.base import LibraryComponent
from rathaus.documents.errors import LibreOfficeMissingError, PdfExportError, TemplateNotFoundError
from rathaus.documents.office import office_server

#: Names under which LibreOffice's command line is installed, tried in this order.
SOFFICE_NAMES = ("soffice", "libreoffice")


def find_soffice(configured: str | Path | None) -> str | None:
    """The LibreOffice executable: the configured one if it exists, else the first on PATH."""
    if configured:
        found = shutil.which(str(configured))
        return found
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class PdfExportKeywords(LibraryComponent):
    """Convert To PDF, Is PDF Export Available."""

    @keyword
    def convert_to_pdf(
        self,
        document: Path,
        output: Path | None = None,
        soffice: str | Path | None = None,
        timeout: float | None = None,
    ) -> Path:
        """Convert a Word document to PDF with LibreOffice (headless) and return the PDF's path.

        The first conversion of a robot starts one LibreOffice (through ``unoserver``, with a temporary profile of
        its own) that converts every further letter of the robot, about 0.15 s each instead of about 1 s for a
        new LibreOffice per letter; it is restarted when it died, and a conversion that hangs is stopped after
        ``timeout`` (only that letter fails). Without ``unoserver`` and LibreOffice's Python bridge
        (``python3-uno``), or with ``RATHAUS_OFFICE_SERVER=off``, each letter starts LibreOffice of its own. If
        LibreOffice is missing the keyword fails with a clear message; the Word letter stays where it is.

        | =Arguments= | =Description= |
        | ``document`` | The ``.docx`` to convert. |
        | ``output`` | Path of the PDF; default is the document's path with ``.pdf``. |
        | ``soffice`` | LibreOffice executable; default is the library's ``soffice`` or ``soffice`` on PATH. |
        | ``timeout`` | Seconds to wait for LibreOffice; default is the library's ``pdf_timeout`` (120). |

        Example:
        | ${brief}= | `Create Letter` | ${vorlage} | ${OUTPUT}/brief.docx | data=${fall} |
        | ${pdf}= | `Convert To PDF` | ${brief} |

        Related: `Is PDF Export Available`, `Create Letter`.
        """
        source = Path(document)
        if not source.is_file():
            raise TemplateNotFoundError(f"Word-Dokument '{source}' fehlt: zuerst den Brief erstellen.")
        target = Path(output) if output is not None else source.with_suffix(".pdf")
        configured = soffice if soffice is not None else self.state.soffice
        binary = find_soffice(configured)
        if binary is None:
            shown = configured or "soffice"
            raise LibreOfficeMissingError(
                f"LibreOffice ('{shown}') wurde nicht gefunden, PDF-Export nicht möglich: Paket "
                f"'libreoffice-writer' installieren (Debian: apt-get install libreoffice-writer); "
                f"der Brief liegt weiterhin als Word-Datei vor: '{source}'."
            )
        limit = timeout if timeout is not None else self.state.pdf_timeout
        server = office_server(binary)
        converted = False
        if server is not None and not server.broken:
            try:
                server.convert(source, target, limit)
                converted = True
            except PdfExportError as error:
                if not server.broken:
                    raise  # this letter failed; LibreOffice itself works
                logger.warn(f"{error} Die Briefe werden jetzt mit je einem eigenen LibreOffice umgewandelt.")
        if not converted:
            self._run_soffice(binary, source, target, limit)
        logger.info(f"PDF erstellt: {target.name}")
        return target

    @keyword
    def is_pdf_export_available(self, soffice: str | Path | None = None) -> bool:
        """Return ``True`` when LibreOffice is installed, so that `Convert To PDF` can work.

        | =Arguments= | =Description= |
        | ``soffice`` | LibreOffice executable to look for; default as in `Convert To PDF`. |

        Example:
        | ${pdf_ok}= | `Is PDF Export Available` |
        | IF | ${pdf_ok} | `Convert To PDF` | ${brief} |

        Related: `Convert To PDF`.
        """
        configured = soffice if soffice is not None else self.state.soffice
        return find_soffice(configured) is not None

    def _run_soffice(self, binary: str, source: Path, target: Path, timeout: float) -> None:
        with tempfile.TemporaryDirectory(prefix="rathaus-soffice-") as work:
            profile = Path(work, "profile")
            outdir = Path(work, "out")
            outdir.mkdir()
            command = [
                binary,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--nolockcheck",
                "--convert-to",
                "pdf",
                "--outdir",
                str(outdir),
                str(source.resolve()),
            ]
            try:
                result = subprocess.run(
                    command, capture_output=True, text=True, timeout=timeout, check=False
                )
            except subprocess.TimeoutExpired:
                raise PdfExportError(
                    f"LibreOffice hat '{source.name}' nicht in {timeout:g} s in PDF umgewandelt: "
                    "später erneut versuchen; der Brief liegt als Word-Datei vor."
                ) from None
            except OSError as error:
                raise LibreOfficeMissingError(
                    f"LibreOffice ('{binary}') ließ sich nicht starten ({error.strerror}): Paket "
                    f"'libreoffice-writer' installieren; der Brief liegt als Word-Datei vor: '{source}'."
                ) from None
            produced = outdir / f"{source.stem}.pdf"
            if result.returncode != 0 or not produced.is_file():
                detail = " ".join((result.stderr or result.stdout or "").split())[:300]
                raise PdfExportError(
                    f"LibreOffice konnte '{source.name}' nicht in PDF umwandeln (Code {result.returncode}"
                    f"{': ' + detail if detail else ''}): Word-Datei prüfen und erneut versuchen."
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(produced), str(target))
