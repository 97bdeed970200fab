"""Parsing mails: headers, text body, attachments with decoded and safe file names.

Everything here works on raw RFC 5322 bytes and needs no server. The stdlib ``email`` package decodes RFC 2047
encoded words and RFC 2231 parameters; this module adds
what senders get wrong in practice (undeclared latin-1 bytes in a file name, path parts, control
characters) and turns every file name into one that is safe to write to disk.

For speed the MIME structure is parsed with the ``compat32`` policy (headers stay plain strings) and only
the headers that are shown are decoded with the modern header classes; ``MailMessage.email`` gives the
fully parsed :class:`email.message.EmailMessage` on demand.

What counts as an attachment: every non-multipart part with a file name or ``Content-Disposition:
attachment``, every non-text part without one (it gets ``anhang-<n>.<ext>``), and every attached message
(``message/rfc822``), which is one attachment (``<subject>.eml``) and is not opened further.
"""

from __future__ import annotations

import contextlib
import email
import email.parser
import email.policy
import email.utils
import mimetypes
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from functools import cached_property
from pathlib import Path
from typing import Any

from rathaus.files import safe_file_name
from rathaus.mail.errors import MailTooDeepError, UnreadableMailError

POLICY = email.policy.default
FAST = email.policy.compat32

#: Deepest nesting of multipart and attached-message parts that is parsed; real mails have fewer than ten
#: levels. Deeper structures (a mail nested thousands of levels, meant to exhaust the parser) are refused.
MAX_DEPTH = 50

_HEADER_LINE = re.compile(rb"^(From |[!-9;-~]+:)")
_MAIL_HEADERS = ("from", "date", "subject", "message-id", "to", "mime-version", "received")


@dataclass(frozen=True)
class Attachment:
    """Metadata of one attachment; the payload comes from :meth:`MailMessage.attachment_data`."""

    #: Position among the message's attachments, starting at 1.
    index: int
    #: Decoded file name that is safe to write to disk (no path parts, no control characters).
    filename: str
    #: Decoded file name as the sender gave it, or ``None``.
    original_filename: str | None
    content_type: str
    #: Size of the decoded payload in bytes.
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass(frozen=True)
class MailMessage:
    """One message in one folder of one mailbox.

    ``uid`` is the IMAP UID (valid within ``uidvalidity``) or the Maildir key. ``message_id`` is the
    stable identity to keep in work items; `Find Message By Message ID` finds the message again later.
    """

    uid: int | str
    folder: str
    message_id: str | None
    subject: str
    sender: str
    sender_address: str
    to: tuple[str, ...]
    date: datetime | None
    flags: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    size: int
    raw: bytes = field(repr=False, compare=False)
    uidvalidity: int | None = None
    #: Why the message's parts could not be read (German, for a clerk), e.g. nested too deeply; its
    #: attachments are then empty and its body is empty. ``None`` for a readable message.
    problem: str | None = None

    @cached_property
    def email(self) -> EmailMessage:
        """The parsed message (stdlib :class:`email.message.EmailMessage`)."""
        return parse_bytes(self.raw)

    @cached_property
    def _structure(self) -> Message:
        return email.message_from_bytes(self.raw, policy=FAST)

    @cached_property
    def _parts(self) -> list[tuple[Message, Attachment]]:
        return attachment_parts(self._structure)

    @property
    def body(self) -> str:
        """The text of the message: the plain text part, else the HTML part without tags."""
        return body_text(self._structure)

    @property
    def has_attachments(self) -> bool:
        return bool(self.attachments)

    @property
    def seen(self) -> bool:
        return "\\Seen" in self.flags

    def attachment_data(self, index: int) -> bytes:
        """The decoded payload of attachment ``index`` (1-based, as in :attr:`Attachment.index`)."""
        for part, attachment in self._parts:
            if attachment.index == index:
                return part_payload(part)
        raise IndexError(f"message has no attachment {index}")

    def __str__(self) -> str:
        return f"{self.subject!r} von {self.sender_address} ({self.folder}, {self.message_id})"


# -- parsing ------------------------------------------------------------------------------------------


