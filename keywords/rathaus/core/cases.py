"""What a process's case is and how its cases come in, as ``process.yaml`` declares them (``case:``, ``intake:``).

The case data (work item variable ``fall``) is read from the documents once and kept in the item; a clerk
corrects it in the control room. Both the robots and the control room check it against the process's case
schema (JSON Schema with German ``title`` and ``description``) with :func:`case_problems`, whose German
messages name each field by its titles (``Kind: Geburtsdatum fehlt``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from rathaus.core.config import ConfigError, read_yaml

#: work item variable holding the case data
CASE_KEY = "fall"
#: work item variable naming where a case came from (``postfach``, ``upload``, ``ordner``)
SOURCE_KEY = "quelle"
#: the intake kinds of ``process.yaml``
INTAKE_KINDS = ("postfach", "ordner", "upload")
#: schema keyword of a field whose choices are the entries of a city's master data:
#: ``{stammdaten: <topic file>, liste: <key of a mapping in it>, titel: <key of an entry's German name>}``
CHOICES_KEY = "x-auswahl"
#: schema keyword (set by :func:`with_city_choices`) mapping each choice to the German name the clerk sees
CHOICE_TITLES_KEY = "x-titel"


@dataclass(frozen=True)
class Intake:
    """How a process's cases come in (``intake:`` of ``process.yaml``)."""

    kinds: tuple[str, ...] = ()
    #: accepted file types of an upload (``.eml``, ``.pdf``); empty: any
    file_types: tuple[str, ...] = ()
    #: loose (non-``.eml``) files of one upload: ``together`` one case, ``each`` one case per file
    loose_files: str = "together"
    #: an uploaded ``.eml`` must carry at least one attachment of the accepted (non-``.eml``) types
    mail_needs_attachment: bool = False
    #: an uploaded ``.eml`` keeps its body (at most this many characters), as the process's producer does
    mail_text: int | None = None

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> Intake | None:
        """The intake a process declares, ``None`` when its ``process.yaml`` has none."""
        raw = meta.get("intake")
        if not isinstance(raw, Mapping):
            return None
        return cls(tuple(raw.get("kinds") or ()), tuple(raw.get("file_types") or ()),
                   str(raw.get("loose_files") or "together"), bool(raw.get("mail_needs_attachment")),
                   int(raw["mail_text"]) if raw.get("mail_text") else None)

    @property
    def takes_uploads(self) -> bool:
        return "upload" in self.kinds

    def accepts(self, name: str) -> bool:
        return not self.file_types or Path(name).suffix.lower() in self.file_types

    def shown_types(self) -> str:
        return ", ".join(self.file_types) or "alle"


def load_case_schema(folder: Path, name: str) -> dict[str, Any]:
    """Read and check the case schema ``folder/name``: a valid JSON Schema whose fields all have a German title."""
    path = folder / name
    schema = read_yaml(path)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise ConfigError(f"{path}: kein gültiges JSON Schema: {error.message}") from None
    untitled = [".".join(key) for key, sub in _fields(schema) if not sub.get("title")]
    if untitled:
        raise ConfigError(f"{path}: Feld(er) ohne deutschen Titel (title): {', '.join(untitled)}. Die Sachbearbeitung "
                          "sieht jedes Feld unter seinem Titel; bitte ergänzen.")
    for key, sub in _fields(schema):
        choices = sub.get(CHOICES_KEY)
        if choices is not None and not (isinstance(choices, Mapping) and all(
                isinstance(choices.get(part), str) and choices[part] for part in ("stammdaten", "liste"))):
            raise ConfigError(f"{path}: Feld {'.'.join(key)}: '{CHOICES_KEY}' braucht 'stammdaten' (die Datei der "
                              "Stammdaten der Stadt) und 'liste' (den Schlüssel der Einträge darin), z. B. "
                              "{stammdaten: posteingang, liste: fachbereiche, titel: name}.")
    return schema


def with_city_choices(schema: Mapping[str, Any], master_data: Callable[[str], Mapping[str, Any] | None]
                      ) -> dict[str, Any]:
    """The case schema for one city: every field with ``x-auswahl`` gets the city's entries as its ``enum`` (their
    keys; ``null`` too when the field may be empty) and their German names under ``x-titel``.

    ``master_data(topic)`` is the city's master data file of that topic (``resources/cities/<city>/<topic>.yaml``),
    ``None`` when the city has none; then the field stays free text. A copy; ``schema`` is not changed.
    """
    result = copy.deepcopy(dict(schema))
    for _, sub in _fields(result):
        choices = sub.get(CHOICES_KEY)
        if not isinstance(choices, Mapping):
            continue
        data = master_data(str(choices["stammdaten"]))
        entries = data.get(str(choices["liste"])) if isinstance(data, Mapping) else None
        if not isinstance(entries, Mapping) or not entries:
            continue
        title = str(choices.get("titel") or "")
        sub[CHOICE_TITLES_KEY] = {str(key): str(entry.get(title) or key) if isinstance(entry, Mapping) else str(key)
                                  for key, entry in entries.items()}
        sub["enum"] = [*sub[CHOICE_TITLES_KEY], *([None] if "null" in schema_types(sub) else [])]
    return result


def schema_types(schema: Mapping[str, Any]) -> set[str]:
    value = schema.get("type", "string")
    return set(value) if isinstance(value, list) else {value}


