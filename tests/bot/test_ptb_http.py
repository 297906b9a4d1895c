"""The PTB runner's request layer (bot/ptb_http.py) and its plain calls: the same bytes on the
wire as PTB's own, a proxy honoured as httpx would, the long poll's updates kept as sent. The
connections and failures, alike for both runners: tests/bot/test_lean_http.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardMarkup
from telegram.request import BaseRequest, RequestData

from bot.ptb_http import LeanRequest, PollRequest
from bot.ptb_runner import PtbTransport, markup, markup_json
from chat.contract import Button, KeyButton
from emulator import EmulatorClient
from tests.bot.conftest import OK_BODY, TOKEN, Server, read_request


@pytest.mark.parametrize(
    ("buttons", "keyboard", "remove"),
    [
        (((Button("Yes", "y"), Button("No", "n")), (Button("Back", "b"),)), (), False),
        ((), ((KeyButton("Share", request_contact=True), KeyButton("Type it")),), False),
        ((), (), True),
        ((), (), False),
    ],
    ids=["inline", "keyboard", "remove", "none"],
)
def test_plain_markup_is_ptbs_markup_as_json(buttons: Any, keyboard: Any, remove: bool) -> None:
    ptb = markup(buttons, keyboard, remove)
    assert markup_json(buttons, keyboard, remove) == (ptb.to_dict() if ptb else None)


class Recording(BaseRequest):
    """Answers every call as Telegram would and keeps the parameters sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *_: Any, **__: Any
    ) -> tuple[int, bytes]:
        self.sent.append(
            (url.rsplit("/", 1)[1], request_data.json_parameters if request_data else {})
        )
        result: Any = True
        if url.endswith(("sendMessage", "editMessageText")):
            result = {
                "message_id": 7,
                "date": 1_700_000_000,
                "chat": {"id": 5, "type": "private"},
                "text": "x",
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


def decoded(parameters: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in parameters.items():
        try:
            values[name] = json.loads(value)
        except ValueError:
            values[name] = value
    return values


async def test_the_plain_calls_send_what_ptbs_bot_sends() -> None:
    recording = Recording()
    bot = Bot(TOKEN, request=recording, get_updates_request=recording)
    plain = PtbTransport(bot)
    inline = ((Button("Go", "go"),),)
    keys = ((KeyButton("Share", request_contact=True),),)
    assert await plain.send_message(5, "<b>Hi</b>", inline, (), False) == 7
    await plain.send_message(5, "Share?", (), keys, False)
    await plain.send_message(5, "Gone", (), (), True)
    await plain.edit_message(5, 7, "Changed", inline)
    await plain.edit_message(5, 7, "No buttons", ())
    await plain.edit_buttons(5, 7, ())
    await plain.answer_button("77", "", False)
    await plain.answer_button("78", "Too late", True)
    ours, recording.sent = recording.sent, []
    inline_markup = markup(inline)
    assert isinstance(inline_markup, InlineKeyboardMarkup)

    await bot.send_message(5, "<b>Hi</b>", parse_mode="HTML", reply_markup=markup(inline))
    await bot.send_message(5, "Share?", parse_mode="HTML", reply_markup=markup((), keys))
    await bot.send_message(5, "Gone", parse_mode="HTML", reply_markup=markup((), (), True))
    await bot.edit_message_text(
        "Changed", chat_id=5, message_id=7, parse_mode="HTML", reply_markup=inline_markup
    )
    await bot.edit_message_text("No buttons", chat_id=5, message_id=7, parse_mode="HTML")
    await bot.edit_message_reply_markup(chat_id=5, message_id=7)
    await bot.answer_callback_query("77", show_alert=False)
    await bot.answer_callback_query("78", text="Too late", show_alert=True)
    # The same methods and parameters; a JSON value's keys may come in another order.
    assert [(m, decoded(p)) for m, p in ours] == [(m, decoded(p)) for m, p in recording.sent]


async def transport_on(url: str) -> PtbTransport:
    request = LeanRequest(connection_pool_size=4)
    bot = Bot(TOKEN, base_url=url.rsplit("/bot", 1)[0] + "/bot", request=request)
    await request.initialize()
    return PtbTransport(bot)


async def test_a_proxy_in_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, server: Server
) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(OK_BODY) + OK_BODY)
        await writer.drain()
        writer.close()

    proxy_url = (await server(proxy)).split("/bot")[0]
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    # Telegram's address is not reachable from here: only the proxy answers.
    transport = await transport_on(f"http://telegram.invalid/bot{TOKEN}")
    assert await transport.send_message(5, "hi", (), (), False) == 3
    assert seen and seen[0].startswith(b"POST http://telegram.invalid/bot")
    await transport.bot.request.shutdown()


async def test_the_long_poll_keeps_each_update_as_sent(emulator: EmulatorClient) -> None:
    await emulator.send(5, "hi")
    request = PollRequest()
    bot = Bot(TOKEN, base_url=f"{emulator.base_url}/bot", get_updates_request=request)
    await bot.initialize()
    try:
        updates = await bot.get_updates(timeout=0)
        assert updates
        for update in updates:
            raw = request.received[update.update_id]
            assert raw["message"]["text"] == "hi"
            assert set(raw["message"]) >= {"from", "chat", "date"}
    finally:
        await bot.shutdown()
