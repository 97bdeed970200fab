"""FastAPI dependencies shared by every route module: settings, database, who is asking, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from rathaus_controlroom.db import Database
from rathaus_controlroom.models import Runner, User
from rathaus_controlroom.services.errors import Forbidden, Unauthenticated
from rathaus_controlroom.services.users import Principal, principal_for_token, token_hash
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web import sessions

#: prefix of runner tokens (user API tokens start with ``rh_``)
RUNNER_TOKEN_PREFIX = "rr_"  # noqa: S105 - a public prefix, not a secret


@dataclass(frozen=True)
class RunnerIdentity:
    """The runner machine calling the runner API; it may only see runs of its city."""

    runner_id: int
    city_id: str
    name: str


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request, committed when the route returns without error."""
    with request.app.state.database.session() as session:
        yield session


#: the request's database session; ``scope="function"`` commits before the response is sent, so that a
#: client's next request sees what this one wrote
Db = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_principal(request: Request) -> Principal:
    """The user behind an API token (``Authorization: Bearer rh_…``) or the session cookie."""
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    token = _bearer(request)
    with database.session() as session:
        if token:
            return principal_for_token(session, token)
        cookie = request.cookies.get(sessions.COOKIE)
        if not cookie:
            raise Unauthenticated("Bitte melden Sie sich an.")
        user_id, _ = sessions.read(settings.session_key, cookie, settings.session_timeout_s)
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthenticated("Ihr Zugang ist nicht mehr aktiv. Bitte wenden Sie sich an die Administration.")
        request.state.session_cookie = cookie
        return Principal.of(user)


def runner_identity(request: Request) -> RunnerIdentity:
    """The runner behind ``Authorization: Bearer rr_…``; runner machines hold no database credentials."""
    token = _bearer(request)
    if not token or not token.startswith(RUNNER_TOKEN_PREFIX):
        raise Unauthenticated("Runner-Token fehlt oder ist ungültig.")
    with request.app.state.database.session() as session:
        runner = session.scalar(select(Runner).where(Runner.token_hash == token_hash(token), Runner.active.is_(True)))
        if runner is None:
            raise Unauthenticated("Runner-Token fehlt oder ist ungültig.")
        return RunnerIdentity(runner.id, runner.city_id, runner.name)


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request that rides on the session cookie without the session's CSRF token.

    API calls with a bearer token carry no cookie and need no CSRF token. Browser forms send the token in
    the field ``csrf_token``, scripts in the header ``X-CSRF-Token``.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or _bearer(request):
        return
    cookie = request.cookies.get(sessions.COOKIE)
    if not cookie:
        return  # no session: current_principal will refuse
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        token = (await request.form()).get("csrf_token")
    if not sessions.csrf_ok(request.app.state.settings.session_key, cookie, str(token) if token else None):
        raise Forbidden("Die Anfrage kam ohne gültiges Sicherheitsmerkmal (CSRF). Bitte die Seite neu laden und "
                        "erneut absenden; es wurde nichts geändert.")
