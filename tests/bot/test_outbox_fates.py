"""Each outbox message's fate is recorded as Telegram answers it: a worker stopped mid-round,
a database cut mid-round or Telegram's answers lost make few or no second copies, and never a
lost message."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender, Transport
from bot.outbox_worker import OutboxWorker
from chat.clock import FixedClock
from emulator import EmulatorClient
from models.db import make_engine, make_sessions
from models.outbox import SENT, Outgoing, enqueue
from tests.bot.test_outbox_worker import TOKEN, deliver_all
from tests.conftest import POSTGRES
from tests.e2e.test_outage import Proxy

FAST = Limits(overall_per_second=1000, per_chat_per_second=100, backoff_seconds=0.05)


@pytest.fixture
async def bot(emulator: EmulatorClient) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=make_session(emulator.base_url))
    yield bot
    await bot.session.close()


@pytest.fixture(params=["aiogram", "ptb"])
async def transport(
    request: pytest.FixtureRequest, bot: Bot, emulator: EmulatorClient
) -> AsyncIterator[Transport]:
    if request.param == "aiogram":
        yield AiogramTransport(bot)
        return
    from telegram import Bot as PtbBot

    from bot.ptb_runner import PtbTransport

    ptb = PtbBot(TOKEN, base_url=f"{emulator.base_url}/bot")
    await ptb.initialize()
    yield PtbTransport(ptb)
    await ptb.shutdown()


async def a_round(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, emulator: EmulatorClient, n: int
) -> range:
    chats = range(7001, 7001 + n)
    for chat in chats:
        await emulator.send(chat, "hi")
    async with sessions.begin() as session:
        for chat in chats:
            await enqueue(
                session,
                chat_id=chat,
                text=f"Time for your check-in ({chat})",
                purpose="checkin",
                now=clock.now(),
                dedupe_key=f"checkin:{chat}",
            )
    return chats


async def copies(emulator: EmulatorClient, chats: range) -> Counter[int]:
    """How many copies of its prompt each chat got."""
    got: Counter[int] = Counter()
    for chat in chats:
        got[chat] = sum(1 for m in await emulator.messages(chat) if m["from_bot"])
    return got


async def delivered(emulator: EmulatorClient) -> int:
    """Messages the bot has sent so far (the emulator's count)."""
    return sum((await emulator.stats())["messages_per_chat"].values())


async def until_delivered(emulator: EmulatorClient, n: int) -> None:
    for _ in range(3000):
        if await delivered(emulator) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{n} messages never went out")


async def test_answers_lost_make_at_most_one_extra_copy_and_are_logged(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    transport: Transport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chats = await a_round(sessions, clock, emulator, 200)
    await emulator.set_limits(False)
    # Telegram takes the message, and one answer in five never comes back.
    await emulator.set_faults(lose_rate=0.2, methods=["sendMessage"], seed=15)
    with caplog.at_level(logging.WARNING):
        await deliver_all(OutboxWorker(sessions, Sender(transport, FAST), clock), sessions)

    got = await copies(emulator, chats)
    assert min(got.values()) >= 1, "a message was lost"
    assert max(got.values()) <= 2, got.most_common(3)
    lost = (await emulator.stats())["faults"]["lose"]
    assert 0 < sum(1 for n in got.values() if n == 2) <= lost
    assert "the answer to a message was lost" in caplog.text
    async with sessions() as session:
        assert set(await session.scalars(select(Outgoing.status))) == {SENT}


async def test_a_worker_stopped_mid_round_leaves_only_what_was_in_flight_to_send_twice(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    bot: Bot,
) -> None:
    """Stopped without a word (as by kill -9: no last write), after 40 of a batch of 120."""
    chats = await a_round(sessions, clock, emulator, 120)
    await emulator.set_limits(False)
    slow = Limits(overall_per_second=40, per_chat_per_second=100)
    worker = OutboxWorker(sessions, Sender(AiogramTransport(bot), slow), clock, batch=120)
    round_ = asyncio.create_task(worker.run_once())
    await until_delivered(emulator, 40)
    round_.cancel()
    with pytest.raises(asyncio.CancelledError):
        await round_
    in_flight = worker.unwritten  # what Telegram took and the database was not told yet

    # After the lease, another worker takes over the dead one's rows.
    clock.advance(timedelta(minutes=3))
    other = OutboxWorker(sessions, Sender(AiogramTransport(bot), FAST), clock)
    await deliver_all(other, sessions)
    got = await copies(emulator, chats)
    assert min(got.values()) == 1, "a message was lost"
    # Sent twice: what was written down as sent too late, and the calls that were out (their
    # answers never read) when it stopped: never more than the sender lets out at once.
    twice = sum(1 for n in got.values() if n > 1)
    assert twice <= in_flight + slow.bulk_in_flight < 40, (twice, in_flight)
    assert max(got.values()) <= 2


@pytest.mark.skipif(not POSTGRES, reason="the cut is of a PostgreSQL connection")
async def test_a_database_cut_mid_round_sends_nothing_twice_and_loses_nothing(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chats = await a_round(sessions, clock, emulator, 300)
    await emulator.set_limits(False)
    url = make_url(database_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    engine = make_engine(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )
    # At 60 messages a second the round takes 5 s; the database is away for 10 s of it.
    pace = Limits(overall_per_second=60, per_chat_per_second=100, backoff_seconds=0.05)
    worker = OutboxWorker(
        make_sessions(engine), Sender(AiogramTransport(bot), pace), clock, idle_wait=0.2
    )
    running = asyncio.create_task(worker.run())
    try:
        with caplog.at_level(logging.INFO):
            await until_delivered(emulator, 60)
            await proxy.cut()
            await asyncio.sleep(10)
            await proxy.start()
            for _ in range(600):
                async with sessions() as session:
                    statuses = list(await session.scalars(select(Outgoing.status)))
                if set(statuses) == {SENT}:
                    break
                await asyncio.sleep(0.1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await engine.dispose()
        if proxy.server is not None:
            proxy.server.close()
    got = await copies(emulator, chats)
    assert set(got.values()) == {1}, got.most_common(3)
    assert "kept in memory" in caplog.text and "storage is back" in caplog.text
