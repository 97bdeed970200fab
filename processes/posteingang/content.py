"""One incoming item of the mail room: the mail or upload, its documents and the text they carry.

An item comes in one of two shapes. A mail case (the producer's `Prepare Work Item From Mail`, or a ``.eml``
uploaded in the control room) has the variables ``absender``, ``betreff``, ``eingang`` and its attachments as
files; an uploaded loose file (a scanned letter, a text, an XML) has the file and what the clerk typed
(``absender``, ``betreff``, ``text``). :func:`read_files` reads both; :func:`read_item` reads a whole stored
mail (``nachricht.eml``, the shape of items from version 0.1.0 of the producer). Both sort the documents (PDF,
image, XML, text, other), take PDF text from the text layer (PDFium), recognise the rest with Tesseract
(:mod:`posteingang.ocr`), and spot e-invoices (XRechnung as UBL or CII XML, ZUGFeRD/Factur-X PDFs) with
rathaus.EInvoice's reader.

What was read is kept in the work item once (:meth:`MailItem.kept`, variable ``inhalt``) beside the case data
``fall``; later attempts rebuild the item from both (:meth:`MailItem.from_case_data`) without reading again, so
a clerk's correction of ``fall`` is what they use.

An item holds personal data (sender, subject, text); its ``repr`` shows none of it, so Robot logs stay
clean when a keyword returns one.
"""

from __future__ import annotations

import email.utils
import mimetypes
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rathaus.errors import BusinessError
from rathaus.mail.errors import UnreadableMailError
from rathaus.mail.message import build_mail_message, looks_like_mail, normalize_message_id
from rathaus.pdf.errors import PdfError

