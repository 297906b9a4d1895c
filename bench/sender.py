"""The sender's own top rate with Telegram's limits off, against the local emulator.

Aim: at least 1,000 messages/s, so that Telegram (30/s) is the only bottleneck. The sender
goes through the real aiogram transport and HTTP to the emulator (in its own process) with
the emulator's limits off; the Sender's limiter stays in the path with rates out of reach,
so its own cost is part of what is measured.
"""

from __future__ import annotations

import asyncio
import time

from aiogram import Bot

from bench.common import TOKEN, Emulator, Figure
from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender
from chat.contract import Send


async def measure(
    emulator: Emulator, messages: int = 3000, chats: int = 3000, parallel: int = 64
) -> list[Figure]:
    await emulator.client.reset()
    await emulator.limit(None)
    await emulator.create_users(range(1, chats + 1))
    bot = Bot(TOKEN, session=make_session(emulator.url, limit=parallel))
    sender = Sender(
        AiogramTransport(bot),
        Limits(overall_per_second=1e9, per_chat_per_second=1e9, per_chat_burst=1_000_000),
    )
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(messages):
        queue.put_nowait(1 + i % chats)

    async def worker() -> None:
        while not queue.empty():
            chat = queue.get_nowait()
            await sender.send(chat, Send(f"Check-in reminder {chat}"))

    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(parallel)))
        seconds = time.perf_counter() - start
    finally:
        await bot.session.close()
    rate = messages / seconds
    return [
        Figure(
            "sender.rate",
            "sender top rate, limits off",
            rate,
            "msg/s",
            aim="≥ 1,000 msg/s",
            meets=lambda v: v >= 1000,
        )
    ]
