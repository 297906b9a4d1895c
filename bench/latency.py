"""Replies before bulk: how long a resident's reply takes to leave while a round is being
sent, beside the same with no round.

The `Sender` (aiogram transport, HTTP) against the emulator in its own process, in strict mode
(no bursts: at most LIMIT calls in any one-second window, 1/s per chat). A round of ROUND
prompts goes through the bulk lane (`send(bulk=True)`, as the outbox worker sends), and every
quarter of a second a reply goes to another chat, as a resident's button press is answered;
the time of each reply's `send` is taken, from the call to Telegram's answer. The same replies
are timed first with no round. Short version: the limit scaled ×10 (300/s) and a round of
3,000 (10 s); long: Telegram's 30/s and the issue's 20,000 (11 minutes).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiogram import Bot

from bench.common import TOKEN, Emulator, Figure, percentile
from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender
from chat.contract import Send


@dataclass(frozen=True)
class Size:
    limit: float
    round: int
    replies: int


SHORT = Size(limit=300, round=3_000, replies=30)
FULL = Size(limit=30, round=20_000, replies=200)
REPLY_CHATS = 1_000_000


async def _replies(sender: Sender, first_chat: int, size: Size) -> list[float]:
    # A reply every quarter of a second, or closer together when that would outlast the
    # first 60 % of the round (a fast machine sends the short round in under 10 s).
    gap = min(0.25, 0.6 * size.round / size.limit / size.replies)
    times = []
    for i in range(size.replies):
        started = time.perf_counter()
        await sender.send(first_chat + i, Send("✅ Recorded, thank you."))
        times.append(time.perf_counter() - started)
        await asyncio.sleep(gap)
    return times


async def measure(size: Size, emulator: Emulator) -> list[Figure]:
    await emulator.client.reset()
    await emulator.client.set_limits(False)
    round_chats = range(1, size.round + 1)
    await emulator.create_users([*round_chats, *range(REPLY_CHATS, REPLY_CHATS + 2 * size.replies)])
    await emulator.client.set_limits(True, strict=True, global_rate=size.limit, chat_rate=1)
    bot = Bot(TOKEN, session=make_session(emulator.url, limit=64))
    sender = Sender(AiogramTransport(bot), Limits(overall_per_second=size.limit))
    try:
        calm = await _replies(sender, REPLY_CHATS, size)
        await asyncio.sleep(1.5)  # the one-second window empties
        sent_at: list[float] = []

        async def prompt(chat: int) -> None:
            await sender.send(chat, Send(f"Check-in time ({chat})"), bulk=True)
            sent_at.append(time.perf_counter())

        bulk = asyncio.gather(*(prompt(chat) for chat in round_chats))
        await asyncio.sleep(1.0)  # the round is under way
        busy = await _replies(sender, REPLY_CHATS + size.replies, size)
        still_sending = not bulk.done()
        await bulk
    finally:
        await bot.session.close()
    stats = await emulator.client.stats()
    limited = stats["rate_limited"]
    assert still_sending, "the round ended before the replies: make it longer"
    return [
        Figure("latency.calm.p95", "reply p95, no round", percentile(calm, 95) * 1000, "ms"),
        Figure(
            "latency.round.p95",
            f"reply p95 during a round of {size.round:,} at {size.limit:g}/s",
            percentile(busy, 95) * 1000,
            "ms",
            aim="< 1,000 ms",
            meets=lambda v: v < 1000,
        ),
        Figure(
            "latency.round.p50", "reply p50 during the round", percentile(busy, 50) * 1000, "ms"
        ),
        Figure("latency.round.429", "429s during the round (strict limits)", limited, ""),
        Figure(
            "latency.round.rate",
            "the round's rate ÷ limit, replies beside it (first → last answered)",
            (len(sent_at) - 1) / (max(sent_at) - min(sent_at)) / size.limit,
            aim="≥ 0.95",
            meets=lambda v: v >= 0.95,
            digits=3,
        ),
    ]
