"""Daily check-ins under home isolation: asked once per slot, reminded, missed, answered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.i18n import Translator
from handlers.app import Core
from models.alerts import Alert
from models.checkins import CheckIn
from models.outbox import Outgoing
from models.people import Resident
from rules.policy import load_policy
from services.checkins import (
    ALL_WELL,
    SOMETHING_TO_REPORT,
    open_checkins,
    record_misses,
    remind_checkins,
)
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
    resident: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    *,
    arrived: bool = True,
) -> None:
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    await report_from(resident, "广州", "Guangzhou", arrived=arrived)
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
    await resident.press("Something to report")
    assert "Li Na: temperature now" in resident.last.text
    await resident.press("36.5")
    await resident.press("No medicine")
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
    await resident.press("No medicine")
    await resident.press("Cough")
    await resident.press("Done")
    await resident.press("Yesterday")
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
    await resident.press("No medicine")
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
        await resident.press("No medicine")
        await resident.press("None of these")
        await resident.press("Stayed home")
    assert all(c.answered_at for c in await checkins(sessions))


async def test_nothing_to_answer_says_so(resident: Person) -> None:
    resident.language = "en"
    await resident.send("/checkin")
    assert "no check-in to answer now" in resident.last.text


async def test_nobody_is_asked_before_arriving_and_day_one_starts_after_arrived(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await home_isolated(resident, sessions, clock, arrived=False)  # expected 2 July, 14:00
    for day, hour in ((1, 8), (1, 20), (2, 8)):  # the expected day, and the day after
        at(clock, hour, 5, days=day)
        assert await run(sessions, clock, "open") == 0
        assert await run(sessions, clock, "remind") == 0
        assert await run(sessions, clock, "miss") == 0
    assert await checkins(sessions) == []
    assert "missed_checkin" not in await alert_kinds(sessions)
    at(clock, 10, 0, days=2)
    await resident.send("/arrived")
    await resident.press("Just now")
    assert "Welcome" in resident.last.text
    at(clock, 10, 30, days=2)  # the slot that was open before the arrival is not counted
    assert await run(sessions, clock, "open") == 0
    at(clock, 20, 0, days=2)
    assert await run(sessions, clock, "open") == 1
    (first,) = await checkins(sessions)
    assert first.slot_start == datetime(2026, 7, 3, 20, 0, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("registered", "first_slot"),
    [
        ((18, 45), datetime(2026, 7, 1, 20, 0, tzinfo=ZONE)),
        ((19, 1), datetime(2026, 7, 2, 8, 0, tzinfo=ZONE)),  # 20:00 is within the hour
    ],
)
async def test_the_first_slot_opens_an_hour_or_more_after_registration(
    resident: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    registered: tuple[int, int],
    first_slot: datetime,
) -> None:
    at(clock, *registered)
    await home_isolated(resident, sessions, clock)
    at(clock, registered[0], registered[1] + 5)
    assert await run(sessions, clock, "open") == 0  # the morning slot, open since 08:00
    at(clock, 20, 0)
    await run(sessions, clock, "open")
    at(clock, 8, 0, days=1)
    await run(sessions, clock, "open")
    at(clock, 20, 0, days=1)  # the morning slot ends: the 20:00 one was never asked
    await run(sessions, clock, "miss")
    assert (await checkins(sessions))[0].slot_start == first_slot
    assert "missed_checkin" in await alert_kinds(sessions)  # only for a slot really asked
    async with sessions() as session:
        missed = await session.scalars(select(CheckIn).where(CheckIn.missed_at.is_not(None)))
        assert all(c.slot_start >= first_slot for c in missed)


async def test_the_plans_last_day_is_asked_and_the_day_after_is_not(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await home_isolated(resident, sessions, clock)  # 14 days: 1 to 14 July
    at(clock, 20, 0, days=13)
    assert await run(sessions, clock, "open") == 1
    (last,) = await checkins(sessions)
    assert last.slot_start == datetime(2026, 7, 14, 20, 0, tzinfo=ZONE)
    at(clock, 8, 0, days=14)
    assert await run(sessions, clock, "open") == 0


def without_reading() -> Options:
    """Jiayuguan's rules, but home isolation asks no reading at every check-in."""
    policy = load_policy("jiayuguan")
    plans = dict(policy.plans)
    plans["home_isolation_14"] = replace(plans["home_isolation_14"], temperature_reading=False)
    return Options(policy=replace(policy, plans=MappingProxyType(plans)))


