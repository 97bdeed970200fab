"""The clerk's case form, generated from the process's case schema: labels from ``title``, help from
``description``, nested objects as fieldsets, choices (``enum``) as selects, yes/no as checkboxes.

Form fields are named ``fall.<path>`` (``fall.antragsteller.iban``); :func:`case_from_form` turns a submitted form
back into case data of the schema's shape. Validation is the service's (:func:`rathaus.core.cases.case_problems`);
its problems come back here to be shown at their fields (``aria-describedby``, ``aria-invalid``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rathaus.core.cases import CaseProblem

PREFIX = "fall"


@dataclass
class FormField:
    """One input of the form."""

    name: str
    id: str
    label: str
    help: str
    kind: str  #: text, bool or select
    value: Any
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    error: str | None = None
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


def _types(schema: Mapping[str, Any]) -> set[str]:
    value = schema.get("type", "string")
    return set(value) if isinstance(value, list) else {value}


def _kind(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "select"
    return "bool" if "boolean" in _types(schema) else "text"


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
        if "object" in _types(sub):
            value = data.get(key)
            nodes.append(FormGroup(ident, str(sub.get("title") or key), str(sub.get("description") or ""),
                                   _nodes(sub, value if isinstance(value, Mapping) else {}, typed, errors, here),
                                   errors.get(here)))
            continue
        name = ".".join((PREFIX, *here))
        kind = _kind(sub)
        value = data.get(key)
        if typed is not None:
            value = typed.get(name) == "ja" if kind == "bool" else typed.get(name, "")
        options = tuple(("" if choice is None else str(choice), "– keine Angabe –" if choice is None else str(choice))
                        for choice in sub.get("enum") or ())
        if kind == "select" and not any(v == "" for v, _ in options):
            options = (("", "– bitte wählen –"), *options)
        nodes.append(FormField(name, ident, str(sub.get("title") or key), str(sub.get("description") or ""), kind,
                               value, key in required, options, errors.get(here)))
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
        if "object" in _types(sub):
            result[key] = _values(sub, form, before if isinstance(before, Mapping) else {}, here)
            continue
        raw = form.get(".".join((PREFIX, *here)))
        kind = _kind(sub)
        if kind == "bool":
            result[key] = raw == "ja"
            continue
        text = str(raw if raw is not None else "").strip()
        if text == "" and (before is None or "string" not in _types(sub) or kind == "select"):
            result[key] = None if "null" in _types(sub) else ""
        else:
            result[key] = text
    return result
