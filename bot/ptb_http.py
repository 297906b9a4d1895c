"""PTB's Bot API requests over our lean HTTP client (`bot/lean_http.py`) instead of httpx.

httpx (with httpcore and anyio under it) costs about 2 ms of CPU per Bot API call, against
0.2 ms for the same request written on an asyncio stream: on the PTB runner that was most of
an answer's CPU (docs/benchmarks.md, "Since: PTB's requests without httpx"). This is PTB's own
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

import contextlib
import json
import os
from typing import Any
from urllib.parse import urlencode

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot import lean_http

# The environment variables httpx reads a proxy from (`trust_env`).
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
POOL_TIMEOUT_TEXT = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)
# Each of our client's failures as the httpx error httpx raises for the same event.
AS_HTTPX: dict[type[lean_http.HttpFailure], type[httpx.HTTPError]] = {
    lean_http.PoolTimedOut: httpx.PoolTimeout,
    lean_http.ConnectTimedOut: httpx.ConnectTimeout,
    lean_http.ConnectFailed: httpx.ConnectError,
    lean_http.WriteTimedOut: httpx.WriteTimeout,
    lean_http.WriteFailed: httpx.WriteError,
    lean_http.ReadTimedOut: httpx.ReadTimeout,
    lean_http.ReadFailed: httpx.ReadError,
    lean_http.ProtocolBroken: httpx.RemoteProtocolError,
}


def proxy_in_environment() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in PROXY_VARIABLES)


def _timeout(value: object, default: float | None) -> float | None:
    """PTB passes `DEFAULT_NONE` for "the request's own default"."""
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value  # type: ignore[return-value]


class LeanRequest(HTTPXRequest):
    """An `HTTPXRequest` whose plain requests go over asyncio streams, keep-alive pooled."""

    def __init__(self, connection_pool_size: int) -> None:
        # PTB's default timeouts (5 s to connect, write and read, 1 s for a free connection).
        super().__init__(connection_pool_size=connection_pool_size)
        self._lean = not proxy_in_environment()
        # Certificates as httpx's own default: certifi's, or SSL_CERT_FILE / SSL_CERT_DIR.
        self.client = lean_http.LeanClient(
            connection_pool_size, self.USER_AGENT, httpx.create_ssl_context
        )

    async def shutdown(self) -> None:
        self.client.close()
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
        timeouts = lean_http.Timeouts(
            connect=_timeout(connect_timeout, defaults.connect),
            write=_timeout(write_timeout, defaults.write),
            read=_timeout(read_timeout, defaults.read),
            pool=_timeout(pool_timeout, defaults.pool),
        )
        # The same body httpx sends for PTB: the parameters form-encoded, each one JSON.
        body = None
        if request_data is not None or method == "POST":
            body = urlencode(request_data.json_parameters if request_data else {}).encode()
        try:
            try:
                return await self.client.request(
                    method, url, body, "application/x-www-form-urlencoded", timeouts
                )
            except lean_http.HttpFailure as failure:
                raise AS_HTTPX[type(failure)](str(failure)) from failure
        # Wrapped exactly as HTTPXRequest.do_request wraps httpx's errors.
        except httpx.TimeoutException as err:
            if isinstance(err, httpx.PoolTimeout):
                raise TimedOut(message=POOL_TIMEOUT_TEXT) from err
            raise TimedOut from err
        except httpx.HTTPError as err:
            raise NetworkError(f"httpx.{err.__class__.__name__}: {err}") from err


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
