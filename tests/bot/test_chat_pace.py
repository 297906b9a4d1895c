"""Each chat's pace (Telegram's ~1 message a second per chat) is kept while the chat has
something in its bucket, and forgotten once the bucket is empty: a round to thousands of
chats leaves nothing behind for the garbage collector to walk (with a bucket kept per
chat, a round of 20,000 held the event loop up to 137 ms at each full collection)."""

from __future__ import annotations

import asyncio
import gc

from bot.delivery import Limits, Sender
from chat.contract import Send
from tests.bot.test_service import RecordingTransport


async def test_a_round_to_thousands_of_chats_leaves_nothing_per_chat_behind() -> None:
    transport = RecordingTransport()
    limits = Limits(overall_per_second=100_000, per_chat_per_second=10, per_chat_burst=3)
    sender = Sender(transport, limits)
    await sender.send(1, Send("warm-up"), bulk=True)
    gc.collect()
    before = len(gc.get_objects())

    chats = range(2, 3_002)
    await asyncio.gather(*(sender.send(chat, Send("check-in"), bulk=True) for chat in chats))
    await asyncio.sleep(0.2)  # every bucket empty (one message, 10 a second)
    await sender.send(5_000, Send("the next one"), bulk=True)
    gc.collect()
    grown = len(gc.get_objects()) - before

    assert len(transport.sent) == 3_002
    # A bucket kept per chat is five objects: 15,000 here.
    assert grown < 1_000, grown


async def test_a_chat_keeps_its_pace_while_the_others_are_forgotten() -> None:
    transport = RecordingTransport()
    limits = Limits(overall_per_second=100_000, per_chat_per_second=10, per_chat_burst=3)
    sender = Sender(transport, limits)
    # Chat 1 uses its burst, then many chats are sent to (each forgets the empty buckets
    # used longest ago, chat 1's the first of them), then chat 1 gets a fourth message.
    await asyncio.gather(*(sender.send(1, Send(f"burst {n}")) for n in range(3)))
    await asyncio.gather(*(sender.send(chat, Send("other")) for chat in range(2, 202)))
    await sender.send(1, Send("fourth"))

    times = [at for _, at in transport.to(1)]
    assert len(times) == 4
    # The bucket (3, leaking 10 a second) had room again a tenth of a second after the burst.
    assert times[3] - times[0] >= 0.09, times
