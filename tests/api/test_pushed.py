"""Issue 22's pushed-list progress: the API's figures carry each list's progress per area (no
personal field in them), and the dashboard shows it; both match the database."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.areas import Area
from models.pushed import PushedRow
from rules.policy import load_policy
from tests.api.conftest import DISTRICT_A, DISTRICT_B, Issue, bearer
from tests.api.test_dashboard import district_worker, link_for, local, sign_in
from tests.pushed_data import GRID_1, fifty, file_people, import_for_city
from tests.services.test_alerts import ZONE


async def pushed(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> list[str]:
    listed = fifty()
    policy = load_policy("lanzhou")
    async with sessions.begin() as session:
        await file_people(session, listed.reported, now=clock.now(), zone=ZONE, policy=policy)
        await import_for_city(
            session,
            listed.data,
            source="省指挥部 协查",
            now=clock.now(),
            zone=ZONE,
            policy=policy,
        )
    return [p.name for p in [*listed.reported, *listed.unreported, *listed.unknown]]


async def test_the_figures_carry_each_lists_progress_without_names(
    areas: None,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    client: httpx.AsyncClient,
    issue: Issue,
) -> None:
    names = await pushed(sessions, clock)
    token = await issue(DISTRICT_A, "figures")
    answer = await client.get(
        f"/api/v1/areas/{DISTRICT_A}/figures", params={"below": "true"}, headers=bearer(token)
    )
    assert answer.status_code == 200
    assert not any(name in answer.text for name in names) and "139" not in answer.text
    lists = answer.json()["pushed_lists"]
    total = lists[0]
    assert (total["area"], total["pushed"], total["matched"]) == (DISTRICT_A, 47, 20)
    assert total["open"] == 27 and total["overdue"] == 0
    # Each area directly below (the district's streets) adds up to the district's, but for
    # the two rows at addresses no community of ours: they are in the district's own queue.
    assert sum(item["pushed"] for item in lists[1:]) == total["pushed"] - 2
    other = await client.get(
        f"/api/v1/areas/{DISTRICT_B}/figures", headers=bearer(await issue(DISTRICT_B, "figures"))
    )
    assert other.json()["pushed_lists"] == []
    grid = await client.get(f"/api/v1/areas/{GRID_1}/figures", headers=bearer(token))
    async with sessions() as session:
        in_grid = list(
            await session.scalars(
                select(PushedRow)
                .join(Area, Area.id == PushedRow.area_id)
                .where(Area.code == GRID_1)
            )
        )
    (mine,) = grid.json()["pushed_lists"]
    assert mine["pushed"] == len(in_grid)
    assert mine["open"] == sum(1 for r in in_grid if r.outcome is None)


async def test_the_dashboard_shows_the_lists_progress(
    areas: None,
    core: Core,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    client: httpx.AsyncClient,
) -> None:
    await pushed(sessions, clock)
    clock.advance(timedelta(hours=25))  # past the list's deadline
    worker = await district_worker(core, sessions, clock, DISTRICT_A, 6001)
    await sign_in(client, local(await link_for(worker)))
    page = await client.get("/web", follow_redirects=True)
    assert page.status_code == 200 and 'id="pushed"' in page.text
    assert "省指挥部 协查" in page.text
    assert 'data-count="pushed">47<' in page.text and 'data-count="matched">20<' in page.text
    assert 'data-count="overdue">27<' in page.text


async def test_the_figures_give_each_days_progress_as_it_stood_that_day(
    areas: None,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    client: httpx.AsyncClient,
    issue: Issue,
) -> None:
    imported_at = clock.now()
    await pushed(sessions, clock)
    # A day after the import, one open person of the grid was visited.
    async with sessions.begin() as session:
        visited = (
            await session.scalars(
                select(PushedRow)
                .join(Area, Area.id == PushedRow.area_id)
                .where(Area.code == GRID_1, PushedRow.outcome.is_(None))
                .order_by(PushedRow.id)
            )
        ).first()
        assert visited is not None
        visited.outcome, visited.outcome_at = "visited", imported_at + timedelta(days=1)
    clock.advance(timedelta(days=3))
    day = imported_at.astimezone(ZONE).date()
    first, last = day - timedelta(days=1), day + timedelta(days=2)
    answer = await client.get(
        f"/api/v1/areas/{DISTRICT_A}/figures",
        params={"from": first.isoformat(), "to": last.isoformat()},
        headers=bearer(await issue(DISTRICT_A, "figures")),
    )
    assert answer.status_code == 200
    by_day: dict[str, dict[str, int]] = {}
    for item in answer.json()["pushed_lists"]:
        assert item["area"] == DISTRICT_A
        by_day[item["day"]] = item
    # The day before the list came: nothing; the first report after it: the list as taken
    # in (nobody visited yet, nothing overdue); the last day: the visit, and the 26 others
    # open past the 24 hours.
    assert first.isoformat() not in by_day
    taken = [d for d in sorted(by_day) if by_day[d]["visited"] == 0]
    assert taken, by_day
    assert (by_day[taken[0]]["pushed"], by_day[taken[0]]["open"]) == (47, 27)
    assert by_day[taken[0]]["overdue"] == 0
    end = by_day[last.isoformat()]
    assert (end["pushed"], end["visited"], end["open"], end["overdue"]) == (47, 1, 26, 26)
