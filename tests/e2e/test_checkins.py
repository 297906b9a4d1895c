"""Home monitoring through the real bot process, on the emulator's clock (CLOCK=emulator):
the tests move time forward and check what the resident and the grid worker receive.

The tests share the module's bot, and so its clock, which only moves forward: each test's
days start the day after wherever the last one left the clock, and each has its own grid, so
one test's residents never reach another's worker. The test that stops the bot has its own,
in test_checkins_restart.py (a file of its own, so that it runs beside these)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import (
    BOT_LOGS,
    BotProcess,
    TelegramUser,
    new_user,
    outbox_settled,
    wait_caught_up,
)
from tests.e2e.test_grid_worker import invite_code
from tests.e2e.test_report import GRID_1, GRID_2, GRID_3, Home, consent_and_identity, text

pytestmark = pytest.mark.frameworks("aiogram")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SHARED_BOT = {"POLICY": "lanzhou", "CLOCK": "emulator"}
# The grids' codes, for the invitations of their workers.
CODES = {GRID_1: "620201001001001", GRID_2: "620201001001002", GRID_3: "620201001002001"}


class Timeline:
    """Local days from the first day of the test (the emulator's tomorrow)."""

    def __init__(self, emulator: EmulatorClient, first: date) -> None:
        self.emulator, self.first = emulator, first
        self.people: list[TelegramUser] = []
        # The bot whose outbox `go` waits on (None: not waited on).
        self.bot: BotProcess | None = None

    async def go(self, day: int, hour: int, minute: int = 0, *, bot_up: bool = True) -> None:
        """Moves the clock, and (while the bot is up) waits until its jobs have run at the new
        time and what they queued for the people has gone out; what each person receives
        from then on is news to them. (A message the jobs queued still going out while a
        person talks to the bot would be taken for the bot's answer; at the tests' pace,
        CHAT_RATE, the outbox is no longer done long before.)"""
        when = datetime.combine(self.first + timedelta(days=day - 1), time(hour, minute), SHANGHAI)
        await self.emulator.move_to(when)
        for person in self.people:
            person.since = int(when.timestamp())
        if bot_up:
            await wait_caught_up(self.emulator.base_url, when)
            if self.bot is not None:
                for person in self.people:
                    await outbox_settled(self.bot, person.user_id)


# The grid workers of each shared bot (by its log): their user ids, by grid.
_WORKERS: dict[Path, dict[tuple[str, ...], int]] = {}


async def grid_workers(bot: BotProcess, emulator: EmulatorClient) -> dict[tuple[str, ...], int]:
    """A worker for each grid, joined once per shared bot before its clock first moves:
    `admin invite` dates an invitation by the system clock (valid 72 hours), and each test
    moves the shared bot's clock days further on."""
    if bot.log_path not in _WORKERS:
        joined = {}
        for grid, code in CODES.items():
            worker = new_user(emulator)
            await worker.say(f"/join {await invite_code(bot, code)}")
            assert "Welcome, grid worker of" in text(worker.last)
            joined[grid] = worker.user_id
        _WORKERS[bot.log_path] = joined
    return _WORKERS[bot.log_path]


@pytest.fixture
async def days(request: pytest.FixtureRequest, emulator: EmulatorClient) -> Timeline:
    if "bot" in request.fixturenames:
        await grid_workers(request.getfixturevalue("bot"), emulator)
    timeline = Timeline(emulator, (await emulator.now()).astimezone(SHANGHAI).date())
    timeline.first += timedelta(days=1)
    for name in ("bot", "lanzhou_bot"):  # the shared bot, or test_checkins_restart's own
        if name in request.fixturenames:
            timeline.bot = request.getfixturevalue(name)
    # The test's bot (shared or its own) is up by now: its fixture comes first. 06:30: what is
    # reported now (the clock runs on) is asked at 08:00, the first slot an hour after it.
    await timeline.go(1, 6, 30, bot_up=bool(BOT_LOGS.get(emulator.base_url)))
    return timeline


async def arrived_from_abroad(user: TelegramUser, grid: Home = GRID_1) -> None:
    """Quarantined on entry, so Lanzhou's 7 days at home with tests on day 1 and day 7."""
    await consent_and_identity(user, grid)
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


async def worker_of_the_grid(
    bot: BotProcess, emulator: EmulatorClient, grid: Home = GRID_1
) -> TelegramUser:
    """The worker of `grid` (joined by `days`), from now on."""
    worker = TelegramUser(emulator, (await grid_workers(bot, emulator))[grid])
    worker.seen = max((m["message_id"] for m in await worker.received("")), default=0)
    return worker


async def answer_checkin(user: TelegramUser, temperature: str = "36.5") -> None:
    await user.press("Something to report")
    if temperature in user.labels():
        await user.press(temperature)
    else:
        await user.say(temperature)
    await user.press("No medicine")
    await user.press("None of these")
    await user.press("Stayed home")


async def test_seven_days_in_lanzhou_from_arrival_to_release_with_a_missed_evening(
    bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    worker = await worker_of_the_grid(bot, emulator)
    days.people += [user, worker]
    await arrived_from_abroad(user)
    await worker.receive("Arrival from abroad")

    await days.go(1, 8)
    # What falls due at once comes as one message: the test day and the check-in prompt.
    morning = text(await user.receive("test day"))
    assert "Time for your health check-in" in morning
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
    await days.go(9, 8, 30)  # and the jobs have run at 08:30
    await outbox_settled(bot, user.user_id)  # and what they queued for her has gone out
    assert not [
        m
        for m in await user.received("Time for your health check-in")
        if m["message_id"] > user.seen
    ]


async def test_a_fever_and_a_positive_test_reach_the_worker_at_once(
    bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    worker = await worker_of_the_grid(bot, emulator, GRID_2)
    days.people += [user, worker]
    await arrived_from_abroad(user, GRID_2)
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


async def test_a_day_with_nothing_gets_the_zero_report(
    bot: BotProcess, emulator: EmulatorClient, days: Timeline
) -> None:
    worker = await worker_of_the_grid(bot, emulator, GRID_3)
    days.people.append(worker)
    await days.go(1, 20)
    assert "Zero report" in text(await worker.receive("Zero report (零报告)"))


async def test_a_worker_reports_for_an_elderly_resident_and_checks_in_for_her(
    bot: BotProcess, emulator: EmulatorClient, days: Timeline
) -> None:
    """代报 and 代打卡: she has no Telegram; the worker files her report, is asked her
    check-ins and records what she says; her record says a worker did."""
    worker = await worker_of_the_grid(bot, emulator, GRID_3)
    days.people.append(worker)
    await worker.say("/reportfor")
    assert "What is your full name?" in text(worker.last)
    await worker.say("Zhang Guiying")
    await worker.say("13900001111")
    await worker.say("110105194001010026")
    community, address = GRID_3
    for label in community:
        await worker.press(label)
    await worker.say(address)
    await worker.press("I have just arrived")
    await worker.say("Japan")
    await worker.press("Flight")
    await worker.say("NH919")
    await worker.say("上海浦东机场")
    for step in ("It has ended", "Yesterday", "No more places", "No one more", "All well"):
        await worker.press(step)
    for step in ("No test", "Submit"):
        await worker.press(step)
    assert "home health monitoring" in text(worker.last)

    for hour, temperature in ((8, "36.5"), (20, "36.7")):
        await days.go(1, hour)
        prompt = await worker.receive("Time for your health check-in")
        worker.transcript.append(prompt)
        await answer_checkin(worker, temperature)
        assert "Recorded" in text(worker.last)
    await worker.say("/find Zhang")
    await worker.press("Zhang Guiying")
    record = text(worker.last)
    assert "Reported for them by" in record and "(代报)" in record
    assert record.count("(recorded by a worker)") == 2
    assert "36.5 °C" in record and "36.7 °C" in record
