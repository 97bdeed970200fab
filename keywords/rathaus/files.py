"""File names from outside (mail attachments, embedded files, work item files) made safe to write, and
text folded for comparisons."""

from __future__ import annotations

import re
import unicodedata

_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                            *(f"LPT{i}" for i in range(1, 10))})
MAX_NAME = 150


def safe_file_name(name: str, fallback: str = "anhang") -> str:
    """A file name without folders or characters that Windows or Linux reject.

    Keeps only the last path component (``../../etc/passwd`` becomes ``passwd``, ``C:\\x\\brief.pdf``
    becomes ``brief.pdf``), removes invisible format characters such as the right-to-left override,
    replaces control and forbidden characters with ``_``, trims leading dots, avoids reserved device
    names and shortens long names while keeping the extension. An empty result becomes ``fallback``.
    """
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) != "Cf")
    base = _UNSAFE_CHARS.sub("_", base).strip().lstrip(".").rstrip(". ")
    stem, dot, suffix = base.rpartition(".")
    if dot and stem.rstrip(" ."):
        base = f"{stem.rstrip(' .')}.{suffix}"  # no blanks or dots before the extension
        stem = stem.rstrip(" .")
    if not base:
        base = fallback
    if (dot and stem.split(".")[0].upper() in RESERVED_NAMES) or base.upper() in RESERVED_NAMES:
        base = f"_{base}"
    if len(base) > MAX_NAME:
        keep = f".{suffix}" if dot and len(suffix) < 10 else ""
        base = base[: MAX_NAME - len(keep)].rstrip(". ") + keep
    return base


def fold_text(text: object, *, collapse_spaces: bool = False) -> str:
    """Case- and accent-insensitive form of a text for comparisons and keyword search.

    Case-folds (``ß`` and ``ẞ`` become ``ss``), decomposes (NFKD) and drops the combining marks, so that
    ``Straße`` = ``STRASSE``, ``Lärm`` = ``larm`` and ``Éléonore`` = ``eleonore``. With
    ``collapse_spaces`` every run of whitespace becomes one blank and the ends are trimmed, for comparing
    values typed into forms (``"Haupt  straße "`` = ``"haupt strasse"``).
    """
    folded = unicodedata.normalize("NFKD", str(text).casefold().replace("ß", "ss"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(folded.split()) if collapse_spaces else folded
