"""The engine's pool on PostgreSQL: a connection the server dropped while it sat idle in the
pool is replaced before anyone uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.db import make_engine


async def _ours_dropped(url: str) -> None:
    """The server ends every other connection to the test's database (as a restart would)."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL pool (TEST_DATABASE_URL)")
    # `ping_after_idle=0`: every connection taken from the pool counts as idle.
    engine = make_engine(database_url, ping_after_idle=0)
    try:
        async with engine.connect() as connection:
            before = await connection.scalar(text("SELECT pg_backend_pid()"))
        await _ours_dropped(database_url)
        async with engine.connect() as connection:
            after = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert after is not None and after != before
    finally:
        await engine.dispose()


async def test_a_connection_given_back_just_now_is_taken_without_a_ping(
    database_url: str,
) -> None:
    """Under load a connection goes from one update to the next with no round trip between:
    the price is that one lost within `ping_after_idle` fails its one use, and the pool then
    opens new connections."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL pool (TEST_DATABASE_URL)")
    engine = make_engine(database_url, ping_after_idle=3600)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        await _ours_dropped(database_url)
        with pytest.raises(DBAPIError) as failed:
            async with engine.connect() as connection:
                await connection.scalar(text("SELECT 1"))
        assert failed.value.connection_invalidated
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_postgresql_compiles_no_statement_with_its_jit(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's JIT (TEST_DATABASE_URL)")
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SHOW jit")) == "off"
    finally:
        await engine.dispose()
