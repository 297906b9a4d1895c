"""One check-in answer costs a few SQL statements: the update marked handled, the user with
their conversation, the check-in with its person, and what changed written back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.contract import Incoming, Kind
from chat.forms import PAUSED
from models.chat import Conversation
from models.checkins import CheckIn
from tests.handlers.test_resident import _shown_from
from tests.services.test_checkins import at, home_isolated, outbox, run
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
# Issue 21 aims at 4: on PostgreSQL 3, the update marked handled with the user and their
# conversation (locked), the check-in with its person, and the check-in and the conversation
# written in one statement (models.db.defer_write). SQLite marks the update in a statement of
# its own and writes the two apart: 5. (One more when the user was last seen more than
# SEEN_EVERY ago: a one-tap answer.)
MOST = {"postgresql": 3, "sqlite": 5}


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split("\n", 1)[0][:100])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_the_last_answer_of_a_check_in_takes_three_statements_on_postgresql(
    resident: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    engine: AsyncEngine,
) -> None:
    await home_isolated(resident, sessions, clock)
    at(clock, 20, 5)
    await run(sessions, clock, "open")
    (prompt,) = await outbox(sessions, "checkin")
    resident.shown.append(_shown_from(prompt))
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press("No medicine")
    await resident.press("None of these")
    question = resident.last
    at(clock, 20, 6)  # a minute later: within SEEN_EVERY of the previous answer
    (stayed,) = [b for row in question.buttons for b in row if "Stayed home" in b.text]
    pressed = Incoming(
        user_id=resident.user_id,
        chat_id=resident.user_id,
        kind=Kind.BUTTON,
        language=resident.language,
        button=stayed.data,
        message_id=question.message_id,
        callback_id="cb",
    )
    with statements(engine) as seen:
        # As the runners call it: with Telegram's update id.
        replies = await resident.core.handle(pressed, update_id=900001)
    resident.apply(replies)
    assert "Recorded, thank you." in resident.last.text
    assert len(seen) <= MOST[engine.dialect.name], "\n".join(seen)
    # What those statements wrote: the check-in answered as pressed, the conversation closed.
    async with sessions() as session:
        answered = (
            await session.execute(
                select(CheckIn.temperature, CheckIn.went_out).where(
                    CheckIn.answered_at.is_not(None)
                )
            )
        ).all()
        conversation = await session.get(Conversation, resident.user_id)
    assert [tuple(row) for row in answered] == [(36.5, False)]
    assert conversation is not None and conversation.step == PAUSED
