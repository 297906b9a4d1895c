"""Home monitoring through the real bot process, on the emulator's clock (CLOCK=emulator):
the tests move time forward and check what the resident and the grid worker receive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import BotProcess, TelegramUser, prepared_bot
from tests.e2e.test_grid_worker import invite_code
from tests.e2e.test_report import consent_and_identity, text

pytestmark = pytest.mark.frameworks("aiogram")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def lanzhou_bot(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> AsyncIterator[BotProcess]:
    process = await prepared_bot(
        emulator, database_url, tmp_path, framework=framework, POLICY="lanzhou", CLOCK="emulator"
    )
    yield process
    await process.stop()


class Timeline:
    """Local days from the first day of the test (the emulator's tomorrow)."""

    def __init__(self, emulator: EmulatorClient, first: date) -> None:
        self.emulator, self.first = emulator, first
        self.people: list[TelegramUser] = []

    async def go(self, day: int, hour: int, minute: int = 0) -> None:
        """Moves the clock; what each person receives from then on is news to them."""
        when = datetime.combine(self.first + timedelta(days=day - 1), time(hour, minute), SHANGHAI)
        await self.emulator.move_to(when)
        for person in self.people:
            person.since = int(when.timestamp())


@pytest.fixture
async def days(emulator: EmulatorClient) -> Timeline:
    timeline = Timeline(emulator, (await emulator.now()).astimezone(SHANGHAI).date())
    timeline.first += timedelta(days=1)
    await timeline.go(1, 7)
    return timeline


async def arrived_from_abroad(user: TelegramUser) -> None:
    """Quarantined on entry, so Lanzhou's 7 days at home with tests on day 1 and day 7."""
    await consent_and_identity(user)
    await user.press("I have just arrived")
    await user.say("Japan")
    await user.press("Flight")
    await user.say("NH919")
    await user.say("上海浦东机场")
    for step in ("It has ended", "Yesterday", "No more places", "No one more", "All well"):
        await user.press(step)
    for step in ("No test", "Submit"):
        await user.press(step)
    assert "home health monitoring" in text(user.last)
    assert "released after 2 negative tests" in text(user.last)


async def worker_of_the_grid(bot: BotProcess, emulator: EmulatorClient) -> TelegramUser:
    worker = TelegramUser(emulator, user_id=8001, language_code="en")
    await worker.say(f"/join {await invite_code(bot, '620201001001001')}")
    assert "Welcome, grid worker of" in text(worker.last)
    return worker


async def answer_checkin(user: TelegramUser, temperature: str = "36.5") -> None:
    await user.press("Answer now")
    if temperature in user.labels():
        await user.press(temperature)
    else:
        await user.say(temperature)
    await user.press("None of these")
    await user.press("Stayed home")


async def test_seven_days_in_lanzhou_from_arrival_to_release_with_a_missed_evening(
    lanzhou_bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    worker = await worker_of_the_grid(lanzhou_bot, emulator)
    days.people += [user, worker]
    await arrived_from_abroad(user)
    await worker.receive("Arrival from abroad")

    await days.go(1, 8)
    await user.receive("test day")
    await user.receive("Time for your health check-in")
    await answer_checkin(user)
    assert "Recorded, thank you." in text(user.last)

    await days.go(1, 20)
    await user.receive("test result")
    await user.press("Negative")
    assert "Recorded: negative" in text(user.last)
    daily = text(await worker.receive("Daily report (日报告)"))
    assert "Li Na" in daily and "Zero report" not in daily
    # The evening check-in goes unanswered: one reminder, then missed, and the worker told.
    await days.go(1, 22, 1)
    await user.receive("Reminder")
    await days.go(2, 8)
    missed = await worker.receive("Missed check-in")
    assert "Li Na" in text(missed)
    await user.receive("Time for your health check-in")
    await answer_checkin(user)

    await days.go(7, 20)
    await user.receive("test result")
    await user.press("Negative")
    await days.go(8, 9)
    assert "released" in text(await user.receive("monitoring has ended"))
    assert "Li Na" in text(await worker.receive("Released at the end of the plan"))
    # Released: no more check-ins the next morning.
    await days.go(9, 8, 30)
    await asyncio.sleep(3)  # the jobs run within a second of a clock move
    assert not [
        m
        for m in await user.received("Time for your health check-in")
        if m["message_id"] > user.seen
    ]


async def test_a_fever_and_a_positive_test_reach_the_worker_at_once(
    lanzhou_bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    worker = await worker_of_the_grid(lanzhou_bot, emulator)
    days.people += [user, worker]
    await arrived_from_abroad(user)
    await days.go(1, 8)
    await user.receive("Time for your health check-in")
    await answer_checkin(user, temperature="38.2")
    assert "grid worker has been told" in text(user.last)
    assert "Li Na" in text(await worker.receive("Fever reported at check-in"))

    await days.go(1, 20)
    await user.receive("test result")
    await user.press("Positive")
    assert "will contact you at once" in text(user.last)
    assert "Li Na" in text(await worker.receive("Positive test reported"))


async def test_a_bot_down_over_a_slot_sends_its_prompt_once_when_back_and_keeps_answers(
    lanzhou_bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    second = TelegramUser(emulator, user_id=7002, language_code="en")
    await arrived_from_abroad(user)
    await arrived_from_abroad(second)
    days.people += [user, second]
    await lanzhou_bot.stop()
    await days.go(2, 8, 30)  # the morning slot opens while the bot is down
    await lanzhou_bot.start()
    for person in (user, second):
        await person.receive("Time for your health check-in")
    await user.press("Answer now")
    await user.press("36.5")

    await lanzhou_bot.restart()  # in the middle of the round and of an answer
    await user.press("None of these")
    await user.press("Stayed home")
    assert "Recorded, thank you." in text(user.last)
    await answer_checkin(second)
    assert "Recorded, thank you." in text(second.last)
    for person in (user, second):
        prompts = await person.received("Time for your health check-in")
        assert len(prompts) == 1, [text(m) for m in prompts]


async def test_a_day_with_nothing_gets_the_zero_report(
    lanzhou_bot: BotProcess, emulator: EmulatorClient, days: Timeline
) -> None:
    worker = await worker_of_the_grid(lanzhou_bot, emulator)
    days.people.append(worker)
    await days.go(1, 20)
    assert "Zero report" in text(await worker.receive("Zero report (零报告)"))
