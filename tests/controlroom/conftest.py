"""Databases for control room tests: a fresh SQLite file per test, and PostgreSQL copies of a migrated template."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from rathaus_controlroom.db import Database, upgrade
from sqlalchemy import create_engine, text

#: the machine's PostgreSQL (trust auth); override with RATHAUS_TEST_POSTGRES
POSTGRES = os.environ.get("RATHAUS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
#: one template per test session, so that concurrent sessions on the same server never drop each other's
TEMPLATE = f"rathaus_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _admin():
    return create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database, made once per test session."""
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    upgrade(f"{POSTGRES}/{TEMPLATE}")
    yield TEMPLATE
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A PostgreSQL database of its own for one test, copied from the migrated template."""
    name = f"rathaus_test_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield f"{POSTGRES}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'controlroom.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Each test using this runs against both databases."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()
