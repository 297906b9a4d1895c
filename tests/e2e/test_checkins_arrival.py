"""Check-ins through the real bot process on the emulator's clock (issue 19): monitoring starts
at arrival, one tap when all is well, fever-reducing medicine reaches the worker, and a
resident's own check-in time. The module has its own bot, so that the residents of
test_checkins.py (whose plans run on) never reach these tests' workers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator import EmulatorClient
from tests.e2e import test_checkins
from tests.e2e.conftest import BotProcess, TelegramUser, outbox_settled
from tests.e2e.test_checkins import (
    SHANGHAI,
    Timeline,
    arrived_from_abroad,
    worker_of_the_grid,
)
from tests.e2e.test_report import GRID_1, GRID_2, GRID_3, consent_and_identity, text

pytestmark = pytest.mark.frameworks("aiogram")
SHARED_BOT = {"POLICY": "lanzhou", "CLOCK": "emulator"}
PROMPT = "Time for your health check-in"
days = test_checkins.days  # the fixture: the days from tomorrow on the emulator's clock


async def nothing_new(bot: BotProcess, person: TelegramUser, contains: str) -> None:
    """Once what the bot queued for the person has gone out: no message with `contains` since
    the clock last moved."""
    await outbox_settled(bot, person.user_id)
    news = [m for m in await person.received(contains) if m["date"] >= person.since]
    assert not news, [m.get("text") for m in news]


async def test_a_family_reported_three_days_ahead_is_asked_only_after_arriving(
    bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    worker = await worker_of_the_grid(bot, emulator, GRID_1)
    days.people += [user, worker]
    await consent_and_identity(user, GRID_1)
    await user.press("arrive in the next 3 days")
    arriving = (await emulator.now()).astimezone(SHANGHAI).date() + timedelta(days=3)
    await user.press(f"{arriving.month}/{arriving.day}")
    await user.press("06:00")  # three days ahead (at most 72 hours)
    await user.say("Japan")
    await user.press("Flight")
    await user.say("NH919")
    await user.say("上海浦东机场")
    await user.press("It has ended")
    await user.press("Yesterday")
    await user.press("No more places")
    await user.say("Wang Fang")
    await user.press("Spouse")
    await user.say("13912345678")
    await user.press("All well")
    await user.say("Li Xiaoming")
    await user.press("Child")
    await user.press("No phone")
    await user.press("All well")
    await user.press("No one more")
    for step in ("All well", "No test", "Submit"):
        await user.press(step)
    assert "Li Na, Wang Fang, Li Xiaoming" in text(user.last)

    # Every slot until the expected day's evening, the expected morning included: no prompt,
    # no reminder, and no missed check-in for the worker.
    expected_day = (arriving - days.first).days + 1
    for day, hour in ((1, 8), (1, 20), (2, 8), (2, 22), (expected_day, 8), (expected_day, 11)):
        await days.go(day, hour)
        for person, contains in (
            (user, PROMPT),
            (user, "Reminder"),
            (worker, "📵 Missed check-in #"),
        ):
            await nothing_new(bot, person, contains)
    await user.say("/arrived")
    await user.press("Just now")
    assert "Welcome" in text(user.last)
    await days.go(expected_day, 20)
    prompt = await user.receive(PROMPT)
    assert any("All well" in label for label in user.labels(prompt))
    await user.press("All well")
    assert "Recorded, thank you." in text(user.last)
    await days.go(expected_day + 1, 8)
    await nothing_new(
        bot, worker, "📵 Missed check-in #"
    )  # the evening was answered, for all three
    await user.receive(PROMPT)


async def test_one_tap_is_a_normal_check_in_and_fever_medicine_alerts_the_worker(
    bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    worker = await worker_of_the_grid(bot, emulator, GRID_2)
    days.people += [user, worker]
    await arrived_from_abroad(user, GRID_2)
    await days.go(1, 8)
    await user.receive(PROMPT)
    await user.press("All well")
    assert "Recorded, thank you." in text(user.last)
    await user.say("/checkin")
    assert "no check-in to answer now" in text(user.last)

    await days.go(1, 20)
    await user.receive(PROMPT)
    await user.press("Something to report")
    await user.press("36.5")
    await user.press("Yes, some")  # fever-reducing medicine: the reading cannot be trusted
    await user.press("None of these")
    await user.press("Stayed home")
    assert "grid worker has been told" in text(user.last)
    alert = await worker.receive("Fever-reducing medicine")
    assert "Li Na" in text(alert)
    await nothing_new(bot, worker, "Fever reported")


async def test_a_resident_who_moved_the_check_in_to_ten_is_asked_at_ten(
    bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    worker = await worker_of_the_grid(bot, emulator, GRID_3)
    days.people += [user, worker]
    await arrived_from_abroad(user, GRID_3)
    await user.say("/time")
    assert "08:00, 20:00" in text(user.last)
    await user.press("10:00")
    assert "10:00, 20:00" in text(user.last)
    await days.go(1, 9, 30)
    await nothing_new(bot, user, PROMPT)
    await days.go(1, 10)
    await user.receive(PROMPT)
    await days.go(1, 12, 1)  # reminded two hours into their own slot
    await user.receive("Reminder")
    await days.go(1, 20)
    assert "Li Na" in text(await worker.receive("Missed check-in"))
    await worker.say("/find Li Na")
    await worker.press("Li Na")
    assert "10:00, 20:00 (chosen by the resident)" in text(worker.last)


async def test_a_companion_with_a_phone_opens_her_link_and_answers_for_herself(
    bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    from emulator.state import BOT_USERNAME
    from tests.e2e.conftest import new_user

    wang = new_user(emulator)
    days.people += [user, wang]
    await consent_and_identity(user, GRID_3)
    await user.press("I have just arrived")
    await user.say("Japan")
    await user.press("Flight")
    await user.say("NH919")
    await user.say("上海浦东机场")
    for step in ("It has ended", "Yesterday", "No more places"):
        await user.press(step)
    await user.say("Wang Fang")
    await user.press("Spouse")
    await user.say("13912345678")
    await user.press("All well")
    for step in ("No one more", "All well", "No test", "Submit"):
        await user.press(step)
    await user.press("Invite Wang Fang")
    link = text(user.last)
    assert f"https://t.me/{BOT_USERNAME}?start=" in link
    token = link.split("?start=")[1].split()[0]
    await wang.say(f"/start {token}")  # what Telegram sends when she opens the link
    await wang.press("English")
    await wang.press("I agree")
    assert "Welcome, Wang Fang!" in text(wang.last)
    await days.go(1, 8)
    for person in (user, wang):  # each asked for themself
        await person.receive(PROMPT)
        await person.press("All well")
        assert "Recorded, thank you." in text(person.last)
