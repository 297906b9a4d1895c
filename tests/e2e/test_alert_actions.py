"""Through the running bot: a grid worker acknowledges a resident's request for help and
records what was done with a note; the resident is told each time (scheduler → outbox →
sender). A feature of the core, so proven on one runner."""

from __future__ import annotations

import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import BotProcess, TelegramUser, new_user
from tests.e2e.test_grid_worker import invite_code
from tests.e2e.test_report import consent_and_identity, health_and_review, text


@pytest.mark.frameworks("aiogram")
async def test_a_help_request_acknowledged_and_acted_on_and_the_resident_told(
    bot: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    worker = new_user(emulator)
    code = await invite_code(bot, "620201001001001")
    await worker.say(f"/join {code}")
    assert "Welcome, grid worker of" in text(worker.last)

    await consent_and_identity(user)
    await user.press("I have just arrived")
    await user.say("南京")
    await user.press("Train")
    await user.say("G7001")
    await user.press("No more places")
    await user.press("No one more")
    await health_and_review(user)
    await user.press("Submit")
    await user.say("/request")
    await user.press("Medical help")
    await user.say("My blood pressure pills, please")
    assert "Received (request no. 1)" in text(user.last)

    # The alert job runs every 20 s; the alert must be there within a minute.
    alert = (await emulator.wait(worker.user_id, after=worker.seen, count=1, timeout=60))[-1]
    assert "Request for help" in text(alert) and "blood pressure pills" in text(alert)
    worker.transcript.append(alert)
    worker.seen = alert["message_id"]
    await worker.press("Acknowledge")
    assert "Alert 1 acknowledged" in text(worker.last)
    told = (await emulator.wait(user.user_id, after=user.seen, count=1, timeout=30))[-1]
    assert "from your grid has seen your request (no. 1) and will contact you" in text(told)
    user.seen = told["message_id"]

    await worker.press("Record action")
    assert "What was done about alert 1?" in text(worker.last)
    await worker.press("Visited")
    assert "Recorded for alert 1: visited." in text(worker.last)
    assert "Add a note" in text(worker.last)
    await worker.say("Brought the pills at 15:00")
    assert text(worker.last) == "Note saved with alert 1."
    told = (await emulator.wait(user.user_id, after=user.seen, count=1, timeout=30))[-1]
    assert "from your grid is on your request (no. 1): visited." in text(told)
