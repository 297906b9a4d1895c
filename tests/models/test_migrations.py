"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

import models.all  # noqa: F401
from models.base import Base
from models.db import alembic_config, head_revision, make_engine, schema_state


async def test_the_migrations_match_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    state = await schema_state(engine)
    assert state.up_to_date


async def test_the_schema_check_answers_as_alembic_does(engine: AsyncEngine) -> None:
    """The start-up check reads the head from the migration files and the revision from the
    version table itself (no Alembic in the bot's memory): the same answers as Alembic's."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    assert head_revision() == script.get_current_head()

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        assert (await schema_state(engine)).current == await connection.run_sync(current)
    empty = make_engine("sqlite+aiosqlite://")
    try:
        state = await schema_state(empty)
        assert state.current is None
        assert not state.up_to_date
    finally:
        await empty.dispose()


async def test_sqlite_runs_with_wal_and_foreign_keys(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
