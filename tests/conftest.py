"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL when
TEST_DATABASE_URL names one), the core on a clock the test moves, and chat drivers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from emulator import EmulatorClient, create_app
from handlers.app import Core
from models.db import make_engine, make_sessions, upgrade
from services.options import Options
from tests.support import Person

POSTGRES = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    if not POSTGRES:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    engine = make_engine(POSTGRES)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    yield POSTGRES


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


@pytest.fixture
def clock() -> FixedClock:
    # 10:00 in Shanghai.
    return FixedClock(datetime(2026, 7, 1, 2, 0, tzinfo=UTC))


@pytest.fixture
def core(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> Core:
    return Core(sessions, clock, Options())


@pytest.fixture
def resident(core: Core) -> Person:
    """A resident's phone: what they see of the bot, and their thumbs."""
    return Person(core, user_id=1001)


DEMO_AREAS = Path(__file__).parents[1] / "bot" / "demo_data" / "areas.csv"


@pytest.fixture
async def areas(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The demo city's districts, streets, communities and grids."""
    from models.areas import import_areas

    async with sessions.begin() as session:
        await import_areas(session, DEMO_AREAS.read_text(encoding="utf-8"))


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorClient]:
    app = create_app(limits=True)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with EmulatorClient(f"http://127.0.0.1:{port}") as client:
        yield client
    await runner.cleanup()
