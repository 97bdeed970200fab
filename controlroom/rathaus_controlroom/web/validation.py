"""German answers to requests FastAPI refuses before a route runs (422), without the submitted values.

FastAPI's own answer lists each problem with its ``input`` (the submitted value) and pydantic's English
message, which may quote the value too; a password or credential value would be echoed back and could end up
in a proxy's or a browser's log. Here each problem keeps only the field's name and a fixed German text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: where a field came from (the first element of pydantic's ``loc``)
_SOURCES = {"body": "Inhalt", "query": "Adresse", "path": "Pfad", "header": "Kopfzeile", "cookie": "Cookie",
            "form": "Formular"}

#: pydantic error type -> German text; anything else is "ist ungültig"
_PROBLEMS = {
    "missing": "fehlt",
    "json_invalid": "ist kein gültiges JSON",
    "json_type": "ist kein gültiges JSON",
    "model_attributes_type": "muss ein JSON-Objekt sein",
    "dict_type": "muss ein JSON-Objekt sein",
    "list_type": "muss eine Liste sein",
    "string_type": "muss ein Text sein",
    "string_too_short": "ist zu kurz",
    "string_too_long": "ist zu lang",
    "string_pattern_mismatch": "hat nicht das erwartete Format",
    "int_type": "muss eine ganze Zahl sein",
    "int_parsing": "muss eine ganze Zahl sein",
    "int_from_float": "muss eine ganze Zahl sein",
    "float_type": "muss eine Zahl sein",
    "float_parsing": "muss eine Zahl sein",
    "bool_type": "muss ja oder nein sein (true/false)",
    "bool_parsing": "muss ja oder nein sein (true/false)",
    "greater_than": "ist zu klein",
    "greater_than_equal": "ist zu klein",
    "less_than": "ist zu groß",
    "less_than_equal": "ist zu groß",
    "too_short": "hat zu wenige Einträge",
    "too_long": "hat zu viele Einträge",
    "enum": "hat keinen erlaubten Wert",
    "literal_error": "hat keinen erlaubten Wert",
    "date_parsing": "ist kein Datum (erwartet wird JJJJ-MM-TT)",
    "date_from_datetime_parsing": "ist kein Datum (erwartet wird JJJJ-MM-TT)",
    "datetime_parsing": "ist kein Zeitpunkt (erwartet wird JJJJ-MM-TTTHH:MM)",
    "datetime_from_date_parsing": "ist kein Zeitpunkt (erwartet wird JJJJ-MM-TTTHH:MM)",
    "uuid_parsing": "ist keine gültige Kennung",
    "extra_forbidden": "ist hier nicht erlaubt",
}


def field_name(location: Sequence[Any]) -> str:
    """``body.name`` style name of a field; list positions become ``[n]``, the source a German word."""
    parts: list[str] = []
    for index, part in enumerate(location):
        if index == 0 and isinstance(part, str) and part in _SOURCES:
            continue
        if isinstance(part, int):
            if parts:
                parts[-1] += f"[{part}]"
            continue
        parts.append(str(part))
    if parts:
        return ".".join(parts)
    return _SOURCES.get(str(location[0]), "Anfrage") if location else "Anfrage"


def problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One ``{"field", "problem"}`` per distinct problem; never the submitted value nor pydantic's own message."""
    found: dict[tuple[str, str], None] = {}
    for error in errors:
        location = error.get("loc") or ()
        if error.get("type") in ("json_invalid", "json_type"):
            location = location[:1]  # the position in the text says nothing to a person
        found[(field_name(location), _PROBLEMS.get(str(error.get("type")), "ist ungültig"))] = None
    return [{"field": field, "problem": problem} for field, problem in found]


def summary(listed: list[dict[str, str]], *, nothing_changed: str = "es wurde nichts geändert") -> str:
    """One German sentence naming every field and its problem."""
    if not listed:
        return f"Die Anfrage ist ungültig; {nothing_changed}."
    named = "; ".join(f"'{entry['field']}' {entry['problem']}" for entry in listed)
    return f"Die Eingaben sind unvollständig oder ungültig: {named}. Bitte prüfen und erneut senden; {nothing_changed}."
