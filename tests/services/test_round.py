"""A slot's round taken a few reporters at a time and committed as it goes (as the scheduler
runs it): each reporter gets one message for the slot, what falls due together is folded
into it, and running the round again (or on a second instance) adds nothing."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.scheduler import Scheduler
from chat.clock import FixedClock
from models.checkins import CheckIn
from models.outbox import FOLDED, PENDING, Outgoing
from services.checkins import remind_checkins, slot_round
from services.release import SLOT_PURPOSES
from tests.handlers.test_report import up_to_origin
from tests.handlers.test_resident import _shown_from
from tests.services.test_checkins import TIMES, ZONE, at
from tests.services.test_plans import list_risk
from tests.services.test_release import released_abroad
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")


async def household_of_two(resident: Person, sessions: async_sessionmaker[AsyncSession]) -> None:
    """The reporter and a child without a phone, home isolation from Guangzhou."""
    await up_to_origin(resident)
    await resident.type_place("广州", "Guangzhou")
    await resident.press("Own car")
    await resident.send("粤A12345")
    await resident.press("No more places")
    await resident.send("Li Xiaoming")
    await resident.press("Child")
    await resident.press("No phone")
    await resident.press("All well")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press("None of these")
    await resident.press("Green")
    await resident.press("No test")
    await resident.press("Submit")


async def slot_messages(sessions: async_sessionmaker[AsyncSession]) -> list[Outgoing]:
    async with sessions() as session:
        query = select(Outgoing).where(Outgoing.purpose.in_(SLOT_PURPOSES)).order_by(Outgoing.id)
        return list(await session.scalars(query))


async def test_a_round_in_chunks_sends_each_reporter_one_message_once(
    resident: Person,
    lanzhou: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    await household_of_two(resident, sessions)  # reporter 1001, two people
    # Three people back from abroad whose day 1 is a test day (reporters 1010–1012).
    abroad = [lanzhou, *(Person(lanzhou.core, user_id=n) for n in (1011, 1012))]
    for person in abroad:
        await released_abroad(person)
    at(clock, 20, 0)
    nudges: list[int] = []
    job = partial(slot_round, times=TIMES, chunk=2)  # 4 reporters: two chunks
    scheduler = Scheduler(
        sessions, clock, ZONE, [("slot_round", job, 30)], lambda: nudges.append(1)
    )

    await scheduler.run_job("slot_round", job)
    # The worker was told after each chunk was committed, not only at the end.
    assert len(nudges) >= 2
    first = await slot_messages(sessions)
    sent_as: dict[int, Outgoing] = {}
    for row in first:
        if row.status == PENDING:
            assert row.chat_id not in sent_as, "two messages for one chat"
            sent_as[row.chat_id] = row
    assert sorted(sent_as) == [1001, 1010, 1011, 1012]
    # The household: one prompt for both people.
    assert [r.purpose for r in first if r.chat_id == 1001] == ["checkin"]
    assert "health check-in" in sent_as[1001].text
    # Abroad: the test notice carries the result question and the prompt, folded into it.
    for person in abroad:
        rows = [(r.purpose, r.status) for r in first if r.chat_id == person.user_id]
        assert rows == [("test_notice", PENDING), ("test_question", FOLDED), ("checkin", FOLDED)]
        lines = sent_as[person.user_id].text.split("\n\n")
        assert "test day" in lines[0] and "test result" in lines[1]
        assert "health check-in" in lines[2]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 5

    # Again (a rerun, a restart, a second instance): nothing more, whatever the chunks.
    for size in (2, 1, 500):
        again = partial(slot_round, times=TIMES, chunk=size)
        assert await scheduler.run_job("slot_round", again) == 0
    assert [(r.id, r.status, r.text) for r in await slot_messages(sessions)] == [
        (r.id, r.status, r.text) for r in first
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 5

    # The folded prompt works as a prompt.
    lanzhou.shown.append(_shown_from(sent_as[lanzhou.user_id]))
    await lanzhou.press("All well")
    assert "Recorded, thank you." in lanzhou.last.text

    # Two hours in, the others get one reminder each, a reporter at a time; once.
    at(clock, 22, 5)
    remind = partial(remind_checkins, after=timedelta(hours=2), chunk=1)
    assert await scheduler.run_job("remind_checkins", remind) == 3
    assert await scheduler.run_job("remind_checkins", remind) == 0
    async with sessions() as session:
        reminders = await session.scalars(
            select(Outgoing.chat_id).where(Outgoing.purpose == "checkin_reminder")
        )
        assert sorted(reminders) == [1001, 1011, 1012]


async def test_a_round_in_one_transaction_is_the_same(
    lanzhou: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Outside the scheduler (a caller's own transaction) the chunks are not committed: a
    failure later in the round leaves nothing half done."""
    abroad = [lanzhou, *(Person(lanzhou.core, user_id=n) for n in (1011, 1012))]
    for person in abroad:
        await released_abroad(person)
    at(clock, 20, 0)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            assert await slot_round(session, clock.now(), ZONE, times=TIMES, chunk=1) == 9
            raise RuntimeError("the round's transaction fails at its end")
    assert await slot_messages(sessions) == []
    async with sessions.begin() as session:
        assert await slot_round(session, clock.now(), ZONE, times=TIMES, chunk=1) == 9
    assert len(await slot_messages(sessions)) == 9
