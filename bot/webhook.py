"""The webhook's web server, for both runners: a connection must send a request's head within
`HEADER_TIMEOUT` (and an idle kept-alive one is closed after as long), and its body within
`BODY_TIMEOUT`, so half-open connections cannot pile up. Telegram's requests are small and
quick; behind a reverse proxy (docs/security.md) the proxy's own time-outs come first."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
# An update is a few kilobytes; a request larger than this is refused (413).
MAX_BODY = 1024 * 1024

_BODY_TIMEOUT = web.AppKey("body_timeout", float)


def new_secret() -> str:
    """A WEBHOOK_SECRET: 43 characters of Telegram's allowed set (A-Z a-z 0-9 _ -)."""
    return secrets.token_urlsafe(32)


def guarded_app(body_timeout: float = BODY_TIMEOUT) -> web.Application:
    """An application whose requests' bodies are read within `body_timeout`, or get 408."""
    app = web.Application(middlewares=[_body_in_time], client_max_size=MAX_BODY)
    app[_BODY_TIMEOUT] = body_timeout
    return app


@web.middleware
async def _body_in_time(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        # Read once here; the handler's request.json() then reads what is kept.
        await asyncio.wait_for(request.read(), request.app[_BODY_TIMEOUT])
    except TimeoutError:
        response = web.Response(status=408, text="Request Timeout")
        response.force_close()
        return response
    return await handler(request)


async def serve(
    app: web.Application, host: str, port: int, header_timeout: float = HEADER_TIMEOUT
) -> web.AppRunner:
    """The app listening on host:port; `cleanup()` the runner to stop."""
    # aiohttp closes a connection that has sent no complete request head within its
    # keep-alive time-out, counted from when it opened or last had an answer.
    # After a 408 it closes once it has read what else the client sends for `lingering_time`.
    runner = web.AppRunner(
        app, keepalive_timeout=header_timeout, lingering_time=1.0, access_log=None
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