def _depth(msg: Message) -> int:
    """How deep the message's parts are nested (1 for a message without parts), walked without recursion."""
    deepest, stack = 0, [(msg, 1)]
    while stack:
        part, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((sub, level + 1) for sub in payload if isinstance(sub, Message))
    return deepest


def _bounded(parse: Any, raw: bytes) -> Any:
    """Run the stdlib parser, refusing structures deeper than :data:`MAX_DEPTH` (it parses recursively)."""
    try:
        msg = parse(raw)
    except RecursionError:
        raise MailTooDeepError(MAX_DEPTH) from None
    if _depth(msg) > MAX_DEPTH:
        raise MailTooDeepError(MAX_DEPTH)
    return msg


def parse_bytes(raw: bytes) -> EmailMessage:
    """Parse raw message bytes with the modern policy.

    Raises :class:`~rathaus.mail.errors.MailTooDeepError` for parts nested deeper than :data:`MAX_DEPTH`.
    """
    return _bounded(lambda data: email.message_from_bytes(data, policy=POLICY), raw)  # type: ignore[no-any-return]


def parse_fast(raw: bytes) -> Message:
    """Parse raw message bytes keeping headers as plain strings (fast, for structure).

    Raises :class:`~rathaus.mail.errors.MailTooDeepError` for parts nested deeper than :data:`MAX_DEPTH`.
    """
    return _bounded(lambda data: email.message_from_bytes(data, policy=FAST), raw)  # type: ignore[no-any-return]


def parse_headers_only(raw: bytes) -> Message:
    """The message's headers, its body kept as one unparsed text (no parts): for mails too deep to parse."""
    return email.parser.BytesHeaderParser(policy=FAST).parsebytes(raw)


def looks_like_mail(raw: bytes) -> bool:
    """True if ``raw`` starts with header lines and has at least one typical mail header."""
    head = raw.lstrip(b"\r\n")[:65536]
    if not _HEADER_LINE.match(head) or b"\x00" in head.split(b"\n\n", 1)[0]:
        return False
    try:
        msg = parse_fast(raw)
    except MailTooDeepError:
        msg = parse_headers_only(raw)  # it is a mail, only one that cannot be opened
    return any(name in msg for name in _MAIL_HEADERS)


def _raw_header(msg: Message, name: str) -> str | None:
    """The stored header value with undeclared 8-bit bytes decoded as UTF-8, else Windows-1252."""
    lowered = name.lower()
    value = next((str(v) for k, v in msg.raw_items() if k.lower() == lowered), None)
    if value is None:
        return None
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        data = value.encode("ascii", "surrogateescape")
        for charset in ("utf-8", "cp1252", "latin-1"):
            try:
                return data.decode(charset)
            except UnicodeDecodeError:
                continue
    return value


def _modern_header(msg: Message, name: str) -> Any:
    """The header parsed by the modern header classes (``.addresses``, ``.datetime``, ``.params``)."""
    value = _raw_header(msg, name)
    if value is None:
        return None
    try:
        return POLICY.header_factory(name, value)
    except Exception:  # very broken input
        return None


def header_text(msg: Message, name: str) -> str:
    """A header decoded to text (RFC 2047), ``""`` if missing; never raises on broken headers."""
    value = _raw_header(msg, name)
    if value is None:
        return ""
    if value.isascii() and "=?" not in value and '"' not in value and "\\" not in value:
        return " ".join(value.split())  # nothing to decode: skip the slow modern parser
    header = _modern_header(msg, name)
    if header is not None:
        text = str(header)
    else:
        try:
            text = str(make_header(decode_header(value)))
        except (LookupError, UnicodeError, ValueError):
            text = value
    return " ".join(text.split())


