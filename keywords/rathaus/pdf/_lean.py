"""A small, fast reader for the plain dictionaries of a form's field tree.

pypdf's general object parser costs about 0.1 ms per field dictionary, which dominates reading a
30-field form. This module parses just the object syntax that field dictionaries use (dictionaries,
arrays, names, strings, numbers, references) with one compiled regular expression. pypdf still locates
the objects (cross-reference table, object streams) and decodes text strings.

Anything unusual (encryption, a stream where a dictionary was expected, a syntax this parser does not
know, an object that is not where the cross-reference table says) raises :class:`Unsupported`, and the
caller reads the file with pypdf alone. So this is a fast path, never the only path.
"""

from __future__ import annotations

import re
from typing import Any

from pypdf.generic import create_string_object


class Unsupported(Exception):
    """The fast path cannot read this file; use pypdf."""


class Name(str):
    """A PDF name, kept with its leading slash like pypdf's ``NameObject``."""

    __slots__ = ()


class Ref:
    """An indirect reference, resolved on :meth:`get_object` like pypdf's ``IndirectObject``."""

    __slots__ = ("generation", "idnum", "resolver")

    def __init__(self, idnum: int, generation: int, resolver: LeanResolver) -> None:
        self.idnum = idnum
        self.generation = generation
        self.resolver = resolver

    def get_object(self) -> Any:
        return self.resolver.resolve(self.idnum, self.generation)


# One alternative per token kind; findall() gives one tuple per token, in this group order.
_TOKEN = re.compile(
    rb"""
    (?:\s|%[^\r\n]*)*                                     # whitespace and comments
    (?:
      (\d+)\s+(\d+)\s+R(?![^\s()<>\[\]{}/%])                # 0, 1: reference
    | (/[^\s()<>\[\]{}/%]*)                                  # 2: name
    | (<<[^<>()\[\]%]*>>|\[[^<>()\[\]%]*\])                   # 3: flat container, parsed when used
    | (<<|\[)                                               # 4: open
    | (>>|\])                                               # 5: close
    | ([+-]?(?:\d+\.?\d*|\.\d+))                              # 6: number
    | \(((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*)\)              # 7: literal string, nested once
    | <([0-9A-Fa-f\s]*)>                                    # 8: hex string
    | ([A-Za-z]+)                                          # 9: keyword
    | (.)                                                  # 10: anything else
    )
    """,
    re.VERBOSE | re.DOTALL,
)
class String:
    """A string, decoded on first use: most of a widget's strings (appearance, tooltip) are never read."""

    __slots__ = ("hexadecimal", "raw")

    def __init__(self, raw: bytes, hexadecimal: bool) -> None:
        self.raw = raw
        self.hexadecimal = hexadecimal

    def get_object(self) -> str:
        if self.hexadecimal:
            digits = re.sub(rb"\s", b"", self.raw)
            raw = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
        else:
            raw = _ESCAPE.sub(_unescape, self.raw) if b"\\" in self.raw else self.raw
        # plain ASCII reads the same in PDFDocEncoding; other text needs pypdf's decoding (BOMs, UTF-16)
        return raw.decode("ascii") if raw.isascii() else str(create_string_object(raw))


class Lazy:
    """A dictionary or array without nested containers or strings, parsed on first use.

    Most of a widget's entries (border style, colours, rectangle) are never looked at; skipping them
    in one regular-expression step halves the work per field.
    """

    __slots__ = ("raw", "resolver", "value")

    def __init__(self, raw: bytes, resolver: LeanResolver) -> None:
        self.raw = raw
        self.resolver = resolver
        self.value: Any = None

    def get_object(self) -> Any:
        if self.value is None:
            self.value, _stream = self.resolver.parse(self.raw, 0, len(self.raw), lazy=False)
        return self.value


