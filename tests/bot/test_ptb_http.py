"""The PTB runner's lean request layer (bot/ptb_http.py) and its plain calls: the same bytes on
the wire as PTB's own, the same errors as through httpx, connections reused safely."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardMarkup
from telegram.request import BaseRequest, RequestData

from bot.delivery import Rejected, Transient, Uncertain, Unreachable
from bot.ptb_http import LeanRequest, PollRequest
from bot.ptb_runner import PtbTransport, markup, markup_json
from chat.contract import Button, KeyButton
from emulator import EmulatorClient

TOKEN = "4242424242:e2e-test-token-not-a-secret-0000"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


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


# --- the connections --------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """A scripted HTTP server on a free port; returns its Bot API address."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        listening = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(listening)
        port = listening.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bot{TOKEN}"

    yield start
    for listening in servers:
        listening.close()
        await listening.wait_closed()


OK_BODY = b'{"ok":true,"result":{"message_id":3,"date":1,"chat":{"id":5,"type":"private"}}}'


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    return head + await reader.readexactly(length)


async def transport_on(url: str, request: LeanRequest | None = None) -> PtbTransport:
    request = request or LeanRequest(connection_pool_size=4)
    bot = Bot(TOKEN, base_url=url.rsplit("/bot", 1)[0] + "/bot", request=request)
    await request.initialize()
    return PtbTransport(bot)


async def test_a_connection_the_server_closed_while_idle_is_not_used_again(
    server: Callable[[Handler], Awaitable[str]],
) -> None:
    connections = 0

    async def one_answer_then_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(OK_BODY) + OK_BODY)
        await writer.drain()
        writer.close()  # keep-alive promised, then dropped while idle

    request = LeanRequest(connection_pool_size=4)
    transport = await transport_on(await server(one_answer_then_close), request)

    def closed_seen() -> bool:
        return all(c.reader.at_eof() for idle in request._idle.values() for c in idle)

    for _ in range(3):
        assert await transport.send_message(5, "hi", (), (), False) == 3
        # Until the client's loop has read the server's close (a StreamReader has no event
        # for its EOF): a condition waited for, not a fixed pause.
        async with asyncio.timeout(5):
            while not closed_seen():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    assert connections == 3
    await transport.bot.request.shutdown()


async def test_kept_alive_connections_carry_the_next_requests(
    server: Callable[[Handler], Awaitable[str]], emulator: EmulatorClient
) -> None:
    connections = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while not reader.at_eof():
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            # One answer in chunks, as a proxy in front of Telegram may send it.
            half = len(OK_BODY) // 2
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
                % (half, OK_BODY[:half], len(OK_BODY) - half, OK_BODY[half:])
            )
            await writer.drain()
        writer.close()

    transport = await transport_on(await server(keep_alive))
    for _ in range(5):
        assert await transport.send_message(5, "hi", (), (), False) == 3
    assert connections == 1
    await transport.bot.request.shutdown()


async def test_an_answer_ended_by_the_close_is_read_whole_and_half_or_no_answer_is_uncertain(
    server: Callable[[Handler], Awaitable[str]],
) -> None:
    connections = 0

    async def to_the_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # HTTP/1.0 style: no length, the body ends with the connection (not kept).
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + OK_BODY)
        await writer.drain()
        writer.close()

    transport = await transport_on(await server(to_the_close))
    for _ in range(2):
        assert await transport.send_message(5, "hi", (), (), False) == 3
    assert connections == 2
    await transport.bot.request.shutdown()

    async def half_an_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(OK_BODY))
        writer.write(OK_BODY[:10])
        await writer.drain()
        writer.close()

    transport = await transport_on(await server(half_an_answer))
    with pytest.raises(Uncertain, match="RemoteProtocolError"):
        await transport.send_message(5, "hi", (), (), False)
    await transport.bot.request.shutdown()

    async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()

    transport = await transport_on(await server(not_http))
    with pytest.raises(Uncertain, match="not an HTTP answer"):
        await transport.send_message(5, "hi", (), (), False)
    await transport.bot.request.shutdown()


async def test_no_answer_is_uncertain_and_no_connection_is_transient(
    server: Callable[[Handler], Awaitable[str]],
) -> None:
    async def takes_it_and_hangs_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.close()

    transport = await transport_on(await server(takes_it_and_hangs_up))
    with pytest.raises(Uncertain, match="RemoteProtocolError"):
        await transport.send_message(5, "hi", (), (), False)
    await transport.bot.request.shutdown()

    listening = await asyncio.start_server(takes_it_and_hangs_up, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()  # nothing listens there now
    transport = await transport_on(f"http://127.0.0.1:{port}/bot{TOKEN}")
    with pytest.raises(Transient) as refused:
        await transport.send_message(5, "hi", (), (), False)
    assert not isinstance(refused.value, Uncertain)
    await transport.bot.request.shutdown()


async def test_an_answer_that_does_not_come_in_time_is_uncertain(
    server: Callable[[Handler], Awaitable[str]],
) -> None:
    answered = asyncio.Event()

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await answered.wait()
        writer.close()

    transport = await transport_on(await server(never_answers))
    request = transport.bot.request
    with pytest.raises(Uncertain, match="Timed out"):
        await transport._call(  # a short read time-out, not PTB's 5 s
            request.post(f"{transport.bot.base_url}/sendMessage", read_timeout=0.2)
        )
    answered.set()
    await request.shutdown()


async def test_errors_keep_telegrams_wording(
    server: Callable[[Handler], Awaitable[str]],
) -> None:
    answers = iter(
        [
            (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}),
            (
                403,
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
            ),
            (
                400,
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is not modified",
                },
            ),
        ]
    )

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            status, body = next(answers)
            data = json.dumps(body).encode()
            writer.write(
                b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(data), data)
            )
            await writer.drain()
        writer.close()

    transport = await transport_on(await server(answer))
    with pytest.raises(Unreachable, match=r"^Bad Request: chat not found$"):
        await transport.send_message(5, "hi", (), (), False)
    with pytest.raises(Unreachable, match=r"^Forbidden: bot was blocked by the user$"):
        await transport.send_message(5, "hi", (), (), False)
    with pytest.raises(Rejected) as same:
        await transport.edit_message(5, 3, "hi", ())
    assert same.value.not_modified
    await transport.bot.request.shutdown()


async def test_a_proxy_in_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, server: Callable[[Handler], Awaitable[str]]
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