def _fields(schema: Mapping[str, Any], prefix: tuple[str, ...] = ()):
    for key, sub in (schema.get("properties") or {}).items():
        yield (*prefix, key), sub
        if sub.get("type") == "object":
            yield from _fields(sub, (*prefix, key))


def title_of(schema: Mapping[str, Any], path: Sequence[str | int]) -> str:
    """The German name of the field at ``path``: its titles joined, e.g. ``Kind: Geburtsdatum``."""
    titles, node = [], schema
    for part in path:
        node = (node.get("properties") or {}).get(str(part)) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping):
            titles.append(str(part))
            node = {}
            continue
        titles.append(str(node.get("title") or part))
    return ": ".join(titles) if titles else "Falldaten"


@dataclass(frozen=True)
class CaseProblem:
    """One reason why case data does not match its schema: the field's path and a German message naming it."""

    path: tuple[str, ...]
    message: str

    @property
    def field(self) -> str:
        return ".".join(self.path)


_TYPES = {"string": "ein Text", "integer": "eine ganze Zahl", "number": "eine Zahl", "boolean": "ja oder nein",
          "object": "eine Gruppe von Angaben", "array": "eine Liste", "null": "leer"}


def _pattern(name: str, value: Any, error: ValidationError, hint: str) -> str:
    return f"{name} '{value}' hat nicht die richtige Form" + (f"; erwartet: {hint}" if hint else "")


def _enum(name: str, value: Any, error: ValidationError, hint: str) -> str:
    titles = error.schema.get(CHOICE_TITLES_KEY) or {} if isinstance(error.schema, Mapping) else {}
    allowed = ", ".join("leer" if v is None else str(titles.get(str(v)) or v) for v in error.validator_value)
    return f"{name}: '{value}' ist nicht erlaubt; erlaubt sind: {allowed}"


def _type(name: str, value: Any, error: ValidationError, hint: str) -> str:
    wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    return f"{name} muss {' oder '.join(_TYPES.get(t, t) for t in wanted)} sein"


def _extra(name: str, value: Any, error: ValidationError, hint: str) -> str:
    extra = sorted(set(value) - set(error.schema.get("properties", {}))) if isinstance(value, dict) else []
    return f"{name}: unbekannte Angabe(n) {', '.join(repr(k) for k in extra)}"


def _range(name: str, value: Any, error: ValidationError, hint: str) -> str:
    return f"{name} '{value}' liegt außerhalb des erlaubten Bereichs"


#: JSON Schema keyword -> German message of a value that breaks it
_MESSAGES = {
    "pattern": _pattern,
    "format": lambda name, value, error, hint: f"{name} '{value}' ist keine gültige Angabe ({error.validator_value})",
    "enum": _enum,
    "type": _type,
    "additionalProperties": _extra,
    "minimum": _range, "maximum": _range, "exclusiveMinimum": _range, "exclusiveMaximum": _range,
}


def _message(error: ValidationError, schema: Mapping[str, Any]) -> CaseProblem:
    path = tuple(str(part) for part in error.absolute_path)
    value = error.instance
    if error.validator == "required":
        path = (*path, error.message.split("'")[1])
        return CaseProblem(path, f"{title_of(schema, path)} fehlt")
    name = title_of(schema, path)
    blank = value is None or (isinstance(value, str) and not value.strip())
    if blank and error.validator in ("minLength", "pattern", "type", "format"):
        return CaseProblem(path, f"{name} fehlt")
    hint = str(error.schema.get("description") or "").rstrip(".") if isinstance(error.schema, Mapping) else ""
    describe = _MESSAGES.get(str(error.validator))
    return CaseProblem(path, describe(name, value, error, hint) if describe else f"{name}: {error.message}")


def case_problems(data: Any, schema: Mapping[str, Any]) -> list[CaseProblem]:
    """Every reason why ``data`` does not match the case ``schema``, in the order of the schema's fields."""
    if not isinstance(data, Mapping):
        return [CaseProblem((), "Die Falldaten müssen eine Gruppe von Angaben sein (ein JSON-Objekt).")]
    order = {key: number for number, (key, _) in enumerate(_fields(schema))}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = [_message(error, schema) for error in validator.iter_errors(dict(data))]
    problems.sort(key=lambda p: (order.get(p.path, len(order)), p.path))
    unique: dict[tuple[str, ...], CaseProblem] = {}
    for problem in problems:
        unique.setdefault(problem.path, problem)  # one message per field: the first is the one to fix
    return list(unique.values())


def read_only_changes(schema: Mapping[str, Any], old: Any, new: Any) -> list[str]:
    """The German names of the fields marked ``readOnly`` (what the robot read, e.g. a mail's text: shown to the
    clerk, not corrected) whose value differs between the case data ``old`` and ``new``."""
    def value(data: Any, path: tuple[str, ...]) -> Any:
        for part in path:
            data = data.get(part) if isinstance(data, Mapping) else None
        return data

    return [title_of(schema, path) for path, sub in _fields(schema)
            if sub.get("readOnly") and value(old, path) != value(new, path)]


def describe_problems(problems: Sequence[CaseProblem]) -> str:
    """The problems as one German sentence list: ``IBAN fehlt; Kind: Geburtsdatum fehlt``."""
    return "; ".join(problem.message for problem in problems)
