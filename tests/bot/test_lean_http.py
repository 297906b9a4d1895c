"""Our lean HTTP client (bot/lean_http.py) under both runners' transports: connections reused
safely, every answer read whole, and each failure read as a user's message would need it: a
request that may have been carried out is `Uncertain` (at most one more copy), one that never
left is `Transient` (sent again), Telegram's refusals keep Telegram's words."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiogram import Bot as AiogramBot
from aiogram import methods
from telegram import Bot as PtbBot

from bot import aiogram_runner, lean_http
from bot.aiogram_runner import AiogramTransport, make_session, post_json
from bot.delivery import Rejected, Transient, Uncertain, Unreachable
from bot.ptb_http import LeanRequest
from bot.ptb_runner import PtbTransport
from chat.contract import Button, KeyButton
from tests.bot.conftest import OK_BODY, TOKEN, Server, answering, ok, read_request

Transport = PtbTransport | AiogramTransport


@dataclass
class Made:
    """A runner's transport on a scripted server, with what the tests look into."""

    transport: Transport
    client: lean_http.LeanClient
    # A sendMessage whose answer is awaited 0.2 s rather than the runner's default.
    hurried_call: Callable[[], Awaitable[Any]]
    close: Callable[[], Awaitable[None]]


MakeTransport = Callable[[str], Awaitable[Made]]


def made_for_ptb(url: str) -> Made:
    request = LeanRequest(connection_pool_size=4)
    bot = PtbBot(TOKEN, base_url=url.rsplit("/bot", 1)[0] + "/bot", request=request)
    transport = PtbTransport(bot)
    return Made(
        transport,
        request.client,
        lambda: transport._call(request.post(f"{bot.base_url}/sendMessage", read_timeout=0.2)),
        request.shutdown,
    )


def made_for_aiogram(url: str) -> Made:
    session = make_session(url.rsplit("/bot", 1)[0])
    bot = AiogramBot(TOKEN, session=session)
    transport = AiogramTransport(bot)
    fields = {"chat_id": 5, "text": "hi"}
    return Made(
        transport,
        session.lean,
        lambda: transport._call(
            post_json(
                bot,
                "sendMessage",
                f"{url}/sendMessage",
                fields,
                0.2,
                lambda: methods.SendMessage(chat_id=5, text="hi"),
            )
        ),
        session.close,
    )


@pytest.fixture(params=["ptb", "aiogram"])
async def transport_on(request: pytest.FixtureRequest) -> AsyncIterator[MakeTransport]:
    made: list[Made] = []

    async def make(url: str) -> Made:
        one = made_for_ptb(url) if request.param == "ptb" else made_for_aiogram(url)
        if isinstance(one.transport, PtbTransport):
            await one.transport.bot.request.initialize()
        made.append(one)
        return one

    yield make
    for one in made:
        await one.close()


