"""Alembic environment of the control room (run through rathaus_controlroom.db.upgrade)."""

from __future__ import annotations

from alembic import context
from rathaus_controlroom.db import make_engine
from rathaus_controlroom.models import Base
from sqlalchemy import pool

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url) if url.startswith("sqlite") else __import__("sqlalchemy").create_engine(
        url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
