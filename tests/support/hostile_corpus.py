"""A generated corpus of hostile or broken inputs: what anyone who can send mail to a city can send.

``build(folder)`` writes at least 200 files and returns them as :class:`Hostile` entries: truncated and
bit-flipped invoices, PDFs and mails, encrypted PDFs, decompression bombs, deeply nested XML and mails, huge
numbers, entity expansion and external entities, wrong roots, empty and random files. Deterministic (fixed
random seed), built in a few seconds; ``python tests/support/hostile_corpus.py DIR`` writes it for a look.
"""

from __future__ import annotations

import random
import sys
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "xrechnung-testsuite"
#: The official rules, as the command line names them from the project root (never copied into the project).
KOSIT_RELATIVE = "../shared/corpora/kosit-xrechnung-config"


COMMANDS = ("pdf fields", "pdf text", "mail show", "invoice read", "invoice check")
_FAMILIES = {"pdf": ("pdf fields", "pdf text"), "mail": ("mail show",), "invoice": ("invoice read", "invoice check")}


@dataclass(frozen=True)
class Hostile:
    """One hostile input: its file, its kind, and which commands must refuse it (exit 2)."""

    path: Path
    kind: str
    #: the commands (``pdf fields``, ``pdf text``, ``mail show``, ``invoice read``, ``invoice check``) that
    #: must refuse the file with exit 2
    refused_by: frozenset[str] = frozenset(COMMANDS)


def _pdf(content: bytes, extra_objects: tuple[bytes, ...] = (), catalog: bytes = b"") -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        *extra_objects,
    ]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def flate_bomb(size: int) -> bytes:
    """``size`` zero bytes (whole MiB), deflated to about 1 KB per MiB, in a fraction of a second.

    Each MiB is one fully flushed deflate block, so all but the first are the same bytes; only the
    checksum is computed over the whole.
    """
    chunk, megabytes = b"\0" * (1 << 20), max(1, size >> 20)
    packer = zlib.compressobj(9)
    first = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    repeated = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(megabytes):
        checksum = zlib.adler32(chunk, checksum)
    return first + repeated * (megabytes - 1) + b"\x03\x00" + checksum.to_bytes(4, "big")


def bomb_pdf(size: int) -> bytes:
    """A PDF whose one page content stream inflates to ``size`` bytes."""
    return _pdf(flate_bomb(size))


def attachment_bomb_pdf(size: int) -> bytes:
    """A PDF with an embedded ``factur-x.xml`` that inflates to ``size`` bytes."""
    bomb = flate_bomb(size)
    return _pdf(
        zlib.compress(b"BT /F1 12 Tf 72 760 Td (Rechnung) Tj ET"),
        (b"<< /Type /Filespec /F (factur-x.xml) /UF (factur-x.xml) /EF << /F 6 0 R >> >>",
         b"<< /Type /EmbeddedFile /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb) + bomb
         + b"\nendstream"),
        catalog=b"/Names << /EmbeddedFiles << /Names [(factur-x.xml) 5 0 R] >> >> ",
    )


def _text_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, "Rechnung 4711")
    page.save()
    return buffer.getvalue()


def _zugferd_pdf(xml: bytes) -> bytes:
    import facturx

    return facturx.generate_from_binary(_text_pdf(), xml, flavor="factur-x", level="en16931", check_xsd=False)


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(BytesIO(_text_pdf())))
    writer.encrypt(user_password="geheim", owner_password="geheim", algorithm="AES-128")
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def deep_mail(levels: int, kind: str = "multipart") -> bytes:
    if kind == "rfc822":
        inner = b"From: a@example.org\r\nSubject: innen\r\n\r\nhallo\r\n"
        for _ in range(levels):
            inner = b"From: a@example.org\r\nSubject: x\r\nContent-Type: message/rfc822\r\n\r\n" + inner
        return inner
    body = b"Content-Type: text/plain\r\n\r\nhallo\r\n"
    for level in range(levels):
        boundary = b"b%d" % level
        body = (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
                + body + b"\r\n--" + boundary + b"--\r\n")
    return b"From: a@example.org\r\nSubject: tief\r\nMessage-ID: <tief@example.org>\r\nMIME-Version: 1.0\r\n" + body


