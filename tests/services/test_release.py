"""Test days, results, and the end of a plan: released with its negatives, held without."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.alerts import Alert
from models.outbox import Outgoing
from models.plans import HELD, RELEASED, MonitoringPlan
from rules.policy import load_policy
from services.options import Options
from services.release import end_plans, phase_changes, sampling_notices
from tests.handlers.test_report import up_to_origin
from tests.handlers.test_resident import _shown_from
from tests.services.test_checkins import TIMES, ZONE, at
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")


async def released_abroad(resident: Person, *, quarantined: bool = True) -> None:
    """An arrival from abroad; with quarantine ended, Lanzhou's 7 days at home follow."""
    await up_to_origin(resident)
    await resident.type_place("Japan", "Japan")
    await resident.press("Flight")
    await resident.send("NH919")
    await resident.send("上海浦东机场")
    if quarantined:
        await resident.press("It has ended")
        await resident.press("Yesterday")
    else:
        await resident.press("Not ended")
    await resident.press("No more places")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press("None of these")
    await resident.press("Green")
    await resident.press("No test")
    await resident.press("Submit")


async def run(sessions: async_sessionmaker[AsyncSession], clock: FixedClock, job: str) -> int:
    async with sessions.begin() as session:
        if job == "tests":
            return await sampling_notices(session, clock.now(), ZONE, times=TIMES)
        if job == "phases":
            return await phase_changes(session, clock.now(), ZONE)
        return await end_plans(session, clock.now(), ZONE)


async def queued(sessions: async_sessionmaker[AsyncSession], purpose: str) -> list[Outgoing]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Outgoing).where(Outgoing.purpose == purpose).order_by(Outgoing.id)
            )
        )


async def the_plan(sessions: async_sessionmaker[AsyncSession]) -> MonitoringPlan:
    async with sessions() as session:
        return (await session.scalars(select(MonitoringPlan))).one()


