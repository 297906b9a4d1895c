"""Two bot instances on one PostgreSQL database: each check-in prompt is queued once and sent
once, however the two instances' jobs and outbox workers interleave."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial

import pytest
from aiogram import Bot
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender
from bot.outbox_worker import OutboxWorker
from bot.scheduler import Scheduler
from chat.clock import FixedClock
from emulator import EmulatorClient
from handlers.app import Core
from models.checkins import CheckIn
from models.db import make_engine, make_sessions
from models.outbox import PENDING, SENT, Outgoing
from rules.policy import load_policy
from services.checkins import open_checkins, remind_checkins, slot_round
from services.options import Options
from tests.conftest import POSTGRES
from tests.services.test_checkins import TIMES, ZONE, at
from tests.services.test_release import released_abroad
from tests.support import Person

pytestmark = [
    pytest.mark.usefixtures("areas"),
    pytest.mark.skipif(not POSTGRES, reason="two instances share a PostgreSQL database"),
]
TOKEN = "7777777777:two-instances-token-not-a-secret"
PEOPLE = range(3001, 3013)


@pytest.fixture
async def second_instance(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The other instance's own engine and connection pool, as another process would have."""
    engine = make_engine(database_url)
    yield make_sessions(engine)
    await engine.dispose()


async def instance_worker(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, emulator: EmulatorClient
) -> tuple[OutboxWorker, Bot]:
    bot = Bot(TOKEN, session=make_session(emulator.base_url))
    sender = Sender(AiogramTransport(bot), Limits(overall_per_second=1000, per_chat_burst=10))
    # Small batches so the two workers take turns over the same rows.
    return OutboxWorker(sessions, sender, clock, batch=3, idle_wait=0.05), bot


@pytest.mark.parametrize("chunked", [False, True], ids=["one-transaction", "in-chunks"])
async def test_two_instances_queue_and_send_each_prompt_exactly_once(
    chunked: bool,
    sessions: async_sessionmaker[AsyncSession],
    second_instance: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
) -> None:
    core = Core(sessions, clock, Options(policy=load_policy("lanzhou")))
    for user_id in PEOPLE:
        await released_abroad(Person(core, user_id=user_id))
        await emulator.send(user_id, "hi")
    await emulator.set_limits(False)

    at(clock, 8, 0, days=1)

    async def jobs(instance: async_sessionmaker[AsyncSession]) -> None:
        if chunked:
            # As the scheduler runs the round: committed 5 reporters at a time.
            job = partial(slot_round, times=TIMES, chunk=5)
            scheduler = Scheduler(instance, clock, ZONE, [("slot_round", job, 30)])
            for _ in range(3):
                await scheduler.run_job("slot_round", job)
            return
        for _ in range(3):
            async with instance.begin() as session:
                await open_checkins(session, clock.now(), ZONE, times=TIMES)

    await asyncio.gather(jobs(sessions), jobs(second_instance))
    first, first_bot = await instance_worker(sessions, clock, emulator)
    second, second_bot = await instance_worker(second_instance, clock, emulator)
    running = [asyncio.create_task(w.run()) for w in (first, second)]
    try:
        for _ in range(200):
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count()).select_from(Outgoing).where(Outgoing.status == PENDING)
                )
            if left == 0:
                break
            await asyncio.sleep(0.1)
        # A late rerun of the slot's jobs on either instance, after delivery, adds nothing.
        await asyncio.gather(jobs(second_instance), jobs(sessions))
        async with second_instance.begin() as session:
            assert await remind_checkins(session, clock.now(), ZONE, after=timedelta(hours=2)) == 0
        await asyncio.sleep(0.5)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await first_bot.session.close()
        await second_bot.session.close()

    for user_id in PEOPLE:
        prompts = [
            m
            for m in await emulator.messages(user_id)
            if m["from_bot"] and "Time for your health check-in" in (m["text"] or "")
        ]
        assert len(prompts) == 1, (user_id, len(prompts))
    async with sessions() as session:
        assert set(await session.scalars(select(Outgoing.status))) == {SENT}
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == len(PEOPLE)
