"""The template context of a letter: city master data, case data and today's date.

Nested mappings are wrapped so that a missing placeholder can be reported with its full dotted name
(``antragsteller.plz``) rather than Jinja's generic "'dict object' has no attribute".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined

from rathaus.documents.errors import CityDataError

#: Names the library puts into every context; case data keys with these names stay reachable via ``fall``.
RESERVED = ("stadt", "fall", "heute", "amt")

DATE_FORMAT = "%d.%m.%Y"


class PathDict(dict):
    """A dict that knows its dotted path inside the context, for error messages."""

    __slots__ = ("rathaus_path",)

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        super().__init__(data)
        self.rathaus_path = path


class MissingPlaceholder(Exception):
    """Internal: a placeholder had no value; ``path`` is its dotted name."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class TrackingUndefined(StrictUndefined):
    """StrictUndefined that reports the full dotted name of the missing value."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        name = self._undefined_name
        owner = self._undefined_obj
        parent = getattr(owner, "rathaus_path", None)
        if name is None:
            raise MissingPlaceholder(self._undefined_hint or "?")
        raise MissingPlaceholder(f"{parent}.{name}" if parent else str(name))



for _name in dir(StrictUndefined):
    if getattr(StrictUndefined, _name) is StrictUndefined._fail_with_undefined_error:
        setattr(TrackingUndefined, _name, TrackingUndefined._fail_with_undefined_error)


def track(value: Any, path: str) -> Any:
    """Wrap mappings (also inside lists) as :class:`PathDict`; format dates as TT.MM.JJJJ."""
    if isinstance(value, Mapping):
        return PathDict({str(k): track(v, f"{path}.{k}") for k, v in value.items()}, path)
    if isinstance(value, (list, tuple)):
        return [track(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dt.datetime):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    return value


def none_paths(value: Any, path: str = "") -> Iterator[str]:
    """Dotted names of the values that are ``None``, for the error when one is rendered."""
    if value is None:
        yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from none_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from none_paths(item, f"{path}[{index}]")


def load_city(city: Mapping[str, Any] | Path | str | None) -> dict[str, Any]:
    """Return the city's master data from a mapping, a city folder like ``resources/cities/giessen`` (its
    ``stadt.yaml``) or a YAML file."""
    if city is None:
        return {}
    if isinstance(city, Mapping):
        return dict(city)
    path = Path(city)
    if path.is_dir():
        path = path / "stadt.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CityDataError(
            f"Stammdaten der Stadt '{path}' fehlen: Pfad prüfen, z. B. resources/cities/giessen/stadt.yaml."
        ) from None
    except yaml.YAMLError:
        raise CityDataError(f"Stammdaten der Stadt '{path}' sind kein gültiges YAML: Datei korrigieren.") from None
    if not isinstance(data, dict):
        raise CityDataError(f"Stammdaten der Stadt '{path}' müssen eine Zuordnung (Schlüssel: Wert) sein.")
    return data


def department(city: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The department block ``stadt.aemter.<key>``, with a clear error naming the known keys."""
    offices = city.get("aemter") or {}
    if key not in offices:
        known = ", ".join(sorted(offices)) or "keine"
        name = city.get("id") or city.get("name") or "?"
        raise CityDataError(
            f"Amt '{key}' fehlt in den Stammdaten der Stadt '{name}' (bekannt: {known}): "
            "unter 'aemter' ergänzen oder einen bekannten Schlüssel angeben."
        )
    return dict(offices[key])


def build_context(
    data: Mapping[str, Any],
    city: Mapping[str, Any],
    *,
    amt: str | None,
    today: dt.date,
) -> dict[str, Any]:
    """The context a template sees: case keys top level, plus ``fall``, ``stadt``, ``amt`` and ``heute``."""
    context: dict[str, Any] = {str(k): track(v, str(k)) for k, v in data.items()}
    context["fall"] = track(data, "fall")
    context["stadt"] = track(city, "stadt")
    context["heute"] = today.strftime(DATE_FORMAT)
    key = amt if amt is not None else data.get("amt")
    if isinstance(key, str) and key:
        context["amt"] = track(department(city, key), "amt")
    elif "amt" in context and not isinstance(context["amt"], Mapping):
        del context["amt"]
    return context
