"""Two instances handling two updates of one user at the same moment (webhooks behind a load
balancer): the second waits for the first and then reads the conversation as the first left
it, so its answer is added to it rather than written over it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.chat import ChatUser, Conversation, take_update, user_for_update

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

    async def take(session: AsyncSession, update_id: int) -> Conversation | None:
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
        await first.flush()

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
