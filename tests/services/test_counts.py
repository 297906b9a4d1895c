"""The figures the API and the dashboard serve, counted for many days at once
(`services.counts`), equal the daily report's (`services.figures`) day by day and area by
area: before, on and after a seeded day, for a grid, a community's grids and a district's
streets, with an alert acknowledged the next morning and alerts going overdue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.alerts import Alert
from models.areas import Area, Level, area_by_code, children_of
from models.checkins import CheckIn
from models.people import Arrival, Household, Resident
from models.plans import MonitoringPlan
from services.alerts import acknowledge
from services.counts import Counts, counts_over, rollup_figures
from services.figures import alert_counts, daily_figures, under
from services.placement import assign
from tests.handlers.test_staff import GRID_1, GRID_2
from tests.services.test_alerts import COMMUNITY, ZONE
from tests.services.test_checkins import at
from tests.services.test_digest import DAY, seed_day

pytestmark = pytest.mark.usefixtures("areas")
DISTRICT = "620201"
CITY = "620200"
OVERDUE = timedelta(hours=6)
FIRST, LAST = DAY - timedelta(days=2), DAY + timedelta(days=4)


async def compare(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, code: str, below: bool
) -> int:
    """Checks every key area and day; returns how many non-empty days were compared."""
    compared = 0
    async with sessions() as session:
        area = await area_by_code(session, code)
        assert area is not None
        keys: list[Area] = (await children_of(session, area.id)) if below else [area]
        keyed = {k.code: k for k in keys}
        fast = await counts_over(
            session, area, FIRST, LAST, keyed, zone=ZONE, overdue_after=OVERDUE, now=clock.now()
        )
        for i in range((LAST - FIRST).days + 1):
            day: date = FIRST + timedelta(days=i)
            alerts = await alert_counts(
                session, area, day, keyed, zone=ZONE, overdue_after=OVERDUE, now=clock.now()
            )
            for key in keys:
                report = await daily_figures(session, key, day, ZONE)
                expected = Counts.of(report, alerts[key.code])
                assert fast[key.code][i] == expected, (key.code, day)
                compared += expected != Counts()
    return compared


async def test_the_counts_are_the_daily_reports_over_days(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await seed_day(core, sessions, clock)
    assert await compare(sessions, clock, GRID_2, below=False) >= 6
    assert await compare(sessions, clock, COMMUNITY, below=True) >= 6
    assert await compare(sessions, clock, DISTRICT, below=True) >= 6
    # The whole city (counted from its rows' times, not from its grids), and in all.
    assert await compare(sessions, clock, CITY, below=True) >= 6
    assert await compare(sessions, clock, CITY, below=False) >= 6
    # One day at the city (read by the rows' times on every database) is the same day of many.
    async with sessions() as session:
        city = await area_by_code(session, CITY)
        assert city is not None
        keyed = {k.code: k for k in await children_of(session, city.id)}
        many = await counts_over(
            session, city, FIRST, LAST, keyed, zone=ZONE, overdue_after=OVERDUE, now=clock.now()
        )
        one = await counts_over(
            session, city, DAY, DAY, keyed, zone=ZONE, overdue_after=OVERDUE, now=clock.now()
        )
    assert {code: days[0] for code, days in one.items()} == {
        code: days[(DAY - FIRST).days] for code, days in many.items()
    }
    assert sum(c[0].reports for c in one.values()) > 0
    # The next morning the missed check-in's alert is acknowledged; by the evening of the
    # day after, the one still open has long been overdue.
    at(clock, 9, 0)
    clock.advance(timedelta(days=1))
    async with sessions.begin() as session:
        missed = await session.scalar(select(Alert).where(Alert.kind == "missed_checkin"))
        assert missed is not None
        acknowledge(missed, 5001, clock.now())
    clock.advance(timedelta(days=1, hours=11))
    assert await compare(sessions, clock, GRID_2, below=False) >= 6
    assert await compare(sessions, clock, COMMUNITY, below=True) >= 6
    async with sessions() as session:
        grid = await area_by_code(session, GRID_2)
        assert grid is not None
        fast = await counts_over(
            session,
            grid,
            FIRST,
            LAST,
            {GRID_2: grid},
            zone=ZONE,
            overdue_after=OVERDUE,
            now=clock.now(),
        )
    by_day = {FIRST + timedelta(days=i): c.alerts for i, c in enumerate(fast[GRID_2])}
    assert (by_day[DAY].open, by_day[DAY].acknowledged) == (2, 1)
    assert (by_day[DAY + timedelta(days=1)].open, by_day[DAY + timedelta(days=1)].acknowledged) == (
        1,
        1,
    )
    assert by_day[DAY + timedelta(days=1)].overdue == 1


async def grid_sums(session: AsyncSession, area: Area, day: date) -> Counts:
    """The daily reports of every grid under `area`, added up."""
    total = Counts()
    grids = await session.scalars(select(Area).where(Area.level == Level.GRID, under(area)))
    for grid in grids:
        total.add(Counts.of(await daily_figures(session, grid, day, ZONE)))
    return total


async def test_the_roll_up_is_the_sum_of_its_grids(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """The city's report (each district's line, and in all) adds up its grids' reports."""
    await seed_day(core, sessions, clock)
    async with sessions() as session:
        city = await area_by_code(session, CITY)
        assert city is not None
        rollup = await rollup_figures(session, city, DAY, ZONE)
        assert rollup.total.counts == await grid_sums(session, city, DAY)
        for line in rollup.children:
            child = await area_by_code(session, line.area_code)
            assert child is not None
            assert line.counts == await grid_sums(session, child, DAY), line.area_code
    counts = rollup.total.counts
    assert (counts.checkins_due, counts.missed, counts.abnormal, counts.expected) == (2, 1, 1, 1)
    assert counts.monitoring == 2 and counts.released == 1


