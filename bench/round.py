"""Scenario 1, a check-in round: everyone under home monitoring gets the slot's prompt, with
the emulator keeping Telegram's limits (30 messages/s overall, 1/s per chat).

The round goes the way the bot does it: the scheduler's `slot_round` job creates the
slot's check-ins and queues one prompt per person in the outbox, a chunk of reporters at a
time, each chunk committed as it goes (the worker is nudged after each), while the outbox
worker delivers them through the one Sender. Measured from the moment the job
starts (the slot opening) to each prompt's delivery (the Bot API answering 200):

- the achieved rate ÷ the limit (aim ≥ 0.95; the physical floor is people ÷ limit seconds),
- the 429s received (aim 0; at most 0.5 %),
- delivered = people, none twice (counted by the emulator, per chat),
- the p99 delay from the slot to delivery, beside its floor (0.99 × people ÷ limit),
- slot → the first prompt delivered (aim ≤ 1 s),
- the event loop's longest stall while the round is queued and during the whole round
  (aim < 50 ms; the garbage collector's view settled after start-up, as the bot does).

The full round is 20,000 people at 30/s (at least 667 s); the short one scales the limit to
300/s with 3,000 people (at least 10 s).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as clock_time
from functools import partial
from zoneinfo import ZoneInfo

from aiogram import Bot
from sqlalchemy import func, select

from bench import people
from bench.common import TOKEN, Emulator, Figure, StallMeter, database_name, engine_for, percentile
from bench.trace import LoopTrace
from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender
from bot.outbox_worker import OutboxWorker
from bot.scheduler import Scheduler
from bot.service import settle_memory
from chat.clock import SystemClock
from chat.contract import Buttons, Keys
from models.db import make_sessions
from models.outbox import SENT, Outgoing
from services.checkins import slot_round

ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class RoundSize:
    people: int
    limit: float  # messages/s overall, the emulator's and the Sender's

    @property
    def floor(self) -> float:
        return self.people / self.limit


FULL = RoundSize(20_000, 30.0)
SHORT = RoundSize(3_000, 300.0)


def sized(default: RoundSize) -> RoundSize:
    """`BENCH_ROUND=PEOPLE@LIMIT` (e.g. 20000@300: the long round's people in about 70 s)
    instead of the default size, for looking into what grows with the round."""
    given = os.environ.get("BENCH_ROUND")
    if not given:
        return default
    people_count, limit = given.split("@")
    return RoundSize(int(people_count), float(limit))


class TimedTransport(AiogramTransport):
    """The aiogram transport, noting when each message was accepted."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.delivered: list[float] = []

    async def send_message(
        self, chat_id: int, text: str, buttons: Buttons, keyboard: Keys, remove_keyboard: bool
    ) -> int:
        message_id = await super().send_message(chat_id, text, buttons, keyboard, remove_keyboard)
        self.delivered.append(time.perf_counter())
        return message_id


async def measure(size: RoundSize, url: str, emulator: Emulator) -> list[Figure]:
    now = datetime.now(UTC)
    local = now.astimezone(ZONE)
    slot = clock_time(local.hour, local.minute)
    users = await people.seed(url, size.people, local.date(), now)
    await emulator.client.reset()
    await emulator.create_users(users)
    await emulator.limit(size.limit)
    db = database_name(url)

    async with engine_for(url) as engine:
        sessions = make_sessions(engine)
        bot = Bot(TOKEN, session=make_session(emulator.url))
        transport = TimedTransport(bot)
        sender = Sender(transport, Limits(overall_per_second=size.limit))
        clock = SystemClock()
        worker = OutboxWorker(sessions, sender, clock)
        job = partial(slot_round, times=(slot,))
        scheduler = Scheduler(sessions, clock, ZONE, [("slot_round", job, 30)], worker.nudge)
        settle_memory()  # as the bot does once started (bot/service.py)
        if os.environ.get("BENCH_GC"):
            # An experiment's collector thresholds (BENCH_GC=700,10,10 is Python's default).
            gc.set_threshold(*(int(n) for n in os.environ["BENCH_GC"].split(",")))
        meter = StallMeter()
        meter.start()
        # BENCH_TRACE=1 (or =census): what held the loop (bench/trace.py), printed after the run.
        traced = os.environ.get("BENCH_TRACE", "")
        trace = LoopTrace(census=traced == "census") if traced else None
        if trace is not None:
            trace.start()
        delivering = asyncio.create_task(worker.run(), name="outbox")
        try:
            await asyncio.sleep(0.5)  # the worker's first (empty) look, as in a running bot
            opened = time.perf_counter()
            queued = await scheduler.run_job("slot_round", job)
            queued_at = time.perf_counter()
            deadline = queued_at + size.floor * 3 + 60
            while len(transport.delivered) < queued and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            finished = time.perf_counter()
            # The worker records the last fates after the last answer: let it.
            await asyncio.sleep(1.0)
        finally:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)
            await meter.stop()
            if trace is not None:
                trace.stop()
            await bot.session.close()
        if trace is not None:
            print(f"trace, queueing ({queued_at - opened:.2f} s):", file=sys.stderr)
            print(trace.report(opened, queued_at, meter.stalls), file=sys.stderr)
            print(f"trace, after queueing ({finished - queued_at:.2f} s):", file=sys.stderr)
            print(trace.report(queued_at, finished, meter.stalls), file=sys.stderr)
        async with sessions() as session:
            sent = await session.scalar(
                select(func.count()).select_from(Outgoing).where(Outgoing.status == SENT)
            )
    stats = await emulator.client.stats()
    per_chat = [int(n) for n in stats["messages_per_chat"].values()]
    delivered_once = sum(1 for n in per_chat if n == 1)
    twice = sum(1 for n in per_chat if n > 1)
    limited = int(stats["rate_limited"])
    delays = [t - opened for t in transport.delivered]
    last = max(delays, default=finished - opened)
    n = size.people
    tag = f"{n:,} at {size.limit:g}/s, {db}"
    return [
        Figure(
            f"round.ratio.{db}",
            f"round ({tag}): achieved rate ÷ limit",
            (len(delays) / last) / size.limit if delays else 0.0,
            aim="≥ 0.95",
            meets=lambda v: v >= 0.95,
            digits=3,
        ),
        Figure(
            f"round.sending.{db}",
            f"round ({tag}): sending rate ÷ limit (first → last delivered)",
            (len(delays) - 1) / (max(delays) - min(delays)) / size.limit
            if len(delays) > 1
            else 0.0,
            aim="≥ 0.95",
            meets=lambda v: v >= 0.95,
            digits=3,
        ),
        Figure(
            f"round.seconds.{db}",
            f"round ({tag}): slot → last delivered",
            last,
            "s",
            aim=f"floor {size.floor:,.0f} s",
            digits=1,
        ),
        Figure(
            f"round.429.{db}",
            f"round ({tag}): 429s received",
            limited,
            aim=f"0 (≤ {n * 0.005:,.0f})",
            meets=lambda v: v <= n * 0.005,
        ),
        Figure(
            f"round.delivered.{db}",
            f"round ({tag}): delivered once",
            delivered_once,
            aim=f"= {n:,}",
            meets=lambda v: v == n,
        ),
        Figure(
            f"round.twice.{db}",
            f"round ({tag}): delivered twice or more",
            twice,
            aim="0",
            meets=lambda v: v == 0,
        ),
        Figure(
            f"round.outbox_sent.{db}",
            f"round ({tag}): outbox rows recorded sent",
            sent or 0,
            aim=f"= {n:,}",
            meets=lambda v: v == n,
        ),
        Figure(
            f"round.p99.{db}",
            f"round ({tag}): p99 delay slot → delivery",
            percentile(delays, 99),
            "s",
            aim=f"≤ {0.99 * size.floor * 1.05:,.1f} s (floor {0.99 * size.floor:,.1f})",
            meets=lambda v: v <= 0.99 * size.floor * 1.05,
            digits=1,
        ),
        Figure(
            f"round.first.{db}",
            f"round ({tag}): slot → first prompt delivered",
            min(delays, default=float("nan")),
            "s",
            aim="≤ 1 s",
            meets=lambda v: v <= 1.0,
            digits=2,
        ),
        Figure(
            f"round.queue_seconds.{db}",
            f"round ({tag}): queueing the round (in chunks, committed as it goes)",
            queued_at - opened,
            "s",
            digits=2,
        ),
        Figure(
            f"round.stall_queue.{db}",
            f"round ({tag}): longest loop stall while queueing",
            meter.longest(opened, queued_at) * 1000,
            "ms",
            aim="< 50 ms",
            meets=lambda v: v < 50,
        ),
        Figure(
            f"round.stall_all.{db}",
            f"round ({tag}): longest loop stall, whole round",
            meter.longest(opened, finished) * 1000,
            "ms",
            aim="< 50 ms",
            meets=lambda v: v < 50,
        ),
    ]
