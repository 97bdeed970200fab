"""The PDF seam: plain functions that do the real work for the keywords and the command line.

Engines (see docs/adr/0002-pdf-engines.md):

- form fields, filling, attachments and metadata: pypdf, walking only the objects that are needed
  (``/Root/AcroForm/Fields``), never the pages' content;
- page text: PDFium (pypdfium2), which loads only the pages asked for.

Every failure leaves as a :class:`~rathaus.pdf.errors.PdfError` with a one-line German message.
Warnings that the engines emit for damaged files are kept away from the user's output.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from pypdf import PasswordType, PdfReader
from pypdf.generic import NameObject

from rathaus.files import safe_file_name
from rathaus.pdf import _lean
from rathaus.pdf.errors import (
    InvalidFieldValueError,
    NotAPdfError,
    PageOutOfRangeError,
    PdfBrokenError,
    PdfEncryptedError,
    PdfError,
    PdfNotFoundError,
    PdfTooLargeError,
    UnknownFieldError,
    file_label,
)

FieldValue = str | bool | None

_log = logging.getLogger(__name__)

#: A PDF header may follow up to 1 KiB of junk; the end-of-file marker sits in the last KiB.
_HEADER_WINDOW = 1024
_TRAILER_WINDOW = 1024

#: Largest inflated size of one stream (page content, image, embedded file, object stream), as pypdf's own
#: default limit; a PDF beyond it is refused as too large instead of filling the memory (decompression bomb).
MAX_INFLATED_STREAM = 75_000_000
#: Largest inflated size of all Flate streams of a PDF whose text PDFium reads (it has no limit of its own).
MAX_INFLATED_TOTAL = 512_000_000
_STREAM_START = re.compile(rb"stream(?:\r\n|\n|\r)")
_INFLATE_CHUNK = 1 << 20

# Field flags (PDF 32000-1, 12.7.4)
FF_MULTILINE = 1 << 12
FF_RADIO = 1 << 15
FF_PUSHBUTTON = 1 << 16
FF_COMBO = 1 << 17
FF_EDIT = 1 << 18
# Annotation flags
_F_HIDDEN = 1 << 1
_F_NOVIEW = 1 << 5

_TRUE_WORDS = {"true", "ja", "yes", "on", "1", "x", "wahr", "an"}
_FALSE_WORDS = {"false", "nein", "no", "off", "0", "", "falsch", "aus", "none"}


# --------------------------------------------------------------------------- opening files


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the engines' warnings about damaged files out of the robot's and the CLI's output."""
    engine_logger = logging.getLogger("pypdf")
    level = engine_logger.level
    engine_logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        engine_logger.setLevel(level)


