"""Bot API requests over plain asyncio connections, for both runners.

httpx (PTB's client, with httpcore and anyio under it) costs about 2 ms of CPU per Bot API call
and aiohttp's client (aiogram's) a few hundred µs, against 0.2 ms for the same request written
on an asyncio stream: on the PTB runner that was most of an answer's CPU, on the aiogram runner
a fifth of it (docs/benchmarks.md). The answers are read by httptools (llhttp, the parser under
uvicorn and Node.js: lengths, chunks, keep-alive; 3 µs an answer, where h11 took 165 µs); ours
are the request's few header lines, the pool of keep-alive connections and the time-outs around
them.

Each failure says whether the request can have reached Telegram: `NotSent` (no connection, no
free slot in the pool) or `Unanswered` (written, wholly or in part, with no whole answer read:
it may have been carried out). Each runner maps these to its library's own errors
(`bot/ptb_http.py`, `bot/aiogram_runner.py`), so its transport reads them as before.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools

# httpx keeps an idle connection for 5 s (`keepalive_expiry`), aiohttp 15 s; a server may close
# it sooner, which is seen (EOF) before the connection is taken again.
KEEPALIVE_SECONDS = 5.0


class HttpFailure(Exception):
    """A request that got no whole answer."""


class NotSent(HttpFailure):
    """Nothing of the request left: it cannot have been carried out."""


class Unanswered(HttpFailure):
    """The request was written (or partly): it may have been carried out, its answer lost."""


class PoolTimedOut(NotSent):
    pass


class ConnectTimedOut(NotSent):
    pass


class ConnectFailed(NotSent):
    pass


class WriteTimedOut(Unanswered):
    pass


class WriteFailed(Unanswered):
    pass


class ReadTimedOut(Unanswered):
    pass


class ReadFailed(Unanswered):
    pass


class ProtocolBroken(Unanswered):
    """Not an HTTP answer, half of one, or the connection closed before any."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds for each stage of a request; None waits without end."""

    connect: float | None
    write: float | None
    read: float | None
    pool: float | None


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def reusable(self) -> bool:
        return (
            time.monotonic() - self.idle_since < KEEPALIVE_SECONDS
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class LeanClient:
    """HTTP/1.1 requests with a body, keep-alive connections pooled per host, at most `size`
    at once."""

    def __init__(
        self, size: int, user_agent: str, ssl_context: Callable[[], ssl.SSLContext]
    ) -> None:
        self._size = size
        self._user_agent = user_agent
        self._ssl_context = ssl_context
        self._ssl: ssl.SSLContext | None = None
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}

    def idle_connections(self) -> list[_Connection]:
        return [connection for idle in self._idle.values() for connection in idle]

    def close(self) -> None:
        for connection in self.idle_connections():
            connection.close()
        self._idle.clear()

    async def request(
        self, method: str, url: str, body: bytes | None, content_type: str, timeouts: Timeouts
    ) -> tuple[int, bytes]:
        """The answer's status and body."""
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        head.append(f"User-Agent: {self._user_agent}")
        if body is not None or method == "POST":
            body = body or b""
            head.append(f"Content-Type: {content_type}")
            head.append(f"Content-Length: {len(body)}")
        message = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")

        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        try:
            async with asyncio.timeout(timeouts.pool):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolTimedOut("no connection free in the pool") from None
        try:
            key = (parts.scheme, host, port)
            connection = self._take(key) or await self._connect(
                host, port, secure, timeouts.connect
            )
            try:
                status, content, keep = await self._send(connection, message, timeouts)
            except BaseException:
                # Half a request or half an answer: the connection cannot be used again.
                connection.close()
                raise
            if keep:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(key, []).append(connection)
            else:
                connection.close()
            return status, content
        finally:
            self._slots.release()

    def _take(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return None

    async def _connect(
        self, host: str, port: int, secure: bool, timeout: float | None
    ) -> _Connection:
        context = None
        if secure:
            self._ssl = self._ssl or self._ssl_context()
            context = self._ssl
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, ssl=context)
        except TimeoutError:
            raise ConnectTimedOut(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise ConnectFailed(str(exc)) from exc
        return _Connection(reader, writer)

    async def _send(
        self, connection: _Connection, message: bytes, timeouts: Timeouts
    ) -> tuple[int, bytes, bool]:
        try:
            connection.writer.write(message)
            async with asyncio.timeout(timeouts.write):
                await connection.writer.drain()
        except TimeoutError:
            raise WriteTimedOut("writing the request timed out") from None
        except OSError as exc:
            raise WriteFailed(str(exc)) from exc
        try:
            async with asyncio.timeout(timeouts.read):
                return await _read_response(connection.reader)
        except TimeoutError:
            raise ReadTimedOut("reading the answer timed out") from None
        except httptools.HttpParserError as exc:
            raise ProtocolBroken(f"not an HTTP answer: {exc}") from exc
        except OSError as exc:
            raise ReadFailed(str(exc)) from exc


class _Answer:
    """httptools' callbacks for one answer."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.body: list[bytes] = []
        self.headers_done = False
        self.framed = False  # a length or chunks: the end is known without the close
        self.complete = False
        self.keep = False

    def on_header(self, name: bytes, _value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.status = self.parser.get_status_code()

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        self.complete = True
        # Read here: once the callback returns, the parser is ready for the next answer.
        self.keep = self.parser.should_keep_alive()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection may carry another request."""
    answer = _Answer()
    try:
        return await _read_into(answer, reader)
    finally:
        # The parser holds the answer's callbacks and the answer the parser: a cycle per
        # request that only the garbage collector would free (and its collections are the
        # event loop's longest stalls during a round); broken here, both go at once.
        del answer.parser


async def _read_into(answer: _Answer, reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    while not answer.complete:
        data = await reader.read(65536)
        if data:
            answer.parser.feed_data(data)
            continue
        # The server closed the connection: the end of an answer that had neither a length
        # nor chunks; anything else was cut short.
        if answer.headers_done and not answer.framed:
            return answer.status, b"".join(answer.body), False
        if not answer.headers_done and not answer.body:
            raise ProtocolBroken("Server disconnected without sending a response.")
        raise ProtocolBroken("the server closed the connection mid-answer")
    if answer.status < 200:
        # Informational answers come only to a request that asked for them (Expect: …).
        raise ProtocolBroken(f"unexpected informational answer {answer.status}")
    return answer.status, b"".join(answer.body), answer.keep
