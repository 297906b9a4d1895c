"""The real bot process against the emulator: greeting, restart mid-conversation, shutdown.
What a runner does (its library, polling, the webhook, the command menu, shutting down), so
on both runners."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import BotProcess, TelegramUser, new_user, prepared_bot

# A logger only the framework asked for writes to, by the time it takes updates.
FRAMEWORK_LOGGERS = {"aiogram": "aiogram.dispatcher", "ptb": "telegram.ext.Application"}


async def test_the_bot_runs_on_the_library_bot_framework_names(
    bot: BotProcess, user: TelegramUser, framework: str
) -> None:
    await user.say("/start")
    output = bot.log.text()
    for name, logger in FRAMEWORK_LOGGERS.items():
        assert (f" {logger}: " in output) is (name == framework), output


async def test_start_gets_the_greeting_with_the_language_buttons(
    bot: BotProcess, user: TelegramUser
) -> None:
    answer = await user.say("/start")
    assert len(answer) == 1
    # The notice comes in the language Telegram gives (en here), the others as buttons.
    assert user.labels() == ["I agree", "I do not agree", "简体中文", "繁體中文", "✓ English"]
    assert answer[0]["parse_mode"] == "HTML"


async def test_a_restart_mid_conversation_continues_where_the_user_was(
    bot_process: BotProcess, user: TelegramUser
) -> None:
    await user.say("/start")
    await user.press("English")
    await user.press("I agree")
    assert (user.last["text"] or "").endswith("What is your full name?")
    await user.say("Li Na")
    assert "phone number" in (user.last["text"] or "")

    await bot_process.restart()
    assert bot_process.starts == 2

    await user.say("13812345678")
    assert "ID number" in (user.last["text"] or "")


async def test_sigterm_stops_the_bot_cleanly(bot_process: BotProcess, user: TelegramUser) -> None:
    await user.say("/start")
    assert await bot_process.stop() == 0
    assert "Traceback" not in bot_process.output()


async def test_button_presses_are_answered_so_the_spinner_stops(
    bot: BotProcess, user: TelegramUser
) -> None:
    await user.say("/start")
    await user.press("English")
    assert len(await user.callbacks()) == 1


async def test_the_command_menu_is_registered(bot: BotProcess, emulator: EmulatorClient) -> None:
    commands = await emulator.commands()
    names = {c["command"] for c in commands["commands"]}
    assert {"start", "help", "language", "cancel", "me", "request", "forget"} <= names


async def test_a_sticker_gets_a_polite_re_ask(bot: BotProcess, user: TelegramUser) -> None:
    await user.say("/start")
    await user.press("English")
    answer = await user.send_other("sticker")
    assert len(answer) == 1
    assert (answer[0]["text"] or "").startswith("Please answer with text or the buttons.")
    assert "Do you agree?" in (answer[0]["text"] or "")


async def test_an_update_in_flight_at_sigterm_is_not_lost(
    bot_process: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    await emulator.send(user.user_id, "/start", language_code="en")
    await bot_process.stop()
    # Either the bot answered before it exited, or the update is still queued for the next.
    if not [m for m in await emulator.messages(user.user_id) if m["from_bot"]]:
        await bot_process.start()
    answer = await emulator.wait(user.user_id, count=1, timeout=30)
    assert "English" in str(answer[-1]["reply_markup"])


async def test_a_failing_command_menu_is_a_warning_not_a_crash(
    bot_process: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    await emulator.set_faults(error_rate=1.0, methods=["setMyCommands"])
    await bot_process.restart()
    await emulator.set_faults()
    assert "could not register the command menu" in bot_process.output()
    await user.say("/start")
    assert "✓ English" in user.labels()


@pytest.mark.own_bot
async def test_webhook_mode_end_to_end(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> None:
    port = free_port()
    process = await prepared_bot(
        emulator,
        database_url,
        tmp_path,
        framework=framework,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
        WEBHOOK_SECRET="e2e-secret-of-at-least-32-characters",
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
    )
    try:
        user = new_user(emulator)
        await user.say("/start")
        assert "✓ English" in user.labels()
        # Came by the webhook: the emulator counts a delivery once the bot's answer to its
        # POST is back, which is just after the bot logged the update handled.
        deadline = time.monotonic() + 30
        while (await emulator.stats())["webhook"]["deliveries"] < 1:
            assert time.monotonic() < deadline, "the update did not come by the webhook"
            await asyncio.sleep(0.02)
        async with aiohttp.ClientSession() as http:
            forged = await http.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": 99})
            assert forged.status == 401
    finally:
        assert await process.stop() == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
