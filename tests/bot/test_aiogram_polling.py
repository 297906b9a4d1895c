"""The aiogram runner's long poll (`PolledDispatcher`): each update reaches the service as the
Bot API JSON it came in, once, and a failed poll is tried again as aiogram would."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.aiogram_runner import AiogramTransport, make_bot, make_dispatcher
from bot.service import Service
from bot.settings import load_settings
from emulator import EmulatorClient
from handlers.app import Core

TOKEN = "4242424242:e2e-test-token-not-a-secret-0000"
ALLOWED = ["message", "edited_message", "callback_query"]
# A button of the greeting: the language for the consent question.
CHINESE = "ask_consent|language:zh_Hans"


class Recording(Service):
    """The service, noting every update it is given."""

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.updates: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def handle_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        await super().handle_update(update)
        self.arrived.set()


@asynccontextmanager
async def polling(core: Core, emulator: EmulatorClient) -> AsyncIterator[Recording]:
    """The aiogram runner polling the emulator, as `aiogram_runner.run` starts it."""
    settings = load_settings(
        bot_token=TOKEN,
        bot_api_url=emulator.base_url,
        bot_framework="aiogram",
        webhook_url=None,
        webhook_secret=None,
    )
    service = Recording(core)
    bot = make_bot(settings)
    service.attach(AiogramTransport(bot))
    dispatcher = make_dispatcher(service)
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, polling_timeout=1, allowed_updates=ALLOWED
        )
    )
    try:
        yield service
    finally:
        await dispatcher.stop_polling()
        await asyncio.gather(task, return_exceptions=True)
        await bot.session.close()


async def handled(service: Recording, count: int) -> None:
    async def enough() -> None:
        while len(service.updates) < count:
            service.arrived.clear()
            await service.arrived.wait()

    await asyncio.wait_for(enough(), timeout=30)


async def test_the_long_polls_updates_reach_the_service_as_sent_and_once(
    core: Core, emulator: EmulatorClient
) -> None:
    first = await emulator.send(5, "/start", language_code="en", first_name="Ann")
    async with polling(core, emulator) as service:
        await handled(service, 1)
        (greeting,) = [m for m in await emulator.messages(5) if m["from_bot"]]
        pressed = await emulator.press(5, greeting["message_id"], data=CHINESE)
        await handled(service, 2)
        await asyncio.sleep(1.5)  # another poll or two: nothing comes twice
    assert [u["update_id"] for u in service.updates] == [
        first["update_id"],
        pressed["update_id"],
    ]
    command, button = service.updates
    assert command["message"]["text"] == "/start"
    assert command["message"]["from"] == {
        "id": 5,
        "is_bot": False,
        "first_name": "Ann",
        "language_code": "en",
    }
    assert button["callback_query"]["data"] == CHINESE
    assert button["callback_query"]["message"]["message_id"] == greeting["message_id"]
    # The button was answered (its spinner stops) and the question asked again in Chinese.
    assert [c["callback_query_id"] for c in await emulator.callbacks()] == [
        pressed["callback_query_id"]
    ]
    last = [m for m in await emulator.messages(5) if m["from_bot"]][-1]
    assert "简体中文" in str(last["reply_markup"]) and last["text"] != greeting["text"]


async def test_a_failed_poll_is_logged_and_tried_again(
    core: Core, emulator: EmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    await emulator.set_faults(error_rate=1.0, methods=["getUpdates"])
    sent = await emulator.send(6, "/start", language_code="en")
    failed = asyncio.Event()

    class Failures(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("Failed to fetch updates"):
                failed.set()

    watch = Failures()
    logging.getLogger("aiogram.dispatcher").addHandler(watch)
    try:
        with caplog.at_level(logging.INFO, logger="aiogram.dispatcher"):
            async with polling(core, emulator) as service:
                await asyncio.wait_for(failed.wait(), timeout=30)
                await emulator.set_faults()
                await handled(service, 1)
    finally:
        logging.getLogger("aiogram.dispatcher").removeHandler(watch)
    assert [u["update_id"] for u in service.updates] == [sent["update_id"]]
    assert "TelegramServerError" in caplog.text
    assert "Connection established" in caplog.text
    assert [m for m in await emulator.messages(6) if m["from_bot"]]