def _mail_with(attachment: bytes, name: str) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "rechnung@fulda.de", "Rechnung"
    message["Message-ID"] = "<rechnung@example.org>"
    message.set_content("Anbei die Rechnung.")
    message.add_attachment(attachment, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def _flip(data: bytes, rng: random.Random, count: int) -> bytes:
    buffer = bytearray(data)
    for _ in range(count):
        position = rng.randrange(len(buffer))
        buffer[position] ^= 1 << rng.randrange(8)
    return bytes(buffer)


def build(folder: Path) -> list[Hostile]:
    """Write the corpus into ``folder``; returns its entries (at least 200)."""
    rng = random.Random(9)
    folder.mkdir(parents=True, exist_ok=True)
    entries: list[Hostile] = []

    def add(name: str, data: bytes, kind: str, refused_by: set[str] | None = None) -> None:
        """``refused_by``: families (``pdf``, ``mail``, ``invoice``) or commands; ``None`` is every command."""
        path = folder / name
        path.write_bytes(data)
        commands = set(COMMANDS) if refused_by is None else {
            command for item in refused_by for command in _FAMILIES.get(item, (item,))
        }
        entries.append(Hostile(path, kind, frozenset(commands)))

    ubl = (CORPUS / "01.01a-INVOICE_ubl.xml").read_bytes()
    cii = (CORPUS / "01.01a-INVOICE_uncefact.xml").read_bytes()
    text_pdf, zugferd = _text_pdf(), _zugferd_pdf(cii)
    mail = _mail_with(ubl, "rechnung.xml")

    for source, label in ((ubl, "ubl"), (cii, "cii"), (zugferd, "zugferd"), (mail, "mail")):
        for number in range(20):
            cut = rng.randrange(1, len(source) - 64)
            # a truncated invoice or PDF is refused by all; a truncated mail may still read as a mail
            add(f"truncated-{label}-{number}.bin", source[:cut], "truncated",
                {"pdf", "invoice"} if label == "mail" else None)
        for number in range(20):
            add(f"bitflip-{label}-{number}.bin", _flip(source, rng, rng.choice((1, 3, 20))), "bit-flipped", set())
    for number in range(8):
        add(f"random-{number}.bin", rng.randbytes(rng.choice((1, 100, 5000))), "random", {"pdf", "invoice"})
    add("empty.xml", b"", "empty")
    add("blank.xml", b"  \n\t ", "empty")
    for digits in (16, 40, 1000, 100_000):
        for label, source, tag in (("ubl", ubl, b"cbc:PayableAmount"), ("cii", cii, b"ram:DuePayableAmount")):
            start = source.index(b"<" + tag)
            end = source.index(b"</" + tag, start)
            opening = source[start:source.index(b">", start) + 1]
            add(f"huge-number-{digits}-{label}.xml", source[:start] + opening + b"9" * digits + source[end:],
                "huge number", {"pdf", "mail"})
    for label, value in (("minus", b"-" + b"9" * 500), ("exponent", b"1E+999999"), ("nan", b"NaN")):
        start = ubl.index(b"<cbc:PayableAmount")
        end = ubl.index(b"</cbc:PayableAmount", start)
        add(f"number-{label}.xml", ubl[:start] + b'<cbc:PayableAmount currencyID="EUR">' + value + ubl[end:],
            "huge number", {"pdf", "mail"})
    issued = ubl[ubl.index(b"<cbc:IssueDate>"):ubl.index(b"</cbc:IssueDate>")]
    for year in (b"0001", b"9999"):
        add(f"date-{year.decode()}.xml", ubl.replace(issued, b"<cbc:IssueDate>" + year + issued[19:]),
            "date out of range", {"pdf", "mail", "invoice read"})
    add("long-code.xml", ubl.replace(b"<cbc:DocumentCurrencyCode>EUR", b"<cbc:DocumentCurrencyCode>" + b"E" * 5000),
        "huge text", {"pdf", "mail"})
    laughs = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    for level in range(1, 10):
        laughs += b'<!ENTITY lol%d "%s">' % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
    laughs += b']>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>'
    add("billion-laughs.xml", laughs, "entity expansion")
    add("xxe.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&e;</Invoice>', "entity expansion")
    add("xxe-parameter.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">%p;]>'
        + ubl[ubl.index(b"<ubl:Invoice") if b"<ubl:Invoice" in ubl else ubl.index(b"<Invoice"):], "entity expansion")
    for depth in (300, 5000, 100_000):
        add(f"deep-xml-{depth}.xml", b"<a>" * depth + b"</a>" * depth, "deep nesting")
    add("wrong-root.xml", b'<?xml version="1.0"?><Rechnung><Betrag>1</Betrag></Rechnung>', "wrong root")
    add("zugferd-1.xml", b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>',
        "wrong root")
    # a page content bomb: ``pdf fields`` never inflates page content and may answer (an empty form)
    add("bomb-1g.pdf", bomb_pdf(1 << 30), "decompression bomb", {"pdf text", "mail", "invoice"})
    add("bomb-200m.pdf", bomb_pdf(200 << 20), "decompression bomb", {"pdf text", "mail", "invoice"})
    add("bomb-attachment.pdf", attachment_bomb_pdf(300 << 20), "decompression bomb", {"mail", "invoice"})
    add("encrypted.pdf", _encrypted_pdf(), "encrypted")
    add("pdf-without-invoice.pdf", text_pdf, "no invoice", {"mail", "invoice"})
    for depth, kind in ((60, "multipart"), (5000, "multipart"), (60, "rfc822"), (5000, "rfc822")):
        add(f"deep-mail-{kind}-{depth}.eml", deep_mail(depth, kind), "deep nesting")
    add("mail-huge-header.eml", b"From: a@example.org\r\nSubject: " + b"x" * 2_000_000 + b"\r\n\r\nhallo\r\n",
        "huge text", {"pdf", "invoice"})
    add("mail-nul.eml", b"From: a@\x00example.org\r\n\r\n\x00\x00", "broken", {"pdf", "invoice"})
    return entries


if __name__ == "__main__":
    built = build(Path(sys.argv[1]))
    print(f"{len(built)} Dateien in {sys.argv[1]}")
