"""Published process versions: owners publish the repository's current version, cities see whether they are behind.

The repository is the source of a version: ``processes/<name>/process.yaml`` names the current ``version`` and
``CHANGELOG.md`` describes it under ``## [x.y.z]``. Publishing copies both into :class:`ProcessVersion` (rows are
only added), so that every adopting city sees what changed before it raises the ``version:`` of its
``robots/<city>/<process>/config.yaml``.

Everyone logged in sees every process's published versions and their own city's robot against the newest.
Owners see in addition, for the processes their city owns, the repository's current version and which version
each adopting city runs, and they may publish. Robot versions are platform state, not case data.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from rathaus.core.config import known_processes, load_process
from rathaus.core.project import Project
from rathaus.errors import RathausError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rathaus_controlroom.models import City, ProcessVersion, Robot, Role, User
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.users import Principal

log = logging.getLogger(__name__)

#: process.yaml allows MAJOR.MINOR.PATCH only; for those, semver precedence is the order of the number triple
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
#: a section heading of a "Keep a Changelog" file: ``## [0.2.0] – 2026-12-01``
_HEADING = re.compile(r"^##\s+\[([^\]]+)\]")


class RobotStatus:
    """How a city robot's pinned version relates to the newest published one."""

    CURRENT = "current"  #: pins the newest published version
    OUTDATED = "outdated"  #: pins an older version: the city should read the CHANGELOG and raise it
    UNPUBLISHED = "unpublished"  #: pins a version that is not (yet) published, or nothing is published
    NOTHING_PUBLISHED = "nothing_published"  #: the owner has not published any version of the process yet


