"""A write held back for the unit of work's next statement (`models.db.defer_write`): on
PostgreSQL it rides with the conversation's write in one statement, and nothing in the unit
of work can tell it was held — the next read sees it, a commit with nothing after it keeps
it, a rollback drops it. On SQLite it is not held (`defer_write` says so) and runs at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.chat import ChatUser, Conversation, Talk, save_talk
from models.db import defer_write

NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
_USERS = ChatUser.__table__
LANGUAGE = (
    update(_USERS).where(_USERS.c.id == bindparam("b_id")).values(language=bindparam("b_language"))
)


async def _user(sessions: async_sessionmaker[AsyncSession], user_id: int) -> None:
    async with sessions.begin() as session:
        session.add(ChatUser(id=user_id, chat_id=user_id, created_at=NOW, last_seen_at=NOW))


async def _language(sessions: async_sessionmaker[AsyncSession], user_id: int) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(ChatUser.language).where(ChatUser.id == user_id))


async def _write(session: AsyncSession, user_id: int, language: str) -> None:
    params = {"b_id": user_id, "b_language": language}
    if not defer_write(session, LANGUAGE, params):
        await session.execute(LANGUAGE, params)


async def test_the_next_read_in_the_unit_of_work_sees_a_held_write(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _user(sessions, 7)
    async with sessions.begin() as session:
        await _write(session, 7, "en")
        read = await session.scalar(select(_USERS.c.language).where(_USERS.c.id == 7))
    assert read == "en"
    assert await _language(sessions, 7) == "en"


async def test_a_held_write_with_nothing_after_it_is_committed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _user(sessions, 8)
    async with sessions.begin() as session:
        await _write(session, 8, "zh_Hant")
    assert await _language(sessions, 8) == "zh_Hant"


async def test_a_held_write_is_rolled_back_with_its_unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _user(sessions, 9)
    async with sessions() as session:
        async with session.begin():
            await _write(session, 9, "en")
            await session.rollback()
        async with session.begin():
            pass  # a later transaction of the same session writes nothing held before
    assert await _language(sessions, 9) is None


async def test_the_conversation_carries_a_held_write_in_its_own_statement(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await _user(sessions, 10)
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessions.begin() as session:
            await _write(session, 10, "en")
            talk = Talk(step="ask_name", answers={"name": "A"}, live_message_id=None)
            await save_talk(session, 10, talk, new=True, now=NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    # PostgreSQL: one statement; SQLite runs the write at once, then the conversation's.
    assert len(seen) == (1 if engine.dialect.name == "postgresql" else 2), seen
    assert await _language(sessions, 10) == "en"
    async with sessions() as session:
        conversation = await session.get(Conversation, 10)
    assert conversation is not None
    assert (conversation.step, conversation.answers) == ("ask_name", {"name": "A"})


async def test_a_held_write_goes_before_a_flush_of_new_objects(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _user(sessions, 11)
    async with sessions.begin() as session:
        await _write(session, 11, "en")
        session.add(ChatUser(id=12, chat_id=12, created_at=NOW, last_seen_at=NOW))
        await session.flush()
        read = await session.scalar(select(_USERS.c.language).where(_USERS.c.id == 11))
    assert read == "en"
    assert await _language(sessions, 11) == "en"
    async with sessions() as session:
        assert await session.get(ChatUser, 12) is not None