#: The same tokens without the flat-container shortcut, for parsing a :class:`Lazy` itself.
_INNER = re.compile(
    _TOKEN.pattern.replace(rb"<<[^<>()\[\]%]*>>|\[[^<>()\[\]%]*\]", rb"(?!)"), re.VERBOSE | re.DOTALL
)
_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")
_ESCAPE = re.compile(rb"\\(?:([nrtbf()\\])|([0-7]{1,3})|(\r\n|\r|\n)|(.))", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_WORDS = {b"true": True, b"false": False, b"null": None}
#: Decoded names by their raw bytes; forms repeat the same few dozen names.
_NAMES: dict[bytes, Name] = {}


def _unescape(match: re.Match[bytes]) -> bytes:
    simple, octal, _newline, other = match.groups()
    if simple:
        return _ESCAPES[simple]
    if octal:
        return bytes([int(octal, 8) & 0xFF])
    return other or b""  # a line continuation disappears, an unknown escape keeps its character


def decode_name(raw: bytes) -> Name:
    """``/M#c3#bcller`` and ``/M#fcller`` both as ``/Müller``."""
    unescaped = _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    try:
        name = Name(unescaped.decode("utf-8"))
    except UnicodeDecodeError:
        name = Name(unescaped.decode("cp1252", errors="replace"))
    if len(_NAMES) < 4096:
        _NAMES[raw] = name
    return name


class LeanResolver:
    """Resolves object numbers to plain Python values, using a pypdf reader's cross-reference data."""

    def __init__(self, data: bytes, reader: Any) -> None:
        if "/Encrypt" in reader.trailer:
            raise Unsupported("encrypted")
        self.data = data
        self.reader = reader
        self.cache: dict[int, Any] = {}
        self.streams: dict[int, tuple[bytes, dict[int, tuple[int, int]]]] = {}

    def root(self) -> Any:
        root = self.reader.trailer.raw_get("/Root")
        if not hasattr(root, "idnum"):
            raise Unsupported("direct catalog")
        return self.resolve(root.idnum, root.generation)

    def resolve(self, idnum: int, generation: int) -> Any:
        if idnum in self.cache:
            return self.cache[idnum]
        offset = self.reader.xref.get(generation, {}).get(idnum)
        if offset is not None:
            header = _HEADER.match(self.data, offset)
            if header is None or int(header.group(1)) != idnum:
                raise Unsupported(f"object {idnum} is not at its offset")
            end = self.data.find(b"endobj", header.end())
            value, is_stream = self.parse(self.data, header.end(), end if end >= 0 else len(self.data))
            if is_stream:
                raise Unsupported(f"object {idnum} is a stream")
        elif idnum in self.reader.xref_objStm:
            stream_number, _index = self.reader.xref_objStm[idnum]
            data, offsets = self._object_stream(stream_number)
            if idnum not in offsets:
                raise Unsupported(f"object {idnum} missing in its object stream")
            start, end = offsets[idnum]
            value, _stream = self.parse(data, start, end)
        else:
            value = None  # a free or missing object reads as null
        if isinstance(value, Lazy):
            value = value.get_object()
        self.cache[idnum] = value
        return value

    def _object_stream(self, number: int) -> tuple[bytes, dict[int, tuple[int, int]]]:
        """The decoded object stream and, per object number, where its object starts and ends."""
        if number not in self.streams:
            stream = self.reader.get_object(number)
            data = stream.get_data()
            first, count = int(stream["/First"]), int(stream["/N"])
            numbers = [int(n) for n in data[:first].split()[: 2 * count]]
            starts = [first + offset for offset in numbers[1::2]]
            ends = [*sorted(starts)[1:], len(data)]
            span = dict(zip(sorted(starts), ends, strict=True))
            offsets = {num: (start, span[start]) for num, start in zip(numbers[::2], starts, strict=True)}
            self.streams[number] = (data, offsets)
        return self.streams[number]

    def parse(  # noqa: PLR0912 - one branch per token kind keeps the hot loop flat
        self, data: bytes, pos: int, end: int, *, lazy: bool = True
    ) -> tuple[Any, bool]:
        """Parse the one object that starts at ``pos`` and ends before ``end``.

        Returns the object and whether a ``stream`` keyword follows it. ``lazy=False`` parses a
        :class:`Lazy` container's own brackets instead of deferring it again.
        """
        tokens = _TOKEN.findall(data, pos, end) if lazy else _INNER.findall(data, pos, end)
        stack: list[tuple[bytes, list[Any]]] = []  # open containers and the items of their parents
        items: list[Any] = []
        for index, (ref1, ref2, name, flat, opener, closer, number, literal, hexa, word, other) in enumerate(
            tokens
        ):
            if name:
                value: Any = _NAMES.get(name) or decode_name(name)
            elif flat:
                value = Lazy(flat, self)
            elif opener:
                stack.append((opener, items))
                items = []
                continue
            elif closer:
                if not stack:
                    raise Unsupported("unbalanced brackets")
                kind, outer = stack.pop()
                if kind == b"[" and closer == b"]":
                    value = items
                elif kind == b"<<" and closer == b">>" and len(items) % 2 == 0:
                    value = dict(zip(items[::2], items[1::2], strict=True))
                else:
                    raise Unsupported("mismatched brackets")
                items = outer
            elif ref1:
                value = Ref(int(ref1), int(ref2), self)
            elif number:
                value = float(number) if b"." in number else int(number)
            elif literal:
                value = String(literal, False)
            elif hexa:
                value = String(hexa, True)
            elif word:
                if word not in _WORDS:
                    raise Unsupported(f"unexpected keyword {word!r}")
                value = _WORDS[word]
            elif other:
                raise Unsupported(f"unexpected {other!r}")
            else:  # () or <>
                value = ""
            if not stack:
                follows = tokens[index + 1][9] if index + 1 < len(tokens) else b""
                return value, follows == b"stream"
            items.append(value)
        raise Unsupported("object does not end")
