"""The cooperation's process catalogue: which processes exist, who owns them, which cities adopt which version,
and whether every city robot still fits its process (``rathaus processes``, ``rathaus check``)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rathaus.core.config import (
    SCHEMA_FOLDER,
    ConfigError,
    known_cities,
    known_processes,
    load_city,
    load_process,
    load_robot_config,
    read_yaml,
)
from rathaus.core.project import Project
from rathaus.errors import RathausError

#: a section header of a Robot file that defines keywords (English or German)
_KEYWORD_SECTION = re.compile(r"^\*+\s*(keywords?|schlüsselwörter)\s*\**\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Adoption:
    """One city robot: the city, the process and the version it pins."""

    city: str
    process: str
    version: str

    @property
    def robot(self) -> str:
        return f"{self.city}/{self.process}"


@dataclass(frozen=True)
class CatalogueEntry:
    """A process with its owner, its current version and the cities that adopt it."""

    name: str
    title: str
    owner: str
    version: str
    adoptions: tuple[Adoption, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.name,
            "title": self.title,
            "owner": self.owner,
            "version": self.version,
            "cities": [{"city": a.city, "version": a.version} for a in self.adoptions],
        }


def robot_folders(project: Project) -> list[Path]:
    """Every city robot folder ``robots/<city>/<process>/`` (it holds a ``config.yaml``)."""
    return sorted(p.parent for p in project.robots.glob("*/*/config.yaml"))


def _pinned(config_file: Path) -> tuple[str | None, str | None]:
    try:
        data = read_yaml(config_file)
    except ConfigError:
        return None, None
    return data.get("process"), data.get("version")


def catalogue(project: Project) -> list[CatalogueEntry]:
    """All processes, each with the city robots that adopt it (as their ``config.yaml`` declares)."""
    adoptions: dict[str, list[Adoption]] = {}
    for folder in robot_folders(project):
        process, version = _pinned(folder / "config.yaml")
        if isinstance(process, str):
            adoptions.setdefault(process, []).append(Adoption(folder.parent.name, process, str(version)))
    entries = []
    for name in known_processes(project):
        meta = load_process(project, name)
        entries.append(CatalogueEntry(
            name=name, title=meta["title"], owner=meta["owner"], version=meta["version"],
            adoptions=tuple(adoptions.get(name, [])),
        ))
    return entries


@dataclass(frozen=True)
class Finding:
    """One problem ``rathaus check`` found: the file and a German message saying what to change."""

    path: Path
    message: str

    def text(self, root: Path) -> str:
        shown = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        return self.message if str(shown) in self.message else f"{shown}: {self.message}"


def _relative(message: str, root: Path) -> str:
    return message.replace(f"{root}/", "")


def check_processes(project: Project) -> list[Finding]:
    """Every ``process.yaml`` is valid, its owner is a known city, and its CHANGELOG names its version."""
    findings: list[Finding] = []
    cities = known_cities(project)
    for name in known_processes(project):
        folder = project.processes / name
        try:
            meta = load_process(project, name)
        except RathausError as error:
            findings.append(Finding(folder / "process.yaml", _relative(str(error), project.root)))
            continue
        if meta["owner"] not in cities:
            findings.append(Finding(folder / "process.yaml", (
                f"Schlüssel 'owner' hat den Wert {meta['owner']!r}; erlaubt sind: {', '.join(cities)}.")))
        changelog = folder / "CHANGELOG.md"
        if not changelog.is_file():
            findings.append(Finding(changelog, "CHANGELOG.md fehlt: Bitte die Änderungen je Version beschreiben."))
        elif f"[{meta['version']}]" not in changelog.read_text(encoding="utf-8"):
            findings.append(Finding(changelog, (
                f"kein Eintrag für die Version [{meta['version']}]: Bitte die Änderungen dieser Version ergänzen.")))
    return findings


def check_cities(project: Project) -> list[Finding]:
    """Every city's master data (``stadt.yaml`` and topic files) matches its schema."""
    findings = []
    for city in sorted(p.name for p in project.cities.iterdir() if p.is_dir() and p.name != SCHEMA_FOLDER):
        try:
            load_city(project, city)
        except RathausError as error:
            findings.append(Finding(project.cities / city, _relative(str(error), project.root)))
    return findings


