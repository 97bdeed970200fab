"""The clerk's case form, generated from the process's case schema: labels from ``title``, help from
``description``, nested objects as fieldsets, choices (``enum``, with the German names of ``x-titel``) as selects,
yes/no as checkboxes, long texts (``maxLength`` of at least 300) as text areas; fields marked ``readOnly`` (what the
robot read, e.g. a mail's text) are shown but not sent back, so they keep their value.

Form fields are named ``fall.<path>`` (``fall.antragsteller.iban``); :func:`case_from_form` turns a submitted form
back into case data of the schema's shape. Validation is the service's (:func:`rathaus.core.cases.case_problems`);
its problems come back here to be shown at their fields (``aria-describedby``, ``aria-invalid``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rathaus.core.cases import CHOICE_TITLES_KEY, CaseProblem, schema_types

#: a string field that may hold at least this many characters is a text area
LONG_TEXT = 300

PREFIX = "fall"


@dataclass
class FormField:
    """One input of the form."""

    name: str
    id: str
    label: str
    help: str
    kind: str  #: text, long (a text area), bool or select
    value: Any
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    read_only: bool = False
    is_group = False

    @property
    def shown(self) -> str:
        return "" if self.value is None else str(self.value)


@dataclass
class FormGroup:
    """A nested object of the schema: a fieldset with a legend."""

    id: str
    label: str
    help: str
    children: list[FormField | FormGroup] = field(default_factory=list)
    error: str | None = None
    is_group = True


def _kind(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "select"
    if "boolean" in schema_types(schema):
        return "bool"
    return "long" if int(schema.get("maxLength") or 0) >= LONG_TEXT else "text"


def build_form(schema: Mapping[str, Any], data: Mapping[str, Any] | None, typed: Mapping[str, Any] | None = None,
               problems: Sequence[CaseProblem] = ()) -> list[FormField | FormGroup]:
    """The form's inputs for ``data`` (or what the clerk ``typed``, after a refusal), with ``problems`` at their
    fields."""
    errors = {problem.path: problem.message for problem in problems}
    return _nodes(schema, data if isinstance(data, Mapping) else {}, typed, errors, ())


def _nodes(schema: Mapping[str, Any], data: Mapping[str, Any], typed: Mapping[str, Any] | None,
           errors: dict[tuple[str, ...], str], path: tuple[str, ...]) -> list[FormField | FormGroup]:
    required = set(schema.get("required") or ())
    nodes: list[FormField | FormGroup] = []
    for key, sub in (schema.get("properties") or {}).items():
        here = (*path, key)
        ident = "-".join((PREFIX, *here))
        if "object" in schema_types(sub):
            value = data.get(key)
            nodes.append(FormGroup(ident, str(sub.get("title") or key), str(sub.get("description") or ""),
                                   _nodes(sub, value if isinstance(value, Mapping) else {}, typed, errors, here),
                                   errors.get(here)))
            continue
        name = ".".join((PREFIX, *here))
        kind = _kind(sub)
        value = data.get(key)
        if typed is not None and not sub.get("readOnly"):  # a read-only field is not sent back: it keeps its value
            value = typed.get(name) == "ja" if kind == "bool" else typed.get(name, "")
        titles = sub.get(CHOICE_TITLES_KEY) or {}
        options = tuple(("", "– keine Angabe –") if choice is None
                        else (str(choice), str(titles.get(str(choice), choice))) for choice in sub.get("enum") or ())
        if kind == "select" and not any(v == "" for v, _ in options):
            options = (("", "– bitte wählen –"), *options)
        options = tuple(sorted(options, key=lambda option: option[0] != ""))  # the empty choice first
        nodes.append(FormField(name, ident, str(sub.get("title") or key), str(sub.get("description") or ""), kind,
                               value, key in required, options, errors.get(here), bool(sub.get("readOnly"))))
    return nodes


def case_from_form(schema: Mapping[str, Any], form: Mapping[str, Any], old: Mapping[str, Any] | None) -> dict:
    """The case data a clerk submitted, in the schema's shape; values the form cannot show stay as they were."""
    return _values(schema, form, old if isinstance(old, Mapping) else {}, ())


def _values(schema: Mapping[str, Any], form: Mapping[str, Any], old: Mapping[str, Any],
            path: tuple[str, ...]) -> dict[str, Any]:
    result = {key: value for key, value in old.items() if key not in (schema.get("properties") or {})}
    for key, sub in (schema.get("properties") or {}).items():
        here = (*path, key)
        before = old.get(key)
        if "object" in schema_types(sub):
            result[key] = _values(sub, form, before if isinstance(before, Mapping) else {}, here)
            continue
        if sub.get("readOnly"):
            result[key] = before
            continue
        raw = form.get(".".join((PREFIX, *here)))
        kind = _kind(sub)
        if kind == "bool":
            result[key] = raw == "ja"
            continue
        text = str(raw if raw is not None else "").strip()
        if text == "" and (before is None or "string" not in schema_types(sub) or kind == "select"):
            result[key] = None if "null" in schema_types(sub) else ""
        else:
            result[key] = text
    return result
