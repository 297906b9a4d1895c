"""Daily check-ins under home isolation: asked once per slot, reminded, missed, answered."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models.alerts import Alert
from models.checkins import CheckIn
from models.outbox import Outgoing
from services.checkins import open_checkins, record_misses, remind_checkins
from services.options import Options
from tests.handlers.test_resident import _shown_from
from tests.services.test_plans import list_risk, report_from
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
ZONE = Options().zone
TIMES = (time(8, 0), time(20, 0))


def at(clock: FixedClock, hour: int, minute: int = 0, days: int = 0) -> None:
    """Move the clock to HH:MM Shanghai time, `days` after 1 July 2026."""
    local = datetime(2026, 7, 1 + days, hour, minute, tzinfo=ZONE)
    clock.at = local.astimezone(UTC)


async def home_isolated(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    await report_from(resident, "广州", "Guangzhou")
    assert "home isolation" in resident.last.text


async def run(sessions: async_sessionmaker[AsyncSession], clock: FixedClock, job: str) -> int:
    async with sessions.begin() as session:
        if job == "open":
            return await open_checkins(session, clock.now(), ZONE, times=TIMES)
        if job == "remind":
            return await remind_checkins(session, clock.now(), ZONE, after=timedelta(hours=2))
        return await record_misses(session, clock.now(), ZONE)


async def outbox(sessions: async_sessionmaker[AsyncSession], purpose: str) -> list[Outgoing]:
    async with sessions() as session:
        return list(await session.scalars(select(Outgoing).where(Outgoing.purpose == purpose)))


async def checkins(sessions: async_sessionmaker[AsyncSession]) -> list[CheckIn]:
    async with sessions() as session:
        return list(await session.scalars(select(CheckIn).order_by(CheckIn.id)))


async def alert_kinds(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return sorted(a.kind for a in await session.scalars(select(Alert)))


async def test_a_slot_opens_once_and_the_answer_is_recorded(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await home_isolated(resident, sessions, clock)
    at(clock, 20, 5)
    assert await run(sessions, clock, "open") == 1
    assert await run(sessions, clock, "open") == 0  # a second run (or instance) adds nothing
    (prompt,) = await outbox(sessions, "checkin")
    assert prompt.chat_id == resident.user_id
    resident.shown.append(_shown_from(prompt))
    await resident.press("Answer now")
    assert "Li Na: temperature now" in resident.last.text
    await resident.press("36.5")
    await resident.press("None of these")
    await resident.press("Stayed home")
    assert "Recorded, thank you." in resident.last.text
    (checkin,) = await checkins(sessions)
    assert checkin.temperature == 36.5 and checkin.went_out is False and not checkin.late
    assert "fever" not in await alert_kinds(sessions)


async def test_a_fever_at_check_in_alerts_the_worker(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await home_isolated(resident, sessions, clock)
    at(clock, 8, 30, days=1)
    await run(sessions, clock, "open")
    await resident.send("/checkin")
    await resident.send("38.1")
    await resident.press("Cough")
    await resident.press("Done")
    await resident.press("Went out")
    await resident.send("the pharmacy")
    assert "grid worker has been told" in resident.last.text
    assert "fever" in await alert_kinds(sessions)
    (checkin,) = await checkins(sessions)
    assert checkin.symptoms == ["cough"] and checkin.where == "the pharmacy"


async def test_unanswered_gets_one_reminder_then_is_missed_and_a_late_answer_is_marked(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await home_isolated(resident, sessions, clock)
    at(clock, 8, 0, days=1)
    await run(sessions, clock, "open")
    at(clock, 9, 0, days=1)
    assert await run(sessions, clock, "remind") == 0
    at(clock, 10, 1, days=1)
    assert await run(sessions, clock, "remind") == 1
    assert await run(sessions, clock, "remind") == 0
    assert await run(sessions, clock, "miss") == 0
    at(clock, 20, 0, days=1)
    assert await run(sessions, clock, "miss") == 1
    assert "missed_checkin" in await alert_kinds(sessions)
    at(clock, 20, 10, days=1)
    await resident.send("/checkin")
    await resident.send("36.6")
    await resident.press("None of these")
    await resident.press("Stayed home")
    assert "(late)" in resident.last.text
    morning = (await checkins(sessions))[0]
    assert morning.late and morning.missed_at is not None and morning.answered_at is not None


async def test_a_household_answers_for_each_person_in_turn(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from tests.handlers.test_report import up_to_origin

    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
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
    at(clock, 20, 30)
    await run(sessions, clock, "open")
    assert len(await outbox(sessions, "checkin")) == 1  # one prompt for the household
    await resident.send("/checkin")
    for name in ("Li Na", "Li Xiaoming"):
        assert f"{name}: temperature now" in resident.last.text
        await resident.press("36.5")
        await resident.press("None of these")
        await resident.press("Stayed home")
    assert all(c.answered_at for c in await checkins(sessions))


async def test_nothing_to_answer_says_so(resident: Person) -> None:
    resident.language = "en"
    await resident.send("/checkin")
    assert "no check-in to answer now" in resident.last.text
