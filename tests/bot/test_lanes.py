"""A resident's reply never waits behind a round being sent; a chat that got a 429 is
slowed down, not hammered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.aiogram_runner import AiogramTransport, make_session
from bot.delivery import Limits, Sender
from chat.contract import Send
from emulator import EmulatorClient
from tests.bot.test_outbox_worker import TOKEN


@pytest.fixture
async def bot(emulator: EmulatorClient) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=make_session(emulator.base_url))
    yield bot
    await bot.session.close()


async def test_a_reply_during_a_round_goes_out_at_once(emulator: EmulatorClient, bot: Bot) -> None:
    await emulator.set_limits(False)
    for chat in range(1, 202):
        await emulator.send(chat, "hi")
    # 20 messages a second: a round of 200 takes 10 s (a little more in the bulk lane).
    sender = Sender(AiogramTransport(bot), Limits(overall_per_second=20))
    round_ = asyncio.gather(
        *(sender.send(chat, Send(f"check-in {chat}"), bulk=True) for chat in range(1, 201))
    )
    await asyncio.sleep(2)
    started = time.monotonic()
    await sender.send(201, Send("your answer is saved"))
    waited = time.monotonic() - started
    assert not round_.done()
    # Behind the round it would wait for the ~160 prompts still queued: 8 s.
    assert waited < 0.5, waited
    await round_


async def test_a_429_pauses_the_chat_and_slows_it(emulator: EmulatorClient, bot: Bot) -> None:
    await emulator.send(1, "hi")
    # The emulator allows one message a second to the chat, no burst; the sender thinks 3.
    await emulator.set_limits(True, global_rate=1000, global_burst=1000, chat_rate=1, chat_burst=1)
    sender = Sender(AiogramTransport(bot), Limits(per_chat_per_second=3, per_chat_burst=3))
    await asyncio.gather(*(sender.send(1, Send(f"m{i}"), bulk=True) for i in range(6)))
    stats = await emulator.stats()
    # Every message arrives; after the first 429s the chat goes at Telegram's pace (and
    # slower at each further one), so the 429s are fewer than the messages.
    assert stats["messages_per_chat"]["1"] == 6
    assert stats["rate_limited"] < 6, stats["rate_limited"]
