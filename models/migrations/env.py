"""Alembic's entry: runs on a connection handed in by models.db, or opens its own."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import models.all  # noqa: F401  (every table registers itself on the metadata)
from models.base import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    # Offline tools (alembic revision --autogenerate) use a sync driver for the same URL.
    url = config.get_main_option("sqlalchemy.url") or ""
    sync_url = url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    with create_engine(sync_url).connect() as own:
        run(own)
        own.commit()
