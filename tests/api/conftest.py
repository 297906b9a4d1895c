"""A seeded day (tests/services/test_digest.seed_day), tokens, and the API on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import ApiConfig, create_app
from chat.clock import FixedClock
from handlers.app import Core
from services.access import create_token
from services.options import Options
from tests.services.test_alerts import ZONE
from tests.services.test_digest import seed_day
from tests.support import Person

DISTRICT_A = "620201"  # 雄关区: where the seeded day's people are (grid 2)
DISTRICT_B = "620202"  # 镜铁区: nobody

Issue = Callable[..., Awaitable[str]]


WEB_URL = "http://dashboard.test"


@pytest.fixture
def core(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> Core:
    """The bot's core, with the dashboard's address set (for the links /web sends)."""
    return Core(sessions, clock, Options(web_url=WEB_URL))


@pytest.fixture
async def seeded(
    areas: None, core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> Person:
    return await seed_day(core, sessions, clock)


@pytest.fixture
def issue(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> Issue:
    async def make(area: str, scope: str, expires: timedelta = timedelta(days=90)) -> str:
        async with sessions.begin() as session:
            issued = await create_token(
                session, area_code=area, scope=scope, expires=expires, now=clock.now()
            )
        return issued.secret

    return make


@pytest.fixture
def config(clock: FixedClock) -> ApiConfig:
    return ApiConfig(zone=ZONE, clock=clock, rate_per_minute=1000)


@pytest.fixture
async def client(
    sessions: async_sessionmaker[AsyncSession], config: ApiConfig
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(sessions, config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
