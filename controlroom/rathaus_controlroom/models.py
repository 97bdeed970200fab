"""The control room's records. Everything a city owns carries ``city_id``; queries filter by it (services/).

Enums store their value (German-free, stable); the UI translates them. Timestamps are UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, ClassVar

from rathaus.workitems.states import ItemState
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rathaus_controlroom.roles import Role

__all__ = ["ItemState", "Role"]  # re-exported: services and tests import them from here


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, values_callable=lambda members: [m.value for m in members], native_enum=False, length=32,
                validate_strings=True)


class RunState(enum.Enum):
    QUEUED = "queued"  #: waiting for a runner
    RUNNING = "running"  #: a runner holds the lease
    SUCCEEDED = "succeeded"  #: the robot finished; cases may still have gone to a clerk
    FAILED = "failed"  #: the robot or its runner failed (application failure)
    CANCELLED = "cancelled"  #: stopped on request


class City(Base):
    __tablename__ = "cities"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    city_id: Mapped[str | None] = mapped_column(ForeignKey("cities.id"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A user's API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Runner(Base):
    """A machine that runs robots of one city; it authenticates with its token (SHA-256 stored)."""

    __tablename__ = "runners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("city_id", "name"),)


class Robot(Base):
    """A city robot (``robots/<city>/<process>``) as the catalogue knows it."""

    __tablename__ = "robots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    process: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(32))
    owner_city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))

    __table_args__ = (UniqueConstraint("city_id", "process"),)


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots.id"))
    state: Mapped[RunState] = mapped_column(_enum(RunState), default=RunState.QUEUED)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"))
    #: the mail trigger that started the run (new mail in the robot's mailbox)
    trigger_id: Mapped[int | None] = mapped_column(ForeignKey("mail_triggers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    runner_id: Mapped[int | None] = mapped_column(ForeignKey("runners.id"))
    lease_until: Mapped[datetime | None] = mapped_column()
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    cases_done: Mapped[int] = mapped_column(Integer, default=0)
    cases_total: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    #: German one-line outcome for the clerk (no personal data)
    message: Mapped[str | None] = mapped_column(Text)
    #: not stored: uploaded mails that :func:`services.runs.start_run` found already were cases (reported, not started)
    known_cases = ()

    __table_args__ = (Index("ix_runs_claim", "state", "city_id", "created_at"),)


class WorkItem(Base):
    __tablename__ = "work_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    reference: Mapped[str] = mapped_column(String(255))
    state: Mapped[ItemState] = mapped_column(_enum(ItemState), default=ItemState.NEW)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: while IN_PROGRESS: until when the holding run attempt has the item; after that it goes back to the queue
    lease_until: Mapped[datetime | None] = mapped_column()
    #: the run attempt that holds the item (``<run id>:<attempt>``); calls of any other attempt are refused
    holder: Mapped[str | None] = mapped_column(String(64))
    #: the input item a producer step created this item from
    parent_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("robot_id", "reference"), Index("ix_items_state", "city_id", "state"),
                      Index("ix_items_queue", "robot_id", "state", "next_attempt_at"))


class WorkItemAttempt(Base):
    """One attempt at a work item: which run reserved it, and how it was released (the case page's history)."""

    __tablename__ = "work_item_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    number: Mapped[int] = mapped_column(Integer)
    #: an :class:`ItemState` value: in_progress while the attempt runs, then how it ended
    state: Mapped[str] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_item_attempts_item", "item_id", "number"),)


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots.id"))
    cron: Mapped[str] = mapped_column(String(100))
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    #: next due time (UTC); a firing moves it forward in the same transaction, so no instance fires twice
    next_run_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MailTrigger(Base):
    """Starts a city robot when new mail arrives in its mailbox (IMAP IDLE where offered, else polling).

    A watcher (``mailwatch``) counts arrivals in ``seen``; the clock queues one run while ``seen`` is ahead of
    ``fired`` and no run of the robot is queued or running, and sets ``fired`` to the ``seen`` it covered (one run
    for many mails; mail during a run starts one more run afterwards, none is lost).
    """

    __tablename__ = "mail_triggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots.id"), unique=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    #: seconds between looks at a mailbox without IMAP IDLE (a Maildir, a server without IDLE)
    poll_s: Mapped[int] = mapped_column(Integer, default=5)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    fired: Mapped[int] = mapped_column(Integer, default=0)
    #: how far the watcher has looked: ``<UIDVALIDITY>:<UIDNEXT>`` (IMAP) or the newest file's time (Maildir)
    watermark: Mapped[str | None] = mapped_column(String(100))
    #: ``starting``, ``idle`` (IMAP IDLE), ``polling`` or ``error``; ``status_message`` says more, in German
    status: Mapped[str] = mapped_column(String(32), default="starting")
    status_message: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column()
    mail_at: Mapped[datetime | None] = mapped_column()
    fired_at: Mapped[datetime | None] = mapped_column()


class Credential(Base):
    """A secret of a city, encrypted; handed only to runs of that city, never shown again."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    #: the environment variable the robot reads, e.g. GIESSEN_UVG_FACHVERFAHREN_PASSWORT
    name: Mapped[str] = mapped_column(String(100))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("city_id", "name"),)


class Artifact(Base):
    """A file a run produced (log, report, letter, screenshot), stored under the data folder."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("run_id", "name"),)


class AuditEntry(Base):
    """Append-only: who did what, when. Never updated or deleted (PostgreSQL enforces it by trigger)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    city_id: Mapped[str | None] = mapped_column(ForeignKey("cities.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_city_at", "city_id", "at"),)


class ProcessVersion(Base):
    """A version of a process that its owner city published: the catalogue the adopting cities upgrade from.

    Rows are only ever added; the version and its CHANGELOG section are copied from the repository when published.
    """

    __tablename__ = "process_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process: Mapped[str] = mapped_column(String(100))
    #: MAJOR.MINOR.PATCH as in processes/<process>/process.yaml
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    owner_city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    #: the version's section of processes/<process>/CHANGELOG.md (German, for the adopting cities)
    changelog: Mapped[str] = mapped_column(Text)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("process", "version"),)


class LoginFailure(Base):
    """A failed login, kept for the login throttle's window (services/logins.py), then deleted.

    ``subject`` is an HMAC of the user name or of the client address, never the name or address itself: people
    sometimes type their password into the name field.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_login_failures_subject_at", "subject", "at"),)
