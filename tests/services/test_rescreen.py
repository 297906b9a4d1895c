"""A re-screening that acts (issue 18): when a district is listed, whoever reported that very
district moves to the plan its risk calls for at once, counted from the last day there; whoever
gave only its city reaches the grid's worker with one tap to apply that plan and one to clear
it with a note."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models.alerts import Alert, AlertAction
from models.outbox import Outgoing
from models.people import Resident
from models.plans import ACTIVE, SUPERSEDED, MonitoringPlan
from services.options import Options
from services.rescreen import rescreen
from tests.handlers.test_report import up_to_origin
from tests.handlers.test_staff import worker_of
from tests.services.test_plans import list_risk
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
GRID_2 = "620201001001002"  # up_to_origin's address (13栋) is in the second grid


async def came_from(person: Person, typed: str) -> None:
    await up_to_origin(person)
    await person.send(typed)
    await person.press("Train")
    await person.send("K1074")
    await person.press("No more places")
    await person.press("No one more")
    await person.press("All well")
    await person.press("No test")
    await person.press("Submit")


async def plans_of(sessions: async_sessionmaker[AsyncSession], name: str) -> list[MonitoringPlan]:
    async with sessions() as session:
        resident = (await session.scalars(select(Resident).where(Resident.name == name))).one()
        query = select(MonitoringPlan).where(MonitoringPlan.resident_id == resident.id)
        return list((await session.scalars(query.order_by(MonitoringPlan.id))).all())


@pytest.fixture
async def listed(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> Person:
    """Li Na came from 西宁市城东区, Wang Fang from 西宁市; then 城东区 is listed high."""
    worker = await worker_of(resident, sessions, clock, GRID_2, 5002)
    await came_from(resident, "西宁市城东区")
    assert "from Chengdong, Xining" in "\n".join(resident.texts())
    wang = Person(resident.core, user_id=1002, language="en")
    wang.first_name = "Wang"
    await came_from(wang, "西宁")
    async with sessions() as session:
        names = [r.name for r in await session.scalars(select(Resident))]
    assert names == ["Li Na", "Li Na"]  # up_to_origin types Li Na for both
    async with sessions.begin() as session:
        second = (await session.scalars(select(Resident).order_by(Resident.id.desc()))).first()
        assert second is not None
        second.name = "Wang Fang"
    await list_risk(sessions, clock, "青海省/西宁市/城东区,high,2026-06-20\n")
    async with sessions.begin() as session:
        done = await rescreen(
            session,
            place="青海省/西宁市/城东区",
            since=date(2026, 6, 20),
            now=clock.now(),
            zone=Options().zone,
            policy=Options().policy,
        )
    assert done.people == 2
    return worker


async def test_the_district_listed_moves_who_came_from_it_to_the_stricter_plan_at_once(
    listed: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before, after = await plans_of(sessions, "Li Na")
    assert before.status == SUPERSEDED and after.status == ACTIVE
    assert before.plan_key != after.plan_key and not after.needs_confirmation
    assert after.phases[0]["kind"] == "centralised"
    # Counted from the last day there: the day they left it to come here.
    assert after.starts_on == date(2026, 7, 1)
    async with sessions() as session:
        told = (await session.scalars(select(Outgoing).where(Outgoing.purpose == "rescreen"))).all()
    assert any("centralised quarantine" in m.text for m in told)


async def test_the_city_only_reaches_the_worker_who_applies_the_plan_in_one_tap(
    listed: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    plans = await plans_of(sessions, "Wang Fang")
    assert plans[-1].needs_confirmation and plans[-1].phases[0]["kind"] != "centralised"
    async with sessions() as session:
        alert = (
            await session.scalars(
                select(Alert)
                .where(Alert.kind == "confirm_match", Alert.resident_id == plans[-1].resident_id)
                .order_by(Alert.id.desc())
            )
        ).first()
    assert alert is not None
    await listed.send("/alerts")
    shown = next(m for m in listed.shown if f"#{alert.id}" in m.text and m.buttons)
    assert any("apply the stricter plan" in label for label in shown.labels)
    await listed.press("apply the stricter plan", on=shown)
    assert shown.buttons == () and "stricter plan applied" in shown.text
    now = (await plans_of(sessions, "Wang Fang"))[-1]
    assert now.phases[0]["kind"] == "centralised" and not now.needs_confirmation
    assert now.starts_on == plans[-1].starts_on
    async with sessions() as session:
        told = (
            await session.scalars(select(Outgoing).where(Outgoing.purpose == "plan_confirmed"))
        ).one()
    assert "confirmed you were in an area listed" in told.text


async def test_or_clears_it_with_a_note(
    listed: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await listed.send("/alerts")
    shown = next(m for m in listed.shown if "were not there" in " ".join(m.labels))
    await listed.press("were not there", on=shown)
    assert "Add a note" in listed.last.text
    await listed.send("Phoned: she stayed in 城西区 all week")
    assert "Note saved" in listed.last.text
    plan = (await plans_of(sessions, "Wang Fang"))[-1]
    assert not plan.needs_confirmation and plan.phases[0]["kind"] != "centralised"
    async with sessions() as session:
        action = (
            await session.scalars(select(AlertAction).where(AlertAction.kind == "cleared"))
        ).one()
    assert action.note == "Phoned: she stayed in 城西区 all week"
