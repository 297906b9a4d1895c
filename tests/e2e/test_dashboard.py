"""The dashboard end to end: the real bot (`returnee run`, WEB_URL set) and the real API
(`returnee api`) on one database; a resident reports a fever on arrival, the grid's worker
sends /web, opens the link in headless Chromium, presses Sign in, and reads the day's
figures — the daily report's — and the fever's alert with who holds it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import async_playwright, expect

from emulator import EmulatorClient
from models.areas import area_by_code
from models.db import make_engine, make_sessions
from services.figures import daily_figures
from tests.e2e.conftest import ZONE, BotProcess, Launcher, TelegramUser, new_user
from tests.e2e.test_grid_worker import invite_code
from tests.e2e.test_report import consent_and_identity, text

CHROMIUM = "/usr/bin/chromium"
GRID = "620201001001001"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


API_PORT = free_port()
API_URL = f"http://127.0.0.1:{API_PORT}"
SHARED_BOT = {"WEB_URL": API_URL}
pytestmark = pytest.mark.frameworks("aiogram")


@contextlib.asynccontextmanager
async def running_api(bot: BotProcess) -> AsyncIterator[str]:
    """`returnee api` on the bot's database and settings, until it answers."""
    log_path = bot.log_path.with_name("api.log")
    child = Launcher.get().spawn(["api", "--listen", f"127.0.0.1:{API_PORT}"], bot.env, log_path)
    try:
        deadline = time.monotonic() + 120  # only a failing start waits it out
        async with aiohttp.ClientSession() as http:
            while True:
                assert child.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{API_URL}/api/openapi.json") as answer:
                        if answer.status == 200:
                            break
                await asyncio.sleep(0.1)
        yield API_URL
    finally:
        child.send_signal(signal.SIGINT)
        if await child.finished(20) is None:
            child.kill()


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)")
    return CHROMIUM


async def test_a_worker_signs_in_with_web_and_reads_the_days_figures(
    bot: BotProcess, user: TelegramUser, emulator: EmulatorClient, chromium: str
) -> None:
    worker = new_user(emulator)
    await worker.say(f"/join {await invite_code(bot, GRID)}")
    await consent_and_identity(user)
    await user.press("I have just arrived")
    await user.say("南京")
    await user.press("Train")
    await user.say("G7001")
    await user.press("No more places")
    await user.press("No one more")
    await user.press("Something to report")
    await user.say("38.2")
    await user.press("Cough")
    await user.press("Done")
    await user.press("Green")
    await user.press("No test")
    await user.press("Submit")
    assert "fever clinic" in text(user.last)

    await worker.say("/web")
    found = re.search(r"(http://\S+/web/login\?token=\S+)", text(worker.last))
    assert found, text(worker.last)
    link = found[1]
    assert link.startswith(API_URL)

    engine = make_engine(bot.database_url)
    try:
        async with make_sessions(engine)() as session:
            grid = await area_by_code(session, GRID)
            assert grid is not None
            day = (await emulator.now()).astimezone(ZONE).date()
            report = await daily_figures(session, grid, day, ZONE)
    finally:
        await engine.dispose()
    assert (report.reports, report.arrived, len(report.abnormal)) == (1, 1, 1)

    async with running_api(bot), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(link)
        await page.get_by_role("button", name="登录").click()
        # The worker reads the bot in English, and so their dashboard (the alert's title).
        await expect(page.locator("h1")).to_contain_text(f"新华南路社区第一网格 · {day}")
        for key, value in (
            ("reports", report.reports),
            ("arrived", report.arrived),
            ("monitoring", len(report.monitoring)),
            ("abnormal", len(report.abnormal)),
        ):
            card = page.locator(f'.card[data-figure="{key}"] b')
            await expect(card).to_have_text(str(value))
        await expect(page.locator("table")).to_contain_text("fever clinic")
        # Signed in once: the link does not sign in a second browser.
        other = await browser.new_page()
        await other.goto(link)
        await other.get_by_role("button", name="登录").click()
        await expect(other.locator("main")).to_contain_text("/web")
        await browser.close()
