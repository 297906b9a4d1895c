"""The demo's web chat in a real browser: headless Chromium (Debian's `chromium`, driven by
Playwright) reports a resident with a fever through the page, moves the demo clock, and sees
the grid worker's alert arrive in the worker's chat.

`.ci/run` installs chromium when it is missing. WEBCHAT_SCREENSHOT=docs/webchat.png saves the
page at the end (the README's picture)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, async_playwright, expect

from emulator import EmulatorClient
from tests.e2e.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def running_demo(
    database_url: str, tmp_path: Path, framework: str, *, first: bool = True
) -> AsyncIterator[str]:
    """`returnee demo` in a child process; yields the web chat's address once the bot is up
    (it registered its command menu) and, on a first run, the demo's grid worker has joined."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEBHOOK_", "CLOCK"))}
    env.update(BOT_FRAMEWORK=framework, PYTHONPATH=str(ROOT))
    log_path = tmp_path / f"demo-{port}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot.cli", "demo", "--port", str(port)),
            *("--api-port", str(free_port())),
            *("--database", database_url),
            env=env,
            cwd=tmp_path,  # no developer's .env
            stdout=log,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with EmulatorClient(base) as emulator:
            deadline = time.monotonic() + 240  # only a failing start waits it out
            while time.monotonic() < deadline:
                assert process.returncode is None, log_path.read_text(errors="replace")
                with contextlib.suppress(Exception):
                    up = bool(await emulator.log(method="setMyCommands"))
                    joined = any(m["from_bot"] for m in await emulator.messages(900))
                    if up and (joined or not first):
                        break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"the demo did not start:\n{log_path.read_text()}")
        yield base
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


@pytest.fixture
async def demo(database_url: str, tmp_path: Path, framework: str) -> AsyncIterator[str]:
    async with running_demo(database_url, tmp_path, framework) as base:
        yield base


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)")
    return CHROMIUM


async def clock_now(page: Page) -> int:
    return int(await page.locator("#clock-now").get_attribute("data-now") or 0)


