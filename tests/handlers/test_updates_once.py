"""Each Telegram update is handled once, whoever receives it and however often."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.contract import Incoming, Kind, Send
from handlers.app import Core
from models.chat import ChatUser, HandledUpdate
from services.retention import purge_expired


def start(user_id: int) -> Incoming:
    return Incoming(
        user_id=user_id, chat_id=user_id, kind=Kind.COMMAND, text="/start", command="start"
    )


async def count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_the_same_update_again_changes_nothing_and_gets_no_reply(
    core: Core, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await core.handle(start(7), update_id=501)
    assert any(isinstance(r, Send) for r in first)
    assert await core.handle(start(7), update_id=501) == []
    assert await count(sessions, ChatUser) == 1
    # A new update of the same user is answered as before.
    assert any(isinstance(r, Send) for r in await core.handle(start(7), update_id=502))


async def test_the_same_update_at_once_on_two_instances_is_answered_by_one(
    core: Core, sessions: async_sessionmaker[AsyncSession]
) -> None:
    other = Core(sessions, core.clock, core.options)
    answers = await asyncio.gather(
        core.handle(start(8), update_id=601), other.handle(start(8), update_id=601)
    )
    assert sorted(bool(a) for a in answers) == [False, True]


async def test_an_update_whose_handling_failed_is_handled_when_posted_again(
    core: Core, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # A flow that breaks: the transaction (and the update's mark) is rolled back.
    broken = Core(sessions, core.clock, core.options, commands={"start": _broken})
    apology = await broken.handle(start(9), update_id=701)
    assert apology and await count(sessions, HandledUpdate) == 0
    assert any(isinstance(r, Send) for r in await core.handle(start(9), update_id=701))


async def _broken(_chat: object) -> list[object]:
    raise RuntimeError("a bug")


async def test_handled_updates_are_forgotten_after_a_few_days(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await core.handle(start(10), update_id=801)
    async with sessions.begin() as session:
        await purge_expired(session, clock.now() + timedelta(days=1), core.options.zone, days=30)
    assert await count(sessions, HandledUpdate) == 1
    async with sessions.begin() as session:
        await purge_expired(session, clock.now() + timedelta(days=4), core.options.zone, days=30)
    assert await count(sessions, HandledUpdate) == 0
