"""Reporting for someone (代报) and checking in for them (代打卡) through the real bot process,
on the emulator's clock: the helpers and the day-by-day timeline of test_checkins.py, in a file
of its own so that it runs beside those tests (a file's tests share one bot, on one worker)."""

from __future__ import annotations

import pytest

from emulator import EmulatorClient
from tests.e2e import test_checkins
from tests.e2e.conftest import BotProcess
from tests.e2e.test_checkins import Timeline, answer_checkin, from_tomorrow, worker_of_the_grid
from tests.e2e.test_report import GRID_3, text

pytestmark = pytest.mark.frameworks("aiogram")
SHARED_BOT = test_checkins.SHARED_BOT


@pytest.fixture
async def days(request: pytest.FixtureRequest, emulator: EmulatorClient) -> Timeline:
    return await from_tomorrow(request, emulator)


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
