"""Read an e-invoice file (XRechnung XML, or a PDF with the invoice XML embedded) into :class:`Invoice`.

The file's content decides, not its name: ``%PDF-`` in the first KiB is a PDF (ZUGFeRD / Factur-X, or
any PDF with an embedded XRechnung), everything else must be UBL or CII XML. See
docs/adr/0007-e-invoices.md for the choice of engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rathaus.einvoice import _xml, cii, ubl
from rathaus.einvoice.errors import (
    EInvoiceError,
    EmptyInvoiceFileError,
    EncryptedPdfError,
    InvoiceFileMissingError,
    NoInvoiceInPdfError,
    NotXmlError,
    PdfTooLargeError,
    PdfUnreadableError,
    file_label,
)
from rathaus.einvoice.model import Invoice
from rathaus.files import safe_file_name

#: Names under which the standards embed the invoice, in the order they are tried (compared case-blind):
#: Factur-X 1.0 / ZUGFeRD 2.1+, ZUGFeRD 2.0, and the name ZUGFeRD 2.1+ uses for an embedded XRechnung.
EMBEDDED_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")

_PDF_HEADER_WINDOW = 1024
_PDF_TRAILER_WINDOW = 1024


def _read_file(path: str | Path) -> tuple[bytes, str]:
    path = Path(path)
    try:
        return path.read_bytes(), file_label(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise InvoiceFileMissingError(path) from None
    except OSError as error:
        raise InvoiceFileMissingError(path, f"nicht gelesen ({error.strerror or error})") from None


def is_pdf(data: bytes) -> bool:
    """``True`` when the data starts like a PDF (``%PDF-`` within the first KiB, as readers accept)."""
    return b"%PDF-" in data[:_PDF_HEADER_WINDOW]


def _pdf_attachments(data: bytes, source: str) -> list[tuple[str, bytes]]:
    """(name, content) of every file embedded in the PDF, through rathaus.pdf's pypdf seam."""
    from rathaus.pdf import reader as pdf
    from rathaus.pdf.errors import PdfEncryptedError, PdfError
    from rathaus.pdf.errors import PdfTooLargeError as PdfLimitError

    if b"%%EOF" not in data[-_PDF_TRAILER_WINDOW:]:
        raise PdfUnreadableError(source, "Dateiende fehlt")
    try:
        return pdf.read_embedded_files(Path(source), data)
    except PdfEncryptedError:
        raise EncryptedPdfError(source) from None
    except PdfLimitError:
        raise PdfTooLargeError(source, f"mehr als {pdf.MAX_INFLATED_STREAM // 1_000_000} MB") from None
    except PdfError as error:
        raise PdfUnreadableError(source) from error


def _candidates(attachments: list[tuple[str, bytes]]) -> list[tuple[str, bytes, bool]]:
    """Attachments to try, standard names first: (name, content, has a standard name)."""
    known = {name: index for index, name in enumerate(EMBEDDED_NAMES)}
    named = sorted(
        (item for item in attachments if item[0].lower() in known), key=lambda item: known[item[0].lower()]
    )
    others = [item for item in attachments if item[0].lower() not in known and item[0].lower().endswith(".xml")]
    return [(name, content, True) for name, content in named] + [(name, content, False) for name, content in others]


def _find_embedded(data: bytes, source: str) -> tuple[str, bytes, Any, str]:
    """The embedded invoice: (attachment name, XML bytes, parsed root, syntax)."""
    attachments = _pdf_attachments(data, source)
    for name, content, standard in _candidates(attachments):
        label = f"{source} (Anlage {safe_file_name(name)})"
        try:
            if not content.strip():
                raise EmptyInvoiceFileError(label)
            root, syntax = _xml.parse(content, label)
        except EInvoiceError:
            if standard:
                raise  # a file under the standard's name that is broken is the sender's error, say so
            continue  # some other XML enclosure (a delivery note, say): keep looking
        return name, content, root, syntax
    raise NoInvoiceInPdfError(source, [name for name, _ in attachments])


def extract_invoice_xml_data(data: bytes, name: str) -> tuple[str, bytes]:
    """The embedded invoice of a PDF given as bytes: (attachment name, XML bytes). See :func:`extract_invoice_xml`."""
    source = file_label(name)
    if not data.strip():
        raise EmptyInvoiceFileError(source)
    if not is_pdf(data):
        raise PdfUnreadableError(source, not_pdf=True)
    attachment, content, _root, _syntax = _find_embedded(data, source)
    return attachment, content


def extract_invoice_xml(path: str | Path) -> tuple[str, bytes]:
    """The invoice XML embedded in a ZUGFeRD / Factur-X (or XRechnung-carrying) PDF.

    Returns the attachment's name as stored in the PDF (e.g. ``factur-x.xml``) and its bytes, after
    checking that they are a UBL or CII invoice. Standard names (:data:`EMBEDDED_NAMES`) are tried
    first, then any other ``.xml`` attachment that is an invoice.

    Raises :class:`~rathaus.einvoice.errors.NoInvoiceInPdfError` (``PDF-NO-INVOICE``),
    ``EncryptedPdfError`` (``PDF-ENCRYPTED``), ``PdfUnreadableError`` (``PDF-UNREADABLE``) and the
    syntax errors of a broken embedded file.
    """
    data, source = _read_file(path)
    return extract_invoice_xml_data(data, source)


def _to_invoice(root: Any, syntax: str, source: str, attachment: str | None) -> Invoice:
    return (ubl.read if syntax == "UBL" else cii.read)(root, source, attachment)


def read_invoice_data(data: bytes, name: str) -> Invoice:
    """Read an e-invoice given as bytes (e.g. a mail attachment); ``name`` is its file name for messages.

    Same behaviour and errors as :func:`read_invoice`.
    """
    source = file_label(name)
    if not data.strip():
        raise EmptyInvoiceFileError(source)
    if is_pdf(data):
        attachment, _content, root, syntax = _find_embedded(data, source)
        return _to_invoice(root, syntax, source, attachment)
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<") and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotXmlError(source)
    root, syntax = _xml.parse(data, source)
    return _to_invoice(root, syntax, source, None)


def read_invoice(path: str | Path) -> Invoice:
    """Read an XRechnung (UBL Invoice/CreditNote or CII) or a ZUGFeRD / Factur-X PDF into one model.

    Reading does not validate: an invoice with missing terms or wrong sums is returned as it is (missing
    terms are ``None``); :func:`rathaus.einvoice.rules.validate_invoice` checks it. Reading fails only when
    the file is no e-invoice at all, with a :class:`~rathaus.einvoice.errors.InvoiceSyntaxError`
    subclass (rule ids ``SYNTAX-…``, ``PDF-…``) or ``InvoiceFileMissingError`` (``FILE-MISSING``).
    """
    data, source = _read_file(path)
    return read_invoice_data(data, source)