@pytest.mark.frameworks("aiogram")
async def test_a_report_in_the_web_chat_alerts_the_grid_worker_and_the_clock_moves(
    chromium: str, demo: str
) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(30_000)
        await page.goto(demo + "/")
        messages = page.locator("#messages")

        async def press(label: str) -> None:
            """Presses the newest inline button so labelled; waits until the bot answered
            (a message edited in place or a new one)."""
            before = await page.evaluate(SNAPSHOT)
            await messages.locator(".inline-keyboard button", has_text=label).last.click()
            await page.wait_for_function(CHANGED, arg=before)

        async def answer(prompt: str, text: str) -> None:
            """Waits for the bot's question, then types the answer and sends it."""
            await messages.locator(".msg.bot", has_text=prompt).last.wait_for()
            await page.fill("#text", text)
            await page.press("#text", "Enter")

        # The three residents and the worker are on the list; the worker already joined.
        users = page.locator("#users .user")
        await expect(users).to_have_count(4)
        await expect(page.locator("#clock-now")).to_contain_text("Asia/Shanghai")

        await page.fill("#text", "/start")
        await page.click("#send")
        await press("English")
        await press("I agree")
        await answer("What is your full name?", "Li Na")
        await messages.locator(".msg.bot", has_text="Your phone number?").last.wait_for()
        await page.click("#keyboard .share-contact")
        await answer("Your ID number", "11010519491231002X")
        await answer("Which community will you stay in?", "新华南路社区")
        await answer("The address where you will stay", "3栋2单元501")
        await press("I have just arrived")
        await answer("Where are you coming from?", "南京")
        await press("Train")
        await answer("The train, flight or plate number?", "G7001")
        await press("No more places")
        await press("No one more")
        await press("Something to report")
        await answer("Your temperature now", "38.2")
        await press("Cough")
        await press("Done")
        await press("Green")
        await press("No test")
        await expect(messages.locator(".msg.bot").last).to_contain_text("Please check your report")
        # The bot's HTML is shown as formatting, not as tags.
        await expect(messages.locator(".msg.bot b").first).to_be_visible()
        assert "<b>" not in await messages.inner_text()
        await press("Submit")
        await expect(messages.locator(".msg.bot").last).to_contain_text("fever clinic")

        # An hour on: the bot runs its jobs at once, and the alert reaches the worker.
        before = await clock_now(page)
        await page.click("#clock button[data-step=hour]")
        await page.wait_for_function(
            "(at) => Number(document.querySelector('#clock-now').dataset.now) > at",
            arg=before + 3590,
        )
        await page.click("#users .user[data-user='900']")
        alert = messages.locator(".msg.bot", has_text="发热门诊").last
        await expect(alert).to_contain_text("Li Na")
        await expect(alert.locator(".inline-keyboard button").first).to_be_visible()
        await expect(page.locator("#chat-name")).to_have_text("赵敏")

        # The next check-in: 08:00 or 20:00 in Shanghai.
        await page.click("#clock button[data-step=checkin]")
        await expect(page.locator("#clock-now")).to_contain_text(
            ":00 (Asia/Shanghai)", timeout=5000
        )
        moved = datetime.fromtimestamp(await clock_now(page), SHANGHAI)
        assert (moved.hour, moved.minute) in ((8, 0), (20, 0)), moved

        shot = os.environ.get("WEBCHAT_SCREENSHOT")
        if shot:
            await page.screenshot(path=str(ROOT / shot))

        # On a phone (390×844) the chat takes the screen; the people fold into a drawer.
        await page.set_viewport_size({"width": 390, "height": 844})
        chat = await page.locator("#chat").bounding_box()
        assert chat is not None and chat["width"] >= 380, chat
        # The list slides away (a short transition): it ends off the screen.
        await page.wait_for_function(
            "() => document.querySelector('#sidebar').getBoundingClientRect().right <= 1"
        )
        await page.click("#people")
        await expect(page.locator("body")).to_have_class("drawer-open")
        await page.click("#users .user[data-user='1']")
        await expect(page.locator("body")).not_to_have_class("drawer-open")
        await expect(messages.locator(".msg.bot", has_text="Your plan").last).to_be_visible()
        shot = os.environ.get("WEBCHAT_PHONE_SCREENSHOT")
        if shot:
            await messages.locator(
                ".msg.bot", has_text="Please check your report"
            ).last.scroll_into_view_if_needed()
            await page.screenshot(path=str(ROOT / shot))
        await browser.close()


async def kept_clock(database_url: str, at: datetime) -> None:
    from sqlalchemy import select

    from bot.demo import CLOCK_MARK
    from models.db import make_engine, make_sessions
    from models.staff import AuditEntry

    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            async with make_sessions(engine)() as session:
                kept = await session.scalar(
                    select(AuditEntry.at).where(AuditEntry.action == CLOCK_MARK)
                )
            if kept is not None and kept >= at - timedelta(seconds=5):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"the demo did not keep its clock: {kept} < {at}")
    finally:
        await engine.dispose()


@pytest.mark.frameworks("aiogram")
async def test_a_second_demo_on_the_same_database_goes_on_where_it_was(
    database_url: str, tmp_path: Path, framework: str
) -> None:
    async with running_demo(database_url, tmp_path, framework) as base:
        async with EmulatorClient(base) as emulator:
            await emulator.send(1, "/start", language_code="en")
            await emulator.wait(1, after=0, count=1, timeout=30)
            moved = await emulator.advance(timedelta(days=2))
        # The demo keeps the time its clock reached (every 2 s): wait for it to be kept.
        await kept_clock(database_url, moved)
    async with running_demo(database_url, tmp_path, framework, first=False) as base:
        async with EmulatorClient(base) as emulator:
            # The clock goes on from where the first run left it, not back to today.
            assert await emulator.now() >= moved - timedelta(minutes=1)
            # The worker joined in the first run: no second /join, so no "invalid code".
            assert not any(m["from_bot"] for m in await emulator.messages(900))


# The bot's messages as shown, with their edit counts: changes when the bot answers.
SNAPSHOT = """() => JSON.stringify([...document.querySelectorAll('#messages .msg')]
    .map(m => m.dataset.id + ':' + m.dataset.edits))"""
CHANGED = """(before) => JSON.stringify([...document.querySelectorAll('#messages .msg')]
    .map(m => m.dataset.id + ':' + m.dataset.edits)) !== before"""
