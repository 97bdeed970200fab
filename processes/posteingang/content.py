"""One incoming item of the general mailbox: the mail, its attachments and the text they carry.

The producer keeps each mail as ``nachricht.eml`` in its work item; :func:`read_item` opens it, sorts the
attachments (PDF, image, XML, text, other), takes PDF text from the text layer (PDFium) and recognises
the rest with Tesseract (:mod:`posteingang.ocr`), and spots e-invoices (XRechnung as UBL or CII XML,
ZUGFeRD/Factur-X PDFs) with rathaus.EInvoice's reader.

An item holds personal data (sender, subject, text); its ``repr`` shows none of it, so Robot logs stay
clean when a keyword returns one.
"""

from __future__ import annotations

import email.utils
import mimetypes
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rathaus.errors import BusinessError
from rathaus.mail.errors import UnreadableMailError
from rathaus.mail.message import build_mail_message, looks_like_mail, normalize_message_id
from rathaus.pdf.errors import PdfError

from posteingang.ocr import (
    OcrResult,
    OcrSettings,
    UnreadableScanError,
    check_readable,
    pages_without_text,
    recognize_image_file,
    recognize_pdf,
)
from posteingang.routing import E_INVOICE, Evidence

IMAGE_TYPES = {"image/jpeg", "image/png", "image/tiff", "image/gif", "image/bmp", "image/webp"}
#: What the docket calls each kind of attachment.
KIND_LABELS = {"pdf": "PDF", "bild": "Bild", "xml": "XML", "text": "Text", "sonstiges": "Sonstiges"}


class UnreadableAttachmentError(BusinessError):
    """An attachment that cannot be opened (damaged, password protected)."""

    code = "ANHANG_UNLESBAR"


@dataclass
class AttachmentInfo:
    """What the mail room knows about one attachment."""

    number: int
    name: str
    content_type: str
    size: int
    kind: str
    pages: int | None = None
    #: ``Textschicht``, ``OCR``, ``Textschicht + OCR`` or empty
    source: str = ""
    e_invoice: bool = False
    ocr: OcrResult | None = None
    note: str = ""
    text: str = field(default="", repr=False)

    def describe(self) -> str:
        """German one-liner for the docket: ``Nr. 1 scan.pdf (PDF, 1 Seite, Text per OCR)``."""
        parts = [KIND_LABELS.get(self.kind, self.kind)]
        if self.pages is not None:
            parts.append(f"{self.pages} Seite" + ("n" if self.pages != 1 else ""))
        if self.e_invoice:
            parts.append("E-Rechnung")
        if self.source:
            parts.append(f"Text aus {self.source}")
        if self.note:
            parts.append(self.note)
        return f"Nr. {self.number} {self.name} ({', '.join(parts)})"


@dataclass
class MailItem:
    """One incoming mail with its attachments analysed. ``repr`` hides the personal data."""

    message_id: str
    received: datetime | None
    subject: str
    sender_name: str
    sender_address: str
    body: str
    attachments: list[AttachmentInfo] = field(default_factory=list)
    #: attachments that could not be read (unreadable scan, damaged PDF): the item goes to a clerk
    problems: list[BusinessError] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<Posteingang {self.message_id}: {len(self.attachments)} Anhang/Anhänge>"

    __str__ = __repr__

    @property
    def sender(self) -> str:
        """``Name <address>`` for the docket."""
        if self.sender_name:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_address

    @property
    def ocr_results(self) -> list[OcrResult]:
        return [attachment.ocr for attachment in self.attachments if attachment.ocr is not None]

    @property
    def ocr_used(self) -> bool:
        return bool(self.ocr_results)

    def evidence(self) -> Evidence:
        """What the routing rules look at."""
        text = "\n\n".join([self.body, *(a.text for a in self.attachments if a.text)])
        kinds = frozenset({E_INVOICE} if any(a.e_invoice for a in self.attachments) else ())
        return Evidence(
            sender=self.sender_address,
            subject=self.subject,
            text=text,
            attachments=tuple(a.name for a in self.attachments),
            kinds=kinds,
        )


def _kind(name: str, content_type: str) -> str:
    suffix = Path(name).suffix.lower()
    guessed = mimetypes.guess_type(name)[0] or ""
    if suffix == ".pdf" or content_type == "application/pdf":
        return "pdf"
    if content_type in IMAGE_TYPES or guessed in IMAGE_TYPES:
        return "bild"
    if suffix == ".xml" or content_type in ("application/xml", "text/xml"):
        return "xml"
    if suffix == ".txt" or content_type == "text/plain":
        return "text"
    return "sonstiges"


def is_e_invoice(data: bytes, name: str) -> bool:
    """True when ``data`` is an e-invoice as rathaus.EInvoice reads it: XRechnung (UBL, CII) or a ZUGFeRD /
    Factur-X PDF. Broken or unsafe XML (DTDs, entities) counts as no e-invoice; routing needs no more."""
    from rathaus.einvoice.errors import EInvoiceError
    from rathaus.einvoice.reader import read_invoice_data

    try:
        read_invoice_data(data, name)
    except EInvoiceError:
        return False
    return True


