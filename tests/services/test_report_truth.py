"""The daily report tells the truth at its boundaries. One grid over two days, with the cases
that used to go wrong: a fever at 20:30 (after the day's report), a re-screen at 10:00 of
someone who answered at 09:00, a late answer, an escalation by the bot, an alert left open
from yesterday and an arrival who never came. Every figure of the grid's and the community's
report is checked against counts written here from the story, not from the report's code;
and the report is the same whichever of its jobs ran first."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from chat.clock import FixedClock
from chat.i18n import Translator
from handlers.app import Core
from models.areas import area_by_code
from models.checkins import CheckIn
from models.outbox import Outgoing
from models.people import Arrival, Resident
from models.plans import ACTIVE, MonitoringPlan
from services.alerts import deliver_alerts, escalate_alerts
from services.counts import Counts, Rollup, rollup_figures
from services.digest import render_daily, render_rollup
from services.figures import DailyFigures, daily_figures
from services.plans import classify
from tests.handlers.test_resident import _shown_from, reported
from tests.handlers.test_staff import GRID_2
from tests.services.test_alerts import COMMUNITY, ZONE, staff_of
from tests.services.test_checkins import at, run
from tests.services.test_plans import list_risk, report_from
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
DAY_2 = date(2026, 7, 2)


async def rename(sessions: async_sessionmaker[AsyncSession], person: Person, name: str) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Resident).where(Resident.reporter_user_id == person.user_id).values(name=name)
        )


async def answer(person: Person, temperature: str) -> None:
    await person.send("/checkin")
    await person.send(temperature)
    await person.press("No medicine")
    await person.press("None of these")
    await person.press("Stayed home")


async def rescreen(core: Core, sessions: async_sessionmaker[AsyncSession], name: str) -> None:
    """The person's plan decided again (a re-screening): the new plan supersedes the old."""
    async with sessions.begin() as session:
        resident = await session.scalar(select(Resident).where(Resident.name == name))
        assert resident is not None
        arrival = await session.scalar(
            select(Arrival)
            .where(Arrival.resident_id == resident.id)
            .options(selectinload(Arrival.stays))
        )
        assert arrival is not None
        await classify(session, resident, arrival, core.options.policy, core.clock.now(), ZONE)


def figures_of(figures: DailyFigures) -> dict[str, object]:
    return {
        "reports": figures.reports,
        "arrived": figures.arrived,
        "due": figures.checkins_due,
        "on time": figures.checkins_answered,
        "late": figures.checkins_late,
        "missed": figures.checkins_missed,
        "abnormal": sorted((i.name, i.kind, i.handled) for i in figures.abnormal),
        "missed list": sorted((i.name, i.handled) for i in figures.missed),
        "still open": sorted((i.name, i.kind) for i in figures.still_open),
        "not arrived": sorted(e.name for e in figures.no_shows),
        "expected": sorted(e.name for e in figures.expected),
        "released": list(figures.releases),
    }


# Written from the story above. The window is 1 July 20:00 to 2 July 20:00.
EXPECTED: dict[str, object] = {
    "reports": 0,  # all reported on 1 July at 10:00, before the window
    "arrived": 0,
    # Ended in the window: the evening slot of 1 July (4) and the morning slot of 2 July (4).
    "due": 8,
    "on time": 6,  # evening: Fever, Rescreened, Bot; morning: Fever, Bot, Rescreened
    "late": 1,  # Late's evening slot, answered at 07:00
    "missed": 1,  # Late's morning slot, whether or not the miss job has run
    # The fever at 20:30 (called about by the worker) and Bot's (escalated by the bot only).
    "abnormal": [("Bot", "fever", False), ("Fever", "fever", True)],
    "missed list": [("Late", False)],
    # The clinic referral of 1 July 10:00, never acted on (escalated by the bot only).
    "still open": [("Clinic", "refer_clinic")],
    "not arrived": ["Absent"],  # expected 2 July 14:00
    "expected": [],
    "released": [],
}


def counts_of(counts: Counts) -> dict[str, object]:
    """What the roll-up above the grid counts (in SQL, no names)."""
    return {
        "reports": counts.reports,
        "arrived": counts.arrived,
        "due": counts.checkins_due,
        "on time": counts.checkins_answered,
        "late": counts.checkins_late,
        "missed": counts.checkins_missed,
        "abnormal": (counts.abnormal, counts.abnormal_handled),
        "missed list": (counts.missed, counts.missed_handled),
        "still open": counts.still_open,
        "not arrived": counts.no_shows,
        "expected": counts.expected,
        "released": counts.released,
    }


# The same story counted: the community holds only this grid's people.
EXPECTED_COUNTS: dict[str, object] = {
    **{key: EXPECTED[key] for key in ("reports", "arrived", "due", "on time", "late", "missed")},
    "abnormal": (2, 1),
    "missed list": (1, 0),
    "still open": 1,
    "not arrived": 1,
    "expected": 0,
    "released": 0,
}


