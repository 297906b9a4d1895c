"""The outbox worker against the emulator: every queued message meets a recorded fate, none
twice, through 429s and 5xx; a resident who blocked the bot becomes an alert, not silence."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender
from bot.outbox_worker import OutboxWorker
from chat.clock import FixedClock
from chat.contract import Button
from chat.i18n import Translator
from emulator import EmulatorClient
from emulator.media import tiny_png
from handlers.app import Core
from models.alerts import Alert
from models.outbox import PENDING, SENT, UNREACHABLE, Outgoing, enqueue
from rules.policy import load_policy
from services.alerts import render_alert
from services.checkins import open_checkins
from services.options import Options
from tests.services.test_checkins import TIMES, ZONE, at
from tests.services.test_release import released_abroad
from tests.support import Person

TOKEN = "6666666666:outbox-test-token-not-a-secret-00"


@pytest.fixture
async def bot(emulator: EmulatorClient) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=make_session(emulator.base_url))
    yield bot
    await bot.session.close()


async def deliver_all(worker: OutboxWorker, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Runs the worker until nothing is pending (retries are due at once on this clock)."""
    for _ in range(200):
        await worker.run_once()
        async with sessions.begin() as session:
            pending = list(
                await session.scalars(select(Outgoing).where(Outgoing.status == PENDING))
            )
            for row in pending:  # backoff is the clock's business: skip the wait
                row.due_at = worker.clock.now()
        if not pending:
            return
    raise AssertionError("the outbox never emptied")


@pytest.mark.usefixtures("areas")
async def test_a_blocked_resident_under_monitoring_is_an_alert_once_a_day(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    bot: Bot,
) -> None:
    resident = Person(Core(sessions, clock, Options(policy=load_policy("lanzhou"))), user_id=1010)
    await released_abroad(resident)
    await emulator.send(1010, "hi")
    await emulator.block(1010)

    at(clock, 8, days=1)
    async with sessions.begin() as session:
        assert await open_checkins(session, clock.now(), ZONE, times=TIMES) == 1
    worker = OutboxWorker(sessions, Sender(AiogramTransport(bot)), clock)
    await deliver_all(worker, sessions)

    async with sessions() as session:
        prompt = (await session.scalars(select(Outgoing))).one()
        assert prompt.status == UNREACHABLE and "blocked" in (prompt.error or "")
        alert = (await session.scalars(select(Alert).where(Alert.kind == "unreachable"))).one()
        text, _ = await render_alert(session, alert, Translator("en"))
    assert "Resident unreachable" in text and "Li Na" in text

    # The evening's prompt fails too: still one alert that day; the next day, a new one.
    for hour, day in ((20, 1), (8, 2)):
        at(clock, hour, days=day)
        async with sessions.begin() as session:
            await open_checkins(session, clock.now(), ZONE, times=TIMES)
        await deliver_all(worker, sessions)
    async with sessions() as session:
        alerts = await session.scalar(
            select(func.count()).select_from(Alert).where(Alert.kind == "unreachable")
        )
    assert alerts == 2
    assert not [m for m in await emulator.messages(1010) if m["from_bot"]]


async def test_a_chat_that_looks_after_nobody_raises_no_alert(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    bot: Bot,
) -> None:
    await emulator.send(77, "hi")
    await emulator.block(77)
    async with sessions.begin() as session:
        await enqueue(session, chat_id=77, text="Notice", purpose="notice", now=clock.now())
    await deliver_all(OutboxWorker(sessions, Sender(AiogramTransport(bot)), clock), sessions)
    async with sessions() as session:
        assert (await session.scalars(select(Outgoing))).one().status == UNREACHABLE
        assert not list(await session.scalars(select(Alert)))


async def test_a_round_of_500_through_429s_and_5xx_arrives_complete_and_never_twice(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    bot: Bot,
) -> None:
    chats = range(5001, 5501)
    for chat in chats:
        await emulator.send(chat, "hi")
    # Telegram's limits scaled ×3 to keep the test short; the sender is set to overrun them
    # (at 1,000/s it does even on a busy machine) so the emulator answers 429, and one call
    # in five fails with a 5xx.
    await emulator.set_limits(True, global_rate=100, global_burst=10, chat_rate=10, chat_burst=3)
    await emulator.set_faults(error_rate=0.2, methods=["sendMessage"], seed=5)
    async with sessions.begin() as session:
        for chat in chats:
            await enqueue(
                session,
                chat_id=chat,
                text=f"How are you today? ({chat})",
                purpose="checkin",
                now=clock.now(),
                dedupe_key=f"checkin:{chat}",
            )
    sender = Sender(
        AiogramTransport(bot),
        Limits(overall_per_second=1000, per_chat_per_second=100, backoff_seconds=0.05),
    )
    await deliver_all(OutboxWorker(sessions, sender, clock, batch=500), sessions)

    stats = await emulator.stats()
    assert stats["rate_limited"] > 0 and stats["faults"], stats
    for chat in chats:
        received = [m for m in await emulator.messages(chat) if m["from_bot"]]
        assert [m["text"] for m in received] == [f"How are you today? ({chat})"]
    async with sessions() as session:
        fates = await session.scalars(select(Outgoing.status))
        assert set(fates) == {SENT}


async def test_a_queued_photo_arrives_as_a_photo_with_its_caption(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    bot: Bot,
) -> None:
    await emulator.send(78, "hi")
    async with sessions.begin() as session:
        await enqueue(
            session,
            chat_id=78,
            text="Last 14 days",
            purpose="daily_chart",
            now=clock.now(),
            file=("chart.png", "photo", tiny_png()),
        )
    await deliver_all(OutboxWorker(sessions, Sender(AiogramTransport(bot)), clock), sessions)
    (photo,) = [m for m in await emulator.messages(78) if m["from_bot"]]
    assert photo["kind"] == "photo" and photo["caption"] == "Last 14 days"


async def test_a_queued_edit_changes_the_message_in_place(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    emulator: EmulatorClient,
    bot: Bot,
) -> None:
    """An alert handled by someone else: its copy is edited, not sent again, and loses its
    buttons; an edit of a message already so, or gone, is done, not retried."""
    await emulator.send(79, "hi")
    async with sessions.begin() as session:
        await enqueue(
            session,
            chat_id=79,
            text="🌡 Fever",
            purpose="alert",
            now=clock.now(),
            buttons=((Button("✅ Acknowledge", "/ack 1"),),),
        )
    worker = OutboxWorker(sessions, Sender(AiogramTransport(bot)), clock)
    await deliver_all(worker, sessions)
    (sent,) = [m for m in await emulator.messages(79) if m["from_bot"]]
    assert sent["reply_markup"]
    async with sessions.begin() as session:
        for key, message_id in (("edit", sent["message_id"]), ("gone", 999_999)):
            await enqueue(
                session,
                chat_id=79,
                text="🌡 Fever\n✅ acknowledged (Wang, 1 Jul 10:00)",
                purpose="alert_edit",
                now=clock.now(),
                dedupe_key=key,
                edit_message_id=message_id,
            )
    await deliver_all(worker, sessions)
    (edited,) = [m for m in await emulator.messages(79) if m["from_bot"]]
    assert edited["message_id"] == sent["message_id"]
    assert "acknowledged (Wang" in (edited["text"] or "") and not edited["reply_markup"]
    async with sessions() as session:
        fates = {o.dedupe_key: o.status for o in await session.scalars(select(Outgoing))}
    assert fates["edit"] == SENT and fates["gone"] == SENT
