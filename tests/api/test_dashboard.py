"""The dashboard as a worker above the grid uses it: /web in the bot sends a single-use
sign-in link; the session sees their areas only; the page shows the daily report's figures
with the change from yesterday, the areas below by what is overdue, and the open alerts with
who holds them, in the reader's language."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.areas import area_by_code
from models.staff import AuditEntry
from services.figures import daily_figures
from services.options import Options
from services.stored import store_today
from tests.api.conftest import DISTRICT_A, DISTRICT_B, WEB_URL
from tests.api.test_api import answer_the_missed_checkin
from tests.handlers.test_staff import GRID_2
from tests.services.test_alerts import COMMUNITY, ZONE, staff_of
from tests.services.test_checkins import at
from tests.services.test_digest import DAY
from tests.support import Person

pytestmark = pytest.mark.usefixtures("seeded")


async def link_for(worker: Person) -> str:
    await worker.send("/web")
    found = re.search(r"(https?://\S+/web/login\?token=\S+)", worker.last.text)
    assert found, worker.last.text
    return found[1]


def local(link: str) -> str:
    """The link's path and query, to open on the test's server."""
    return link.removeprefix(WEB_URL)


async def sign_in(http: httpx.AsyncClient, link: str) -> httpx.Response:
    """Press the sign-in page's button: post the link's token."""
    token = link.split("token=", 1)[1]
    return await http.post("/web/login", data={"token": token})


class Cards(HTMLParser):
    """The figures on the page's cards (data-figure → data-value) and the links to areas."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, int] = {}
        self.areas: list[str] = []
        self.trend: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-figure" in found:
            self.figures[str(found["data-figure"])] = int(found["data-value"] or 0)
        if tag == "polyline" and "data-series" in found:
            self.trend[str(found["data-series"])] = int(found["data-last"] or 0)
        if tag == "tr" and "data-area" in found:
            self.areas.append(str(found["data-area"]))


def read(page: str) -> Cards:
    cards = Cards()
    cards.feed(page)
    return cards


async def district_worker(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock, area: str, user: int
) -> Person:
    return await staff_of(Person(core, 1), sessions, clock, area, user, role="district")


async def test_web_gives_workers_a_link_and_others_nothing(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    stranger = Person(core, 777, language="en")
    await stranger.send("/web")
    assert "/web/login" not in stranger.last.text
    worker = await district_worker(core, sessions, clock, DISTRICT_A, 6001)
    link = await link_for(worker)
    assert "10 minutes" in worker.last.text
    unset = Person(Core(sessions, clock, Options()), 6001, language="en")
    await unset.send("/web")
    assert "not set up" in unset.last.text and "http" not in unset.last.text
    assert link.startswith(f"{WEB_URL}/web/login?token=")


async def test_a_link_signs_in_once_within_minutes(
    core: Core,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    client: httpx.AsyncClient,
) -> None:
    worker = await district_worker(core, sessions, clock, DISTRICT_A, 6001)
    link = local(await link_for(worker))
    # Opening the link (as Telegram's link preview does too) uses nothing up: it shows a
    # button, and the press signs in.
    for _ in range(2):
        shown = await client.get(link)
        assert shown.status_code == 200 and '<form method="post"' in shown.text
    assert (await client.get("/web")).status_code == 401
    signed_in = await sign_in(client, link)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/web"
    assert "returnee_session" in signed_in.cookies
    page = await client.get("/web", follow_redirects=True)
    assert page.status_code == 200 and "雄关区" in page.text
    # Used once: a second browser gets nothing.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://api.test") as other:
        again = await sign_in(other, link)
        assert again.status_code == 401 and "/web" in again.text
        assert "returnee_session" not in again.cookies
        late = local(await link_for(worker))
        clock.advance(timedelta(minutes=11))
        assert (await sign_in(other, late)).status_code == 401
        assert (await other.get(f"/web/area/{DISTRICT_A}")).status_code == 401


async def test_the_page_shows_the_daily_reports_figures_and_stays_in_the_workers_areas(
    core: Core,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    client: httpx.AsyncClient,
) -> None:
    worker = await district_worker(core, sessions, clock, DISTRICT_A, 6001)
    await sign_in(client, local(await link_for(worker)))
    district = await client.get(f"/web/area/{DISTRICT_A}")
    assert district.status_code == 200
    shown = read(district.text)
    assert shown.areas == ["620201001", "620201002"]  # its streets, the most overdue first
    grid_page = await client.get(f"/web/area/{GRID_2}")
    grid = read(grid_page.text)
    async with sessions() as session:
        area = await area_by_code(session, GRID_2)
        assert area is not None
        report = await daily_figures(session, area, DAY, ZONE)
    assert grid.figures == {
        "reports": report.reports,
        "arrived": report.arrived,
        "expected": len(report.expected),
        "monitoring": len(report.monitoring),
        "checkins": report.checkins_answered,
        "missed": report.checkins_missed,
        "abnormal": len(report.abnormal),
        "released": len(report.releases),
        "alerts_open": 2,
        "alerts_overdue": 1,
    }
    assert grid.figures["reports"] == 4 and shown.figures == grid.figures
    # The chart's last day is the cards' day, counted the same way.
    assert grid.trend == {"arrivals": 3, "monitoring": 2, "abnormal": 1}
    # In the worker's language in the bot (English here; Chinese for anyone unknown), or the
    # one they pick. Yesterday had nothing, so each figure went up from it.
    assert "+4 from yesterday" in grid_page.text
    chinese = await client.get(f"/web/area/{GRID_2}", params={"lang": "zh_Hans"})
    assert "较昨日 +4" in chinese.text and "未处理提醒" in chinese.text
    assert "Worker5001" in grid_page.text  # who holds the open alerts (the grid's worker)
    english = await client.get(f"/web/area/{COMMUNITY}", params={"lang": "en"})
    assert "Open alerts" in english.text and "Areas below" in english.text
    assert "Open alerts" in (await client.get(f"/web/area/{GRID_2}")).text  # kept
    traditional = await client.get(f"/web/area/{GRID_2}", params={"lang": "zh_Hant"})
    assert "較昨日 +4" in traditional.text
    # Another district is not theirs.
    refused = await client.get(f"/web/area/{DISTRICT_B}")
    assert refused.status_code == 404
    async with sessions() as session:
        seen = [
            (e.action, e.subject)
            for e in await session.scalars(
                select(AuditEntry).where(AuditEntry.actor_user_id == 6001).order_by(AuditEntry.id)
            )
        ]
    assert ("web_view", f"area:{GRID_2}") in seen
    assert seen[-1] == ("web_refused", f"area:{DISTRICT_B}")


async def test_the_page_counts_today_as_it_stands_not_the_jobs_count(
    core: Core,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    client: httpx.AsyncClient,
) -> None:
    """A worker who has just acted in the bot sees it on the page at once, even when the job
    counted today a moment before (the API reads that count; the page does not)."""
    worker = await district_worker(core, sessions, clock, DISTRICT_A, 6001)
    await sign_in(client, local(await link_for(worker)))
    at(clock, 20, 30)
    async with sessions.begin() as session:
        await store_today(session, clock.now(), ZONE, overdue_after=timedelta(hours=6))
    assert read((await client.get(f"/web/area/{GRID_2}")).text).figures["missed"] == 1
    clock.at += timedelta(seconds=10)
    await answer_the_missed_checkin(sessions, clock)
    assert read((await client.get(f"/web/area/{GRID_2}")).text).figures["missed"] == 0