async def worker_of(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> Person:
    """The worker of the grid the test's residents report to."""
    from tests.handlers.test_staff import GRID_2
    from tests.services.test_alerts import staff_of

    return await staff_of(resident, sessions, clock, GRID_2, 5001)


async def prompted(resident: Person, sessions: async_sessionmaker[AsyncSession]) -> None:
    """The newest check-in prompt, as the resident sees it."""
    rows = await outbox(sessions, "checkin")
    resident.shown.append(_shown_from(rows[-1]))


async def test_one_tap_records_all_well_when_the_plan_needs_no_reading(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    resident = Person(Core(sessions, clock, without_reading()), user_id=1001)
    await home_isolated(resident, sessions, clock)
    at(clock, 20, 0)
    await run(sessions, clock, "open")
    await prompted(resident, sessions)
    assert resident.last.labels == [
        "✅ All well (normal temperature, no symptoms, stayed home)",
        "Something to report: answer each question",
    ]
    chinese = Translator("zh-hans")
    assert chinese(ALL_WELL) == "✅ 一切正常（体温正常、无症状、未外出）"
    assert chinese(SOMETHING_TO_REPORT) == "有情况，逐项填写"
    await resident.press("All well")
    assert "Recorded, thank you." in resident.last.text
    (checkin,) = await checkins(sessions)
    assert checkin.answered_at is not None and checkin.symptoms == []
    assert checkin.went_out is False and checkin.temperature is None
    assert await alert_kinds(sessions) == []
    await resident.send("/checkin")  # nothing left to answer
    assert "no check-in to answer" in resident.last.text


async def test_one_tap_still_asks_the_reading_where_the_plan_requires_it(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    resident.language = "en"
    await home_isolated(resident, sessions, clock)  # Jiayuguan's home isolation: a reading
    at(clock, 20, 0)
    await run(sessions, clock, "open")
    await prompted(resident, sessions)
    await resident.press("All well")
    assert "Li Na: temperature now" in resident.last.text
    await resident.press("36.5")
    await resident.press("No medicine")
    assert "Recorded, thank you." in resident.last.text
    (checkin,) = await checkins(sessions)
    assert checkin.temperature == 36.5 and checkin.symptoms == [] and checkin.went_out is False


async def test_fever_medicine_makes_the_reading_unreliable_and_alerts(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    resident.language = "en"
    await home_isolated(resident, sessions, clock)
    at(clock, 20, 0)
    await run(sessions, clock, "open")
    await resident.send("/checkin")
    await resident.press("36.5")
    await resident.press("Yes, some")
    await resident.press("None of these")
    await resident.press("Stayed home")
    assert "grid worker has been told" in resident.last.text
    assert await alert_kinds(sessions) == ["antipyretic"]
    (checkin,) = await checkins(sessions)
    assert checkin.extra["antipyretic"] is True
    worker = await worker_of(resident, sessions, clock)
    await worker.send(f"/person {checkin.resident_id}")
    assert "⚠️" in worker.last.text
    assert "36.5 °C, fever-reducing medicine taken: the reading is unreliable" in worker.last.text


async def test_symptom_onset_is_asked_once_and_nothing_carries_over(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    resident.language = "en"
    await home_isolated(resident, sessions, clock)
    at(clock, 8, 0, days=1)
    await run(sessions, clock, "open")
    await resident.send("/checkin")
    await resident.press("36.5")
    await resident.press("No medicine")
    await resident.press("Cough")  # ticked, and the check-in left there
    at(clock, 20, 0, days=1)
    await run(sessions, clock, "open")
    await resident.send("/checkin")  # the evening's, begun afresh
    await resident.press("36.5")
    await resident.press("No medicine")
    assert not [label for label in resident.last.labels if "✅" in label]
    await resident.press("Cough")
    await resident.press("Done")
    assert "symptoms begin" in resident.last.text
    await resident.press("Yesterday")
    await resident.press("Stayed home")
    at(clock, 8, 0, days=2)
    await run(sessions, clock, "open")
    await resident.send("/checkin")
    await resident.press("36.5")
    await resident.press("No medicine")
    await resident.press("Cough")
    await resident.press("Done")
    assert "did you go out" in resident.last.text  # the day they began is on file
    await resident.press("Stayed home")
    answered = [c for c in await checkins(sessions) if c.answered_at]
    assert [c.extra.get("onset") for c in answered] == ["2026-07-01", None]
    worker = await worker_of(resident, sessions, clock)
    await worker.send(f"/person {answered[0].resident_id}")
    assert "Cough, symptoms since 1 Jul" in worker.last.text


async def test_a_resident_moves_the_morning_check_in_and_the_round_follows(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from tests.handlers.test_staff import GRID_2
    from tests.services.test_alerts import staff_of

    resident.language = "en"
    await home_isolated(resident, sessions, clock)
    await resident.send("/time")
    assert "We ask you each day at 08:00, 20:00" in resident.last.text
    await resident.send("23:00")  # outside the policy's window
    assert "between 06:00 and 22:00" in resident.last.text
    await resident.send("08:00 and 08:30")
    assert "at least an hour apart" in resident.last.text
    await resident.press("10:00")  # the nearest, 08:00, moves
    assert "each day at 10:00, 20:00" in resident.last.text
    at(clock, 8, 5, days=1)
    assert await run(sessions, clock, "open") == 0
    at(clock, 10, 0, days=1)
    assert await run(sessions, clock, "open") == 1
    at(clock, 11, 59, days=1)
    assert await run(sessions, clock, "remind") == 0
    at(clock, 12, 0, days=1)
    assert await run(sessions, clock, "remind") == 1
    at(clock, 20, 0, days=1)
    assert await run(sessions, clock, "miss") == 1
    (morning,) = [c for c in await checkins(sessions) if c.missed_at]
    assert morning.slot_start == datetime(2026, 7, 2, 10, 0, tzinfo=ZONE)
    worker = await staff_of(resident, sessions, clock, GRID_2, 5001)
    await worker.send(f"/person {morning.resident_id}")
    assert "Daily check-ins: 10:00, 20:00 (chosen by the resident)" in worker.last.text


async def test_time_with_nothing_to_move_says_so(resident: Person) -> None:
    resident.language = "en"
    await resident.send("/time")
    assert "no daily check-ins to move" in resident.last.text


async def test_a_plan_replaced_mid_slot_asks_nothing_twice(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from sqlalchemy.orm import selectinload

    from models.people import Arrival
    from services.plans import classify

    await home_isolated(resident, sessions, clock)
    at(clock, 20, 0)
    assert await run(sessions, clock, "open") == 1
    at(clock, 20, 30)  # a worker's re-screening replaces the plan
    async with sessions.begin() as session:
        arrival = (
            await session.scalars(select(Arrival).options(selectinload(Arrival.stays)))
        ).one()
        resident_row = await session.get(Resident, arrival.resident_id)
        assert resident_row is not None
        await classify(session, resident_row, arrival, Options().policy, clock.now(), ZONE)
    assert await run(sessions, clock, "open") == 0
    assert len(await checkins(sessions)) == 1
