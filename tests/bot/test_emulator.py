"""The Telegram Bot API emulator, exercised through the real aiogram and PTB clients.

Both libraries must parse every object the emulator produces: that is the contract the
end-to-end tests of the bot rely on, so it is checked with the libraries themselves.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiohttp import web
from aiohttp.test_utils import TestServer

from emulator import EmulatorClient, EmulatorError, EmulatorTimeout, create_app
from emulator.entities import EntityParseError, parse_html, parse_markdown_v2
from emulator.media import tiny_png

TOKEN = "123456789:AAEmulatorTestTokenAbcdefghijklmnop"
BOT_ID = 123456789
USER = 1001


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    server = TestServer(create_app(), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def control(emulator_url: str) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator_url) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def aiogram_bot(emulator_url: str) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator_url))
    bot = Bot(TOKEN, session=session)
    try:
        yield bot
    finally:
        await session.close()


async def api(
    http: aiohttp.ClientSession, url: str, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """A raw JSON call, to see status codes and bodies exactly as a client would."""
    async with http.post(f"{url}/bot{TOKEN}/{method}", json=params) as response:
        body: dict[str, Any] = await response.json()
        return response.status, body


# --- aiogram ------------------------------------------------------------------------------------


async def test_aiogram_full_conversation(control: EmulatorClient, aiogram_bot: Bot) -> None:
    await control.set_limits(False)  # a whole conversation in one breath is past 1 msg/s
    me = await aiogram_bot.get_me()
    assert me.id == BOT_ID and me.is_bot and me.username == "returnee_emulator_bot"

    sent = await control.send(USER, "/start ref42", first_name="Li", username="li_lei")
    updates = await aiogram_bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [sent["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/start ref42"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    assert message.entities[0].length == len("/start")
    assert message.from_user is not None and message.from_user.language_code == "zh"
    assert message.chat.id == USER and message.chat.type == "private"

    inline = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="answer:yes")]]
    )
    question = await aiogram_bot.send_message(
        USER, "<b>Back home?</b>", reply_markup=inline, parse_mode="HTML"
    )
    assert question.text == "Back home?"
    assert question.reply_markup is not None
    assert question.entities is not None and question.entities[0].type == "bold"

    share = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    ask = await aiogram_bot.send_message(USER, "Your phone, please", reply_markup=share)
    assert ask.reply_markup is None  # Telegram echoes inline keyboards only
    shown = await control.messages(USER, after=ask.message_id - 1)
    assert shown[0]["reply_markup"] == json.loads(share.model_dump_json(exclude_none=True))

    pressed = await control.press(USER, question.message_id, text="Yes")
    contact = await control.contact(USER, "+8613800138000")
    await control.other(USER, "photo")
    await control.other(USER, "document")
    await control.other(USER, "sticker")
    await control.other(USER, "voice")
    await control.other(USER, "location")
    await control.edit(USER, sent["message_id"], "/start ref43")
    updates = await aiogram_bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    assert len(updates) == 8

    query = updates[0].callback_query
    assert query is not None and query.id == pressed["callback_query_id"]
    assert query.data == "answer:yes" and query.from_user.id == USER
    assert query.message is not None and query.message.message_id == question.message_id
    assert updates[1].message is not None and updates[1].message.contact is not None
    assert updates[1].message.contact.user_id == USER
    assert updates[1].message.message_id == contact["message_id"]
    photo_message, document_message = updates[2].message, updates[3].message
    assert photo_message is not None and photo_message.photo
    assert document_message is not None and document_message.document is not None
    assert updates[4].message is not None and updates[4].message.sticker is not None
    assert updates[5].message is not None and updates[5].message.voice is not None
    assert updates[6].message is not None and updates[6].message.location is not None
    edited = updates[7].edited_message
    assert edited is not None and edited.text == "/start ref43" and edited.edit_date

    assert await aiogram_bot.answer_callback_query(query.id, text="Noted", show_alert=True)
    answers = await control.callbacks()
    assert answers[0]["text"] == "Noted" and answers[0]["show_alert"] is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await aiogram_bot.answer_callback_query(query.id)

    changed = await aiogram_bot.edit_message_text(
        "Thanks!", chat_id=USER, message_id=question.message_id
    )
    assert not isinstance(changed, bool) and changed.edit_date is not None
    assert changed.reply_markup is None  # an edit without markup removes the keyboard
    removed = await aiogram_bot.send_message(USER, "Done", reply_markup=ReplyKeyboardRemove())
    assert removed.text == "Done"

    photo_file = await aiogram_bot.download(photo_message.photo[-1].file_id)
    assert photo_file is not None and photo_file.read().startswith(b"\x89PNG")

    payload = b"name,phone\nLi,138\n"
    doc = await aiogram_bot.send_document(
        USER,
        BufferedInputFile(payload, filename="report.csv"),
        caption="<i>Report</i>",
        parse_mode="HTML",
    )
    assert doc.document is not None and doc.document.file_name == "report.csv"
    assert doc.document.mime_type == "text/csv" and doc.document.file_size == len(payload)
    assert doc.caption == "Report"
    downloaded = await aiogram_bot.download(doc.document.file_id)
    assert downloaded is not None and downloaded.read() == payload
    assert await control.download(doc.document.file_id) == payload
    again = await aiogram_bot.send_document(USER, doc.document.file_id)
    assert again.document is not None and again.document.file_unique_id == (
        doc.document.file_unique_id
    )

    picture = await aiogram_bot.send_photo(USER, BufferedInputFile(tiny_png(320, 200), "p.png"))
    assert picture.photo is not None and picture.photo[-1].width == 320

    assert await aiogram_bot.delete_message(USER, picture.message_id)
    transcript = await control.messages(USER)
    assert transcript[-1]["deleted"] is True
    assert any(not m["from_bot"] for m in transcript)
    assert all("from_bot" in m for m in transcript)


async def test_aiogram_commands(control: EmulatorClient, aiogram_bot: Bot) -> None:
    from aiogram.types import BotCommand

    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await aiogram_bot.set_my_commands(commands)
    assert await aiogram_bot.set_my_commands(commands[:1], language_code="zh")
    got = await aiogram_bot.get_my_commands()
    assert [c.command for c in got] == ["start", "help"]
    seen = await control.commands()
    assert [c["command"] for c in seen["commands"]] == ["start", "help"]
    assert len(seen["sets"]) == 2
    assert await aiogram_bot.delete_my_commands()
    assert await aiogram_bot.get_my_commands() == []


# --- python-telegram-bot ------------------------------------------------------------------------


async def test_ptb_full_conversation(emulator_url: str, control: EmulatorClient) -> None:
    bot = telegram.Bot(
        TOKEN, base_url=f"{emulator_url}/bot", base_file_url=f"{emulator_url}/file/bot"
    )
    await control.set_limits(False)
    async with bot:
        assert bot.id == BOT_ID and bot.username == "returnee_emulator_bot"
        await control.send(USER, "hello", first_name="Han", last_name="Mei")
        updates = await bot.get_updates(timeout=1)
        assert updates[0].message is not None and updates[0].message.text == "hello"
        assert updates[0].effective_user is not None
        assert updates[0].effective_user.full_name == "Han Mei"

        inline = telegram.InlineKeyboardMarkup(
            [
                [
                    telegram.InlineKeyboardButton("Go", callback_data="go"),
                    telegram.InlineKeyboardButton("Site", url="https://example.org"),
                ]
            ]
        )
        question = await bot.send_message(
            USER,
            "Pick one",
            reply_markup=inline,
            link_preview_options=telegram.LinkPreviewOptions(is_disabled=True),
        )
        assert question.reply_markup is not None
        assert question.reply_markup.inline_keyboard[0][0].callback_data == "go"

        keyboard = telegram.ReplyKeyboardMarkup(
            [[telegram.KeyboardButton("Share", request_contact=True)]], one_time_keyboard=True
        )
        await bot.send_message(USER, "Phone?", reply_markup=keyboard)
        await bot.send_message(USER, "Or type it", reply_markup=telegram.ForceReply())

        pressed = await control.press(USER, question.message_id, data="go")
        await control.contact(USER, "8613800138000", own=False, first_name="Friend")
        for kind in ("photo", "document", "sticker", "voice", "location"):
            await control.other(USER, kind)
        await control.edit(USER, updates[0].message.message_id, "hello again")
        updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
        assert len(updates) == 8
        query = updates[0].callback_query
        assert query is not None and query.id == pressed["callback_query_id"]
        assert query.data == "go" and query.message is not None
        contact = updates[1].message.contact if updates[1].message else None
        assert contact is not None and contact.user_id is None and contact.first_name == "Friend"
        assert updates[2].message is not None and updates[2].message.photo
        assert updates[4].message is not None and updates[4].message.sticker is not None
        assert updates[7].edited_message is not None

        assert await query.answer("ok")
        edited = await bot.edit_message_text(
            "Picked", chat_id=USER, message_id=question.message_id, reply_markup=inline
        )
        assert isinstance(edited, telegram.Message) and edited.edit_date is not None
        markup_only = await bot.edit_message_reply_markup(USER, question.message_id)
        assert isinstance(markup_only, telegram.Message) and markup_only.reply_markup is None

        document = await bot.send_document(
            USER, b"%PDF-1.4 fake", filename="form.pdf", caption="Your form"
        )
        assert document.document is not None and document.document.file_name == "form.pdf"
        file = await bot.get_file(document.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 fake"
        photo = await bot.send_photo(USER, tiny_png(), caption="pic")
        assert photo.photo and photo.caption == "pic"
        photo_file = await bot.get_file(photo.photo[-1].file_id)
        assert bytes(await photo_file.download_as_bytearray()) == tiny_png()

        with pytest.raises(telegram.error.BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Picked", chat_id=USER, message_id=question.message_id)
        with pytest.raises(telegram.error.BadRequest, match="Chat not found"):
            await bot.send_message(999999, "nobody")
        await control.block(USER)
        with pytest.raises(telegram.error.Forbidden, match="bot was blocked by the user"):
            await bot.send_message(USER, "still there?")


# --- limits -------------------------------------------------------------------------------------


async def test_global_limit_gives_429_with_retry_after(
    emulator_url: str, control: EmulatorClient, http: aiohttp.ClientSession, aiogram_bot: Bot
) -> None:
    for user in range(1, 41):
        await control.send(user, "hi")
    results = await asyncio.gather(
        *(
            api(http, emulator_url, "sendMessage", chat_id=user, text="hello")
            for user in range(1, 41)
        )
    )
    statuses = [status for status, _ in results]
    # 30 is the burst; a slow machine may see a token or two refill while the 40 go out.
    assert statuses.count(200) + statuses.count(429) == 40
    assert 30 <= statuses.count(200) <= 34
    body = next(body for status, body in results if status == 429)
    assert body["error_code"] == 429
    assert body["parameters"]["retry_after"] >= 1
    assert (
        body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"
    )
    caught: TelegramRetryAfter | None = None
    for _ in range(5):  # chat 1's own burst of 3 guarantees a 429 even if a token came back
        try:
            await aiogram_bot.send_message(1, "more")
        except TelegramRetryAfter as exc:
            caught = exc
            break
    assert caught is not None and caught.retry_after >= 1
    stats = await control.stats()
    assert stats["rate_limited"] == statuses.count(429) + 1


async def test_per_chat_limit_after_burst(
    emulator_url: str, control: EmulatorClient, http: aiohttp.ClientSession
) -> None:
    await control.send(USER, "hi")
    statuses = [
        (await api(http, emulator_url, "sendMessage", chat_id=USER, text=f"n{i}"))[0]
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    await asyncio.sleep(1.05)
    status, _ = await api(http, emulator_url, "sendMessage", chat_id=USER, text="later")
    assert status == 200


async def test_limits_can_be_switched_off(
    emulator_url: str, control: EmulatorClient, http: aiohttp.ClientSession
) -> None:
    await control.send(USER, "hi")
    assert (await control.set_limits(False))["enabled"] is False
    for i in range(12):
        status, _ = await api(http, emulator_url, "sendMessage", chat_id=USER, text=f"n{i}")
        assert status == 200
    await control.set_limits(True, chat_burst=1)
    statuses = [
        (await api(http, emulator_url, "sendMessage", chat_id=USER, text="x"))[0] for _ in range(2)
    ]
    assert statuses == [200, 429]


async def test_limits_off_from_the_start(http: aiohttp.ClientSession) -> None:
    server = TestServer(create_app(limits=False), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        async with EmulatorClient(url) as client:
            await client.send(USER, "hi")
        for i in range(10):
            status, _ = await api(http, url, "sendMessage", chat_id=USER, text=f"n{i}")
            assert status == 200
    finally:
        await server.close()


# --- faults -------------------------------------------------------------------------------------


async def test_error_faults_answer_5xx(
    emulator_url: str, control: EmulatorClient, http: aiohttp.ClientSession, aiogram_bot: Bot
) -> None:
    await control.send(USER, "hi")
    await control.set_faults(error_rate=1.0, seed=7)
    statuses = set()
    for _ in range(6):
        status, body = await api(http, emulator_url, "sendMessage", chat_id=USER, text="x")
        assert body["ok"] is False and body["error_code"] == status
        statuses.add(status)
    assert statuses <= {500, 502} and statuses
    with pytest.raises(TelegramServerError):
        await aiogram_bot.get_me()
    assert await aiogram_bot.get_updates() != []  # getUpdates is spared by default
    assert (await control.stats())["faults"]
    await control.set_faults()
    status, _ = await api(http, emulator_url, "getMe")
    assert status == 200


async def test_drop_faults_close_the_connection(
    emulator_url: str, control: EmulatorClient, http: aiohttp.ClientSession, aiogram_bot: Bot
) -> None:
    await control.set_faults(drop_rate=1.0, methods=["getMe"], latency_ms=20)
    with pytest.raises(aiohttp.ClientError):
        await api(http, emulator_url, "getMe")
    with pytest.raises(TelegramNetworkError):
        await aiogram_bot.get_me()
    status, _ = await api(http, emulator_url, "getWebhookInfo")
    assert status == 200  # not in the methods list
    log = await control.log(method="getMe")
    assert log and all(entry["fault"] == "drop" for entry in log)


# --- errors -------------------------------------------------------------------------------------


async def test_unknown_method_and_bad_token(emulator_url: str, http: aiohttp.ClientSession) -> None:
    status, body = await api(http, emulator_url, "sendTelepathy", chat_id=1)
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    async with http.get(f"{emulator_url}/botnot-a-token/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    async with http.get(f"{emulator_url}/bot{TOKEN}/GETME") as response:
        assert response.status == 200  # method names are case-insensitive


async def test_telegram_validation_errors(
    emulator_url: str, control: EmulatorClient, http: aiohttp.ClientSession, aiogram_bot: Bot
) -> None:
    await control.set_limits(False)
    await control.send(USER, "hi")

    async def error(method: str, **params: Any) -> str:
        status, body = await api(http, emulator_url, method, **params)
        assert status == 400, body
        return str(body["description"])

    assert await error("sendMessage", chat_id=USER, text="") == "Bad Request: message text is empty"
    assert await error("sendMessage", chat_id=USER, text="x" * 4097) == (
        "Bad Request: message is too long"
    )
    long_markup = "<b>" + "x" * 4096 + "</b>"
    status, _ = await api(
        http, emulator_url, "sendMessage", chat_id=USER, text=long_markup, parse_mode="HTML"
    )
    assert status == 200  # the limit applies after entity parsing
    for bad in (
        "<b>open",
        "a <br> b",
        "1 < 2",
        "Tom & Jerry",
        "<b>x</i>",
        "</b>",
        '<span class="x">y</span>',
    ):
        description = await error("sendMessage", chat_id=USER, text=bad, parse_mode="HTML")
        assert description.startswith("Bad Request: can't parse entities: "), bad
    assert await error("sendMessage", chat_id=USER, text="a.b", parse_mode="MarkdownV2") == (
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped "
        "with the preceding '\\'"
    )
    too_long_data = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    assert await error("sendMessage", chat_id=USER, text="k", reply_markup=too_long_data) == (
        "Bad Request: BUTTON_DATA_INVALID"
    )
    assert await error("sendMessage", chat_id=424242, text="x") == "Bad Request: chat not found"
    assert await error("editMessageText", chat_id=USER, message_id=999, text="x") == (
        "Bad Request: message to edit not found"
    )
    assert await error("deleteMessage", chat_id=USER, message_id=999) == (
        "Bad Request: message to delete not found"
    )
    sent = await aiogram_bot.send_message(USER, "same")
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await aiogram_bot.edit_message_text("same", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await aiogram_bot.send_message(USER, "<b>unclosed", parse_mode="HTML")

    async with http.post(
        f"{emulator_url}/bot{TOKEN}/sendMessage",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert (await response.json())["ok"] is False
    async with http.post(
        f"{emulator_url}/bot{TOKEN}/sendMessage",
        data={"chat_id": str(USER), "text": "x", "reply_markup": "{oops"},
    ) as r:
        assert r.status == 400
        assert "reply keyboard markup" in (await r.json())["description"]
    async with http.get(
        f"{emulator_url}/bot{TOKEN}/sendMessage", params={"chat_id": str(USER), "text": "via query"}
    ) as response:
        assert response.status == 200

    await control.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aiogram_bot.send_message(USER, "hello?")
    status, body = await api(http, emulator_url, "sendMessage", chat_id=USER, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    with pytest.raises(EmulatorError, match="blocked the bot"):
        await control.send(USER, "hi")
    await control.unblock(USER)
    await aiogram_bot.send_message(USER, "welcome back")
    kinds = [next(k for k in u if k != "update_id") for u in await control.updates()]
    assert kinds.count("my_chat_member") == 2


async def test_press_checks_buttons(control: EmulatorClient, aiogram_bot: Bot) -> None:
    await control.send(USER, "hi")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="A", callback_data="a"),
                InlineKeyboardButton(text="Web", url="https://example.org"),
            ]
        ]
    )
    sent = await aiogram_bot.send_message(USER, "choose", reply_markup=markup)
    with pytest.raises(EmulatorError, match=r"callback_data 'zzz'.*\"text\": \"A\"") as caught:
        await control.press(USER, sent.message_id, data="zzz")
    assert caught.value.status == 400
    with pytest.raises(EmulatorError, match="no callback_data"):
        await control.press(USER, sent.message_id, text="Web")
    forged = await control.press(USER, sent.message_id, data="zzz", forge=True)
    assert forged["data"] == "zzz"
    with pytest.raises(EmulatorError, match="no message 77"):
        await control.press(USER, 77, data="a")


# --- waiting, long polling, webhooks ------------------------------------------------------------


async def test_get_updates_long_poll_wakes_on_user_message(
    control: EmulatorClient, aiogram_bot: Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(aiogram_bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await control.send(USER, "wake up")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 2
    assert updates[0].message is not None and updates[0].message.text == "wake up"
    idle = time.monotonic()
    assert await aiogram_bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == []
    assert time.monotonic() - idle >= 0.9


async def test_second_poller_conflicts(emulator_url: str, http: aiohttp.ClientSession) -> None:
    first = asyncio.create_task(api(http, emulator_url, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(api(http, emulator_url, "getUpdates", timeout=1))
    status, body = await asyncio.wait_for(first, 3)
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    assert (await second)[0] == 200


async def test_wait_returns_bot_answers_and_edits(
    control: EmulatorClient, aiogram_bot: Bot
) -> None:
    sent = await control.send(USER, "hi")

    async def answer_later() -> None:
        await asyncio.sleep(0.1)
        first = await aiogram_bot.send_message(USER, "one")
        await aiogram_bot.send_message(USER, "two")
        await asyncio.sleep(0.1)
        await aiogram_bot.edit_message_text("one!", chat_id=USER, message_id=first.message_id)

    task = asyncio.create_task(answer_later())
    messages = await control.wait(USER, after=sent["message_id"], count=2, timeout=5)
    assert [m["text"] for m in messages] == ["one", "two"]
    changed = await control.wait(USER, after=messages[-1]["message_id"], edits=True, timeout=5)
    assert changed[0]["text"] == "one!" and changed[0]["edited"] and changed[0]["edit_count"] == 1
    await task
    with pytest.raises(EmulatorTimeout) as caught:
        await control.wait(USER, after=messages[-1]["message_id"], timeout=0.2)
    assert caught.value.status == 408 and caught.value.messages == []


async def test_webhook_delivery_with_secret_and_retry(
    emulator_url: str, control: EmulatorClient, aiogram_bot: Bot, http: aiohttp.ClientSession
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    attempts = 0

    async def receive(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", receive)
    receiver = TestServer(app, host="127.0.0.1", port=0)
    await receiver.start_server()
    try:
        hook_url = str(receiver.make_url("/hook"))
        assert await aiogram_bot.set_webhook(hook_url, secret_token="s3cr3t_token")
        info = await aiogram_bot.get_webhook_info()
        assert info.url == hook_url
        status, body = await api(http, emulator_url, "getUpdates")
        assert status == 409 and "webhook is active" in body["description"]

        first = await control.send(USER, "one")
        second = await control.send(USER, "two")
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.05)
        assert [secret for secret, _ in received] == ["s3cr3t_token", "s3cr3t_token"]
        assert [u["update_id"] for _, u in received] == [first["update_id"], second["update_id"]]
        assert received[0][1]["message"]["text"] == "one"
        stats = await control.stats()
        assert stats["webhook"]["statuses"][:3] == [500, 200, 200]
        assert stats["webhook"]["deliveries"] == 2
        info = await aiogram_bot.get_webhook_info()
        assert info.pending_update_count == 0 and info.last_error_message

        assert await aiogram_bot.delete_webhook()
        await control.send(USER, "three")
        updates = await aiogram_bot.get_updates(timeout=1)
        assert updates[0].message is not None and updates[0].message.text == "three"
    finally:
        await receiver.close()


async def test_log_stats_and_reset(
    emulator_url: str, control: EmulatorClient, http: aiohttp.ClientSession
) -> None:
    assert await control.health()
    await control.send(USER, "hi")
    await api(http, emulator_url, "sendMessage", chat_id=USER, text="<b>x</b>", parse_mode="HTML")
    await api(http, emulator_url, "sendMessage", chat_id=USER, text="")
    log = await control.log()
    assert [(e["method"], e["status"], e["chat_id"]) for e in log] == [
        ("sendMessage", 200, USER),
        ("sendMessage", 400, USER),
    ]
    assert log[0]["params"]["parse_mode"] == "HTML"
    assert await control.log(after=log[0]["seq"]) == log[1:]
    stats = await control.stats()
    assert stats["requests"] == {"sendMessage": 2}
    assert stats["messages_per_chat"] == {str(USER): 1}
    await control.reset()
    assert await control.messages(USER) == []
    assert await control.log() == []
    sent = await control.send(USER, "after reset")
    assert sent["update_id"] > 1  # update ids keep growing so a polling bot's offset stays valid


# --- formatted text -----------------------------------------------------------------------------


def test_html_parsing_matches_telegram() -> None:
    text, entities = parse_html(
        'a <b>b <i>c</i></b> <a href="https://x.org/?a=1&amp;b=2">l</a> &lt;&#33;&#x21;'
        '<pre><code class="language-python">p</code></pre><tg-spoiler>s</tg-spoiler>'
    )
    assert text == "a b c l <!!ps"
    assert {"type": "bold", "offset": 2, "length": 3} in entities
    assert {"type": "italic", "offset": 4, "length": 1} in entities
    assert {"type": "text_link", "offset": 6, "length": 1, "url": "https://x.org/?a=1&b=2"} in (
        entities
    )
    assert {"type": "pre", "offset": 11, "length": 1, "language": "python"} in entities
    assert {"type": "spoiler", "offset": 12, "length": 1} in entities
    _, emoji = parse_html("😀<b>x</b>")
    assert emoji == [{"type": "bold", "offset": 2, "length": 1}]  # UTF-16 offsets
    with pytest.raises(EntityParseError, match='Unsupported start tag "br"'):
        parse_html("a<br>")
    with pytest.raises(EntityParseError, match="Can't find end tag"):
        parse_html("<b>a")


def test_markdown_v2_parsing() -> None:
    text, entities = parse_markdown_v2(r"*bold* _it_ [link](https://x.org) \. `c\`` ||s||")
    assert text == "bold it link . c` s"
    assert [e["type"] for e in entities] == ["bold", "italic", "text_link", "code", "spoiler"]
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity"):
        parse_markdown_v2("*open")
    with pytest.raises(EntityParseError, match="reserved"):
        parse_markdown_v2("1-2")


async def test_the_clock_moves_forward_only_and_dates_follow_it(
    control: EmulatorClient, aiogram_bot: Bot, http: aiohttp.ClientSession, emulator_url: str
) -> None:
    before = await control.now()
    moved = await control.advance(timedelta(days=2))
    assert timedelta(days=2) <= moved - before < timedelta(days=2, seconds=5)
    await control.send(USER, "hi")
    sent = await aiogram_bot.send_message(USER, "hello")
    assert abs(sent.date - moved) < timedelta(seconds=5)

    target = moved + timedelta(hours=3)
    assert abs(await control.move_to(target) - target) < timedelta(seconds=1)
    for body in (
        {"to": (target - timedelta(hours=1)).isoformat()},
        {"to": "tomorrow"},
        {"to": "2026-07-01T08:00"},
        {"advance_seconds": -5},
        {"advance_seconds": 5, "to": target.isoformat()},
    ):
        async with http.post(f"{emulator_url}/control/clock", json=body) as response:
            assert response.status == 400, body
            assert not (await response.json())["ok"]
    assert abs(await control.now() - target) < timedelta(seconds=1)

    await control.reset()
    assert abs(await control.now() - datetime.now(UTC)) < timedelta(seconds=5)