def semver_key(version: str) -> tuple[int, int, int] | None:
    """``"0.10.2"`` -> ``(0, 10, 2)``; None for anything that is not MAJOR.MINOR.PATCH."""
    match = _SEMVER.match(version.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def changelog_section(text: str, version: str) -> str | None:
    """The body of the ``## [version]`` section of a CHANGELOG (without its heading), or None if there is none."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and match[1].strip() == version:
            body = []
            for following in lines[index + 1:]:
                if following.startswith("## "):
                    break
                body.append(following)
            return "\n".join(body).strip()
    return None


# --- views ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedVersion:
    """One published version as everyone sees it."""

    process: str
    version: str
    changelog: str
    published_at: datetime
    published_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "changelog": self.changelog, "published_at": self.published_at.isoformat(),
                "published_by": self.published_by}


@dataclass(frozen=True)
class RobotVersion:
    """A city robot's pinned version against the newest published one, with a German hint."""

    city: str
    version: str
    status: str
    hint: str


@dataclass(frozen=True)
class RepositoryVersion:
    """The version the repository holds now (owners only): can it be published, and if not, why not."""

    version: str
    publishable: bool
    reason: str | None
    changelog: str | None


@dataclass(frozen=True)
class ProcessCatalogue:
    """One process of the catalogue: its published versions (newest first) and what the principal may see."""

    process: str
    title: str
    owner: str
    versions: tuple[PublishedVersion, ...]
    #: the principal's own city robot of this process (None: their city has not adopted it)
    own_robot: RobotVersion | None
    #: every adopting city's robot (owners of the process only, else None)
    adoption: tuple[RobotVersion, ...] | None
    #: the repository's current version (owners of the process only, else None)
    repository: RepositoryVersion | None

    @property
    def newest(self) -> PublishedVersion | None:
        return self.versions[0] if self.versions else None


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _local_day(moment: datetime, timezone_name: str) -> str:
    return _as_utc(moment).astimezone(ZoneInfo(timezone_name)).strftime("%d.%m.%Y")


def _newest_first(versions: list[PublishedVersion]) -> list[PublishedVersion]:
    return sorted(versions, key=lambda v: (semver_key(v.version) or (-1, -1, -1), v.published_at), reverse=True)


def robot_version(city: str, process: str, pinned: str, newest: PublishedVersion | None, own: bool,
                  timezone_name: str = "Europe/Berlin") -> RobotVersion:
    """Compare a robot's pinned version with the newest published one; the hint speaks to the city itself when
    ``own`` (its admins and clerks), else about it (the process owner)."""
    config = f"robots/{city}/{process}/config.yaml"
    subject = "Ihr Roboter nutzt" if own else "Der Roboter nutzt"
    if newest is None:
        return RobotVersion(city, pinned, RobotStatus.NOTHING_PUBLISHED,
                            f"{subject} {pinned}; für diesen Prozess ist noch keine Version veröffentlicht.")
    pinned_key, newest_key = semver_key(pinned), semver_key(newest.version)
    if pinned == newest.version:
        return RobotVersion(city, pinned, RobotStatus.CURRENT,
                            f"{subject} die neueste veröffentlichte Version {pinned}.")
    if pinned_key is not None and newest_key is not None and pinned_key < newest_key:
        day = _local_day(newest.published_at, timezone_name)
        action = (f"bitte CHANGELOG lesen und in {config} die Version anheben" if own
                  else f"die Stadt sollte das CHANGELOG lesen und die Version in {config} anheben")
        return RobotVersion(city, pinned, RobotStatus.OUTDATED,
                            f"Version {newest.version} veröffentlicht am {day} – {subject} {pinned}: {action}.")
    return RobotVersion(city, pinned, RobotStatus.UNPUBLISHED,
                        f"{subject} {pinned}, eine nicht veröffentlichte Version; veröffentlicht ist "
                        f"zuletzt {newest.version}.")


# --- reading the repository ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    process: str
    title: str
    owner: str
    version: str
    changelog: str | None
    #: why the repository's version cannot be published, whatever the database says (None: it can)
    problem: str | None


def _source(project: Project, name: str) -> _Source:
    """The process's current version and its CHANGELOG section, read from the repository."""
    if name not in known_processes(project):
        raise NotFound(f"Einen Prozess '{name[:100]}' gibt es im Repository nicht (processes/{name[:100]}/process.yaml "
                       "fehlt).")
    try:
        meta = load_process(project, name)
    except RathausError as error:
        raise Invalid(f"processes/{name}/process.yaml ist fehlerhaft: {error} Bitte zuerst korrigieren; es wurde "
                      "nichts veröffentlicht.") from None
    version = str(meta["version"])
    path = project.processes / name / "CHANGELOG.md"
    changelog, problem = None, None
    if not path.is_file():
        problem = (f"processes/{name}/CHANGELOG.md fehlt. Bitte die Änderungen der Version {version} dort unter "
                   f"'## [{version}]' beschreiben.")
    else:
        changelog = changelog_section(path.read_text(encoding="utf-8"), version)
        if changelog is None:
            problem = (f"processes/{name}/CHANGELOG.md hat keinen Abschnitt '## [{version}]'. Bitte die Änderungen "
                       f"der Version {version} dort beschreiben, bevor sie veröffentlicht wird.")
        elif not changelog:
            problem = (f"Der Abschnitt '## [{version}]' in processes/{name}/CHANGELOG.md ist leer. Bitte die "
                       "Änderungen für die Städte beschreiben.")
    return _Source(name, str(meta["title"]), str(meta["owner"]), version, changelog, problem)


def _published(session: Session, process: str | None = None) -> dict[str, list[PublishedVersion]]:
    query = select(ProcessVersion, User.name).outerjoin(User, User.id == ProcessVersion.published_by)
    if process is not None:
        query = query.where(ProcessVersion.process == process)
    result: dict[str, list[PublishedVersion]] = {}
    for row, user in session.execute(query):
        result.setdefault(row.process, []).append(PublishedVersion(
            row.process, row.version, row.changelog, _as_utc(row.published_at), user))
    return {name: _newest_first(versions) for name, versions in result.items()}


def _refusal(source: _Source, versions: list[PublishedVersion], timezone_name: str) -> Invalid | Conflict | None:
    """Why the repository's version may not be published now (None: it may)."""
    if source.problem:
        return Invalid(source.problem)
    same = next((v for v in versions if v.version == source.version), None)
    if same is not None:
        return Conflict(f"Version {source.version} von '{source.process}' ist bereits veröffentlicht (am "
                        f"{_local_day(same.published_at, timezone_name)}). Für eine neue Version bitte in "
                        f"processes/{source.process}/process.yaml die Version anheben und sie im CHANGELOG.md "
                        "beschreiben.")
    newest = versions[0] if versions else None
    key, newest_key = semver_key(source.version), semver_key(newest.version) if newest else None
    if newest is not None and (key is None or newest_key is None or key < newest_key):
        return Conflict(f"Version {source.version} von '{source.process}' ist niedriger als die bereits "
                        f"veröffentlichte Version {newest.version}. Veröffentlicht werden kann nur eine höhere "
                        "Version; bitte process.yaml und CHANGELOG.md prüfen.")
    return None


# --- the entry points ----------------------------------------------------------------------------------------


def _owner_name(session: Session, city: str) -> str:
    row = session.get(City, city)
    return row.name if row is not None else city


def publish_version(session: Session, principal: Principal, project: Project, process: str,
                    expected_version: str | None = None, timezone_name: str = "Europe/Berlin") -> PublishedVersion:
    """Publish the repository's current version of ``process`` (owners of the process only).

    ``expected_version``: the version the owner saw; if the repository holds another one by now, nothing is
    published (:class:`Conflict`). Refused without a CHANGELOG section (:class:`Invalid`), and for a version
    already published or lower than the newest published one (:class:`Conflict`); nothing changes then.
    """
    if principal.role is not Role.OWNER or not principal.city_id:
        raise Forbidden("Versionen veröffentlichen können nur Prozessverantwortliche der Stadt, der der Prozess "
                        "gehört.")
    source = _source(project, process)
    if source.owner != principal.city_id:
        raise Forbidden(f"Den Prozess '{process}' verantwortet {_owner_name(session, source.owner)}. Versionen "
                        "veröffentlichen können nur die Prozessverantwortlichen dieser Stadt.")
    if expected_version is not None and expected_version.strip() != source.version:
        raise Conflict(f"Im Repository steht für '{process}' inzwischen Version {source.version}, nicht "
                       f"{expected_version.strip()[:32]}. Bitte die Seite neu laden und die Änderungen prüfen; es "
                       "wurde nichts veröffentlicht.")
    versions = _published(session, process).get(process, [])
    refusal = _refusal(source, versions, timezone_name)
    if refusal is not None:
        raise refusal
    row = ProcessVersion(process=process, version=source.version, title=source.title, owner_city_id=source.owner,
                         changelog=source.changelog or "", published_by=principal.user_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"Version {source.version} von '{process}' wurde gerade veröffentlicht. Bitte die Seite neu "
                       "laden.") from None
    previous = versions[0].version if versions else None
    audit.record(session, principal, "publish_version", "process", process, source.owner, version=source.version,
                 previous=previous)
    log.info("action=publish_version city=%s process=%s version=%s", source.owner, process, source.version)
    return PublishedVersion(process, row.version, row.changelog, _as_utc(row.published_at), principal.name)


def process_catalogue(session: Session, principal: Principal, project: Project | None = None,
                      timezone_name: str = "Europe/Berlin") -> list[ProcessCatalogue]:
    """Every process with its published versions; the principal's own robot against the newest; for owners of a
    process in addition the adopting cities' robots and the repository's current version (needs ``project``)."""
    published = _published(session)
    robots = list(session.scalars(select(Robot).order_by(Robot.process, Robot.city_id)))
    titles: dict[str, tuple[str, str]] = {robot.process: (robot.title, robot.owner_city_id) for robot in robots}
    for name in published:
        row = session.scalar(select(ProcessVersion).where(ProcessVersion.process == name)
                             .order_by(ProcessVersion.id.desc()).limit(1))
        titles.setdefault(name, (row.title, row.owner_city_id))
    sources: dict[str, _Source] = {}
    if principal.role is Role.OWNER and principal.city_id and project is not None:
        for name in known_processes(project):
            try:
                source = _source(project, name)
            except Invalid as error:
                log.warning("action=read_process process=%s problem=%s", name, type(error).__name__)
                continue
            if source.owner == principal.city_id:
                sources[name] = source
                titles[name] = (source.title, source.owner)
    entries = []
    for name in sorted(titles, key=lambda key: titles[key][0].casefold()):
        title, owner = titles[name]
        versions = published.get(name, [])
        newest = versions[0] if versions else None
        own = next((robot for robot in robots if robot.process == name and robot.city_id == principal.city_id), None)
        own_robot = (robot_version(own.city_id, name, own.version, newest, own=True, timezone_name=timezone_name)
                     if own is not None else None)
        owns = principal.role is Role.OWNER and principal.city_id == owner
        adoption = tuple(robot_version(robot.city_id, name, robot.version, newest, own=False,
                                       timezone_name=timezone_name)
                         for robot in robots if robot.process == name) if owns else None
        repository = None
        if owns and name in sources:
            source = sources[name]
            refusal = _refusal(source, versions, timezone_name)
            repository = RepositoryVersion(source.version, refusal is None, str(refusal) if refusal else None,
                                           source.changelog)
        entries.append(ProcessCatalogue(name, title, owner, tuple(versions), own_robot, adoption, repository))
    return entries
