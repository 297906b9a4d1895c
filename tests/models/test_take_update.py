"""Two instances handling two updates of one user at the same moment (webhooks behind a load
balancer): the second waits for the first and then reads the conversation as the first left
it, so its answer is added to it rather than written over it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.contract import Incoming, Kind, Send
from handlers.app import Core
from models.chat import (
    ChatUser,
    Conversation,
    HandledUpdate,
    Talk,
    save_talk,
    take_update,
    user_for_update,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
USER = 4242


async def _waiting_for_a_lock(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Until some other connection to this database waits for a row lock."""
    while True:
        async with sessions() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("with_update_id", [True, False])
async def test_the_second_update_reads_the_conversation_the_first_left(
    sessions: async_sessionmaker[AsyncSession], database_url: str, with_update_id: bool
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the race is between PostgreSQL transactions (SQLite has one writer)")
    async with sessions.begin() as session:
        session.add(ChatUser(id=USER, chat_id=USER, created_at=NOW, last_seen_at=NOW))
        await session.flush()
        session.add(Conversation(user_id=USER, step="ask_name", answers={}, updated_at=NOW))

    async def take(session: AsyncSession, update_id: int) -> Talk | None:
        if with_update_id:
            first, _, conversation = await take_update(session, USER, update_id, NOW)
            assert first
            return conversation
        return (await user_for_update(session, USER))[1]

    first = sessions()
    second = sessions()
    try:
        await first.begin()
        conversation = await take(first, 1)
        assert conversation is not None and conversation.step == "ask_name"
        conversation.step, conversation.answers = "ask_phone", {"name": "Li Na"}
        await save_talk(first, USER, conversation, new=False, now=NOW)

        await second.begin()
        taking = asyncio.create_task(take(second, 2))
        await _waiting_for_a_lock(sessions)
        assert not taking.done()
        await first.commit()

        seen = await taking
        assert seen is not None
        assert (seen.step, seen.answers) == ("ask_phone", {"name": "Li Na"})
        await second.commit()
    finally:
        await first.close()
        await second.close()


async def test_a_new_users_first_update_taken_on_two_instances_at_once_is_answered(
    sessions: async_sessionmaker[AsyncSession], database_url: str, core: Core
) -> None:
    """A new user's row cannot be waited for before it exists: the instance that writes it
    second fails on the key, and takes the update again (it is rolled back whole), instead
    of telling the person something went wrong."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the race is between PostgreSQL transactions (SQLite has one writer)")
    other = sessions()
    try:
        await other.begin()
        # The other instance, handling this person's first message: their row written, not
        # yet committed.
        other.add(ChatUser(id=USER, chat_id=USER, created_at=NOW, last_seen_at=NOW))
        await other.flush()
        start = Incoming(USER, USER, Kind.COMMAND, language="en", text="/start", command="start")
        handling = asyncio.create_task(core.handle(start, update_id=77))
        await _waiting_for_a_lock(sessions)
        await other.commit()
        replies = await handling
    finally:
        await other.close()
    texts = " ".join(r.text for r in replies if isinstance(r, Send))
    assert texts and "went wrong" not in texts and "cannot save" not in texts
    async with sessions() as session:
        marked = await session.scalar(
            select(func.count()).select_from(HandledUpdate).where(HandledUpdate.update_id == 77)
        )
    assert marked == 1
