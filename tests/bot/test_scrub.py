"""The scheduler's hourly scrub: VACUUM on PostgreSQL, a WAL checkpoint on SQLite, whenever
something was erased since the last one."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.scheduler import Scheduler
from chat.clock import FixedClock
from models.staff import audit


async def test_the_files_are_scrubbed_after_an_erasure_only(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    scheduler = Scheduler(sessions, clock, ZoneInfo("Asia/Shanghai"), [])
    assert await scheduler.scrub()  # the first run: in any case
    clock.advance(timedelta(hours=1))
    assert not await scheduler.scrub()  # nothing erased meanwhile
    async with sessions.begin() as session:
        await audit(session, 1001, "forget", "residents", clock.now(), residents=[1])
    clock.advance(timedelta(hours=1))
    assert await scheduler.scrub()
    clock.advance(timedelta(hours=1))
    assert not await scheduler.scrub()
