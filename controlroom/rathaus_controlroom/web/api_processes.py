"""Processes over HTTP: the catalogue of published versions, and publishing the repository's current version.

HTTP only; :mod:`rathaus_controlroom.services.publishing` does the work and decides who sees and may do what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from rathaus.core.project import Project

from rathaus_controlroom.services import publishing
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal, get_settings

router = APIRouter(tags=["Prozesse"])

Who = Annotated[Principal, Depends(current_principal)]
Config = Annotated[Settings, Depends(get_settings)]


def get_project(request: Request) -> Project:
    """The project whose processes are published: ``app.state.project`` if set (tests), else the checkout."""
    project = getattr(request.app.state, "project", None)
    return project if project is not None else Project.locate()


Repo = Annotated[Project, Depends(get_project)]


class VersionOut(BaseModel):
    version: str
    #: the version's section of processes/<process>/CHANGELOG.md
    changelog: str
    published_at: datetime
    published_by: str | None

    @classmethod
    def of(cls, view: publishing.PublishedVersion) -> VersionOut:
        return cls(version=view.version, changelog=view.changelog, published_at=view.published_at,
                   published_by=view.published_by)


class RobotVersionOut(BaseModel):
    city: str
    #: the version the city's robots/<city>/<process>/config.yaml pins
    version: str
    #: current, outdated, unpublished or nothing_published
    status: str
    hint: str

    @classmethod
    def of(cls, view: publishing.RobotVersion) -> RobotVersionOut:
        return cls(city=view.city, version=view.version, status=view.status, hint=view.hint)


class RepositoryOut(BaseModel):
    version: str
    publishable: bool
    reason: str | None
    changelog: str | None


class ProcessOut(BaseModel):
    process: str
    title: str
    owner: str
    newest: str | None
    #: published versions, newest first
    versions: list[VersionOut]
    #: your city's robot of this process (null: your city has not adopted it)
    own_robot: RobotVersionOut | None
    #: every adopting city's robot (owners of the process only)
    adoption: list[RobotVersionOut] | None
    #: the repository's current version (owners of the process only)
    repository: RepositoryOut | None

    @classmethod
    def of(cls, view: publishing.ProcessCatalogue) -> ProcessOut:
        repository = view.repository
        return cls(
            process=view.process, title=view.title, owner=view.owner,
            newest=view.newest.version if view.newest else None,
            versions=[VersionOut.of(version) for version in view.versions],
            own_robot=RobotVersionOut.of(view.own_robot) if view.own_robot else None,
            adoption=[RobotVersionOut.of(robot) for robot in view.adoption] if view.adoption is not None else None,
            repository=RepositoryOut(version=repository.version, publishable=repository.publishable,
                                     reason=repository.reason, changelog=repository.changelog)
            if repository else None,
        )


class PublishIn(BaseModel):
    """``version``: the version you mean to publish; refused if the repository holds another one by now."""

    version: str | None = None


@router.get("/processes", response_model=list[ProcessOut])
def list_processes(principal: Who, session: Db, settings: Config, project: Repo) -> list[ProcessOut]:
    """Every process with its published versions and whether your city's robot runs the newest; for process
    owners also which version each adopting city runs, and the repository's current version."""
    return [ProcessOut.of(entry) for entry in
            publishing.process_catalogue(session, principal, project, timezone_name=settings.timezone)]


@router.post("/processes/{name}/publish", response_model=VersionOut, status_code=201,
             dependencies=[Depends(csrf_protect)])
def publish_process(name: str, principal: Who, session: Db, settings: Config, project: Repo,
                    body: PublishIn | None = None) -> VersionOut:
    """Publish the repository's current version of a process your city owns (process owners only). Refused with
    422 without a CHANGELOG section, with 409 if it is already published or lower than the newest; nothing
    changes then."""
    view = publishing.publish_version(session, principal, project, name, body.version if body else None,
                                      timezone_name=settings.timezone)
    return VersionOut.of(view)
