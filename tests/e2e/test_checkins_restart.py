"""A bot down over a check-in slot, on a bot of the test's own (it stops and restarts it):
otherwise as in test_checkins.py, whose clock and helpers it uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator import EmulatorClient
from tests.e2e import test_checkins as checkins
from tests.e2e.conftest import BotProcess, TelegramUser, new_user, prepared_bot
from tests.e2e.test_checkins import SHARED_BOT, Timeline, answer_checkin, arrived_from_abroad
from tests.e2e.test_report import text

pytestmark = pytest.mark.frameworks("aiogram")
days = checkins.days  # the fixture


@pytest.fixture
async def lanzhou_bot(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> AsyncIterator[BotProcess]:
    """The test's own bot with the settings of test_checkins's shared one."""
    process = await prepared_bot(
        emulator, database_url, tmp_path, framework=framework, **SHARED_BOT
    )
    yield process
    await process.stop()


@pytest.mark.own_bot
async def test_a_bot_down_over_a_slot_sends_its_prompt_once_when_back_and_keeps_answers(
    lanzhou_bot: BotProcess, emulator: EmulatorClient, user: TelegramUser, days: Timeline
) -> None:
    second = new_user(emulator)
    await arrived_from_abroad(user)
    await arrived_from_abroad(second)
    days.people += [user, second]
    await lanzhou_bot.stop()
    await days.go(2, 8, 30, bot_up=False)  # the morning slot opens while the bot is down
    await lanzhou_bot.start()
    for person in (user, second):
        await person.receive("Time for your health check-in")
    await user.press("Something to report")
    await user.press("36.5")
    await user.press("No medicine")

    await lanzhou_bot.restart()  # in the middle of the round and of an answer
    await user.press("None of these")
    await user.press("Stayed home")
    assert "Recorded, thank you." in text(user.last)
    await answer_checkin(second)
    assert "Recorded, thank you." in text(second.last)
    for person in (user, second):
        prompts = await person.received("Time for your health check-in")
        assert len(prompts) == 1, [text(m) for m in prompts]
