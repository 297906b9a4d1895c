"""The python-telegram-bot runner: its webhook checks the secret token, its transport makes PTB's
errors ours, and the updates it hands over read as the same Bot API JSON."""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import RetryAfter as PtbRetryAfter

from bot.delivery import Limits, Rejected, RetryAfter, Sender, Transient, Unreachable
from bot.ptb_runner import (
    PtbApplication,
    PtbTransport,
    _StoppingIsExpected,
    make_application,
    markup,
    retry_seconds,
    webhook_app,
)
from bot.service import Service
from bot.settings import Settings, load_settings
from bot.updates import incoming_from_update
from chat.contract import Button, File, KeyButton, Send
from emulator import EmulatorClient
from handlers.app import Core
from models.chat import ChatUser

SECRET = "s3cret-Token_1-of-the-webhook-32chars"
# PTB's RetryAfter warns, as it is made, that `retry_after` becomes a timedelta one day.
PTB_RETRY_AFTER_NOTICE = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)
TOKEN = "4242424242:e2e-test-token-not-a-secret-0000"


def update(user_id: int, update_id: int = 1) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "A"},
            "from": {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@pytest.fixture
def settings(emulator: EmulatorClient) -> Settings:
    return load_settings(
        bot_token=TOKEN,
        bot_api_url=emulator.base_url,
        bot_framework="ptb",
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_secret=SECRET,
    )


async def started(application: PtbApplication, service: Service) -> None:
    service.attach(PtbTransport(application.bot))
    await application.initialize()


@pytest.fixture
async def application(settings: Settings, core: Core) -> AsyncIterator[PtbApplication]:
    service = Service(core)
    app = make_application(settings, service, polling=False)
    await started(app, service)
    yield app
    await app.shutdown()


@pytest.fixture
async def client(settings: Settings, application: PtbApplication) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(webhook_app(settings, application))) as test_client:
        yield test_client


@pytest.fixture
def transport(application: PtbApplication) -> PtbTransport:
    return PtbTransport(application.bot)


async def users(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ChatUser)) or 0)


# --- the webhook ----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_without_the_secret_a_request_gets_401_and_changes_nothing(
    client: TestClient,  # type: ignore[type-arg]
    sessions: async_sessionmaker[AsyncSession],
    emulator: EmulatorClient,
    headers: dict[str, str],
) -> None:
    response = await client.post("/telegram/hook", json=update(5), headers=headers)
    assert response.status == 401
    assert await users(sessions) == 0
    assert await emulator.messages(5) == []


