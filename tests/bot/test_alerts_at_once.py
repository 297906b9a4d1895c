"""An alert goes to the grid's workers as soon as it is raised, not up to the delivery job's
interval (20 s) later: the update that raised it, or the job that did, has the delivery run
at once (once, however many alerts came together)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.scheduler import DELIVER_ALERTS, Scheduler
from chat.clock import FixedClock
from handlers.app import Core
from models.alerts import Alert, raise_alert
from models.areas import Area
from tests.handlers.test_resident import reported
from tests.support import Person

ZONE = ZoneInfo("Asia/Shanghai")


async def alerts_stored(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Alert)) or 0)


@pytest.mark.usefixtures("areas")
async def test_an_update_that_raised_an_alert_calls_for_its_delivery_once_committed(
    core: Core, resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    reads: list[asyncio.Task[int]] = []

    def on_alert() -> None:
        # What another session (the delivery job's) sees at the call.
        reads.append(asyncio.ensure_future(alerts_stored(sessions)))

    core.on_alert = on_alert
    await reported(resident)
    await resident.send("/me")
    assert reads == []  # nothing raised: nothing to deliver

    await resident.send("/request")
    await resident.press("Daily supplies")
    await resident.send("Rice and milk for three days, please")
    assert "Received" in resident.last.text
    # Called once, and by then the alert was committed: another session sees it.
    assert len(reads) == 1 and await reads[0] == 1


@pytest.mark.usefixtures("areas")
async def test_a_job_that_raised_an_alert_has_it_delivered_without_waiting_for_its_turn(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessions() as session:
        grid = (await session.scalars(select(Area).where(Area.level == "grid"))).first()
    assert grid is not None
    deliveries = 0
    delivered = asyncio.Event()

    async def misses(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        for n in range(3):  # three alerts together: one delivery run
            await raise_alert(session, grid_id=grid.id, kind="missed", now=now, dedupe_key=f"m{n}")
        return 3

    async def deliver(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        nonlocal deliveries
        deliveries += 1
        delivered.set()
        return int(await session.scalar(select(func.count()).select_from(Alert)) or 0)

    # Not started: no job runs on its turn here, only when asked.
    scheduler = Scheduler(
        sessions, clock, ZONE, [("misses", misses, 60), (DELIVER_ALERTS, deliver, 20)]
    )
    assert await scheduler.run_job("misses", misses) == 3
    await asyncio.wait_for(delivered.wait(), 30)
    await scheduler.stop()
    assert deliveries == 1


async def test_asking_again_before_the_run_begins_adds_no_run(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    runs = 0
    first_begun, release, second_begun = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def deliver(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            first_begun.set()
            await release.wait()
        else:
            second_begun.set()
        return 0

    scheduler = Scheduler(sessions, clock, ZONE, [(DELIVER_ALERTS, deliver, 20)])
    running = asyncio.create_task(scheduler.run_job(DELIVER_ALERTS, deliver))
    await first_begun.wait()
    for _ in range(3):  # alerts raised while it runs: one more run after it, not three
        scheduler.run_soon(DELIVER_ALERTS)
    release.set()
    await running
    await asyncio.wait_for(second_begun.wait(), 30)
    # A run asked for now comes after any still waiting (the job's lock is first come, first
    # served): then all were counted.
    await scheduler.run_job(DELIVER_ALERTS, deliver)
    await scheduler.stop()
    assert runs == 3
