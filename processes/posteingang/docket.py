"""The docket (Laufzettel): a one-page PDF that travels with each item, and the mail that carries it.

The docket is an internal document of the city: it shows the sender's address so that the department
can answer, while logs and run summaries never do. It is delivered as a new message in the department's
folder, threaded to the original mail (In-Reply-To and References name the original Message-ID), and has
a Message-ID derived from the original's, so a rerun finds it instead of writing a second one.

An item uploaded in the control room has no mail in the mailbox: its docket mail carries the uploaded
documents as attachments after the docket PDF, so the department's folder still holds everything; a loose
file (no Message-ID) is named by its upload reference and its docket is threaded to nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

#: Longest subject shown before it is shortened with "…".
MAX_SUBJECT = 160
#: Lists on the docket are cut after this many entries, so it stays one page.
MAX_LINES = 12


def intake_number(message_id: str, received: datetime | date | None) -> str:
    """The Eingangsnummer: ``PE-<JJJJMMTT>-<6 hex of the Message-ID>``; the same mail gets the same number."""
    day = received or date.today()
    digest = hashlib.sha256(message_id.strip().encode("utf-8")).hexdigest()[:6].upper()
    return f"PE-{day:%Y%m%d}-{digest}"


def docket_message_id(message_id: str, domain: str) -> str:
    """The Message-ID of the docket mail for the original ``message_id``."""
    digest = hashlib.sha256(message_id.strip().encode("utf-8")).hexdigest()[:24]
    return f"<laufzettel.{digest}@{domain}>"


def deadline(received: datetime | date | None, days: int) -> date:
    """``days`` calendar days after receipt; a deadline on a Saturday or Sunday moves to the Monday."""
    start = received.date() if isinstance(received, datetime) else received or date.today()
    end = start + timedelta(days=int(days))
    while end.weekday() >= 5:
        end += timedelta(days=1)
    return end


def shorten(text: str, limit: int = MAX_SUBJECT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Docket:
    """Everything the docket shows."""

    number: str
    #: a time from the mail, or only the day (an upload)
    received: datetime | date | None
    subject: str
    sender: str
    assignment: str
    folder: str
    #: points of the chosen department; ``None`` for an item that goes to review
    score: int | None
    hits: Sequence[str]
    attachments: Sequence[str]
    ocr: str
    deadline: date
    handed_over_by: str
    city: str
    #: the other departments and their points, e.g. ``Bauamt: 2 Punkte``
    others: Sequence[str] = ()
    others_label: str = "Weitere Fachbereiche"
    #: why a clerk has to look (empty for a routed item)
    reason: str = ""
    note: str = ""
    #: how it came in when not by mail, e.g. ``Upload im Kontrollraum (Referenz UP-7)``
    channel: str = ""
    #: the clerk's remark from the case data (``fall.bemerkung``)
    remark: str = ""
    created: datetime = field(default_factory=lambda: datetime.now().astimezone())

    def __repr__(self) -> str:
        return f"<Laufzettel {self.number}>"

    __str__ = __repr__

    def rows(self) -> list[tuple[str, str]]:
        """Label and value of each line of the docket, in order."""
        if isinstance(self.received, datetime):
            received = f"{self.received:%d.%m.%Y, %H:%M Uhr}"
        else:
            received = f"{self.received:%d.%m.%Y}" if self.received else "unbekannt"
        rows = [
            ("Eingangsnummer", self.number),
            ("Eingangsdatum", received),
            *([("Eingangsweg", self.channel)] if self.channel else []),
            ("Betreff", shorten(self.subject) or "(ohne Betreff)"),
            ("Absender", self.sender or "(unbekannt)"),
            ("Zuordnung", f"{self.assignment} – Ordner „{self.folder}“"),
        ]
        if self.reason:
            rows.append(("Grund der Prüfung", self.reason))
        hits = list(self.hits[:MAX_LINES]) or ["keine Regel hat angesprochen"]
        if len(self.hits) > MAX_LINES:
            hits.append(f"… und {len(self.hits) - MAX_LINES} weitere")
        rows.append((f"Treffer ({self.score} Punkte)" if self.score is not None else "Treffer", "\n".join(hits)))
        if self.others:
            rows.append((self.others_label, "\n".join(self.others[:MAX_LINES])))
        attachments = list(self.attachments[:MAX_LINES]) or ["keine"]
        if len(self.attachments) > MAX_LINES:
            attachments.append(f"… und {len(self.attachments) - MAX_LINES} weitere")
        rows.append(("Anlagen", "\n".join(attachments)))
        rows.append(("Texterkennung (OCR)", self.ocr))
        rows.append(("Bearbeitungsfrist", f"{self.deadline:%d.%m.%Y}"))
        rows.append(("Übergeben", f"{self.handed_over_by}, {self.created:%d.%m.%Y, %H:%M Uhr}"))
        if self.remark:
            rows.append(("Bemerkung", shorten(self.remark, 500)))
        if self.note:
            rows.append(("Hinweis", self.note))
        return rows


def _font() -> tuple[str, str]:
    """DejaVu Sans (shipped with matplotlib, covers Turkish, Polish, Vietnamese names) or Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" in pdfmetrics.getRegisteredFontNames():
        return "DejaVuSans", "DejaVuSans-Bold"
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.submodule_search_locations:
        fonts = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
        regular, bold = fonts / "DejaVuSans.ttf", fonts / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
            return "DejaVuSans", "DejaVuSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def write_docket_pdf(docket: Docket, path: str | Path) -> Path:
    """Write the docket as a one-page A4 PDF (long lists are cut, the page shrinks its content to fit)."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepInFrame, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _font()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    small = ParagraphStyle("klein", fontName=regular, fontSize=9, leading=11.5)
    label = ParagraphStyle("feld", parent=small, fontName=bold)
    title = ParagraphStyle("titel", fontName=bold, fontSize=16, leading=20, spaceAfter=2)
    head = ParagraphStyle("kopf", fontName=regular, fontSize=10, leading=13, textColor=colors.HexColor("#444444"))

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    table = Table(
        [[para(name, label), para(value, small)] for name, value in docket.rows()],
        colWidths=[45 * mm, 125 * mm],
    )
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#BBBBBB")),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("BACKGROUND", (0, 4), (-1, 4), colors.HexColor("#EEF3F8")),
    ]))
    story = [
        para(f"{docket.city} · Zentrale Poststelle", head),
        para("Laufzettel – Posteingang", title),
        para(f"Eingangsnummer {docket.number}", head),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 6 * mm),
        para("Interner Vermerk der Poststelle. Enthält personenbezogene Daten: nur zur Bearbeitung im "
             "zuständigen Fachbereich.", head),
    ]
    document = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=f"Laufzettel {docket.number}", author=docket.handed_over_by, subject="Laufzettel Posteingang",
    )
    frame_height = A4[1] - 36 * mm - 1
    document.build([KeepInFrame(A4[0] - 40 * mm, frame_height, story, mode="shrink")])
    return path


def docket_mail(
    docket: Docket, pdf: str | Path, original_message_id: str | None, sender: str, sender_name: str = "Poststelle",
    *, key: str | None = None, enclosures: Sequence[str | Path] = (),
) -> EmailMessage:
    """The message that carries the docket into the department's folder, threaded to the original.

    ``key`` derives its Message-ID (default ``original_message_id``); an uploaded loose file has no original
    (``None``) and is named by ``key``, its upload reference. ``enclosures`` (an upload's documents, which are
    in no mailbox) are attached after the docket PDF.
    """
    domain = sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender))
    message["To"] = formataddr((docket.assignment, sender))
    message["Subject"] = shorten(f"Laufzettel {docket.number}: {docket.subject or '(ohne Betreff)'}", 200)
    message["Date"] = format_datetime(docket.created)
    message["Message-ID"] = docket_message_id(key or original_message_id or docket.number, domain)
    if original_message_id:
        message["In-Reply-To"] = original_message_id
        message["References"] = original_message_id
    message["X-Rathaus-Laufzettel"] = docket.number
    if enclosures:
        where = f"Die Unterlagen ({len(enclosures)} Datei(en)) hängen nach dem Laufzettel an; im Postfach gibt es " \
                "keine ursprüngliche Mail."
    else:
        where = f"Die ursprüngliche Mail liegt im selben Ordner (Bezug: {original_message_id})."
    lines = [
        f"Laufzettel zum Posteingang {docket.number}",
        "",
        *(f"{name}: {value}" for name, value in docket.rows()),
        "",
        where,
        "Der Laufzettel hängt als PDF an.",
    ]
    message.set_content("\n".join(line.replace("\n", "\n    ") for line in lines))
    pdf = Path(pdf)
    message.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    for enclosure in map(Path, enclosures):
        maintype, _, subtype = (mimetypes.guess_type(enclosure.name)[0] or "application/octet-stream").partition("/")
        message.add_attachment(enclosure.read_bytes(), maintype=maintype, subtype=subtype, filename=enclosure.name)
    return message