async def test_a_household_placed_in_a_grid_takes_its_rows_along(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """A household its community's rules did not place is filed at the community, its rows
    with it; placed in a grid, its check-ins, plans and arrivals are counted there."""
    await seed_day(core, sessions, clock)
    async with sessions.begin() as session:
        community = await area_by_code(session, COMMUNITY)
        grid = await area_by_code(session, GRID_1)
        assert community is not None and grid is not None
        (household,) = await session.scalars(
            select(Household).where(Household.reporter_user_id == 1002)  # Zhao Lei's
        )
        people = select(Resident.id).where(Resident.household_id == household.id)
        # As filed where the rules did not decide: everything at the community.
        household.grid_id = community.id
        await session.execute(
            update(Resident).where(Resident.id.in_(people)).values(grid_id=community.id)
        )
        for model in (Arrival, MonitoringPlan, CheckIn, Alert):
            await session.execute(
                update(model).where(model.resident_id.in_(people)).values(grid_id=community.id)
            )
    async with sessions.begin() as session:
        (household,) = await session.scalars(
            select(Household).where(Household.reporter_user_id == 1002)
        )
        assert [p.name for p in await assign(session, household, grid, clock.now())] == ["Zhao Lei"]
    async with sessions() as session:
        for model in (Arrival, MonitoringPlan, CheckIn):
            kept = await session.scalars(select(model.grid_id).where(model.resident_id.in_(people)))
            assert set(kept) == {grid.id}, model
        rollup = await rollup_figures(session, community, DAY, ZONE)
    lines = {line.area_code: line.counts for line in rollup.children}
    assert (lines[GRID_1].checkins_due, lines[GRID_1].missed, lines[GRID_1].monitoring) == (1, 1, 1)
    assert (lines[GRID_2].checkins_due, lines[GRID_2].missed, lines[GRID_2].monitoring) == (1, 0, 1)
    # Day by day, each grid's counts are its daily report's (read through the residents).
    assert await compare(sessions, clock, COMMUNITY, below=True) >= 6
