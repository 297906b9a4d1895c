"""The plan a report gets under the local rules, told in plain words, and re-screening."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.i18n import Translator
from handlers.app import Core
from models.alerts import Alert
from models.outbox import Outgoing
from models.plans import ACTIVE, SUPERSEDED, MonitoringPlan
from models.risk import import_risk_areas
from rules.policy import load_policy
from services.alerts import render_alert
from services.options import Options
from services.rescreen import rescreen
from tests.handlers.test_report import up_to_origin
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")


async def list_risk(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, rows: str
) -> None:
    async with sessions.begin() as session:
        await import_risk_areas(
            session, "place,level,valid_from\n" + rows, source="test.csv", now=clock.now()
        )


async def report_from(
    resident: Person,
    place: str,
    button: str,
    *,
    symptoms: str = "None of these",
    code: str = "Green",
    arrived: bool = True,
) -> None:
    await up_to_origin(resident, arrived=arrived)
    await resident.type_place(place, button)
    await resident.press("Train")
    await resident.send("G1234")
    await resident.press("No more places")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press(symptoms)
    if symptoms != "None of these":
        await resident.press("Done")
    await resident.press(code)
    await resident.press("No test")
    await resident.press("Submit")


async def plans(sessions: async_sessionmaker[AsyncSession]) -> list[MonitoringPlan]:
    async with sessions() as session:
        return list(
            (await session.scalars(select(MonitoringPlan).order_by(MonitoringPlan.id))).all()
        )


async def alerts(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return sorted(a.kind for a in await session.scalars(select(Alert)))


async def test_from_a_high_risk_city_the_plan_is_centralised_with_dates(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await list_risk(sessions, clock, "中国/湖北省/武汉市,high,2026-06-01\n")
    await report_from(resident, "武汉", "Wuhan")
    (plan,) = await plans(sessions)
    assert plan.policy == "jiayuguan" and plan.phases[0]["kind"] == "centralised"
    assert plan.starts_on == date(2026, 7, 1) and plan.ends_on == date(2026, 7, 14)
    told = resident.last.text
    assert "Your plan" in told and "centralised quarantine" in told
    assert "1 Jul" in told and "14 Jul" in told
    assert await alerts(sessions) == ["high_risk_arrival"]


async def test_from_a_listed_district_typing_only_the_city_needs_the_worker(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await list_risk(sessions, clock, "中国/上海市/浦东新区,high,2026-06-01\n")
    await report_from(resident, "上海", "Shanghai")
    (plan,) = await plans(sessions)
    assert plan.needs_confirmation and plan.phases[0]["kind"] != "centralised"
    assert "confirm this plan" in resident.last.text
    assert await alerts(sessions) == ["confirm_match"]


async def test_symptoms_at_arrival_refer_to_the_fever_clinic_and_alert(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await report_from(resident, "南京", "Nanjing", symptoms="Cough")
    (plan,) = await plans(sessions)
    assert plan.refer_to_clinic
    assert "fever clinic" in resident.last.text
    assert "refer_clinic" in await alerts(sessions)


async def test_lanzhou_released_from_quarantine_abroad_is_7_days_at_home_tests_day_1_and_7(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    resident = Person(Core(sessions, clock, Options(policy=load_policy("lanzhou"))), user_id=1002)
    await up_to_origin(resident)
    await resident.type_place("Japan", "Japan")
    await resident.press("Flight")
    await resident.send("NH919")
    await resident.send("上海浦东机场")
    await resident.press("It has ended")
    await resident.press("Yesterday")
    await resident.press("No more places")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press("None of these")
    await resident.press("Green")
    await resident.press("No test")
    await resident.press("Submit")
    (plan,) = await plans(sessions)
    assert [p["kind"] for p in plan.phases] == ["home_monitoring"]
    assert plan.test_days == ["2026-07-01", "2026-07-07"] and plan.negatives_needed == 2
    assert "home health monitoring" in resident.last.text and "7 Jul" in resident.last.text
    assert "released after 2 negative tests" in resident.last.text


async def test_a_pre_arrival_plan_is_redone_from_the_real_arrival_day(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await up_to_origin(resident, arrived=False)
    await resident.type_place("南京", "Nanjing")
    await resident.press("Train")
    await resident.send("G1234")
    await resident.press("No more places")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press("None of these")
    await resident.press("Green")
    await resident.press("No test")
    await resident.press("Submit")
    assert "pre_arrival" in await alerts(sessions)
    clock.advance(timedelta(days=2))
    await resident.send("/arrived")
    await resident.press("Just now")
    first, second = await plans(sessions)
    assert first.status == SUPERSEDED and second.status == ACTIVE
    assert second.starts_on == date(2026, 7, 3)
    assert "Your plan" in resident.last.text


async def test_rescreening_finds_who_was_there_tells_them_and_alerts_each_grid_once(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await report_from(resident, "上海", "Shanghai")
    other = Person(resident.core, user_id=1003)
    await report_from(other, "南京", "Nanjing")
    clock.advance(timedelta(days=1))
    await list_risk(sessions, clock, "上海市,high,2026-06-28\n")
    async with sessions.begin() as session:
        result = await rescreen(
            session,
            place="上海市",
            since=date(2026, 6, 28),
            now=clock.now(),
            zone=Options().zone,
            policy=load_policy("jiayuguan"),
        )
    assert (result.people, result.grids) == (1, 1)
    shanghai = [p for p in await plans(sessions) if p.resident_id == 1]
    assert [p.status for p in shanghai] == [SUPERSEDED, ACTIVE]
    assert shanghai[-1].phases[0]["kind"] == "centralised"
    async with sessions() as session:
        told = (await session.scalars(select(Outgoing))).one()
        grid_alerts = list(await session.scalars(select(Alert).where(Alert.kind == "rescreen")))
    assert told.chat_id == resident.user_id and "risk area" in told.text
    assert len(grid_alerts) == 1 and grid_alerts[0].details["names"] == ["Li Na"]


async def test_from_a_listed_county_the_plan_is_certain(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    # Seed 001: 西宁市城东区 listed; the resident typed it and chose the district.
    await list_risk(sessions, clock, "中国/青海省/西宁市/城东区,high,2026-06-01\n")
    await report_from(resident, "西宁市城东区", "Chengdong, Xining, Qinghai")
    (plan,) = await plans(sessions)
    assert not plan.needs_confirmation and plan.phases[0]["kind"] == "centralised"
    assert await alerts(sessions) == ["high_risk_arrival"]


async def test_a_listed_street_rescreens_its_district_for_the_worker_to_confirm(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await report_from(resident, "西宁城东区", "Chengdong, Xining, Qinghai")
    other = Person(resident.core, user_id=1003)
    await report_from(other, "西宁城西区", "Chengxi, Xining, Qinghai")
    clock.advance(timedelta(days=1))
    street = "青海省/西宁市/城东区/东关大街街道"
    await list_risk(sessions, clock, f"{street},high,2026-06-28\n")
    async with sessions.begin() as session:
        result = await rescreen(
            session,
            place=street,
            since=date(2026, 6, 28),
            now=clock.now(),
            zone=Options().zone,
            policy=load_policy("jiayuguan"),
        )
    assert (result.people, result.grids) == (1, 1)
    latest = [p for p in await plans(sessions) if p.resident_id == 1][-1]
    assert latest.needs_confirmation and latest.phases[0]["kind"] != "centralised"
    async with sessions() as session:
        told = (await session.scalars(select(Outgoing))).one()
    assert "Chengdong, Xining, Qinghai 东关大街街道" in told.text


@pytest.mark.parametrize(("code", "alerted"), [("Green", False), ("Yellow", True), ("Red", True)])
async def test_a_yellow_or_red_code_alerts_the_worker_whatever_the_plan(
    resident: Person, sessions: async_sessionmaker[AsyncSession], code: str, alerted: bool
) -> None:
    await report_from(resident, "南京", "Nanjing", code=code)
    assert ("health_code" in await alerts(sessions)) is alerted
    async with sessions() as session:
        for alert in await session.scalars(select(Alert).where(Alert.kind == "health_code")):
            text, _ = await render_alert(session, alert, Translator("en"))
            assert "Yellow or red health code" in text and f"Health code: {code}" in text
