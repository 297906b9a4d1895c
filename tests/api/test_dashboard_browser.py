"""The dashboard in a real browser (headless Chromium, Debian's, driven by Playwright): a
worker of the city's command post (指挥部) signs in through the link /web sent them, reads
the day's figures (the daily report's), and drills down from the city to a grid; at desktop
and at phone width.

DASHBOARD_SCREENSHOTS=docs saves docs/dashboard.png and docs/dashboard-phone.png (the
README's pictures)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import ApiConfig, create_app
from chat.clock import FixedClock
from handlers.app import Core
from models.areas import area_by_code
from services.figures import daily_figures
from tests.api.conftest import DISTRICT_A
from tests.api.test_dashboard import link_for, local
from tests.handlers.test_staff import GRID_2
from tests.services.test_alerts import ZONE, staff_of
from tests.services.test_digest import DAY
from tests.support import Person

CITY = "620200"

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
async def served(
    sessions: async_sessionmaker[AsyncSession], config: ApiConfig
) -> AsyncIterator[str]:
    """`returnee api`'s app under uvicorn on a free port, in this test's loop."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(sessions, config), log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started:
        assert not task.done(), task.exception()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    listening.close()


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)")
    return CHROMIUM


async def test_sign_in_read_the_days_figures_and_drill_down_to_a_grid(
    chromium: str,
    core: Core,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    served: str,
) -> None:
    # The city's command post (指挥部).
    worker = await staff_of(Person(core, 1), sessions, clock, CITY, 6001, role="city")
    link = served + local(await link_for(worker))
    async with sessions() as session:
        grid = await area_by_code(session, GRID_2)
        assert grid is not None
        report = await daily_figures(session, grid, DAY, ZONE)
    shots = os.environ.get("DASHBOARD_SCREENSHOTS")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        await page.goto(link)
        await page.get_by_role("button", name="登录").click()
        await expect(page.locator("h1")).to_contain_text("嘉峪关市")
        # The worker reads the bot in English; the page can be switched to Chinese.
        await expect(page.locator("section h2").first).to_contain_text("Last 14 days")
        await page.get_by_role("link", name="简体中文").click()
        await expect(page.locator("section h2").first).to_contain_text("近 14 天")
        # City → district → street → community → grid, each by its link in "areas below".
        for name in ("雄关区", "新华街道", "新华南路社区", "新华南路社区第二网格"):
            await page.get_by_role("link", name=name, exact=True).click()
            await expect(page.locator("h1")).to_contain_text(name)
        assert page.url.endswith(f"/web/area/{GRID_2}")
        await expect(page.locator("nav.crumbs")).to_contain_text("嘉峪关市 › 雄关区 › 新华街道")
        cards = page.locator(".card")
        for key, value in (
            ("reports", report.reports),
            ("arrived", report.arrived),
            ("monitoring", len(report.monitoring)),
            ("checkins", report.checkins_answered),
            ("missed", report.checkins_missed),
            ("abnormal", len(report.abnormal)),
            ("released", len(report.releases)),
        ):
            card = cards.and_(page.locator(f'[data-figure="{key}"]'))
            await expect(card.locator("b")).to_contain_text(str(value))
        await expect(page.locator("svg.chart polyline")).to_have_count(3)
        await expect(page.locator("table")).to_contain_text("Worker5001")
        if shots:
            await page.get_by_role("link", name="新华南路社区", exact=True).click()
            await page.screenshot(path=str(ROOT / shots / "dashboard.png"), full_page=True)
        # At phone width the page fits: nothing wider than the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(f"{served}/web/area/{DISTRICT_A}")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        if shots:
            await page.screenshot(path=str(ROOT / shots / "dashboard-phone.png"), full_page=True)
        await browser.close()