class _Budget:
    """Pages OCR may still read for this item (``max_pages`` per item bounds the cost)."""

    def __init__(self, pages: int) -> None:
        self.left = pages

    def take(self, wanted: list[int]) -> tuple[list[int], list[int]]:
        granted, skipped = wanted[: max(self.left, 0)], wanted[max(self.left, 0) :]
        self.left -= len(granted)
        return granted, skipped


def _read_pdf(info: AttachmentInfo, path: Path, case: str, settings: OcrSettings, budget: _Budget) -> None:
    from rathaus.pdf.reader import read_text

    try:
        texts = read_text(path)
    except PdfError as error:
        raise UnreadableAttachmentError(
            f"Posteingang {case}: Anhang Nr. {info.number} ist keine lesbare PDF-Datei ({error.code}). Bitte die "
            "Mail von Hand zuordnen und beim Absender eine lesbare Fassung anfordern."
        ) from None
    info.pages = len(texts)
    info.e_invoice = is_e_invoice(path.read_bytes(), info.name)
    blank = pages_without_text(texts)
    layer = "\n\n".join(text for number, text in sorted(texts.items()) if number not in blank)
    if layer:
        info.source = "Textschicht"
    pages, skipped = budget.take(blank)
    ocr_text = ""
    if pages:
        info.ocr = recognize_pdf(path, pages, settings)
        check_readable(info.ocr, settings, case, f"in Anhang Nr. {info.number}")
        ocr_text = info.ocr.text
        info.source = "Textschicht + OCR" if layer else "OCR"
    if skipped:
        info.note = f"Seite(n) {', '.join(map(str, skipped))} ohne Texterkennung (Höchstzahl erreicht)"
    info.text = "\n\n".join(part for part in (layer, ocr_text) if part)


def _read_image(info: AttachmentInfo, path: Path, case: str, settings: OcrSettings, budget: _Budget) -> None:
    if budget.left <= 0:
        info.note = "ohne Texterkennung (Höchstzahl der Seiten erreicht)"
        return
    limited = OcrSettings(settings.language, settings.min_confidence, settings.min_words, budget.left, settings.dpi)
    try:
        info.ocr = recognize_image_file(path, limited)
    except UnreadableScanError:
        raise UnreadableScanError(
            f"Posteingang {case}: Anhang Nr. {info.number} ist ein Bild, das sich nicht öffnen lässt. Bitte die "
            "Mail von Hand zuordnen und beim Absender eine lesbare Fassung anfordern."
        ) from None
    budget.left -= len(info.ocr.pages)
    info.pages = len(info.ocr.pages)
    check_readable(info.ocr, settings, case, f"in Anhang Nr. {info.number}")
    info.text = info.ocr.text
    info.source = "OCR"


def read_item(eml: str | Path, case: str, settings: OcrSettings, received: datetime | None = None) -> MailItem:
    """Open the stored mail ``eml`` of case ``case`` and analyse its attachments.

    Raises a business error when the mail file is not a mail. An attachment that cannot be opened or a scan
    that cannot be recognised (:class:`~posteingang.ocr.UnreadableScanError`) is kept in ``problems``, so
    the item still gets its docket and goes to a clerk with it.
    """
    raw = Path(eml).read_bytes()
    if not looks_like_mail(raw):
        raise UnreadableMailError(
            f"Posteingang {case}: Die gespeicherte Mail ist keine lesbare Mail-Datei. Bitte die Mail im "
            "Postfach von Hand zuordnen."
        )
    mail = build_mail_message(raw, uid="eml", folder="work-item")
    item = MailItem(
        message_id=normalize_message_id(mail.message_id or "") or case,
        received=mail.date or received,
        subject=mail.subject,
        sender_name=email.utils.parseaddr(mail.sender)[0],
        sender_address=mail.sender_address,
        body=mail.body,
    )
    budget = _Budget(settings.max_pages)
    with tempfile.TemporaryDirectory(prefix="rathaus-posteingang-") as folder:
        for attachment in mail.attachments:
            info = AttachmentInfo(
                number=attachment.index,
                name=attachment.filename,
                content_type=attachment.content_type,
                size=attachment.size,
                kind=_kind(attachment.filename, attachment.content_type),
            )
            data = mail.attachment_data(attachment.index)
            path = Path(folder) / f"anhang-{attachment.index}{Path(attachment.filename).suffix.lower()}"
            path.write_bytes(data)
            try:
                if info.kind == "pdf":
                    _read_pdf(info, path, case, settings, budget)
                elif info.kind == "bild":
                    _read_image(info, path, case, settings, budget)
            except (UnreadableScanError, UnreadableAttachmentError) as problem:
                info.note = "nicht lesbar"
                info.text = ""
                item.problems.append(problem)
            if info.kind == "xml":
                info.e_invoice = is_e_invoice(data, info.name)
            elif info.kind == "text":
                info.text = data.decode("utf-8", errors="replace")
            item.attachments.append(info)
    return item
