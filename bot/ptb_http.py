"""PTB's Bot API requests over plain asyncio connections instead of httpx.

httpx (with httpcore and anyio under it) costs about 2 ms of CPU per Bot API call, against
0.2 ms for the same request written on an asyncio stream: on the PTB runner that was most of
an answer's CPU (docs/benchmarks.md, "Since: PTB's requests without httpx"). HTTP/1.1 itself
(framing, chunks, keep-alive) is h11's, the protocol library httpcore uses under httpx; what
is ours is the pool of asyncio connections and the time-outs around it. This is PTB's own
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

import h11
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
    # h11's state of the connection: one request and its answer at a time, then the next.
    protocol: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))

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
        headers = [("Host", parts.netloc), ("User-Agent", self.USER_AGENT)]
        body = b""
        if request_data is not None or method == "POST":
            body = urlencode(request_data.json_parameters if request_data else {}).encode()
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            headers.append(("Content-Length", str(len(body))))
        request = h11.Request(method=method, target=target, headers=headers)

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
                status, content, keep = await self._send(connection, request, body, read, write)
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
        self,
        connection: _Connection,
        request: h11.Request,
        body: bytes,
        read: float | None,
        write: float | None,
    ) -> tuple[int, bytes, bool]:
        protocol = connection.protocol
        message = protocol.send(request) or b""
        if body:
            message += protocol.send(h11.Data(data=body)) or b""
        message += protocol.send(h11.EndOfMessage()) or b""
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
                return await _read_response(connection.reader, protocol)
        except TimeoutError:
            raise httpx.ReadTimeout("reading the answer timed out") from None
        except h11.RemoteProtocolError as exc:
            # A connection closed before or during the answer, or bytes that are not HTTP.
            raise httpx.RemoteProtocolError(str(exc)) from exc
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


async def _read_response(
    reader: asyncio.StreamReader, protocol: h11.Connection
) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection may carry another request."""
    status = 0
    body: list[bytes] = []
    while True:
        event = protocol.next_event()
        if event is h11.NEED_DATA:
            # b"" (the server closed) makes h11 raise if the answer is not complete.
            protocol.receive_data(await reader.read(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body.append(event.data)
        elif isinstance(event, h11.EndOfMessage):
            break
        elif isinstance(event, h11.ConnectionClosed):
            raise h11.RemoteProtocolError("Server disconnected without sending a response.")
        # h11.InformationalResponse (1xx): the answer proper follows.
    keep = protocol.our_state is h11.DONE and protocol.their_state is h11.DONE
    if keep:
        protocol.start_next_cycle()
    return status, b"".join(body), keep
