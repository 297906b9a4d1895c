"""The figures the API and the dashboard serve, counted for many days at once
(`services.counts`), equal the daily report's (`services.figures`) day by day and area by
area: before, on and after a seeded day, for a grid, a community's grids and a district's
streets, with an alert acknowledged the next morning and alerts going overdue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.alerts import Alert
from models.areas import Area, area_by_code, children_of
from services.alerts import acknowledge
from services.counts import Counts, counts_over
from services.figures import alert_counts, daily_figures
from tests.handlers.test_staff import GRID_2
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
