"""Loading and validating a city robot's configuration against its process's schema."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from rathaus.errors import ApplicationError
from rathaus.process.project import Project

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
        return f"{path}: unbekannter Schlüssel {keys}; erlaubt sind: {allowed}."
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        shown = ", ".join(repr(v) for v in allowed)
        return f"{path}: Schlüssel '{where}' hat den Wert {error.instance!r}; erlaubt sind: {shown}."
    if error.validator == "pattern":
        hint = error.schema.get("description", f"Muster {error.validator_value}")
        return f"{path}: Schlüssel '{where}' hat den Wert {error.instance!r}; erwartet: {hint}"
    return f"{path}: Schlüssel '{where}': {error.message}"


def validate(data: dict[str, Any], schema: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Validate ``data`` (from ``path``) against ``schema``; return it with defaults filled in."""
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        raise ConfigError(" ".join(_describe(error, path, schema) for error in errors[:5]))
    result = copy.deepcopy(data)
    _apply_defaults(schema, result)
    return result


def override_files() -> list[Path]:
    raw = os.environ.get(OVERRIDE_ENV, "")
    return [Path(part) for part in raw.split(os.pathsep) if part]


def load_process(project: Project, name: str) -> dict[str, Any]:
    """Read ``processes/<name>/process.yaml`` and its schema."""
    folder = project.processes / name
    meta = read_yaml(folder / "process.yaml")
    meta["schema"] = read_yaml(folder / meta.get("schema", "schema.yaml"))
    meta["folder"] = folder
    return meta


def load_city(project: Project, city: str) -> dict[str, Any]:
    path = project.cities / f"{city}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in project.cities.glob("*.yaml")))
        raise ConfigError(f"Stammdaten der Stadt '{city}' fehlen ({path}); vorhanden: {known}.")
    return read_yaml(path)


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
        known = ", ".join(sorted(p.parent.name for p in project.processes.glob("*/process.yaml")))
        raise ConfigError(f"{config_path}: Schlüssel 'process' hat den Wert {name!r}; erlaubt sind: {known}.")
    process = load_process(project, name)
    config = validate(data, process["schema"], config_path)
    if config["version"] != process["version"]:
        raise ConfigError(
            f"{config_path}: Schlüssel 'version' ist {config['version']!r}, der Prozess '{name}' liegt in "
            f"Version {process['version']!r} vor. Bitte die Version prüfen und anpassen."
        )
    config["stadt_daten"] = load_city(project, config["stadt"])
    config["prozess"] = {k: v for k, v in process.items() if k != "schema"}
    return config