def _load(path: str | Path) -> tuple[Path, bytes]:
    """Read the file and check that it looks like a whole PDF before an engine sees it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise PdfNotFoundError(path) from None
    except OSError as error:
        raise PdfError(
            f"Die Datei '{file_label(path)}' kann nicht gelesen werden ({error.strerror or error}). "
            "Bitte prüfen Sie die Zugriffsrechte.",
            path=path,
        ) from None
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        if not data.strip():
            raise PdfBrokenError(path, "leere Datei")
        raise NotAPdfError(path)
    if b"%%EOF" not in data[-_TRAILER_WINDOW:]:
        raise PdfBrokenError(path, "Dateiende fehlt")
    return path, data


def _engine_errors() -> tuple[type[BaseException], ...]:
    import zlib

    from pypdf.errors import PyPdfError
    from pypdfium2 import PdfiumError

    # What engines raise on malformed input; programming errors such as ImportError stay visible.
    return (PyPdfError, PdfiumError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            RecursionError, OverflowError, zlib.error, AssertionError, EOFError)


_ENGINE_ERRORS = _engine_errors()


def _inflated_size(data: bytes, start: int, limit: int) -> int:
    """How many bytes the zlib stream at ``start`` inflates to, counting no further than just past ``limit``.

    Inflates in pieces and throws the output away, so memory stays at about one MiB whatever the stream holds.
    A damaged stream counts as far as it inflates.
    """
    inflater = zlib.decompressobj()
    size, offset = 0, start + _INFLATE_CHUNK
    pending = data[start:offset]
    while pending and size <= limit:
        try:
            size += len(inflater.decompress(pending, _INFLATE_CHUNK))
        except zlib.error:
            break
        if inflater.eof:
            break
        pending = inflater.unconsumed_tail
        if not pending and offset < len(data):
            pending, offset = data[offset:offset + _INFLATE_CHUNK], offset + _INFLATE_CHUNK
    return size


def check_inflated_size(
    path: Path, data: bytes, per_stream: int = MAX_INFLATED_STREAM, total: int = MAX_INFLATED_TOTAL
) -> None:
    """Refuse a PDF with a Flate stream that inflates beyond ``per_stream`` bytes, or all beyond ``total``.

    A look at the raw file before PDFium sees it (PDFium inflates without any limit): every ``stream``
    keyword followed by zlib data is inflated as far as the limit, in pieces. Raises
    :class:`PdfTooLargeError`. Streams of an encrypted PDF are not zlib data and are not counted.
    """
    inflated = 0
    for found in _STREAM_START.finditer(data):
        start = found.end()
        if data[start:start + 1] != b"\x78":  # every zlib stream starts with 0x78 (deflate, 32K window)
            continue
        size = _inflated_size(data, start, per_stream)
        inflated += size
        if size > per_stream or inflated > total:
            raise PdfTooLargeError(path, (per_stream if size > per_stream else total) // 1_000_000)


@contextlib.contextmanager
def _guard(path: Path) -> Iterator[None]:
    """Turn whatever an engine raises on a damaged file into :class:`PdfBrokenError`.

    pypdf's own limits on inflated streams (75 MB, ``LimitReachedError``) and a ``MemoryError`` become
    :class:`PdfTooLargeError`.
    """
    from pypdf.errors import LimitReachedError

    try:
        with _quiet():
            yield
    except (LimitReachedError, MemoryError):
        _log.debug("PDF engine hit a size limit on %s", path, exc_info=True)
        raise PdfTooLargeError(path, MAX_INFLATED_STREAM // 1_000_000) from None
    except _ENGINE_ERRORS as error:
        _log.debug("PDF engine failed on %s", path, exc_info=True)
        raise PdfBrokenError(path) from error


def _open_pypdf(path: Path, data: bytes) -> Any:
    """A pypdf reader on ``data``; encrypted documents open only if they need no password."""
    reader = PdfReader(BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except Exception:  # unsupported security handler, missing crypto backend
            opened = PasswordType.NOT_DECRYPTED
        if opened == PasswordType.NOT_DECRYPTED:
            raise PdfEncryptedError(path)
    # Touch the catalog now, so that a missing one is reported as a broken file.
    if not hasattr(reader.root_object, "get"):
        raise PdfBrokenError(path, "kein Dokumentkatalog")
    return reader


@contextlib.contextmanager
def _pdfium_document(path: Path, data: bytes) -> Iterator[Any]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) in (4, 5):  # FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY
            raise PdfEncryptedError(path) from None
        raise PdfBrokenError(path) from error
    try:
        yield document
    finally:
        document.close()


# --------------------------------------------------------------------------- the field tree


@dataclass
class _Field:
    """A terminal form field: its qualified name, type, flags and widgets."""

    name: str
    node: Any
    kind: str  # "/Tx", "/Btn", "/Ch", "/Sig" or ""
    flags: int
    inherited_value: Any
    widgets: list[Any] = field(default_factory=list)

    @property
    def is_radio(self) -> bool:
        return self.kind == "/Btn" and bool(self.flags & FF_RADIO)

    @property
    def is_pushbutton(self) -> bool:
        return self.kind == "/Btn" and bool(self.flags & FF_PUSHBUTTON)

    @property
    def raw_value(self) -> Any:
        return _resolve(self.node.get("/V", self.inherited_value))


def _name_text(name: Any) -> str:
    """A PDF name as text, without the slash.

    pypdf decodes ``#xx`` escapes as UTF-8 and falls back to GBK, which turns names written by
    Latin-1 producers (``/M#fcller``) into CJK characters; those are recovered here.
    """
    text = str(name).removeprefix("/")
    if max(map(ord, text), default=0) <= 0xFF:
        return text
    try:
        raw = text.encode("gbk")
        raw.decode("utf-8")
    except UnicodeEncodeError:
        return text
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")
    return text


def _ref_key(ref: Any, obj: Any) -> tuple[int, int] | int:
    idnum = getattr(ref, "idnum", None)
    return (idnum, ref.generation) if idnum is not None else id(obj)


def _resolve(value: Any) -> Any:
    """Follow an indirect reference (pypdf's or the fast path's); other values stay as they are."""
    return value.get_object() if hasattr(value, "get_object") else value


def _iter_fields(root: Any) -> Iterator[_Field]:
    """The terminal fields below ``/Root/AcroForm/Fields`` in document order.

    Works on pypdf objects and on the plain values of :mod:`rathaus.pdf._lean` alike.
    """
    acroform = _resolve(root.get("/AcroForm"))
    fields = _resolve(acroform.get("/Fields")) if hasattr(acroform, "get") else None
    if not isinstance(fields, list):
        return
    seen: set[Any] = set()
    # (reference, parent's qualified name, inherited /FT, /Ff, /V)
    stack: list[tuple[Any, str, str, int, Any]] = [(ref, "", "", 0, None) for ref in reversed(fields)]
    while stack:
        ref, prefix, kind, flags, value = stack.pop()
        node = _resolve(ref)
        key = _ref_key(ref, node)
        if key in seen or not hasattr(node, "get"):
            continue
        seen.add(key)
        partial = _resolve(node.get("/T"))
        name = f"{prefix}.{partial}" if prefix and partial is not None else str(partial or prefix)
        kind = str(_resolve(node.get("/FT", kind)))
        flags = int(_resolve(node.get("/Ff", flags)))
        value = node.get("/V", value)
        kids = _resolve(node.get("/Kids"))
        kids = list(kids) if isinstance(kids, list) else []
        # Kids are either fields (they have a partial name) or the field's widgets.
        if kids and "/T" in _resolve(kids[0]):
            stack.extend((kid, name, kind, flags, value) for kid in reversed(kids))
            continue
        widgets = [_resolve(kid) for kid in kids] or ([node] if "/Rect" in node else [])
        yield _Field(name, node, kind, flags, value, widgets)


def _on_states(widget: Any) -> list[str]:
    """The export values a checkbox or radio widget can show (its /AP /N keys except /Off)."""
    appearance = widget.get("/AP")
    normal = appearance.get_object().get("/N") if appearance is not None else None
    normal = normal.get_object() if normal is not None else None
    if not hasattr(normal, "keys") or hasattr(normal, "get_data"):
        return []
    return [_name_text(key) for key in normal if key != "/Off"]


def _text_of(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "get_data"):  # a text stream
        value = value.get_data().decode("utf-8", errors="replace")
    elif isinstance(value, list):
        value = ", ".join(t for t in (_text_of(_resolve(v)) for v in value) if t)
    elif isinstance(value, (NameObject, _lean.Name)):
        value = _name_text(value)
    elif isinstance(value, bytes):
        value = value.decode("cp1252", errors="replace")
    text = str(value)
    return text or None


def _field_value(item: _Field) -> FieldValue:
    value = item.raw_value
    if item.kind == "/Btn":
        state = _name_text(value) if value is not None else None
        if state in (None, "Off", ""):
            # Some producers set only the widget's appearance state; viewers show that.
            shown = [_name_text(w.get("/AS")) for w in item.widgets if w.get("/AS") not in (None, "/Off")]
            state = shown[0] if shown else None
        if item.is_radio:
            return state
        return state is not None
    if item.kind == "/Sig":
        return value is not None
    return _text_of(value)


def read_fields(path: str | Path) -> dict[str, FieldValue]:
    """The form's terminal fields as qualified name -> value, in document order.

    Text fields give a string (``None`` when empty), checkboxes ``True``/``False``, radio groups and
    choice fields the selected export value (``None`` when nothing is selected), signature fields whether
    they are signed. Push buttons carry no value and are left out. A PDF without a form gives ``{}``.
    """
    path, data = _load(path)
    with _guard(path):
        try:
            root = _lean.LeanResolver(data, PdfReader(BytesIO(data), strict=True)).root()
            return _collect_fields(root)
        except (_lean.Unsupported, *_ENGINE_ERRORS):
            _log.debug("fast field reader gave up on %s, reading with pypdf", path, exc_info=True)
        return _collect_fields(_open_pypdf(path, data).root_object)


@dataclass(frozen=True)
class FormSearch:
    """What `find_form_pdf` saw among a mail's attachments."""

    #: the first PDF whose fields pass the test, or ``None``
    pdf: Path | None
    #: how many of the attachments are PDFs
    pdf_count: int
    #: the first read error, naming the attachment by its number (file names often hold a person's name)
    unreadable: str | None


def find_form_pdf(files: Sequence[str | Path], is_form: Callable[[dict[str, FieldValue]], bool]) -> FormSearch:
    """Look through the PDF attachments for the first whose form fields pass ``is_form``."""
    pdfs = [Path(f) for f in files if Path(f).suffix.lower() == ".pdf"]
    unreadable: str | None = None
    for number, pdf in enumerate(pdfs, start=1):
        try:
            fields = read_fields(pdf)
        except PdfError as error:
            unreadable = unreadable or str(error).replace(f"'{pdf.name}'", f"im PDF-Anhang Nr. {number}")
            continue
        if is_form(fields):
            return FormSearch(pdf, len(pdfs), unreadable)
    return FormSearch(None, len(pdfs), unreadable)


def _collect_fields(root: Any) -> dict[str, FieldValue]:
    return {item.name: _field_value(item) for item in _iter_fields(root) if not item.is_pushbutton}


# --------------------------------------------------------------------------- text and pages


def parse_page_spec(spec: str | int | Sequence[int | str] | None) -> list[int] | None:
    """``"1,3-5"``, ``3``, ``[1, "2"]`` or ``None`` (all pages) as sorted 1-based page numbers."""
    if spec is None:
        return None
    if isinstance(spec, int):
        parts: list[str] = [str(spec)]
    elif isinstance(spec, str):
        parts = spec.split(",")
    else:
        parts = [str(part) for part in spec]
    pages: set[int] = set()
    for part in (p.strip() for p in parts):
        if not part:
            continue
        first, sep, last = part.partition("-")
        try:
            start = int(first)
            end = int(last) if sep else start
        except ValueError:
            raise ValueError(f"Seitenangabe '{spec}' ist ungültig: erwartet wie '1,3-5'.") from None
        if start < 1 or end < start:
            raise ValueError(f"Seitenangabe '{part}' ist ungültig: Seiten beginnen bei 1, aufsteigend.")
        pages.update(range(start, end + 1))
    if not pages:
        raise ValueError("Seitenangabe ist leer: erwartet wie '1,3-5'.")
    return sorted(pages)


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "-").replace("\x02", "-")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def read_text(path: str | Path, pages: Iterable[int] | None = None) -> dict[int, str]:
    """The text of the pages asked for (1-based; all pages when ``pages`` is ``None``).

    Only those pages are loaded, so one page of a long document is quick. A page beyond the document
    raises :class:`PageOutOfRangeError` before any text is read.
    """
    path, data = _load(path)
    check_inflated_size(path, data)
    with _guard(path), _pdfium_document(path, data) as document:
        count = len(document)
        wanted = list(range(1, count + 1)) if pages is None else sorted(set(pages))
        for number in wanted:
            if not 1 <= number <= count:
                raise PageOutOfRangeError(path, number, count)
        texts: dict[int, str] = {}
        for number in wanted:
            page = document[number - 1]
            try:
                textpage = page.get_textpage()
                try:
                    texts[number] = _clean_text(textpage.get_text_bounded())
                finally:
                    textpage.close()
            finally:
                page.close()
        return texts