async def kinds(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return sorted(a.kind for a in await session.scalars(select(Alert)))


async def answer_test(
    resident: Person, sessions: async_sessionmaker[AsyncSession], result: str
) -> None:
    question = (await queued(sessions, "test_question"))[-1]
    resident.shown.append(_shown_from(question))
    await resident.press(result)


async def test_two_negatives_on_day_1_and_7_release_the_plan(
    lanzhou: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await released_abroad(lanzhou)
    at(clock, 8, 5)
    assert await run(sessions, clock, "tests") == 1  # the morning notice
    assert "test day" in (await queued(sessions, "test_notice"))[0].text
    at(clock, 20, 5)
    assert await run(sessions, clock, "tests") == 1  # the result question, once
    assert await run(sessions, clock, "tests") == 0
    await answer_test(lanzhou, sessions, "Negative")
    assert "Recorded: negative" in lanzhou.last.text
    at(clock, 20, 5, days=6)
    await run(sessions, clock, "tests")
    await answer_test(lanzhou, sessions, "Negative")
    at(clock, 9, 0, days=7)
    assert await run(sessions, clock, "end") == 1
    assert (await the_plan(sessions)).status == RELEASED
    assert "released" in (await queued(sessions, "release"))[0].text
    assert "released" in await kinds(sessions)


async def test_without_the_negatives_the_plan_is_held_and_the_worker_told(
    lanzhou: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await released_abroad(lanzhou)
    at(clock, 20, 5)
    await run(sessions, clock, "tests")
    await answer_test(lanzhou, sessions, "Negative")
    at(clock, 9, 0, days=7)
    await run(sessions, clock, "end")
    assert (await the_plan(sessions)).status == HELD
    assert "release_held" in await kinds(sessions)
    assert await queued(sessions, "release") == []
    # The missing result comes in late: now it is released.
    at(clock, 20, 5, days=6)
    await run(sessions, clock, "tests")  # no new question: the plan is held, not active
    lanzhou.shown.append(_shown_from((await queued(sessions, "test_question"))[0]))
    plan = await the_plan(sessions)
    await lanzhou.press_data(f"/test {plan.id} 2026-07-07 negative", lanzhou.last.message_id)
    assert (await the_plan(sessions)).status == RELEASED


async def test_a_positive_result_alerts_at_once(
    lanzhou: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await released_abroad(lanzhou)
    at(clock, 20, 5)
    await run(sessions, clock, "tests")
    await answer_test(lanzhou, sessions, "Positive")
    assert "positive" in lanzhou.last.text
    assert "positive_test" in await kinds(sessions)


async def test_a_forged_result_for_someone_else_changes_nothing(
    lanzhou: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await released_abroad(lanzhou)
    plan = await the_plan(sessions)
    stranger = Person(lanzhou.core, user_id=4242, language="en")
    await stranger.press_data(f"/test {plan.id} 2026-07-01 negative", 1)
    assert stranger.last.text == "That question is closed."
    at(clock, 9, 0, days=7)
    await run(sessions, clock, "end")
    assert (await the_plan(sessions)).status == HELD


async def test_14_plus_7_says_when_the_home_phase_starts(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    resident = Person(Core(sessions, clock, Options(policy=load_policy("14+7"))), user_id=1011)
    await released_abroad(resident, quarantined=False)
    plan = await the_plan(sessions)
    assert [p["kind"] for p in plan.phases] == ["centralised", "home_monitoring"]
    at(clock, 9, 0, days=13)
    assert await run(sessions, clock, "phases") == 0
    at(clock, 9, 0, days=14)
    assert await run(sessions, clock, "phases") == 1
    assert "From today" in (await queued(sessions, "phase_change"))[0].text


async def test_in_centralised_quarantine_the_sample_is_taken_at_the_site_not_at_home(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Qilin: from abroad, 14 days centralised with tests on day 1, 7 and 14."""
    resident = Person(Core(sessions, clock, Options(policy=load_policy("qilin"))), user_id=1013)
    await released_abroad(resident, quarantined=False)
    assert "centralised quarantine" in resident.last.text
    at(clock, 8, 5)
    assert await run(sessions, clock, "tests") == 1
    (notice,) = await queued(sessions, "test_notice")
    assert "at the site" in notice.text and "at home" not in notice.text


async def test_what_a_slot_brings_one_person_goes_as_one_message(
    lanzhou: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Day 1 is a test day: at 20:00 the notice, the result question and the check-in prompt
    are due at once, and go as one message with all their buttons."""
    from models.outbox import FOLDED, PENDING
    from services.checkins import slot_round

    await released_abroad(lanzhou)  # at 10:00 on day 1
    at(clock, 20, 0)
    for _ in range(2):  # a second run (or instance) adds nothing
        async with sessions.begin() as session:
            await slot_round(session, clock.now(), ZONE, times=TIMES)
    async with sessions() as session:
        rows = list(await session.scalars(select(Outgoing).order_by(Outgoing.id)))
    rows = [r for r in rows if r.purpose in ("test_notice", "test_question", "checkin")]
    assert [(r.purpose, r.status) for r in rows] == [
        ("test_notice", PENDING),
        ("test_question", FOLDED),
        ("checkin", FOLDED),
    ]
    (message,) = [r for r in rows if r.status == PENDING]
    assert message.chat_id == lanzhou.user_id
    lines = message.text.split("\n\n")
    assert "test day" in lines[0] and "test result" in lines[1]
    assert "health check-in" in lines[2]
    labels = [button[0] for row in message.buttons for button in row]
    assert "Negative" in labels[0]
    assert any("All well" in label for label in labels[-2:])
    # Its buttons work as the separate messages' did.
    lanzhou.shown.append(_shown_from(message))
    await lanzhou.press("All well")
    assert "Recorded, thank you." in lanzhou.last.text
    await lanzhou.press("Negative", on=lanzhou.shown[-2])
    assert "Recorded: negative" in lanzhou.last.text