from posteingang.ocr import (
    OcrResult,
    OcrSettings,
    PageText,
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


#: Longest text kept in the work item for the rules (``inhalt.text``); routing keywords sit early in a letter.
MAX_KEPT_TEXT = 20_000
#: The error classes of problems kept in the work item, by code, to rebuild them on a later attempt.
KEPT_PROBLEMS: dict[str, type[BusinessError]] = {
    UnreadableScanError.code: UnreadableScanError, UnreadableAttachmentError.code: UnreadableAttachmentError,
}


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

    #: the mail's Message-ID, else the upload's reference: names the case and derives its Eingangsnummer
    message_id: str
    #: when it came in: a time from the mail, else only the day
    received: datetime | date | None
    subject: str
    sender_name: str
    sender_address: str
    body: str
    attachments: list[AttachmentInfo] = field(default_factory=list)
    #: attachments that could not be read (unreadable scan, damaged PDF): the item goes to a clerk
    problems: list[BusinessError] = field(default_factory=list)
    #: ``postfach`` (the mail is in the mailbox) or ``upload`` (uploaded in the control room: no mail to move)
    source: str = "postfach"
    #: whether ``message_id`` is a mail's Message-ID (else it is the upload's reference)
    is_mail: bool = True
    #: names of the item's files that hold its content (an upload's documents go with its docket)
    files: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<Posteingang {self.message_id}: {len(self.attachments)} Anhang/Anhänge>"

    __str__ = __repr__

    @property
    def sender(self) -> str:
        """``Name <address>`` for the docket (a name or an address alone when only one is known)."""
        if self.sender_name and self.sender_address:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_name or self.sender_address

    @property
    def ocr_results(self) -> list[OcrResult]:
        return [attachment.ocr for attachment in self.attachments if attachment.ocr is not None]

    @property
    def ocr_used(self) -> bool:
        return bool(self.ocr_results)

    @property
    def uploaded(self) -> bool:
        return self.source == "upload"

    def kept(self) -> dict[str, Any]:
        """What was read, for the work item variable ``inhalt``: documents, OCR figures, problems and the text
        the rules look at (bounded); sender, subject and date are the case data ``fall`` (:meth:`case_data`)."""
        return {
            "quelle": self.source,
            "mail": self.is_mail,
            "empfangen": self.received.isoformat() if isinstance(self.received, datetime) else None,
            "absender_name": self.sender_name,
            "dateien": list(self.files),
            "anhaenge": [
                {"nummer": a.number, "name": a.name, "typ": a.content_type, "groesse": a.size, "art": a.kind,
                 "seiten": a.pages, "quelle": a.source, "e_rechnung": a.e_invoice, "hinweis": a.note,
                 "ocr": [[p.page, p.words, round(p.confidence, 1)] for p in a.ocr.pages] if a.ocr else None}
                for a in self.attachments
            ],
            "probleme": [{"code": p.code, "meldung": str(p)} for p in self.problems],
            "text": self.evidence().text[:MAX_KEPT_TEXT],
        }

    def case_data(self) -> dict[str, Any]:
        """The case data (work item variable ``fall``, schema ``fall.schema.yaml``) as read: the department and
        the remark are left to the clerk; ``text`` is what the rules read (body, text layers, OCR), for the clerk
        to read, not to correct."""
        return {
            "absender": self.sender or None,
            "betreff": self.subject or None,
            "eingang": f"{self.received:%d.%m.%Y}" if self.received else None,
            "fachbereich": None,
            "bemerkung": None,
            "text": self.evidence().text[:MAX_KEPT_TEXT] or None,
        }

    @classmethod
    def from_case_data(cls, fall: Mapping[str, Any], kept: Mapping[str, Any], case: str) -> MailItem:
        """The item as the kept data describe it: sender, subject and date from ``fall`` (a clerk may have
        corrected them), documents, OCR figures, problems and text from ``kept`` (see :meth:`kept`)."""
        name, address = _parse_sender(str(fall.get("absender") or ""), str(kept.get("absender_name") or ""))
        received = _received(fall.get("eingang"), kept.get("empfangen"))
        attachments = []
        for entry in kept.get("anhaenge") or []:
            pages = entry.get("ocr")
            ocr = OcrResult(tuple(PageText(int(p[0]), "", int(p[1]), float(p[2])) for p in pages)) if pages else None
            attachments.append(AttachmentInfo(
                number=int(entry.get("nummer", 0)), name=str(entry.get("name", "")),
                content_type=str(entry.get("typ", "")), size=int(entry.get("groesse", 0)),
                kind=str(entry.get("art", "sonstiges")), pages=entry.get("seiten"), source=str(entry.get("quelle", "")),
                e_invoice=bool(entry.get("e_rechnung")), ocr=ocr, note=str(entry.get("hinweis", "")),
            ))
        problems: list[BusinessError] = [
            KEPT_PROBLEMS.get(str(p.get("code")), BusinessError)(str(p.get("meldung", "")), code=str(p.get("code")))
            for p in kept.get("probleme") or []
        ]
        return cls(
            message_id=case, received=received, subject=str(fall.get("betreff") or ""), sender_name=name,
            sender_address=address, body=str(kept.get("text") or ""), attachments=attachments, problems=problems,
            source=str(kept.get("quelle") or "postfach"), is_mail=bool(kept.get("mail", True)),
            files=[str(f) for f in kept.get("dateien") or []],
        )

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


def _parse_sender(text: str, known_name: str = "") -> tuple[str, str]:
    """Name and address of ``Name <address>``, a bare address, or a name alone (a clerk typed "Stadtwerke")."""
    name, address = email.utils.parseaddr(text)
    if "@" not in address:
        return text.strip(), ""
    return name or known_name, address


def _received(day: Any, when: Any) -> datetime | date | None:
    """The receipt: the kept time of day when it is of the date in ``fall`` (``TT.MM.JJJJ``), else that date."""
    moment = None
    if when:
        try:
            moment = datetime.fromisoformat(str(when))
        except ValueError:
            moment = None
    if not day:
        return moment
    try:
        parsed = datetime.strptime(str(day), "%d.%m.%Y").date()
    except ValueError:
        return moment
    return moment if moment is not None and moment.date() == parsed else parsed


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


def _analyse(item: MailItem, parts: Iterable[tuple[int, str, str, bytes]], case: str, settings: OcrSettings) -> None:
    """Read each document ``(number, file name, content type, data)`` into ``item.attachments``; an unreadable
    one goes into ``item.problems``."""
    budget = _Budget(settings.max_pages)
    with tempfile.TemporaryDirectory(prefix="rathaus-posteingang-") as folder:
        for number, name, content_type, data in parts:
            info = AttachmentInfo(number=number, name=name, content_type=content_type, size=len(data),
                                  kind=_kind(name, content_type))
            path = Path(folder) / f"anhang-{number}{Path(name).suffix.lower()}"
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
    parts = ((a.index, a.filename, a.content_type, mail.attachment_data(a.index)) for a in mail.attachments)
    _analyse(item, parts, case, settings)
    return item


def read_files(files: Iterable[str | Path], variables: Mapping[str, Any], case: str, settings: OcrSettings) -> MailItem:
    """Read an item of the mail-case or upload shape: its ``files`` (the documents) and its work item
    ``variables``: ``absender``, ``betreff``, ``eingang`` (``TT.MM.JJJJ``), ``text`` (the mail's body or what the
    clerk typed), ``quelle``, ``message_id`` (a mail's; an uploaded loose file has none, ``case`` is then its
    reference), ``absender_name`` and ``empfangen`` (ISO time) when the producer knew them, and
    ``uebersprungene_anhaenge`` (attachments too large to take: named on the docket, the mail keeps them)."""
    paths = [Path(f) for f in files]
    name, address = _parse_sender(str(variables.get("absender") or ""), str(variables.get("absender_name") or ""))
    item = MailItem(
        message_id=case,
        received=_received(variables.get("eingang"), variables.get("empfangen")),
        subject=str(variables.get("betreff") or ""),
        sender_name=name,
        sender_address=address,
        body=str(variables.get("text") or ""),
        source="upload" if variables.get("quelle") == "upload" else "postfach",
        is_mail=bool(variables.get("message_id")),
        files=[path.name for path in paths],
    )
    parts = ((number, path.name, mimetypes.guess_type(path.name)[0] or "application/octet-stream",
              path.read_bytes()) for number, path in enumerate(paths, start=1))
    _analyse(item, parts, case, settings)
    for skipped in variables.get("uebersprungene_anhaenge") or []:
        item.attachments.append(AttachmentInfo(number=len(item.attachments) + 1, name=str(skipped),
                                               content_type="", size=0, kind="sonstiges",
                                               note="zu groß, nicht ausgewertet (liegt der Mail bei)"))
    return item
