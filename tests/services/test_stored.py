"""The figures stored per grid and day for days that are over (`services.stored`) are the
figures counted live: once the day is stored, after an action on that day's alert the next
morning, and after a late answer to its missed check-in — each re-counted by the next run of
the job. Only today (and later) is counted live when the days before are stored."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.alerts import Alert, AlertAction
from models.areas import Area, area_by_code, children_of
from models.checkins import CheckIn
from models.counts import AreaDayCounts, CountedDay
from services import counts, stored
from services.access import create_token, revoke_token
from services.checkins import record_answer
from services.counts import Counts
from tests.handlers.test_staff import GRID_2
from tests.services.test_alerts import COMMUNITY, ZONE
from tests.services.test_checkins import at
from tests.services.test_digest import DAY, seed_day

pytestmark = pytest.mark.usefixtures("areas")
CITY = "620200"
OVERDUE = timedelta(hours=6)
FIRST, LAST = DAY - timedelta(days=2), DAY + timedelta(days=3)


async def answer_the_missed_checkin(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """The seeded day's silent person answers their missed check-in now (late)."""
    async with sessions.begin() as session:
        checkin = await session.scalar(
            select(CheckIn).where(CheckIn.answered_at.is_(None), CheckIn.slot_end < clock.now())
        )
        assert checkin is not None
        recorded = await record_answer(
            session,
            checkin.id,
            user_id=checkin.reporter_user_id,
            now=clock.now(),
            temperature=36.5,
            symptoms=[],
            went_out=False,
            where=None,
            symptom_label=str,
        )
        assert recorded is not None and recorded.late


async def store(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> int:
    async with sessions.begin() as session:
        return await stored.store_figures(
            session, clock.now(), ZONE, overdue_after=OVERDUE, chunk=stored.KEEP_DAYS
        )


async def both(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, code: str, below: bool
) -> tuple[dict[str, list[Counts]], dict[str, list[Counts]]]:
    """(stored where stored, live) for the key areas over FIRST..LAST."""
    async with sessions() as session:
        area = await area_by_code(session, code)
        assert area is not None
        keys: list[Area] = (await children_of(session, area.id)) if below else [area]
        keyed = {k.code: k for k in keys}
        args: dict[str, Any] = {"zone": ZONE, "overdue_after": OVERDUE, "now": clock.now()}
        fast = await stored.counts_over(session, area, FIRST, LAST, keyed, **args)
        live = await counts.counts_over(session, area, FIRST, LAST, keyed, **args)
    return fast, live


async def same(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> Counts:
    """Stored equals live for a grid, a community's grids and the city's districts; the
    grid's counts on DAY."""
    for code, below in ((GRID_2, False), (COMMUNITY, True), (CITY, True)):
        fast, live = await both(sessions, clock, code, below)
        assert fast == live, code
    fast, _ = await both(sessions, clock, GRID_2, False)
    return fast[GRID_2][(DAY - FIRST).days]


async def test_stored_figures_are_the_live_ones_after_late_changes(
    core: Core,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await seed_day(core, sessions, clock)
    # The report's day is not over at 23:00: nothing of it is stored but today's count.
    at(clock, 23, 0)
    await store(sessions, clock)
    async with sessions() as session:
        assert await session.get(CountedDay, DAY) is None
    async with sessions.begin() as session:
        assert await stored.store_today(session, clock.now(), ZONE, overdue_after=OVERDUE) > 0
    # After midnight it is, for every grid, counted again as a whole; the days before too.
    at(clock, 0, 30, days=1)
    assert await store(sessions, clock) > 0
    async with sessions() as session:
        mark = await session.get(CountedDay, DAY)
        assert mark is not None and mark.counted_at == clock.now()
        assert await session.get(CountedDay, FIRST) is not None
        rows = await session.scalar(
            select(func.count()).select_from(AreaDayCounts).where(AreaDayCounts.day == DAY)
        )
        assert rows
    # Read back: only today and the days after are counted live.
    asked: list[tuple[date, date]] = []
    count_days = stored.count_days

    async def watched(*args: Any, **kwargs: Any) -> dict[str, list[Counts]]:
        asked.append((args[2], args[3]))
        return await count_days(*args, **kwargs)

    monkeypatch.setattr(stored, "count_days", watched)
    before = await same(sessions, clock)
    assert asked and all(first > DAY for first, _ in asked)
    assert (before.checkins_missed, before.missed, before.missed_handled) == (1, 1, 0)

    # The next morning a worker calls about the missed check-in of DAY.
    at(clock, 9, 0, days=1)
    async with sessions.begin() as session:
        alert = await session.scalar(select(Alert).where(Alert.kind == "missed_checkin"))
        assert alert is not None
        session.add(
            AlertAction(
                alert_id=alert.id, kind="called", actor_user_id=5001, actor_name="W", at=clock.now()
            )
        )
    fast, live = await both(sessions, clock, GRID_2, False)
    i = (DAY - FIRST).days
    # Read from the stored row until the job runs again.
    assert (fast[GRID_2][i].missed_handled, live[GRID_2][i].missed_handled) == (0, 1)
    at(clock, 9, 5, days=1)
    assert await store(sessions, clock) > 0
    handled = await same(sessions, clock)
    assert handled.missed_handled == 1

    # Then the person answers that check-in, late.
    at(clock, 10, 0, days=1)
    await answer_the_missed_checkin(sessions, clock)
    async with sessions() as session:
        settled = await session.scalar(select(Alert).where(Alert.kind == "missed_checkin"))
        assert settled is not None and settled.checkin_settled_at is not None
    at(clock, 10, 5, days=1)
    assert await store(sessions, clock) > 0
    answered = await same(sessions, clock)
    assert (answered.checkins_missed, answered.checkins_late) == (0, 1)
    # Nothing changed since: once the changes are out of the look-back, nothing is counted.
    at(clock, 12, 0, days=1)
    await store(sessions, clock)
    at(clock, 12, 5, days=1)
    assert await store(sessions, clock) == 0
    assert await same(sessions, clock) == answered


async def test_today_is_counted_for_the_api_only_while_a_token_can_read_it(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """The minute's count of today serves the API alone: with no live token (none made, or
    revoked) the scheduler's job counts nothing; with one it keeps today's figures."""
    await seed_day(core, sessions, clock)
    at(clock, 19, 0)

    async def job() -> int:
        async with sessions.begin() as session:
            return await stored.store_today_for_the_api(
                session, clock.now(), ZONE, overdue_after=OVERDUE
            )

    async def counted() -> bool:
        async with sessions() as session:
            return await session.get(CountedDay, DAY) is not None

    assert await job() == 0 and not await counted()
    async with sessions.begin() as session:
        issued = await create_token(
            session,
            area_code=COMMUNITY,
            scope="figures",
            expires=timedelta(days=1),
            now=clock.now(),
        )
    assert await job() > 0 and await counted()
    async with sessions.begin() as session:
        await revoke_token(session, issued.token.id, clock.now())
    async with sessions.begin() as session:
        await session.execute(delete(CountedDay))
    assert await job() == 0 and not await counted()
