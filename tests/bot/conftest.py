"""A scripted HTTP server for the runners' request layers (tests/bot/test_lean_http.py,
test_ptb_http.py): each test writes what the "Bot API" answers, byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

TOKEN = "4242424242:e2e-test-token-not-a-secret-0000"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Server = Callable[[Handler], Awaitable[str]]
OK_BODY = b'{"ok":true,"result":{"message_id":3,"date":1,"chat":{"id":5,"type":"private"}}}'


@pytest.fixture
async def server() -> AsyncIterator[Server]:
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


def answering(answer: Callable[[bytes], bytes]) -> Handler:
    """A keep-alive server's handler: each request read whole and answered with
    `answer(request)`'s bytes, until the client closes the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(answer(request))
            await writer.drain()
        writer.close()

    return handle


def ok(body: bytes = OK_BODY, status: int = 200) -> bytes:
    """An HTTP answer with a length."""
    return b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)
