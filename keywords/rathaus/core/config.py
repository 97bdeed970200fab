"""Loading and validating a city robot's configuration against its process's schema."""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from rathaus.core.project import Project
from rathaus.errors import ApplicationError

#: Environment variable with YAML files (os.pathsep separated) whose keys override a robot's config.
OVERRIDE_ENV = "RATHAUS_CONFIG_OVERRIDE"


class ConfigError(ApplicationError):
    """A city's configuration is missing, unreadable or does not match its process's schema."""

    code = "CONFIG_ERROR"


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping, with a clear error for a missing or malformed file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Konfigurationsdatei '{path}' fehlt.") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (Zeile {mark.line + 1})" if mark else ""
        raise ConfigError(f"Konfigurationsdatei '{path}' ist kein gültiges YAML{where}.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Konfigurationsdatei '{path}' muss eine Zuordnung (Schlüssel: Wert) enthalten.")
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in; nested mappings merge, other values replace."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _apply_defaults(schema: Mapping[str, Any], data: dict[str, Any]) -> None:
    for key, sub in schema.get("properties", {}).items():
        if key not in data and "default" in sub:
            data[key] = copy.deepcopy(sub["default"])
        if sub.get("type") == "object":
            if key not in data and not sub.get("required"):
                data[key] = {}
            if isinstance(data.get(key), dict):
                _apply_defaults(sub, data[key])