async def test_a_connection_the_server_closed_while_idle_is_not_used_again(
    server: Server, transport_on: MakeTransport
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

    made = await transport_on(await server(one_answer_then_close))

    def closed_seen() -> bool:
        return all(c.reader.at_eof() for c in made.client.idle_connections())

    for _ in range(3):
        assert await made.transport.send_message(5, "hi", (), (), False) == 3
        # Until the client's loop has read the server's close (a StreamReader has no event
        # for its EOF): a condition waited for, not a fixed pause.
        async with asyncio.timeout(5):
            while not closed_seen():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    assert connections == 3


async def test_kept_alive_connections_carry_the_next_requests(
    server: Server, transport_on: MakeTransport
) -> None:
    connections = 0

    def chunked(_request: bytes) -> bytes:
        # One answer in chunks, as a proxy in front of Telegram may send it.
        half = len(OK_BODY) // 2
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + (
            b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
            % (half, OK_BODY[:half], len(OK_BODY) - half, OK_BODY[half:])
        )

    kept_alive = answering(chunked)

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await kept_alive(reader, writer)

    made = await transport_on(await server(keep_alive))
    for _ in range(5):
        assert await made.transport.send_message(5, "hi", (), (), False) == 3
    assert connections == 1


async def test_an_answer_ended_by_the_close_is_read_whole_and_half_or_no_answer_is_uncertain(
    server: Server, transport_on: MakeTransport
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

    made = await transport_on(await server(to_the_close))
    for _ in range(2):
        assert await made.transport.send_message(5, "hi", (), (), False) == 3
    assert connections == 2

    async def half_an_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(OK_BODY))
        writer.write(OK_BODY[:10])
        await writer.drain()
        writer.close()

    made = await transport_on(await server(half_an_answer))
    with pytest.raises(Uncertain, match="closed the connection mid-answer"):
        await made.transport.send_message(5, "hi", (), (), False)

    async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()

    made = await transport_on(await server(not_http))
    with pytest.raises(Uncertain, match="not an HTTP answer"):
        await made.transport.send_message(5, "hi", (), (), False)


async def test_no_answer_is_uncertain_and_no_connection_is_transient(
    server: Server, transport_on: MakeTransport
) -> None:
    async def takes_it_and_hangs_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.close()

    made = await transport_on(await server(takes_it_and_hangs_up))
    with pytest.raises(Uncertain, match="disconnected without sending a response"):
        await made.transport.send_message(5, "hi", (), (), False)

    listening = await asyncio.start_server(takes_it_and_hangs_up, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()  # nothing listens there now
    made = await transport_on(f"http://127.0.0.1:{port}/bot{TOKEN}")
    with pytest.raises(Transient) as refused:
        await made.transport.send_message(5, "hi", (), (), False)
    assert not isinstance(refused.value, Uncertain)


async def test_an_answer_that_does_not_come_in_time_is_uncertain(
    server: Server, transport_on: MakeTransport
) -> None:
    answered = asyncio.Event()

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await answered.wait()
        writer.close()

    made = await transport_on(await server(never_answers))
    with pytest.raises(Uncertain, match=r"(?i)timed? ?out"):
        await made.hurried_call()
    answered.set()


async def test_errors_keep_telegrams_wording(server: Server, transport_on: MakeTransport) -> None:
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

    def refusal(_request: bytes) -> bytes:
        status, body = next(answers)
        return ok(json.dumps(body).encode(), status)

    made = await transport_on(await server(answering(refusal)))
    with pytest.raises(Unreachable, match=r"^Bad Request: chat not found$"):
        await made.transport.send_message(5, "hi", (), (), False)
    with pytest.raises(Unreachable, match=r"^Forbidden: bot was blocked by the user$"):
        await made.transport.send_message(5, "hi", (), (), False)
    with pytest.raises(Rejected) as same:
        await made.transport.edit_message(5, 3, "hi", ())
    assert same.value.not_modified


def request_fields(raw: bytes) -> tuple[str, dict[str, Any]]:
    """The method a request called and its parameters, whether sent as JSON or as a form of
    JSON values (aiogram's own way)."""
    head, body = raw.split(b"\r\n\r\n", 1)
    method = head.split(b" ")[1].rsplit(b"/", 1)[1].decode()
    if b"application/json" in head.lower():
        return method, json.loads(body)
    fields: dict[str, Any] = {}
    for name, value in parse_qsl(body.decode()):
        try:
            fields[name] = json.loads(value)
        except ValueError:
            fields[name] = value
    return method, fields


async def test_aiograms_plain_calls_send_what_aiograms_bot_sends(server: Server) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def recording(request: bytes) -> bytes:
        sent.append(request_fields(request))
        return ok(
            OK_BODY
            if sent[-1][0] in ("sendMessage", "editMessageText")
            else b'{"ok":true,"result":true}'
        )

    made = made_for_aiogram(await server(answering(recording)))
    plain = made.transport
    bot = plain.bot
    assert isinstance(bot, AiogramBot)
    inline = ((Button("Go", "go"),),)
    keys = ((KeyButton("Share", request_contact=True),),)
    try:
        assert await plain.send_message(5, "<b>Hi</b>", inline, (), False) == 3
        await plain.send_message(5, "Share?", (), keys, False)
        await plain.send_message(5, "Gone", (), (), True)
        await plain.edit_message(5, 7, "Changed", inline)
        await plain.edit_message(5, 7, "No buttons", ())
        await plain.edit_buttons(5, 7, ())
        await plain.answer_button("4382bfdwdsb323b2d9", "", False)
        await plain.answer_button("4382bfdwdsb323b2e0", "Too late", True)
        ours, sent[:] = list(sent), []

        markup = aiogram_runner.markup
        await bot.send_message(5, "<b>Hi</b>", parse_mode="HTML", reply_markup=markup(inline))
        await bot.send_message(5, "Share?", parse_mode="HTML", reply_markup=markup((), keys))
        await bot.send_message(5, "Gone", parse_mode="HTML", reply_markup=markup((), (), True))
        await bot.edit_message_text(
            "Changed",
            chat_id=5,
            message_id=7,
            parse_mode="HTML",
            reply_markup=aiogram_runner._inline(inline),
        )
        await bot.edit_message_text("No buttons", chat_id=5, message_id=7, parse_mode="HTML")
        await bot.edit_message_reply_markup(chat_id=5, message_id=7)
        await bot.answer_callback_query("4382bfdwdsb323b2d9", show_alert=False)
        await bot.answer_callback_query("4382bfdwdsb323b2e0", text="Too late", show_alert=True)
    finally:
        await made.close()
    assert ours == sent


async def test_an_answer_read_leaves_nothing_for_the_garbage_collector(
    server: Server, transport_on: MakeTransport
) -> None:
    """Each answer's parser and its callbacks go when the answer is read, not at the next
    garbage collection: a round sends thousands, and full collections are its longest stalls."""

    made = await transport_on(await server(answering(lambda _request: ok())))
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            assert await made.transport.send_message(5, "hi", (), (), False) == 3
        left = [o for o in gc.get_objects() if isinstance(o, lean_http._Answer)]
    finally:
        gc.enable()
    assert left == []
