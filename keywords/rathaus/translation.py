"""German keyword names and documentation for the rathaus libraries.

Every library class takes ``language`` (``en`` default, ``de``) and hands the result of
:func:`load_translation` to pythonlibcore's ``DynamicCore``, which then exposes each keyword under the
name from ``<library package>/translation_<language>.json`` and with its documentation. One
implementation, two names: see ``docs/adr/0008-german-keywords.md``.

File format (pythonlibcore's)::

    {"method_name": {"name": "German Keyword Name", "doc": "German documentation"},
     "__intro__": {"doc": "library introduction"}, "__init__": {"doc": "import arguments"}}
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

from rathaus.errors import ApplicationError

#: Language code -> German name of the language, as shown in error messages.
LANGUAGES: dict[str, str] = {"en": "Englisch", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
#: Entries that document the library rather than a keyword.
LIBRARY_ENTRIES = ("__intro__", "__init__")


class TranslationError(ApplicationError, ValueError):
    """The ``language`` argument or a translation file is wrong: fix the robot or the file, then rerun."""

    code = "TRANSLATION"


def normalize_language(language: str | None, library: str) -> str:
    """Return the language code for ``language`` (``None`` and ``""`` mean English) or fail in German."""
    code = (language or DEFAULT_LANGUAGE).strip().lower()
    if code not in LANGUAGES:
        allowed = ", ".join(f"'{key}' ({name})" for key, name in LANGUAGES.items())
        raise TranslationError(
            f"Unbekannte Sprache '{language}' für die Bibliothek {library}. Erlaubt sind {allowed}; "
            f"bitte den Import anpassen, z. B. 'Library    {library}    language=de'."
        )
    return code


def translation_file(folder: Path, language: str) -> Path:
    """Path of the translation file for ``language`` in a library package ``folder``."""
    return Path(folder) / f"translation_{language}.json"


def library_translation_file(library: str, language: str = "de") -> Path | None:
    """The translation file of a keyword library given by its import name, if it has one.

    ``rathaus.Mail`` -> ``keywords/rathaus/mail/translation_de.json``; a process library such as
    ``gewerbeanzeige.keywords.Gewerbeanzeige`` -> ``translation_de.json`` beside its module.
    """
    package, _, name = library.partition(".")
    if package == "rathaus":
        if not name or "." in name:
            return None
        path = translation_file(Path(__file__).parent / name.lower(), language)
        return path if path.is_file() else None
    module_name = library.rpartition(".")[0]
    if not module_name:
        return None
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    path = translation_file(Path(spec.origin).parent, language)
    return path if path.is_file() else None


def load_translation(folder: Path, language: str | None, library: str) -> dict[str, dict[str, str]] | None:
    """Return the translation for pythonlibcore, or ``None`` for English (the names in the code).

    | ``folder`` | The library's package folder, holding ``translation_de.json``. |
    | ``language`` | ``en`` or ``de`` (any case); ``None`` means ``en``. |
    | ``library`` | Import name for messages, e.g. ``rathaus.Mail``. |
    """
    code = normalize_language(language, library)
    if code == DEFAULT_LANGUAGE:
        return None
    return _read(translation_file(folder, code), library)


@cache
def _read(path: Path, library: str) -> dict[str, dict[str, str]]:
    if not path.is_file():
        raise TranslationError(
            f"Für die Bibliothek {library} fehlt die Übersetzungsdatei '{path}'. "
            "Bitte die Datei ergänzen oder die Bibliothek ohne 'language' importieren."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TranslationError(
            f"Die Übersetzungsdatei '{path}' ist kein gültiges JSON ({error}). Bitte die Datei korrigieren."
        ) from error
    problems = validate(data)
    if problems:
        raise TranslationError(f"Die Übersetzungsdatei '{path}' ist fehlerhaft: {'; '.join(problems)}.")
    return data


def validate(data: Any) -> list[str]:
    """Return German descriptions of what is wrong with a translation (empty when it is fine)."""
    if not isinstance(data, dict):
        return ["oberste Ebene muss ein Objekt sein"]
    problems = []
    for key, entry in data.items():
        if not isinstance(entry, dict):
            problems.append(f"'{key}' muss ein Objekt mit 'name' und 'doc' sein")
            continue
        unknown = sorted(set(entry) - {"name", "doc"})
        if unknown:
            problems.append(f"'{key}' hat unbekannte Schlüssel {unknown}")
        if not isinstance(entry.get("doc"), str) or not entry["doc"].strip():
            problems.append(f"'{key}' hat keine Dokumentation ('doc')")
        if key not in LIBRARY_ENTRIES and (not isinstance(entry.get("name"), str) or not entry["name"].strip()):
            problems.append(f"'{key}' hat keinen Schlüsselwortnamen ('name')")
    return problems
