"""The sender's own top rate with Telegram's limits off, against the local emulator.

Aim: at least 1,000 messages/s, so that Telegram (30/s) is the only bottleneck. The sender
goes through the real aiogram transport and HTTP to the emulator with its limits disabled.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.aiogram_runner import AiogramTransport
from bot.delivery import Limits, Sender
from bot.emulator import EmulatorClient, create_app
from handlers.contract import Send

TOKEN = "5555555555:bench-token-not-a-secret-00000000"


@dataclass(frozen=True)
class SenderRate:
    messages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


async def measure(messages: int = 3000, chats: int = 3000, parallel: int = 64) -> SenderRate:
    runner = web.AppRunner(create_app(limits=False), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base), limit=parallel))
    # The limiter's own cost is part of what is measured; its rates are set out of reach.
    sender = Sender(
        AiogramTransport(bot),
        Limits(overall_per_second=1e9, per_chat_per_second=1e9, per_chat_burst=1_000_000),
    )
    try:
        async with EmulatorClient(base) as emulator:
            for chat in range(1, chats + 1):
                await emulator.send(chat, "hi")
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(messages):
            queue.put_nowait(1 + i % chats)

        async def worker() -> None:
            while not queue.empty():
                chat = queue.get_nowait()
                await sender.send(chat, Send(f"Check-in reminder {chat}"))

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(parallel)))
        return SenderRate(messages, time.perf_counter() - start)
    finally:
        await bot.session.close()
        await runner.cleanup()
