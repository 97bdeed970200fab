"""Realistic AcroForm PDFs for tests, fixtures and sample applications.

:func:`build_form` draws a German form with reportlab (labels, widgets with appearance streams) and then
turns dotted names into a real field hierarchy with pypdf: ``kind.geburtsdatum`` becomes a field
``kind`` with the kid ``geburtsdatum``, because a dot is not allowed inside a partial name.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Literal

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, BooleanObject, DictionaryObject, NameObject, TextStringObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

FieldKind = Literal["text", "checkbox", "radio", "choice"]

_LEFT = 56
_FIELD_X = 250
_ROW = 22
_TOP = A4[1] - 70
_BOTTOM = 60


@dataclass(frozen=True)
class FieldSpec:
    """One form field: qualified name, German label, kind and (radio/choice) export values."""

    name: str
    label: str
    kind: FieldKind = "text"
    options: tuple[str, ...] = ()


def build_form(
    path: Path,
    title: str,
    fields: Sequence[FieldSpec],
    values: Mapping[str, str | bool | None] | None = None,
    *,
    extra_pages: int = 0,
) -> Path:
    """Write a form PDF with ``fields`` (filled with ``values``) and ``extra_pages`` of filler text."""
    values = dict(values or {})
    unknown = set(values) - {spec.name for spec in fields}
    if unknown:
        raise ValueError(f"values for unknown fields: {sorted(unknown)}")
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.setTitle(title)
    canvas.setAuthor("rathaus sandbox")
    canvas.setSubject("Beispielformular")
    # reportlab writes field values in Latin-1 only; other text (Ayşe, Nguyễn) is set as UTF-16 afterwards
    unicode_values = {
        spec.name: str(values[spec.name])
        for spec in fields
        if spec.kind == "text" and values.get(spec.name) and not _latin1(str(values[spec.name]))
    }
    drawable = {k: v.encode("latin-1", "replace").decode("latin-1") for k, v in unicode_values.items()}
    _draw_fields(canvas, title, fields, {**values, **drawable})
    for _ in range(extra_pages):
        _draw_filler(canvas, title)
    canvas.save()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    empty_choices = {s.name for s in fields if s.kind == "choice" and not values.get(s.name)}
    _write_hierarchical(buffer.getvalue(), path, empty_choices, unicode_values)
    return path


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _draw_fields(
    canvas: Canvas, title: str, fields: Sequence[FieldSpec], values: Mapping[str, str | bool | None]
) -> None:
    form = canvas.acroForm
    y = _TOP
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(_LEFT, y, title)
    y -= 2 * _ROW
    for spec in fields:
        if y < _BOTTOM:
            canvas.showPage()
            y = _TOP
        canvas.setFont("Helvetica", 10)
        canvas.drawString(_LEFT, y + 4, spec.label)
        value = values.get(spec.name)
        common = {"name": spec.name, "tooltip": spec.label, "borderWidth": 1, "forceBorder": True}
        if spec.kind == "text":
            form.textfield(
                value="" if value is None else str(value),
                x=_FIELD_X, y=y, width=280, height=18, fontSize=10, maxlen=0, **common,
            )
        elif spec.kind == "checkbox":
            form.checkbox(checked=bool(value), x=_FIELD_X, y=y, size=14, buttonStyle="cross", **common)
        elif spec.kind == "radio":
            _check_option(spec, value)
            x = _FIELD_X
            for option in spec.options:
                form.radio(value=option, selected=option == value, x=x, y=y, size=14, **common)
                canvas.drawString(x + 18, y + 3, option)
                x += 24 + canvas.stringWidth(option, "Helvetica", 10) + 12
        elif spec.kind == "choice":
            _check_option(spec, value)
            # reportlab cannot draw an empty choice; it gets the first option and is emptied afterwards
            form.choice(
                value=str(value) if value else spec.options[0],
                options=list(spec.options),
                x=_FIELD_X, y=y, width=180, height=18, fontSize=10, **common,
            )
        else:
            raise ValueError(f"unknown field kind {spec.kind!r}")
        y -= _ROW
    canvas.showPage()


def _check_option(spec: FieldSpec, value: object) -> None:
    if value not in (None, "") and value not in spec.options:
        raise ValueError(f"{spec.name}: {value!r} is not one of {spec.options}")


_WORDS = [
    "Antrag", "Bescheid", "Behörde", "Bürgerbüro", "Straße", "Gießen", "Jugendamt", "Leistung",
    "Unterhalt", "Prüfung", "Frist", "Nachweis", "Geburtsurkunde", "Einkommen", "Zuständigkeit",
    "Anhörung", "Widerspruch", "Verwaltung", "Kindergeld", "Wohnsitz", "Änderung",
    "Mitwirkungspflicht", "Sachbearbeitung", "übermitteln", "gemäß", "Sozialgesetzbuch",
    "Vorschuss", "Rückforderung",
]


def _draw_filler(canvas: Canvas, title: str) -> None:
    page = canvas.getPageNumber()
    rng = random.Random(page)  # the same filler for the same page on every run
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(_LEFT, _TOP, f"{title}: Erläuterungen, Seite {page}")
    canvas.setFont("Helvetica", 10)
    y = _TOP - 2 * _ROW
    while y > _BOTTOM:
        words = [rng.choice(_WORDS).capitalize()]
        while True:
            word = rng.choice(_WORDS)
            if canvas.stringWidth(" ".join([*words, word]) + ".", "Helvetica", 10) > A4[0] - 2 * _LEFT:
                break
            words.append(word)
        canvas.drawString(_LEFT, y, " ".join(words) + ".")
        y -= 14
    canvas.showPage()


def _write_hierarchical(
    data: bytes, path: Path, empty_choices: set[str], unicode_values: Mapping[str, str]
) -> None:
    """Split dotted /T names into parent fields with kids; empty the choices that have no value;
    set text values that reportlab could not encode."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(data)))
    acroform = writer.root_object["/AcroForm"].get_object()
    top = ArrayObject()
    parents: dict[str, object] = {}
    for ref in acroform.get("/Fields", ArrayObject()):
        node = ref.get_object()
        if node["/T"] in empty_choices:
            for key in ("/V", "/DV", "/I", "/AP"):
                node.pop(key, None)
            acroform[NameObject("/NeedAppearances")] = BooleanObject(True)
        if node["/T"] in unicode_values:
            node[NameObject("/V")] = TextStringObject(unicode_values[node["/T"]])
            acroform[NameObject("/NeedAppearances")] = BooleanObject(True)
        parts = str(node["/T"]).split(".")
        parent_ref = None
        for depth in range(1, len(parts)):
            qualified = ".".join(parts[:depth])
            if qualified not in parents:
                parent = DictionaryObject(
                    {NameObject("/T"): TextStringObject(parts[depth - 1]), NameObject("/Kids"): ArrayObject()}
                )
                new_ref = writer._add_object(parent)
                if parent_ref is None:
                    top.append(new_ref)
                else:
                    parent[NameObject("/Parent")] = parent_ref
                    parent_ref.get_object()["/Kids"].append(new_ref)
                parents[qualified] = new_ref
            parent_ref = parents[qualified]
        node[NameObject("/T")] = TextStringObject(parts[-1])
        if parent_ref is None:
            top.append(ref)
        else:
            node[NameObject("/Parent")] = parent_ref
            parent_ref.get_object()["/Kids"].append(ref)
    acroform[NameObject("/Fields")] = top
    with path.open("wb") as handle:
        writer.write(handle)


def encrypt_copy(src: Path, dst: Path, password: str) -> Path:
    """A copy of ``src`` that needs ``password`` to open."""
    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    with Path(dst).open("wb") as handle:
        writer.write(handle)
    return Path(dst)


def truncate_copy(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    """A copy of ``src`` cut off after ``fraction`` of its bytes, like an interrupted upload."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * fraction)])
    return Path(dst)


def attach_files(src: Path, dst: Path, files: Mapping[str, bytes]) -> Path:
    """A copy of ``src`` with ``files`` (name -> content) embedded; names are stored as given."""
    writer = PdfWriter(clone_from=PdfReader(src))
    for name, content in files.items():
        writer.add_attachment(name, content)
    with Path(dst).open("wb") as handle:
        writer.write(handle)
    return Path(dst)
