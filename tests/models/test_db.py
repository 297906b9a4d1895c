"""A pooled PostgreSQL connection killed by the server (a restart, an idle timeout): one idle
for a while is replaced at checkout without an error; one used a moment ago fails its
statement once, and the next transaction connects anew."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from models.db import make_engine, ping_when_idle
from tests.conftest import POSTGRES

pytestmark = pytest.mark.skipif(not POSTGRES, reason="the server ends a PostgreSQL connection")


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def kill(url: str, pid: int) -> None:
    other = make_engine(url)
    try:
        async with other.connect() as connection:
            ended = await connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
            )
            assert ended.scalar_one()
    finally:
        await other.dispose()


async def test_an_idle_connection_killed_by_the_server_is_replaced_at_checkout(
    database_url: str,
) -> None:
    # Idle for "0 seconds or more": every checkout after the first asks the server.
    engine = create_async_engine(database_url, pool_size=1)
    ping_when_idle(engine, idle=0.0)
    try:
        first = await backend_pid(engine)
        await kill(database_url, first)
        # No error: the dead connection is found by the ping and a new one is made.
        assert await backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_a_connection_used_a_moment_ago_fails_once_then_the_pool_recovers(
    database_url: str,
) -> None:
    # "A moment ago" is anything under an hour here, so a slow machine cannot make it idle.
    engine = create_async_engine(database_url, pool_size=1)
    ping_when_idle(engine, idle=3600.0)
    try:
        first = await backend_pid(engine)
        await kill(database_url, first)
        with pytest.raises(DBAPIError) as failed:
            await backend_pid(engine)
        assert failed.value.connection_invalidated
        # The next transaction, as the next request, connects anew by itself.
        assert await backend_pid(engine) != first
    finally:
        await engine.dispose()