def message_date(msg: Message) -> datetime | None:
    """The Date header as a datetime, ``None`` if missing or unparseable."""
    value = _raw_header(msg, "date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def sender_of(msg: Message) -> tuple[str, str]:
    """``(display form, address)`` of the From header."""
    display = header_text(msg, "from")
    address = email.utils.parseaddr(display)[1]
    if not address:
        match = re.search(r"[\w.+-]+@[\w.-]+", display)
        address = match.group(0) if match else display
    return display, address.lower()


def recipients_of(msg: Message, name: str = "to") -> tuple[str, ...]:
    value = header_text(msg, name)
    return tuple(address for _, address in email.utils.getaddresses([value]) if address) if value else ()


def normalize_message_id(value: str) -> str:
    """``abc@host`` and ``<abc@host>`` both become ``<abc@host>``."""
    value = value.strip()
    if not value:
        return value
    return value if value.startswith("<") else f"<{value}>"


def _decoded_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")


def body_text(msg: Message) -> str:
    """The plain-text body, else the HTML body without tags; attachments are skipped."""
    candidates: dict[str, Message] = {}
    for part in _walk_leaves(msg):
        content_type = part.get_content_type()
        if content_type in ("text/plain", "text/html") and content_type not in candidates:
            if str(part.get("content-disposition", "")).strip().lower().startswith("attachment"):
                continue
            candidates[content_type] = part
    part = candidates.get("text/plain") or candidates.get("text/html")
    if part is None:
        return ""
    text = _decoded_text(part)
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?is)<(script|style).*?</\1>", "", text)
        text = re.sub(r"(?s)<[^>]+>", " ", text)
        text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


# -- attachments --------------------------------------------------------------------------------------


def decode_filename(part: Message) -> str | None:
    """The file name of a part, decoded from RFC 2231/2047 and stray 8-bit bytes; ``None`` if none."""
    try:
        name = part.get_filename()
    except Exception:
        name = None
    raw_headers = (_raw_header(part, "content-disposition") or "") + (_raw_header(part, "content-type") or "")
    if (name is None or "\ufffd" in name) and not raw_headers.isascii():
        # undeclared 8-bit bytes in the header: decode the raw header ourselves
        for header, param in (("content-disposition", "filename"), ("content-type", "name")):
            parsed = _modern_header(part, header) if header in part else None
            params = getattr(parsed, "params", None) or {}
            if params.get(param):
                name = str(params[param])
                break
    if name and "=?" in name and "?=" in name:
        with contextlib.suppress(LookupError, UnicodeError, ValueError):
            name = str(make_header(decode_header(name)))
    return name or None


def _walk_leaves(part: Message) -> Iterator[Message]:
    content_type = part.get_content_type()
    if content_type in ("message/rfc822", "message/global"):
        yield part
    elif content_type.startswith("multipart/") and part.is_multipart():
        for sub in part.get_payload():
            yield from _walk_leaves(sub)
    else:
        yield part


def _is_attachment(part: Message, content_type: str, filename: str | None) -> bool:
    maintype = content_type.partition("/")[0]
    if maintype == "message":
        return True
    disposition = str(part.get("content-disposition", "")).strip().lower()
    if filename or disposition.startswith("attachment"):
        return True
    return maintype not in ("text", "multipart")


def part_payload(part: Message) -> bytes:
    """The decoded payload of a leaf part; an attached message as its bytes."""
    if part.get_content_maintype() == "message" and part.is_multipart():
        inner = part.get_payload(0)
        return inner.as_bytes(policy=FAST)  # type: ignore[union-attr]
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def attachment_parts(msg: Message) -> list[tuple[Message, Attachment]]:
    """The attachment parts of a message in order, each with its :class:`Attachment` metadata."""
    found: list[tuple[Message, Attachment]] = []
    for part in _walk_leaves(msg):
        content_type = part.get_content_type()
        if part is msg and content_type.startswith("text/"):
            continue
        original = decode_filename(part)
        if not _is_attachment(part, content_type, original):
            continue
        index = len(found) + 1
        proposed = original
        if not proposed and content_type in ("message/rfc822", "message/global"):
            inner = part.get_payload(0) if part.is_multipart() else None
            subject = header_text(inner, "subject") if inner is not None else ""  # type: ignore[arg-type]
            proposed = f"{subject}.eml" if subject else None
        filename = safe_filename(proposed, index, content_type)
        payload = part_payload(part)
        found.append((part, Attachment(index, filename, original, content_type, len(payload))))
    return found


