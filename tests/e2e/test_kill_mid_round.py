"""`kill -9` of the bot in the middle of a round of prompts, then a restart: every prompt
arrives, and the only ones sent twice are those in flight at that instant."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery import Limits
from bot.outbox_worker import FLUSH_SIZE
from emulator import EmulatorClient
from models.db import make_engine, make_sessions
from models.outbox import enqueue
from tests.e2e.conftest import prepared_bot

pytestmark = [pytest.mark.frameworks("aiogram"), pytest.mark.own_bot]
CHATS = range(8101, 8251)


async def round_copies(emulator: EmulatorClient) -> Counter[int]:
    got: Counter[int] = Counter()
    for entry in await emulator.log(method="sendMessage"):
        text = str(entry["params"].get("text", ""))
        if entry["ok"] and text.startswith("Round prompt"):
            got[int(text.rsplit(" ", 1)[1])] += 1
    return got


async def test_kill_9_mid_round_sends_again_at_most_what_was_in_flight(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> None:
    bot = await prepared_bot(emulator, database_url, tmp_path, framework=framework)
    for chat in CHATS:
        await emulator.send(chat, "hi")  # the chats exist
    now = await emulator.now()
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine).begin() as session:
            for chat in CHATS:
                await enqueue(
                    session, chat_id=chat, text=f"Round prompt {chat}", purpose="checkin", now=now
                )
    finally:
        await engine.dispose()
    for _ in range(1200):
        if sum((await round_copies(emulator)).values()) >= 40:
            break
        await asyncio.sleep(0.05)
    assert bot.process is not None
    bot.process.kill()  # kill -9
    bot.process.wait()
    at_kill = len(await round_copies(emulator))
    assert at_kill < len(CHATS), "the round was over before the kill"
    await bot.start()
    # What the dead process had claimed and not sent comes back after its lease (2 minutes
    # of the bot's clock, which is the emulator's).
    await emulator.advance(timedelta(minutes=3))
    for _ in range(2400):
        got = await round_copies(emulator)
        if len(got) == len(CHATS):
            break
        await asyncio.sleep(0.05)
    got = await round_copies(emulator)
    assert set(got) == set(CHATS), "a prompt was lost"
    twice = sum(1 for n in got.values() if n > 1)
    assert max(got.values()) <= 2
    assert twice <= Limits().bulk_in_flight + FLUSH_SIZE, twice
    await bot.stop()