def check_robot(project: Project, folder: Path) -> list[Finding]:
    """One city robot: config valid against its process's schema and pinned version, folder names match,
    ``tasks.robot`` thin and offering every step of the process."""
    config_file = folder / "config.yaml"
    try:
        config = load_robot_config(config_file, project=project)
    except RathausError as error:
        return [Finding(config_file, _relative(str(error), project.root))]
    findings = []
    city, process = folder.parent.name, folder.name
    if config["stadt"] != city:
        findings.append(Finding(config_file, (
            f"Schlüssel 'stadt' hat den Wert {config['stadt']!r}; erlaubt ist nur {city!r} (der Ordner der Stadt).")))
    if config["process"] != process:
        findings.append(Finding(config_file, (
            f"Schlüssel 'process' hat den Wert {config['process']!r}; erlaubt ist nur {process!r} (der Ordnername).")))
    findings += _foreign_paths(config, city, known_cities(project), config_file)
    tasks = folder / "tasks.robot"
    if not tasks.is_file():
        return [*findings, Finding(tasks, "tasks.robot fehlt: Bitte die dünne Aufgabendatei des Prozesses anlegen.")]
    text = tasks.read_text(encoding="utf-8")
    if _KEYWORD_SECTION.search(text):
        findings.append(Finding(tasks, (
            "enthält eigene Schlüsselwörter; eine Stadt-Robot-Datei importiert die Schritte des Prozesses "
            "und kopiert keine. Bitte die Schlüsselwörter in den Prozess verschieben.")))
    for step in config["prozess"]["steps"]:
        if not re.search(rf"^{re.escape(step['task'])}\s*$", text, re.MULTILINE):
            findings.append(Finding(tasks, (
                f"Aufgabe '{step['task']}' fehlt; der Prozess '{process}' führt sie als Schritt.")))
    return findings


def _strings(value: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _strings(item, f"{where}.{key}" if where else key)]
    if isinstance(value, list):
        return [pair for index, item in enumerate(value) for pair in _strings(item, f"{where}.{index}")]
    return [(where, value)] if isinstance(value, str) else []


def _foreign_paths(config: dict[str, Any], city: str, cities: list[str], path: Path) -> list[Finding]:
    """Local data (Maildirs, folders under RATHAUS_HOME) of a city robot must lie under ``<city>/``: a robot
    that points at another city's folder would read or write that city's cases."""
    own = {k: v for k, v in config.items() if k not in ("stadt_daten", "prozess")}
    findings = []
    for where, value in _strings(own):
        local = value.removeprefix("maildir:")
        first = local.split("/", 1)[0]
        if "/" in local and first in cities and first != city:
            findings.append(Finding(path, (
                f"Schlüssel '{where}' zeigt mit {value!r} auf Daten der Stadt '{first}'; erlaubt sind nur lokale "
                f"Pfade unter '{city}/'.")))
    return findings


def check_robot_yaml(project: Project) -> list[Finding]:
    """The top-level robot.yaml offers every step of every city robot (as ``make robot-yaml`` writes it)."""
    from rathaus.core.packaging import project_robot_yaml

    path = project.root / "robot.yaml"
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if current != project_robot_yaml(project):
        return [Finding(path, "passt nicht zu den Stadt-Robotern: Bitte `make robot-yaml` ausführen.")]
    return []


def check_all(project: Project) -> tuple[list[str], list[Finding]]:
    """Check processes, master data and every city robot; return (robots checked, findings)."""
    findings = [*check_processes(project), *check_cities(project)]
    robots = []
    for folder in robot_folders(project):
        robots.append(f"{folder.parent.name}/{folder.name}")
        for finding in check_robot(project, folder):
            # a broken master data file fails every robot of its city; say it once
            if finding.message not in {f.message for f in findings}:
                findings.append(finding)
    # a robot that cannot be read is reported above; robot.yaml cannot be compared before it is fixed
    with contextlib.suppress(RathausError):
        findings += check_robot_yaml(project)
    return robots, findings