def safe_filename(name: str | None, index: int = 1, content_type: str = "application/octet-stream") -> str:
    """A file name that is safe to write into a folder (rules: :func:`rathaus.files.safe_file_name`).

    Control characters and a drive letter are dropped rather than replaced, and runs of whitespace become one blank. An
    empty result, or one of only dots, underscores and blanks, becomes ``anhang-<index>.<ext>`` with
    the extension guessed from ``content_type``.
    """
    text = "".join(ch for ch in name or "" if unicodedata.category(ch) != "Cc")
    text = re.sub(r"^[A-Za-z]:", "", text.replace("\\", "/").rsplit("/", 1)[-1])  # drive letter
    text = safe_file_name(" ".join(text.split()), fallback="")
    if not text or set(text) <= {".", "_", " "}:
        extension = mimetypes.guess_extension(content_type or "", strict=False) or ".bin"
        return f"anhang-{index}{extension}"
    return text


def unique_path(directory: str | Path, filename: str) -> Path:
    """``directory/filename``, or with ``-2``, ``-3``, ... before the extension if that exists."""
    folder = Path(directory)
    candidate = folder / filename
    if not candidate.exists():
        return candidate
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem:
        stem, extension = filename, ""
    suffix = f".{extension}" if extension else ""
    number = 2
    while (folder / f"{stem}-{number}{suffix}").exists():
        number += 1
    return folder / f"{stem}-{number}{suffix}"


# -- building MailMessage objects ---------------------------------------------------------------------


def build_mail_message(
    raw: bytes,
    *,
    uid: int | str,
    folder: str,
    flags: tuple[str, ...] = (),
    uidvalidity: int | None = None,
) -> MailMessage:
    """A :class:`MailMessage` from raw bytes as stored in a folder.

    A message whose parts are nested deeper than :data:`MAX_DEPTH` does not fail (one such mail must not
    stop a mailbox from being listed): it comes with its headers, no attachments and ``problem`` saying why.
    """
    problem = None
    try:
        msg = parse_fast(raw)
        parts = attachment_parts(msg)
    except MailTooDeepError as error:
        msg, parts, problem = parse_headers_only(raw), [], str(error)
    display, address = sender_of(msg)
    message_id = header_text(msg, "message-id") or None
    mail = MailMessage(
        uid=uid,
        folder=folder,
        message_id=message_id,
        subject=header_text(msg, "subject"),
        sender=display,
        sender_address=address,
        to=recipients_of(msg),
        date=message_date(msg),
        flags=tuple(flags),
        attachments=tuple(attachment for _, attachment in parts),
        size=len(raw),
        raw=raw,
        uidvalidity=uidvalidity,
        problem=problem,
    )
    mail.__dict__["_structure"] = msg  # prime the cached parses
    mail.__dict__["_parts"] = parts
    return mail


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def summarize_eml(path: str | Path) -> dict[str, Any]:
    """Headers and attachments of an ``.eml`` file, as ``rathaus mail show`` prints them.

    Returns ``subject``, ``from``, ``date`` (ISO 8601 or ``None``), ``message_id`` and ``attachments``
    (a list of ``{filename, content_type, size}`` with decoded, safe file names).

    Raises :class:`UnreadableMailError` with a one-line German message if the file is missing, a folder,
    unreadable or not a mail.
    """
    file = Path(path)
    shown = _one_line(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise UnreadableMailError(
            f"Mail-Datei '{shown}' nicht gefunden. Bitte Pfad und Dateinamen prüfen."
        ) from None
    except IsADirectoryError:
        raise UnreadableMailError(
            f"'{shown}' ist ein Ordner, keine Mail-Datei. Bitte den Pfad einer .eml-Datei angeben."
        ) from None
    except OSError as error:
        raise UnreadableMailError(
            f"Mail-Datei '{shown}' kann nicht gelesen werden ({_one_line(error.strerror)}). "
            "Bitte Berechtigungen prüfen."
        ) from None
    if not looks_like_mail(raw):
        raise UnreadableMailError(
            f"Datei '{shown}' ist keine Mail: keine Kopfzeilen wie From, Date oder Subject gefunden. "
            "Bitte eine .eml-Datei (RFC 5322) angeben."
        )
    mail = build_mail_message(raw, uid=file.name, folder=str(file.parent))
    if mail.problem:
        raise UnreadableMailError(f"Mail-Datei '{shown}': {mail.problem}")
    return {
        "subject": mail.subject,
        "from": mail.sender,
        "date": mail.date.isoformat() if mail.date else None,
        "message_id": mail.message_id,
        "attachments": [attachment.as_dict() for attachment in mail.attachments],
    }