async def test_with_the_secret_the_update_is_handled_before_the_answer(
    client: TestClient,  # type: ignore[type-arg]
    sessions: async_sessionmaker[AsyncSession],
    emulator: EmulatorClient,
) -> None:
    await emulator.send(5, "hi")  # the chat exists for the emulator
    response = await client.post(
        "/telegram/hook", json=update(5), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 200
    assert await users(sessions) == 1
    sent = [m for m in await emulator.messages(5) if m["from_bot"]]
    assert sent and "简体中文" in str(sent[-1]["reply_markup"])


async def test_only_the_webhook_path_takes_updates(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    response = await client.post(
        "/elsewhere", json=update(5), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 404


async def test_a_body_that_is_not_an_update_gets_400(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    response = await client.post(
        "/telegram/hook", data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 400


class Failing(Service):
    async def handle_update(self, update: dict[str, Any]) -> None:
        raise RuntimeError("the database went away")


async def test_an_update_that_fails_gets_500_so_telegram_sends_it_again(
    settings: Settings, core: Core
) -> None:
    service = Failing(core)
    app = make_application(settings, service, polling=False)
    await started(app, service)
    try:
        async with TestClient(TestServer(webhook_app(settings, app))) as test_client:
            response = await test_client.post(
                "/telegram/hook",
                json=update(5),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            assert response.status == 500
    finally:
        await app.shutdown()


# --- updates as Bot API JSON --------------------------------------------------------------------


def message(user_id: int, **fields: Any) -> dict[str, Any]:
    base = dict(update(user_id)["message"])
    del base["text"], base["entities"]
    return {**base, **fields}


RAW_UPDATES = {
    "command": update(5),
    "contact": {
        "update_id": 2,
        "message": message(
            5, contact={"phone_number": "8613812345678", "first_name": "A", "user_id": 5}
        ),
    },
    "button": {
        "update_id": 3,
        "callback_query": {
            "id": "77",
            "chat_instance": "ci",
            "data": "lang:en",
            "from": {"id": 5, "is_bot": False, "first_name": "A", "language_code": "en"},
            "message": message(
                5, text="Choose", **{"from": {"id": 1, "is_bot": True, "first_name": "B"}}
            ),
        },
    },
    "edited": {"update_id": 4, "edited_message": message(5, text="typo", edit_date=1_700_000_100)},
    "sticker": {
        "update_id": 5,
        "message": message(
            5,
            sticker={
                "file_id": "f",
                "file_unique_id": "u",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        ),
    },
}


@pytest.mark.parametrize("raw", RAW_UPDATES.values(), ids=RAW_UPDATES.keys())
def test_ptb_hands_over_the_same_event_as_the_raw_json(raw: dict[str, Any]) -> None:
    """`Update.to_dict()` is Bot API JSON ("from", not "from_user"): the core sees no difference."""
    event = incoming_from_update(Update.de_json(raw, None).to_dict())
    assert event is not None
    assert event == incoming_from_update(raw)


# --- the transport --------------------------------------------------------------------------


def test_markup_builds_inline_and_reply_keyboards() -> None:
    inline = markup(((Button("Yes", "y"), Button("No", "n")),))
    assert isinstance(inline, InlineKeyboardMarkup)
    assert [b.callback_data for b in inline.inline_keyboard[0]] == ["y", "n"]
    keys = markup((), ((KeyButton("Share", request_contact=True), KeyButton("Type it")),))
    assert isinstance(keys, ReplyKeyboardMarkup)
    assert keys.to_dict()["keyboard"] == [
        [{"text": "Share", "request_contact": True}, {"text": "Type it"}]
    ]
    assert keys.one_time_keyboard and keys.resize_keyboard
    assert isinstance(markup((), (), remove_keyboard=True), ReplyKeyboardRemove)
    assert markup((), ()) is None


async def test_messages_files_edits_and_menus_go_out_as_html(
    transport: PtbTransport, emulator: EmulatorClient
) -> None:
    await emulator.set_limits(False)
    await emulator.send(5, "hi")
    message_id = await transport.send_message(
        5, "<b>Hello</b>", ((Button("Go", "go"),),), (), False
    )
    await transport.edit_message(5, message_id, "<i>Changed</i>", ())
    await transport.send_file(5, File("report.csv", b"a,b\n1,2\n"), "Your <b>report</b>", ())
    await transport.set_commands([("start", "Begin")], None)
    sent = [m for m in await emulator.messages(5) if m["from_bot"]]
    assert [m["parse_mode"] for m in sent] == ["HTML", "HTML"]
    assert sent[0]["text"] == "Changed" and sent[0]["edit_count"] == 1
    assert sent[1]["caption"] == "Your report"
    assert [c["command"] for c in (await emulator.commands())["commands"]] == ["start"]


async def test_errors_become_ours(transport: PtbTransport, emulator: EmulatorClient) -> None:
    await emulator.set_limits(False)
    await emulator.send(5, "hi")
    message_id = await transport.send_message(5, "Same", (), (), False)
    with pytest.raises(Rejected) as not_modified:
        await transport.edit_message(5, message_id, "Same", ())
    assert not_modified.value.not_modified
    with pytest.raises(Rejected) as gone:
        await transport.edit_message(5, 999_999, "Other", ())
    assert gone.value.message_gone
    with pytest.raises(Rejected, match=r"^Bad Request: can't parse entities"):
        await transport.send_message(5, "<b>unclosed", (), (), False)
    with pytest.raises(Unreachable, match=r"^Bad Request: chat not found"):
        await transport.send_message(424_242, "nobody", (), (), False)
    await emulator.block(5)
    with pytest.raises(Unreachable, match="blocked"):
        await transport.send_message(5, "still there?", (), (), False)


@pytest.mark.parametrize("fault", ["error_rate", "drop_rate"])
async def test_server_errors_and_dropped_connections_are_transient(
    transport: PtbTransport, emulator: EmulatorClient, fault: str
) -> None:
    await emulator.send(5, "hi")
    if fault == "drop_rate":
        await emulator.set_faults(drop_rate=1.0, methods=["sendMessage"])
    else:
        await emulator.set_faults(error_rate=1.0, methods=["sendMessage"])
    with pytest.raises(Transient):
        await transport.send_message(5, "hello", (), (), False)


@PTB_RETRY_AFTER_NOTICE
async def test_a_429_is_retry_after_with_its_seconds(
    transport: PtbTransport, emulator: EmulatorClient
) -> None:
    await emulator.set_limits(True, chat_burst=1, chat_rate=0.5)
    await emulator.send(5, "hi")
    await transport.send_message(5, "one", (), (), False)
    with pytest.raises(RetryAfter) as wait:
        await transport.send_message(5, "two", (), (), False)
    assert wait.value.seconds >= 1


@PTB_RETRY_AFTER_NOTICE
async def test_the_sender_waits_out_429s_through_ptb(
    transport: PtbTransport, emulator: EmulatorClient
) -> None:
    # The emulator is stricter than Telegram here (a burst of 1, then one every 2 s).
    await emulator.set_limits(True, chat_burst=1, chat_rate=0.5)
    await emulator.send(5, "hi")
    sender = Sender(transport)
    for n in range(2):
        await sender.send(5, Send(f"n{n}"))
    assert [m["text"] for m in await emulator.messages(5) if m["from_bot"]] == ["n0", "n1"]
    assert (await emulator.stats())["rate_limited"] >= 1


async def test_the_sender_retries_server_errors_through_ptb(
    transport: PtbTransport, emulator: EmulatorClient
) -> None:
    await emulator.set_limits(False)
    await emulator.set_faults(error_rate=0.5, methods=["sendMessage"], seed=3)
    await emulator.send(5, "hi")
    sender = Sender(transport, Limits(backoff_seconds=0.05, attempts=10))
    for n in range(4):
        await sender.send(5, Send(f"n{n}"))
    sent = [m["text"] for m in await emulator.messages(5) if m["from_bot"]]
    assert sent == ["n0", "n1", "n2", "n3"]
    assert sum((await emulator.stats())["faults"].values()) >= 1


@pytest.mark.parametrize("timedeltas", [False, True])
def test_retry_after_is_read_as_an_int_or_a_timedelta(
    monkeypatch: pytest.MonkeyPatch, timedeltas: bool
) -> None:
    if timedeltas:
        monkeypatch.setenv("PTB_TIMEDELTA", "true")
    else:
        monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exc = PtbRetryAfter(timedelta(seconds=3))
        assert isinstance(exc.retry_after, timedelta) is timedeltas
    assert retry_seconds(exc) == 3.0


def test_updates_fetched_while_stopping_are_not_a_critical_error() -> None:
    message = (
        "Updater stopped unexpectedly. Pulled updates will be ignored and pulled again on restart."
    )
    record = logging.LogRecord(
        "telegram.ext.Updater", logging.CRITICAL, __file__, 1, message, None, None
    )
    assert _StoppingIsExpected().filter(record)
    assert record.levelname == "INFO" and "next start" in record.getMessage()
