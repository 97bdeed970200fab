"""Which attachments of a mail are e-invoices, and which are enclosures (delivery notes, time sheets…)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rathaus.pdf.errors import PdfError
from rathaus.pdf.reader import list_embedded_files


@dataclass(frozen=True)
class SortedAttachments:
    """The invoice candidates of a mail and its other files."""

    #: each becomes one work item: XML files, and PDFs that embed an XML file (ZUGFeRD/Factur-X)
    invoices: list[str] = field(default_factory=list)
    #: archived with every invoice of the mail: PDFs without embedded XML, images, office files
    enclosures: list[str] = field(default_factory=list)


def is_invoice_candidate(path: Path) -> bool:
    """An XML file, or a PDF that embeds an XML file; a damaged PDF counts too, so that its sender hears of it."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return True
    if suffix != ".pdf":
        return False
    try:
        embedded = list_embedded_files(path)
    except PdfError:
        return True
    return any(str(item.get("name") or "").lower().endswith(".xml") for item in embedded)


def sort_attachments(files: Sequence[str | Path]) -> SortedAttachments:
    """Sort a mail's saved attachments into invoice candidates and enclosures, keeping their order."""
    result = SortedAttachments()
    for name in files:
        path = Path(name)
        (result.invoices if is_invoice_candidate(path) else result.enclosures).append(str(path))
    return result