def page_count(path: str | Path) -> int:
    """The number of pages."""
    path, data = _load(path)
    with _guard(path), _pdfium_document(path, data) as document:
        return len(document)


# --------------------------------------------------------------------------- metadata


def _date_text(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value else None


def read_metadata(path: str | Path) -> dict[str, str | int | None]:
    """Title, author, subject, keywords, creator, producer, dates (ISO 8601) and page count."""
    path, data = _load(path)
    with _guard(path):
        reader = _open_pypdf(path, data)
        info = reader.metadata
        result: dict[str, str | int | None] = {}
        for key in ("title", "author", "subject", "keywords", "creator", "producer"):
            value = info.get(f"/{key.capitalize()}") if info is not None else None
            result[key] = _text_of(value.get_object()) if value is not None else None
        for key, attribute in (("created", "creation_date"), ("modified", "modification_date")):
            try:
                result[key] = _date_text(getattr(info, attribute)) if info is not None else None
            except Exception:  # unparsable date: keep the raw text
                result[key] = _date_text(getattr(info, f"{attribute}_raw", None))
        result["pages"] = len(reader.pages)
        return result


# --------------------------------------------------------------------------- embedded files

def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    stem, dot, suffix = name.rpartition(".")
    while candidate.lower() in taken:
        candidate = f"{stem} ({number}).{suffix}" if dot and stem else f"{name} ({number})"
        number += 1
    taken.add(candidate.lower())
    return candidate


def _embedded(reader: Any) -> list[tuple[str, Any]]:
    found = []
    for item in reader.attachment_list:
        found.append((item.alternative_name or item.name, item))
    return found


def read_embedded_files(path: str | Path, data: bytes | None = None) -> list[tuple[str, bytes]]:
    """(name as stored, content) of every file embedded in the PDF at ``path``, or in ``data`` (then
    ``path`` only names it in messages)."""
    if data is None:
        path, data = _load(path)
    path = Path(path)
    with _guard(path):
        reader = _open_pypdf(path, data)
        return [(name, item.content) for name, item in _embedded(reader)]


def list_embedded_files(path: str | Path) -> list[dict[str, str | int | None]]:
    """The files embedded in the PDF: name as stored, safe file name, size, MIME type, description."""
    path, data = _load(path)
    with _guard(path):
        reader = _open_pypdf(path, data)
        taken: set[str] = set()
        result = []
        for name, item in _embedded(reader):
            content = item.content
            result.append(
                {
                    "name": name,
                    "file_name": _unique(safe_file_name(name), taken),
                    "size": len(content),
                    "mime_type": _name_text(item.subtype) if item.subtype else None,
                    "description": item.description or None,
                }
            )
        return result


def save_embedded_files(path: str | Path, folder: str | Path) -> list[Path]:
    """Write every embedded file into ``folder`` under a safe name; returns the written paths.

    Names never leave the folder; two files with the same name get `` (2)``, `` (3)``… Existing files
    with the same name are overwritten, so a rerun gives the same result.
    """
    path, data = _load(path)
    target = Path(folder)
    written: list[Path] = []
    items = read_embedded_files(path, data)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    taken: set[str] = set()
    for name, content in items:
        out = root / _unique(safe_file_name(name), taken)
        if out.resolve().parent != root:  # defence in depth; safe_file_name already strips folders
            raise PdfError(f"Unsicherer Anhangname '{name}' in '{file_label(path)}'.", path=path)
        out.write_bytes(content)
        written.append(out)
    return written


# --------------------------------------------------------------------------- filling


def fill_form(
    path: str | Path,
    values: Mapping[str, FieldValue],
    output: str | Path,
    *,
    flatten: bool = False,
) -> Path:
    """Write a copy of the form with ``values`` filled in; optionally flattened into page content.

    Keys are qualified field names as :func:`read_fields` gives them. Text fields take strings (``None``
    empties them), checkboxes ``True``/``False`` (or ``ja``/``nein``), radio and choice fields one of
    their export values. Unknown names raise :class:`UnknownFieldError`, values a field does not offer
    :class:`InvalidFieldValueError`; nothing is written then.
    """
    from rathaus.pdf import _filling

    path, data = _load(path)
    output = Path(output)
    with _guard(path):
        from pypdf import PdfWriter

        reader = _open_pypdf(path, data)
        writer = PdfWriter(clone_from=reader)
        fields = {item.name: item for item in _iter_fields(writer.root_object) if not item.is_pushbutton}
        for name in values:
            if name not in fields:
                raise UnknownFieldError(path, name, fields)
        for name, value in values.items():
            _filling.set_value(writer, fields[name], value, lambda v, a, n=name: _invalid(path, n, v, a))
        if flatten:
            _filling.flatten(writer)
        buffer = BytesIO()
        writer.write(buffer)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(buffer.getvalue())
    return output


def _invalid(path: Path, name: str, value: object, allowed: Iterable[str]) -> InvalidFieldValueError:
    return InvalidFieldValueError(path, name, value, allowed)


def as_bool(value: object, on_states: Iterable[str] = ()) -> bool | None:
    """``True``/``False`` for checkbox input, ``None`` when the value cannot be understood."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower().removeprefix("/")
    if text in _TRUE_WORDS or text in {s.lower() for s in on_states}:
        return True
    if text in _FALSE_WORDS:
        return False
    return None
