"""Setting field values and flattening, on a pypdf writer. Used by :func:`rathaus.pdf.reader.fill_form`.

Text and choice fields get a fresh appearance stream in Helvetica with WinAnsi encoding, so that
umlauts and ß show in every viewer and survive flattening; checkboxes and radio groups switch between
the appearance states the form already has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from rathaus.pdf.reader import (
    _F_HIDDEN,
    _F_NOVIEW,
    FF_COMBO,
    FF_EDIT,
    FF_MULTILINE,
    _Field,
    _name_text,
    _on_states,
    as_bool,
)

MakeError = Callable[[object, Iterable[str]], Exception]

_FONT_KEY = "/RathausHelv"
_DA_SIZE = re.compile(rb"([\d.]+)\s+Tf")
_MIN_SIZE = 6.0
_DEFAULT_SIZE = 10.0
_PADDING = 2.0


def set_value(writer: Any, item: _Field, value: object, make_error: MakeError) -> None:
    """Set one field's value and appearance."""
    if item.kind == "/Btn":
        _set_button(item, value, make_error)
    elif item.kind == "/Ch":
        _set_choice(writer, item, value, make_error)
    elif item.kind == "/Sig":
        raise make_error(value, ["(Unterschriftsfeld, nicht ausfüllbar)"])
    else:
        text = "" if value is None else str(value)
        _set_text_value(item, text)
        for widget in item.widgets:
            _set_text_appearance(writer, item, widget, text)


# --------------------------------------------------------------------------- buttons


def _set_button(item: _Field, value: object, make_error: MakeError) -> None:
    states = [state for widget in item.widgets for state in _on_states(widget)]
    if item.is_radio:
        choice = None if value in (None, "", False) else _name_text(str(value))
        if choice is not None and choice not in states:
            raise make_error(value, dict.fromkeys(states))
        selected = choice
    else:
        checked = as_bool(value, states)
        if checked is None:
            raise make_error(value, ["ja", "nein", "True", "False"])
        selected = (states[0] if states else "Yes") if checked else None
    item.node[NameObject("/V")] = NameObject(f"/{selected}" if selected else "/Off")
    for widget in item.widgets:
        own = _on_states(widget)
        widget[NameObject("/AS")] = NameObject(f"/{selected}" if selected in own else "/Off")


# --------------------------------------------------------------------------- text and choice


def _set_text_value(item: _Field, text: str) -> None:
    if text:
        item.node[NameObject("/V")] = TextStringObject(text)
    elif "/V" in item.node:
        del item.node["/V"]


def _options(item: _Field) -> list[tuple[str, str]]:
    """(export value, display text) of a choice field."""
    raw = item.node.get("/Opt")
    result = []
    for ref in raw.get_object() if raw is not None else []:
        entry = ref.get_object()
        if isinstance(entry, list) and len(entry) >= 2:
            result.append((str(entry[0].get_object()), str(entry[1].get_object())))
        else:
            result.append((str(entry), str(entry)))
    return result


def _set_choice(writer: Any, item: _Field, value: object, make_error: MakeError) -> None:
    options = _options(item)
    exports = [export for export, _ in options]
    text = "" if value is None else str(value)
    editable = bool(item.flags & FF_COMBO and item.flags & FF_EDIT)
    if text and text not in exports and not editable:
        raise make_error(value, exports)
    _set_text_value(item, text)
    if text in exports:
        item.node[NameObject("/I")] = ArrayObject([NumberObject(exports.index(text))])
    elif "/I" in item.node:
        del item.node["/I"]
    shown = dict(options).get(text, text)
    for widget in item.widgets:
        _set_text_appearance(writer, item, widget, shown)