def _describe(error: ValidationError, path: Path, schema: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "(oberste Ebene)"
    if error.validator == "required":
        missing = error.message.split("'")[1]
        key = f"{where}.{missing}" if error.absolute_path else missing
        return f"{path}: Pflichtschlüssel '{key}' fehlt."
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        keys = ", ".join(f"'{where}.{k}'" if error.absolute_path else f"'{k}'" for k in extra)
        guesses = [m for k in extra for m in difflib.get_close_matches(str(k), error.schema.get("properties", {}), 1)]
        hint = f" Gemeint ist vielleicht: {', '.join(repr(g) for g in guesses)}." if guesses else ""
        return f"{path}: unbekannter Schlüssel {keys}; erlaubt sind: {allowed}.{hint}"
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        shown = ", ".join(repr(v) for v in allowed)
        return f"{path}: Schlüssel '{where}' hat den Wert {error.instance!r}; erlaubt sind: {shown}."
    if error.validator == "pattern":
        hint = error.schema.get("description", f"Muster {error.validator_value}")
        return f"{path}: Schlüssel '{where}' hat den Wert {error.instance!r}; erwartet: {hint}"
    if error.validator == "format":
        expected = _FORMATS.get(error.validator_value, f"das Format {error.validator_value}")
        return f"{path}: Schlüssel '{where}' hat den Wert {error.instance!r}; erwartet: {expected}."
    return f"{path}: Schlüssel '{where}': {error.message}"


def _format_checker() -> FormatChecker:
    """JSON Schema formats, plus ``leitweg-id`` (syntax and ISO 7064 check digits of a Leitweg-ID)."""
    from rathaus.einvoice.leitweg import is_valid_leitweg_id

    checker = FormatChecker()
    checker.checks("leitweg-id")(lambda value: not isinstance(value, str) or is_valid_leitweg_id(value))
    return checker


#: German description of what a value of a JSON Schema format must be
_FORMATS = {
    "regex": "ein gültiger regulärer Ausdruck (Python-Syntax)",
    "leitweg-id": "eine gültige Leitweg-ID mit richtiger Prüfziffer (ISO 7064 Mod 97-10)",
    "email": "eine E-Mail-Adresse",
}


def validate(data: dict[str, Any], schema: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Validate ``data`` (from ``path``) against ``schema``; return it with defaults filled in."""
    validator = Draft202012Validator(schema, format_checker=_format_checker())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        raise ConfigError(" ".join(_describe(error, path, schema) for error in errors[:5]))
    result = copy.deepcopy(data)
    _apply_defaults(schema, result)
    return result


def override_files() -> list[Path]:
    raw = os.environ.get(OVERRIDE_ENV, "")
    return [Path(part) for part in raw.split(os.pathsep) if part]


PROCESS_SCHEMA = Path(__file__).with_name("process_schema.yaml")


def load_process(project: Project, name: str) -> dict[str, Any]:
    """Read and validate ``processes/<name>/process.yaml``; the result carries its config ``schema``
    (parsed), its case schema ``case_schema`` (parsed, when it declares ``case``) and its ``folder``."""
    folder = project.processes / name
    path = folder / "process.yaml"
    meta = validate(read_yaml(path), read_yaml(PROCESS_SCHEMA), path)
    if meta["name"] != name:
        raise ConfigError(f"{path}: Schlüssel 'name' ist {meta['name']!r}, erwartet wird der Ordnername {name!r}.")
    meta["schema"] = read_yaml(folder / meta["schema"])
    if "case" in meta:
        from rathaus.core.cases import load_case_schema

        meta["case_schema"] = load_case_schema(folder, meta["case"])
    meta["folder"] = folder
    return meta


def known_processes(project: Project) -> list[str]:
    """Names of all processes (folders with a ``process.yaml``)."""
    return sorted(p.parent.name for p in project.processes.glob("*/process.yaml"))


#: folder beside the cities' folders that holds the schemas of their master data files
SCHEMA_FOLDER = "schemas"


def city_schema(project: Project, topic: str) -> dict[str, Any] | None:
    """The JSON Schema of one master data file (``resources/cities/schemas/<topic>.yaml``), if there is one."""
    path = project.cities / SCHEMA_FOLDER / f"{topic}.yaml"
    return read_yaml(path) if path.is_file() else None


def known_cities(project: Project) -> list[str]:
    """Keys of all cities with master data (``resources/cities/<city>/stadt.yaml``)."""
    return sorted(p.parent.name for p in project.cities.glob("*/stadt.yaml") if p.parent.name != SCHEMA_FOLDER)


def load_city(project: Project, city: str) -> dict[str, Any]:
    """Read a city's master data: ``stadt.yaml`` plus every topic file beside it, each validated.

    A topic file ``resources/cities/<city>/<topic>.yaml`` appears as the key ``<topic>`` of the result.
    """
    folder = project.cities / city
    base = folder / "stadt.yaml"
    if not base.is_file():
        known = ", ".join(known_cities(project))
        raise ConfigError(f"Stammdaten der Stadt '{city}' fehlen ({base}); vorhanden: {known}.")
    data = read_yaml(base)
    schema = city_schema(project, "stadt")
    if schema:
        data = validate(data, schema, base)
    if data.get("id") != city:
        raise ConfigError(f"{base}: Schlüssel 'id' ist {data.get('id')!r}, erwartet wird der Ordnername {city!r}.")
    for topic_file in sorted(folder.glob("*.yaml")):
        topic = topic_file.stem
        if topic == "stadt":
            continue
        if topic in data:
            raise ConfigError(f"{topic_file}: das Thema '{topic}' ist schon ein Schlüssel in stadt.yaml.")
        topic_data = read_yaml(topic_file)
        schema = city_schema(project, topic)
        data[topic] = validate(topic_data, schema, topic_file) if schema else topic_data
    return data


#: prefix of a section URL that names an entry of the city's master data (``systeme``)
CITY_URL_PREFIX = "stadt:"


def resolve_city_urls(data: dict[str, Any], city: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Replace ``url: stadt:<key>`` in top-level sections by the city's ``systeme.<key>`` address."""
    systems = city.get("systeme") or {}
    resolved = copy.deepcopy(data)
    for section, settings in resolved.items():
        url = settings.get("url") if isinstance(settings, dict) else None
        if isinstance(url, str) and url.startswith(CITY_URL_PREFIX):
            key = url.removeprefix(CITY_URL_PREFIX)
            if key not in systems:
                allowed = ", ".join(f"'{CITY_URL_PREFIX}{k}'" for k in sorted(systems)) or "keine"
                raise ConfigError(f"{path}: Schlüssel '{section}.url' hat den Wert {url!r}; die Stammdaten der Stadt "
                                  f"kennen unter 'systeme' nur: {allowed}.")
            settings["url"] = systems[key]
    return resolved


def load_robot_config(config_path: Path, overrides: Iterable[Path] = (), project: Project | None = None):
    """Load a city robot's config, apply override files, validate it and attach the master data.

    Returns the configuration mapping with two added keys: ``stadt_daten`` (the city's master data)
    and ``prozess`` (the process metadata without its schema).
    """
    config_path = Path(config_path).resolve()
    project = project or Project.locate(config_path.parent)
    data = read_yaml(config_path)
    for override in overrides:
        data = deep_merge(data, read_yaml(override))
    name = data.get("process")
    if not isinstance(name, str) or not (project.processes / name / "process.yaml").is_file():
        known = ", ".join(known_processes(project))
        raise ConfigError(f"{config_path}: Schlüssel 'process' hat den Wert {name!r}; erlaubt sind: {known}.")
    process = load_process(project, name)
    city = load_city(project, data["stadt"]) if isinstance(data.get("stadt"), str) else None
    if city is not None:
        data = resolve_city_urls(data, city, config_path)
    config = validate(data, process["schema"], config_path)
    if config["version"] != process["version"]:
        raise ConfigError(
            f"{config_path}: Schlüssel 'version' ist {config['version']!r}, der Prozess '{name}' liegt in "
            f"Version {process['version']!r} vor. Bitte die Version prüfen und anpassen."
        )
    config["stadt_daten"] = city if city is not None else load_city(project, config["stadt"])
    config["prozess"] = {k: v for k, v in process.items() if k != "schema"}
    return config
