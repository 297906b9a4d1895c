"""Fixtures the services' tests share."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from rules.policy import load_policy
from services.options import Options
from tests.support import Person


@pytest.fixture
def lanzhou(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> Person:
    return Person(Core(sessions, clock, Options(policy=load_policy("lanzhou"))), user_id=1010)
