"""Scenario: one evening slot under Telegram's strict limits (issue 19's aim).

Each of 200 people under home isolation has a test day today, so the evening slot brings
them three things at once: the test-day notice, the question for the test's result and the
check-in prompt. The bot folds what falls due for one chat at one moment into one message
(`models.outbox.enqueue(fold_with=…)`), so a chat gets one message, not three within a
second. The emulator runs in its strict mode: at most 1 message a second per chat with no
burst, and at most 30 in any one-second window overall (Telegram promises no burst). The
slot's job runs the way the scheduler runs it (`services.checkins.slot_round`), and the
outbox worker delivers through the one Sender.

Figures: the Bot API calls made and the 429s among them (aim ≤ 1 % of calls; before the
folding, 237 of 745 calls for 200 people), the chats that got more than one message, and
every person asked once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from functools import partial
from zoneinfo import ZoneInfo

from aiogram import Bot

from bench import people
from bench.common import TOKEN, Emulator, Figure, database_name, engine_for
from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender
from bot.outbox_worker import OutboxWorker
from bot.scheduler import Scheduler
from chat.clock import SystemClock
from models.db import make_sessions
from services.checkins import slot_round

ZONE = ZoneInfo("Asia/Shanghai")
PEOPLE = 200
LIMIT = 30.0


async def measure(url: str, emulator: Emulator, count: int = PEOPLE) -> list[Figure]:
    now = datetime.now(UTC)
    local = now.astimezone(ZONE)
    # The slot opens now; as the day's only (so first and last) slot it brings the test
    # notice, the result question and the check-in prompt together, as 20:00 does.
    slot = clock_time(local.hour, local.minute)
    users = await people.seed(url, count, local.date(), now, test_days=(local.date(),))
    await emulator.client.reset()
    await emulator.create_users(users)
    await emulator.client.set_limits(
        True, strict=True, global_rate=LIMIT, global_burst=1, chat_rate=1.0, chat_burst=1
    )
    db = database_name(url)
    async with engine_for(url) as engine:
        sessions = make_sessions(engine)
        bot = Bot(TOKEN, session=make_session(emulator.url))
        transport = AiogramTransport(bot)
        sender = Sender(transport, Limits(overall_per_second=LIMIT))
        clock = SystemClock()
        worker = OutboxWorker(sessions, sender, clock)
        job = partial(slot_round, times=(slot,))
        scheduler = Scheduler(sessions, clock, ZONE, [("slot_round", job, 30)], worker.nudge)
        delivering = asyncio.create_task(worker.run(), name="outbox")
        before = await emulator.client.stats()
        try:
            await asyncio.sleep(0.5)
            started = time.perf_counter()
            await scheduler.run_job("slot_round", job)
            deadline = started + count / LIMIT * 4 + 60
            while time.perf_counter() < deadline:
                stats = await emulator.client.stats()
                if len(stats["messages_per_chat"]) >= count:
                    break
                await asyncio.sleep(0.2)
            finished = time.perf_counter()
            await asyncio.sleep(1.0)  # the last fates recorded
        finally:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)
            await bot.session.close()
    stats = await emulator.client.stats()
    calls = int(stats["requests"].get("sendMessage", 0)) - int(
        before["requests"].get("sendMessage", 0)
    )
    limited = int(stats["rate_limited"]) - int(before["rate_limited"])
    per_chat = [int(n) for n in stats["messages_per_chat"].values()]
    tag = f"{count} people, strict {LIMIT:g}/s and 1/s per chat, {db}"
    return [
        Figure(
            f"slot.429_share.{db}",
            f"test-day slot ({tag}): 429s ÷ calls",
            100 * limited / calls if calls else 100.0,
            "%",
            aim="≤ 1 %",
            meets=lambda v: v <= 1.0,
            digits=2,
        ),
        Figure(f"slot.calls.{db}", f"test-day slot ({tag}): sendMessage calls", calls),
        Figure(
            f"slot.asked.{db}",
            f"test-day slot ({tag}): people asked",
            len(per_chat),
            aim=f"= {count}",
            meets=lambda v: v == count,
        ),
        Figure(
            f"slot.more_than_one.{db}",
            f"test-day slot ({tag}): chats sent more than one message",
            sum(1 for n in per_chat if n > 1),
            aim="0",
            meets=lambda v: v == 0,
        ),
        Figure(
            f"slot.seconds.{db}",
            f"test-day slot ({tag}): slot → last delivered",
            finished - started,
            "s",
            aim=f"floor {count / LIMIT:.1f} s",
            digits=1,
        ),
    ]
