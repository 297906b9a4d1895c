"""PTB's Bot API requests over plain asyncio connections instead of httpx.

httpx (with httpcore and anyio under it) costs about 2 ms of CPU per Bot API call, against
0.2 ms for the same request written on an asyncio stream: on the PTB runner that was most of
an answer's CPU (docs/benchmarks.md, "Since: PTB's requests without httpx"). The answers are
read by httptools (llhttp, the parser under uvicorn and Node.js: lengths, chunks, keep-alive;
3 µs an answer, where h11 took 165 µs); ours are the request's few header lines, the pool of
asyncio connections and the time-outs around them. This is PTB's own
extension point (a `BaseRequest`), so PTB still builds every request and reads every answer,
and its mapping of HTTP statuses to errors (`BaseRequest._request_wrapper`) is untouched.

What goes through here: requests without files, to an `http`/`https` address, when no proxy is
configured (httpx would have taken one from the environment). Uploads and proxies go through
PTB's httpx client as before. Failures are raised as the httpx errors httpx would have raised
for the same event and wrapped as `HTTPXRequest.do_request` wraps them, so the transport's
mapping (a request that went out unanswered is `Uncertain`, one that never left `Transient`)
reads them the same whichever path a request took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

# httpx keeps an idle connection for 5 s (`keepalive_expiry`); a server may close it sooner,
# which is seen (EOF) before the connection is taken again.
KEEPALIVE_SECONDS = 5.0
# The environment variables httpx reads a proxy from (`trust_env`).
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
POOL_TIMEOUT_TEXT = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)


def proxy_in_environment() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in PROXY_VARIABLES)


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


def _timeout(value: object, default: float | None) -> float | None:
    """PTB passes `DEFAULT_NONE` for "the request's own default"."""
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value  # type: ignore[return-value]


class LeanRequest(HTTPXRequest):
    """An `HTTPXRequest` whose plain requests go over asyncio streams, keep-alive pooled."""

    def __init__(self, connection_pool_size: int) -> None:
        # PTB's default timeouts (5 s to connect, write and read, 1 s for a free connection).
        super().__init__(connection_pool_size=connection_pool_size)
        self._lean = not proxy_in_environment()
        self._size = connection_pool_size
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def shutdown(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        await super().shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if not self._lean or (request_data is not None and request_data.contains_files):
            return await super().do_request(
                url,
                method,
                request_data,
                read_timeout,  # type: ignore[arg-type]
                write_timeout,  # type: ignore[arg-type]
                connect_timeout,  # type: ignore[arg-type]
                pool_timeout,  # type: ignore[arg-type]
            )
        if self._client.is_closed:
            raise RuntimeError("This HTTPXRequest is not initialized!")
        defaults = self._client.timeout
        try:
            return await self._exchange(
                url,
                method,
                request_data,
                read=_timeout(read_timeout, defaults.read),
                write=_timeout(write_timeout, defaults.write),
                connect=_timeout(connect_timeout, defaults.connect),
                pool=_timeout(pool_timeout, defaults.pool),
            )
        # Wrapped exactly as HTTPXRequest.do_request wraps httpx's errors.
        except httpx.TimeoutException as err:
            if isinstance(err, httpx.PoolTimeout):
                raise TimedOut(message=POOL_TIMEOUT_TEXT) from err
            raise TimedOut from err
        except httpx.HTTPError as err:
            raise NetworkError(f"httpx.{err.__class__.__name__}: {err}") from err

    async def _exchange(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        *,
        read: float | None,
        write: float | None,
        connect: float | None,
        pool: float | None,
    ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # The same body httpx sends for PTB: the parameters form-encoded, each one JSON.
        head = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        head.append(f"User-Agent: {self.USER_AGENT}")
        body = b""
        if request_data is not None or method == "POST":
            body = urlencode(request_data.json_parameters if request_data else {}).encode()
            head.append("Content-Type: application/x-www-form-urlencoded")
            head.append(f"Content-Length: {len(body)}")
        message = ("\r\n".join(head) + "\r\n\r\n").encode() + body

        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        try:
            async with asyncio.timeout(pool):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection free in the pool") from None
        try:
            key = (parts.scheme, host, port)
            connection = self._take(key) or await self._connect(host, port, secure, connect)
            try:
                status, content, keep = await self._send(connection, message, read, write)
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
            # httpx's own default: certifi's authorities, or SSL_CERT_FILE / SSL_CERT_DIR.
            self._ssl = self._ssl or httpx.create_ssl_context()
            context = self._ssl
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, ssl=context)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        return _Connection(reader, writer)

    async def _send(
        self, connection: _Connection, message: bytes, read: float | None, write: float | None
    ) -> tuple[int, bytes, bool]:
        try:
            connection.writer.write(message)
            async with asyncio.timeout(write):
                await connection.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("writing the request timed out") from None
        except OSError as exc:
            raise httpx.WriteError(str(exc)) from exc
        try:
            async with asyncio.timeout(read):
                return await _read_response(connection.reader)
        except TimeoutError:
            raise httpx.ReadTimeout("reading the answer timed out") from None
        except httptools.HttpParserError as exc:
            raise httpx.RemoteProtocolError(f"not an HTTP answer: {exc}") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from exc


class PollRequest(LeanRequest):
    """The long poll's request (PTB uses it for getUpdates alone). It keeps each update's JSON
    as Telegram sent it until the update is handled: the core reads Bot API JSON, and PTB's
    `Update.to_dict()` would build it again from PTB's objects (5 % of an answer's CPU)."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)
        self.received: dict[int, dict[str, Any]] = {}

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, content = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200:
            # Read once more here (PTB reads its own copy): a few µs an update, against
            # ~1 ms for to_dict().
            with contextlib.suppress(ValueError):
                answer = json.loads(content)
                result = answer.get("result") if isinstance(answer, dict) else None
                for raw in result if isinstance(result, list) else ():
                    if isinstance(raw, dict) and isinstance(raw.get("update_id"), int):
                        self.received[raw["update_id"]] = raw
        return status, content


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
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        raise httpx.RemoteProtocolError("the server closed the connection mid-answer")
    if answer.status < 200:
        # Informational answers come only to a request that asked for them (Expect: …).
        raise httpx.RemoteProtocolError(f"unexpected informational answer {answer.status}")
    return answer.status, b"".join(answer.body), answer.keep