async def test_the_daily_report_tells_the_truth_at_its_boundaries(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await staff_of(Person(core, 1), sessions, clock, GRID_2, 5001)
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    people: dict[str, Person] = {}
    for user_id, name in ((1001, "Fever"), (1002, "Rescreened"), (1003, "Late"), (1004, "Bot")):
        people[name] = Person(core, user_id=user_id)
        await report_from(people[name], "广州", "Guangzhou")
        await rename(sessions, people[name], name)
    people["Clinic"] = Person(core, user_id=1005)
    await report_from(people["Clinic"], "南京", "Nanjing", symptoms="Cough")
    await rename(sessions, people["Clinic"], "Clinic")
    people["Absent"] = Person(core, user_id=1006)
    await reported(people["Absent"], arrived=False)
    await rename(sessions, people["Absent"], "Absent")
    at(clock, 20, 5)
    assert await run(sessions, clock, "open") == 4
    at(clock, 20, 10)
    await answer(people["Rescreened"], "36.5")
    await answer(people["Bot"], "36.6")
    at(clock, 20, 30)
    await answer(people["Fever"], "38.5")
    at(clock, 0, 5, days=1)
    assert await run(sessions, clock, "miss") == 1
    at(clock, 7, 0, days=1)
    await answer(people["Late"], "36.4")
    at(clock, 8, 5, days=1)
    assert await run(sessions, clock, "open") == 4
    at(clock, 8, 10, days=1)
    await answer(people["Fever"], "36.8")
    at(clock, 8, 30, days=1)
    await answer(people["Bot"], "38.6")
    at(clock, 9, 0, days=1)
    await answer(people["Rescreened"], "36.5")
    async with sessions.begin() as session:
        await deliver_alerts(session, clock.now(), ZONE)
    async with sessions() as session:
        sent = list(
            await session.scalars(
                select(Outgoing).where(
                    Outgoing.purpose == "alert", Outgoing.chat_id == worker.user_id
                )
            )
        )
    (fever,) = [o for o in sent if "<b>Fever</b>" in o.text and "38.5" in o.text]
    worker.shown.append(_shown_from(fever))
    await worker.press("Record action")
    await worker.press("Called")
    await worker.send("no fever now")
    at(clock, 10, 0, days=1)
    await rescreen(core, sessions, "Rescreened")
    at(clock, 10, 5, days=1)
    assert await run(sessions, clock, "open") == 0
    at(clock, 11, 0, days=1)
    async with sessions.begin() as session:
        assert await escalate_alerts(session, clock.now(), ZONE, after=timedelta(hours=1)) > 0
    at(clock, 20, 0, days=1)

    async def reports() -> tuple[DailyFigures, Counts]:
        async with sessions() as session:
            grid = await area_by_code(session, GRID_2)
            community = await area_by_code(session, COMMUNITY)
            assert grid is not None and community is not None
            return (
                await daily_figures(session, grid, DAY_2, ZONE),
                (await rollup_figures(session, community, DAY_2, ZONE)).total.counts,
            )

    # The report made before the miss job has run, and after: the same.
    grid, community = await reports()
    assert figures_of(grid) == EXPECTED
    assert counts_of(community) == EXPECTED_COUNTS
    assert await run(sessions, clock, "miss") == 1
    grid, community = await reports()
    assert (figures_of(grid), counts_of(community)) == (EXPECTED, EXPECTED_COUNTS)
    # Counted straight from the tables: one check-in per person and slot (the re-screen added
    # none), eight slots ended in the window, two of them answered after their end.
    start = datetime(2026, 7, 1, 20, tzinfo=ZONE)
    end = start + timedelta(days=1)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Resident.name, CheckIn.slot_start, CheckIn.answered_at, CheckIn.slot_end)
                .join(Resident, Resident.id == CheckIn.resident_id)
                .where(CheckIn.slot_end > start, CheckIn.slot_end <= end)
            )
        ).all()
        assert len(rows) == len({(name, slot) for name, slot, _, _ in rows}) == 8
        assert sum(1 for _, _, answered, _ in rows if answered is None) == 1
        assert sum(1 for _, _, answered, ends in rows if answered and answered > ends) == 1
        plans = await session.scalar(
            select(func.count())
            .select_from(MonitoringPlan)
            .join(Resident, Resident.id == MonitoringPlan.resident_id)
            .where(Resident.name == "Rescreened", MonitoringPlan.status == ACTIVE)
        )
        assert plans == 1
    # The report says so, and is no zero report.
    text = render_daily(grid, worker_tr(), ZONE)
    assert "From 1 Jul 20:00 to 2 Jul 20:00" in text
    assert "Check-ins ended: 8 due, 6 on time, 1 late, 1 missed" in text
    assert "Abnormal: 2 (1 with action)" in text
    assert "Still open from earlier, no action recorded: 1" in text and "Clinic" in text
    assert "Expected but not arrived: 1" in text and "Absent" in text
    rolled = render_rollup(await _rollup(sessions), worker_tr(), ZONE)
    assert "not arrived 1" in rolled and "still open from earlier 1" in rolled


def worker_tr() -> Translator:
    return Translator("en")


async def _rollup(sessions: async_sessionmaker[AsyncSession]) -> Rollup:
    async with sessions() as session:
        community = await area_by_code(session, COMMUNITY)
        assert community is not None
        return await rollup_figures(session, community, DAY_2, ZONE)
