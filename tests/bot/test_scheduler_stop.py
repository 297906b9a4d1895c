"""Stopping the bot while a periodic job runs: the job ends between two statements (a long
one after the chunk it is on), nothing it did is cut in half, and nothing is logged as an
error. The CI run of 2026-12-01 failed on a job cancelled in the middle of closing its
connection (`store_figures`, PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.scheduler import JOBS_AT_ONCE, Scheduler
from chat.clock import FixedClock
from models.db import commit_chunk
from models.staff import AuditEntry, audit

ZONE = ZoneInfo("Asia/Shanghai")


async def entries(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_a_job_in_the_middle_of_its_work_finishes_before_the_stop_returns(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def slow(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        nonlocal calls
        calls += 1
        await audit(session, 1, "view", "residents", now, residents=[1])
        started.set()
        await release.wait()  # a long statement, say
        await audit(session, 1, "view", "residents", now, residents=[2])
        return 2

    scheduler = Scheduler(sessions, clock, ZONE, [("slow", slow, 60)])
    running = asyncio.create_task(scheduler.run_job("slow", slow))
    await started.wait()
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # it waits for the job
    release.set()
    await stopping
    assert await running == 2
    assert await entries(sessions) == 2  # both halves, committed together
    # Nothing starts once stopping.
    assert await scheduler.run_job("slow", slow) == 0 and calls == 1


async def test_a_round_in_chunks_stops_after_the_chunk_it_is_on(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chunk_done = asyncio.Event()
    go_on = asyncio.Event()

    async def round_of_ten(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        for chunk in range(10):
            await audit(session, 1, "view", "residents", now, residents=[chunk])
            if chunk == 2:
                chunk_done.set()
                await go_on.wait()
            await commit_chunk(session)
        return 10

    scheduler = Scheduler(sessions, clock, ZONE, [("round", round_of_ten, 30)])
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    running = asyncio.create_task(scheduler.run_job("round", round_of_ten))
    await chunk_done.wait()
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0)
    go_on.set()
    await stopping
    assert await running == 0
    # Chunks 0–2 committed; the rest waits for the next start.
    assert await entries(sessions) == 3
    assert "job round paused by the shutdown" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_job_that_does_not_end_is_cancelled_after_the_grace(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()

    async def stuck(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        await audit(session, 1, "view", "residents", now, residents=[1])
        await session.flush()
        started.set()
        await asyncio.Event().wait()
        return 1

    scheduler = Scheduler(sessions, clock, ZONE, [("stuck", stuck, 60)])
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    running = asyncio.create_task(scheduler.run_job("stuck", stuck))
    await started.wait()
    await scheduler.stop(grace=0.05)
    assert running.done() and running.result() == 0
    assert await entries(sessions) == 0  # rolled back, done again after the next start
    assert "job stuck stopped by the shutdown" in caplog.text


async def test_jobs_due_together_run_two_at_a_time(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """At the start every job is due at once; each holds a database connection while it runs,
    and a pool keeps what it opened: two at a time keep an instance's share of a shared
    PostgreSQL small."""
    running, most = 0, 0
    two_in, go_on = asyncio.Event(), asyncio.Event()

    async def job(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if running == JOBS_AT_ONCE:
            two_in.set()
        await go_on.wait()
        running -= 1
        return 0

    jobs = [(f"job{i}", job, 60) for i in range(6)]
    scheduler = Scheduler(sessions, clock, ZONE, jobs)
    runs = [asyncio.create_task(scheduler.run_job(name, each)) for name, each, _ in jobs]
    await two_in.wait()
    await asyncio.sleep(0)  # the others get their turn to try
    go_on.set()
    await asyncio.gather(*runs)
    assert most == JOBS_AT_ONCE == 2


async def test_started_up_once_every_job_has_had_its_first_run(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    release = asyncio.Event()

    async def quick(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        return 0

    async def slow(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        await release.wait()
        return 0

    scheduler = Scheduler(sessions, clock, ZONE, [("quick", quick, 60), ("slow", slow, 60)])
    await scheduler.run_job("quick", quick)
    await scheduler.run_job("quick", quick)
    assert not scheduler.started_up.is_set()  # the slow one has not run yet
    running = asyncio.create_task(scheduler.run_job("slow", slow))
    await asyncio.sleep(0)
    assert not scheduler.started_up.is_set()  # running, not done
    release.set()
    await running
    assert scheduler.started_up.is_set()