def _font(writer: Any) -> Any:
    """One shared Helvetica with WinAnsi encoding for every generated appearance."""
    cached = getattr(writer, "_rathaus_font", None)
    if cached is None:
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
        cached = writer._add_object(font)
        writer._rathaus_font = cached
    return cached


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _rect(annotation: Any) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in annotation.get("/Rect", [0, 0, 0, 0]))
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _set_text_appearance(writer: Any, item: _Field, widget: Any, text: str) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    x1, y1, x2, y2 = _rect(widget)
    width, height = x2 - x1, y2 - y1
    da = str(widget.get("/DA", item.node.get("/DA", ""))).encode("latin-1", errors="replace")
    found = _DA_SIZE.search(da)
    size = float(found.group(1)) if found else 0.0
    lines = text.split("\n") if item.flags & FF_MULTILINE else [" ".join(text.split("\n"))]
    if size <= 0:
        size = min(_DEFAULT_SIZE, max(_MIN_SIZE, (height - 2 * _PADDING) * 0.75))
    widest = max((stringWidth(line, "Helvetica", 1) for line in lines), default=0)
    if widest and widest * size > width - 2 * _PADDING:
        size = max(_MIN_SIZE, (width - 2 * _PADDING) / widest)
    leading = size * 1.15
    # one line sits in the middle, several start at the top
    baseline = (height - size * 0.72) / 2 if len(lines) == 1 else height - _PADDING - size
    ops = [b"/Tx BMC", b"q", b"BT", f"{_FONT_KEY} {size:.2f} Tf 0 g".encode()]
    ops.append(f"{_PADDING:.2f} {baseline:.2f} Td".encode())
    for index, line in enumerate(lines):
        if index:
            ops.append(f"0 {-leading:.2f} Td".encode())
        ops.append(_pdf_string(line) + b" Tj")
    ops += [b"ET", b"Q", b"EMC"]
    stream = DecodedStreamObject()
    stream.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(width), FloatObject(height)]),
            NameObject("/Resources"): DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject(_FONT_KEY): _font(writer)})}
            ),
        }
    )
    stream.set_data(b"\n".join(ops))
    widget[NameObject("/AP")] = DictionaryObject({NameObject("/N"): writer._add_object(stream)})


# --------------------------------------------------------------------------- flattening


def _transformed_bbox(stream: Any) -> tuple[float, float, float, float]:
    bx1, by1, bx2, by2 = (float(v) for v in stream.get("/BBox", [0, 0, 0, 0]))
    a, b, c, d, e, f = (float(v) for v in stream.get("/Matrix", [1, 0, 0, 1, 0, 0]))
    points = [(a * x + c * y + e, b * x + d * y + f) for x in (bx1, bx2) for y in (by1, by2)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _appearance(annotation: Any) -> Any:
    """The indirect reference of the widget's visible normal appearance, or ``None``."""
    ap = annotation.get("/AP")
    normal = ap.get_object().get("/N") if ap is not None else None
    if normal is None:
        return None
    resolved = normal.get_object()
    if not hasattr(resolved, "get_data"):  # a dictionary of states
        state = annotation.get("/AS")
        normal = resolved.get(state) if state is not None else None
    return normal


def flatten(writer: Any) -> None:
    """Draw every widget's current appearance into its page and remove the form."""
    counter = 0
    for page in writer.pages:
        annots = page.get("/Annots")
        if annots is None:
            continue
        keep = ArrayObject()
        ops: list[bytes] = []
        xobjects = DictionaryObject()
        for ref in annots.get_object():
            annotation = ref.get_object()
            if annotation.get("/Subtype") != "/Widget":
                keep.append(ref)
                continue
            if int(annotation.get("/F", 0)) & (_F_HIDDEN | _F_NOVIEW):
                continue
            normal = _appearance(annotation)
            if normal is None:
                continue
            if not hasattr(normal, "idnum"):
                normal = writer._add_object(normal)
            stream = normal.get_object()
            stream[NameObject("/Type")] = NameObject("/XObject")
            stream[NameObject("/Subtype")] = NameObject("/Form")
            bx1, by1, bx2, by2 = _transformed_bbox(stream)
            rx1, ry1, rx2, ry2 = _rect(annotation)
            if bx2 - bx1 <= 0 or by2 - by1 <= 0:
                continue
            sx, sy = (rx2 - rx1) / (bx2 - bx1), (ry2 - ry1) / (by2 - by1)
            key = f"/RathausFlat{counter}"
            counter += 1
            xobjects[NameObject(key)] = normal
            ops.append(f"q {sx:.6f} 0 0 {sy:.6f} {rx1 - bx1 * sx:.4f} {ry1 - by1 * sy:.4f} cm {key} Do Q".encode())
        if ops:
            _append_content(writer, page, xobjects, ops)
        if keep:
            page[NameObject("/Annots")] = keep
        else:
            del page["/Annots"]
    if "/AcroForm" in writer.root_object:
        del writer.root_object["/AcroForm"]


def _append_content(writer: Any, page: Any, xobjects: DictionaryObject, ops: list[bytes]) -> None:
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    existing = resources.get("/XObject")
    existing = existing.get_object() if existing is not None else DictionaryObject()
    existing.update(xobjects)
    resources[NameObject("/XObject")] = existing
    page[NameObject("/Resources")] = resources

    def stream(data: bytes) -> Any:
        obj = DecodedStreamObject()
        obj.set_data(data)
        return writer._add_object(obj)

    contents = page.get("/Contents")
    old = contents.get_object() if contents is not None else None
    parts = list(old) if isinstance(old, list) else ([contents] if contents is not None else [])
    page[NameObject("/Contents")] = ArrayObject([stream(b"q\n"), *parts, stream(b"\nQ\n" + b"\n".join(ops) + b"\n")])
