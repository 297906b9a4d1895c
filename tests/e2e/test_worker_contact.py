"""Through the running bot: two workers of a grid get a resident's request for help; one
answers it in their own words, the resident replies and the reply reaches that worker; the
worker acknowledges, and the other worker's copy of the alert is edited in place to say who
did, without its buttons (scheduler → outbox → sender, edits included)."""

from __future__ import annotations

import contextlib
import time

import pytest

from emulator import EmulatorClient, EmulatorTimeout
from emulator.client import ChatMessage
from tests.e2e.conftest import BotProcess, TelegramUser, new_user
from tests.e2e.test_grid_worker import invite_code
from tests.e2e.test_report import consent_and_identity, health_and_review, text


async def edited(
    emulator: EmulatorClient, chat_id: int, message_id: int, contains: str, timeout: float = 60
) -> ChatMessage:
    """The message once an edit has put `contains` in it (waiting on the emulator's long
    poll for edits, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        messages = await emulator.messages(chat_id)
        (message,) = [m for m in messages if m["message_id"] == message_id]
        if contains in text(message):
            return message
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"message {message_id} never showed {contains!r}: {text(message)}")
        newest = max(m["message_id"] for m in messages)
        with contextlib.suppress(EmulatorTimeout):
            await emulator.wait(chat_id, after=newest, timeout=min(left, 5), edits=True)


@pytest.mark.frameworks("aiogram")
async def test_a_help_request_answered_in_words_and_the_other_copy_edited(
    bot: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    first, second = new_user(emulator), new_user(emulator)
    for worker in (first, second):
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

    await first.receive("Request for help")
    copy = await second.receive("Request for help")
    assert "blood pressure pills" in text(copy) and second.labels(copy)

    # The first worker answers in their own words; the resident reads it and replies.
    await first.press("Answer")
    assert "Type your message" in text(first.last)
    await first.say("I will bring them at 15:00.")
    assert "Sent to" in text(first.last)
    message = await user.receive("A message from your community")
    assert "I will bring them at 15:00." in text(message)
    await user.press("Reply")
    await user.say("Thank you, 15:00 is fine")
    assert "Sent to your community" in text(user.last)
    reply = await first.receive("replied:")
    assert "Thank you, 15:00 is fine" in text(reply)

    # The first acknowledges: the second's copy says so, and its buttons are gone.
    await first.press("Acknowledge")
    assert "Alert 1 acknowledged" in text(first.last)
    shown = await edited(emulator, second.user_id, copy["message_id"], "acknowledged (")
    assert "blood pressure pills" in text(shown)
    assert not (shown.get("reply_markup") or {}).get("inline_keyboard")
