"""The HTTP face of the emulator: Bot API routes, file downloads, and the control API.

A bot under test is pointed here instead of api.telegram.org and cannot tell the difference;
tests drive users through ``/control`` and read back what the bot did.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from aiohttp import MultipartReader, web

from emulator.control import add_control_routes
from emulator.limits import LimitConfig
from emulator.methods import METHODS, CallContext, chat_id_of
from emulator.params import MAX_BODY, ApiError, Params, UploadedFile, read_multipart
from emulator.state import EmulatorState
from emulator.webchat import WebChatConfig, add_webchat_routes
from emulator.webhook import WebhookSender

__all__ = ["SENDER_KEY", "STATE_KEY", "create_app", "serve"]

log = logging.getLogger(__name__)

STATE_KEY = web.AppKey("emulator_state", EmulatorState)
SENDER_KEY = web.AppKey("emulator_webhook_sender", WebhookSender)

TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]{20,}$")

_NOT_FOUND = ApiError(404, "Not Found")
_UNAUTHORIZED = ApiError(401, "Unauthorized")


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


def _error(error: ApiError) -> web.Response:
    return _json(error.payload(), status=error.code)


async def _read_params(request: web.Request) -> Params:
    """Query string first, then the body in whichever encoding the client chose."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "Request Entity Too Large")
    if not request.body_exists:
        return Params(values, files)
    content_type = request.content_type
    try:
        if content_type == "multipart/form-data":
            body_values, files = await read_multipart(
                MultipartReader(request.headers, request.content)
            )
            values.update(body_values)
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            values.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: request body must be a JSON object")
                values.update(body)
    except ApiError:
        raise
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    except Exception as exc:
        raise ApiError(400, f"Bad Request: can't parse request body: {exc}") from None
    return Params(values, files)


class BotApi:
    """Runs Bot API calls: auth, faults, dispatch, and bookkeeping shared by HTTP and webhooks."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.sender = WebhookSender(state, self.run_webhook_reply)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method_name = request.match_info.get("method", "")
        match = TOKEN_RE.match(token)
        if match is None:
            self.state.record_request(
                method=method_name, params={}, status=401, chat_id=None, description="Unauthorized"
            )
            return _error(_UNAUTHORIZED)
        spec = METHODS.get(method_name.lower())
        method = spec.name if spec else method_name
        try:
            params = await _read_params(request)
        except ApiError as exc:
            self.state.record_request(
                method=method, params={}, status=exc.code, chat_id=None, description=str(exc)
            )
            return _error(exc)
        chat_id = chat_id_of(params)
        if spec is None:
            self.state.record_request(
                method=method,
                params=params.loggable(),
                status=404,
                chat_id=chat_id,
                description="Not Found",
            )
            return _error(_NOT_FOUND)
        fault = await self._inject_fault(method_name.lower())
        if fault == "drop":
            self.state.record_request(
                method=method, params=params.loggable(), status=0, chat_id=chat_id, fault="drop"
            )
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if fault is not None:
            code = 500 if fault == "error500" else 502
            error = ApiError(code, "Internal Server Error" if code == 500 else "Bad Gateway")
            self.state.record_request(
                method=method,
                params=params.loggable(),
                status=code,
                chat_id=chat_id,
                description=error.description,
                fault=fault,
            )
            return _error(error)
        status, payload = await self.call(token, method_name, params)
        faults = self.state.faults
        if (
            faults.lose_rate > 0
            and faults.applies_to(method_name.lower())
            and faults.rng.random() < faults.lose_rate
        ):
            # Done, and the answer lost on its way back.
            self.state.faults_injected["lose"] += 1
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        return _json(payload, status=status)

    async def call(self, token: str, method_name: str, params: Params) -> tuple[int, Any]:
        """Runs one method and records it; returns the HTTP status and the JSON body."""
        match = TOKEN_RE.match(token)
        spec = METHODS.get(method_name.lower())
        chat_id = chat_id_of(params)
        if match is None or spec is None:
            error = _UNAUTHORIZED if match is None else _NOT_FOUND
            self.state.record_request(
                method=method_name,
                params=params.loggable(),
                status=error.code,
                chat_id=chat_id,
                description=error.description,
            )
            return error.code, error.payload()
        bot_id = int(match.group(1))
        self.state.bot_id = bot_id
        ctx = CallContext(state=self.state, bot_id=bot_id, token=token, webhooks=self.sender)
        description: str | None
        try:
            result = await spec.handler(ctx, params)
        except ApiError as exc:
            status, payload, description = exc.code, exc.payload(), exc.description
        except Exception as exc:
            log.exception("emulator method %s failed", spec.name)
            status = 500
            description = f"Internal Server Error: {type(exc).__name__}: {exc}"
            payload = {"ok": False, "error_code": 500, "description": description}
        else:
            status, payload, description = 200, {"ok": True, "result": result}, None
        self.state.record_request(
            method=spec.name,
            params=params.loggable(),
            status=status,
            chat_id=chat_id,
            description=description,
        )
        return status, payload

    async def run_webhook_reply(
        self, token: str, method: str, values: dict[str, Any], files: dict[str, UploadedFile]
    ) -> None:
        await self.call(token, method, Params(values, files))

    async def _inject_fault(self, method: str) -> str | None:
        faults = self.state.faults
        if not faults.active or not faults.applies_to(method):
            return None
        if faults.latency_ms > 0:
            self.state.faults_injected["latency"] += 1
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.drop_rate > 0 and faults.rng.random() < faults.drop_rate:
            self.state.faults_injected["drop"] += 1
            return "drop"
        if faults.error_rate > 0 and faults.rng.random() < faults.error_rate:
            kind = "error500" if faults.rng.random() < 0.5 else "error502"
            self.state.faults_injected[kind] += 1
            return kind
        return None

    async def download(self, request: web.Request) -> web.StreamResponse:
        if TOKEN_RE.match(request.match_info["token"]) is None:
            return _error(_UNAUTHORIZED)
        stored = self.state.files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error(_NOT_FOUND)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )


async def _not_found(request: web.Request) -> web.StreamResponse:
    return _error(_NOT_FOUND)


def create_app(
    *,
    limits: bool = True,
    global_rate: float = 30.0,
    global_burst: int = 30,
    chat_rate: float = 1.0,
    chat_burst: int = 3,
    state: EmulatorState | None = None,
    webchat: WebChatConfig | None = None,
) -> web.Application:
    """Builds the emulator; limits and their rates are the starting values, changeable later.
    `webchat` configures the web chat page at `/` (the demo's users and clock buttons)."""
    if state is None:
        state = EmulatorState(
            LimitConfig(
                enabled=limits,
                global_rate=global_rate,
                global_burst=global_burst,
                chat_rate=chat_rate,
                chat_burst=chat_burst,
            )
        )
    app = web.Application(client_max_size=MAX_BODY)
    api = BotApi(state)
    sender = api.sender
    app[STATE_KEY] = state
    app[SENDER_KEY] = sender

    async def close_sender(_: web.Application) -> None:
        await sender.close()

    async def release_waiters(_: web.Application) -> None:
        state.closing = True
        state.notify()

    app.on_shutdown.append(release_waiters)
    app.on_cleanup.append(close_sender)
    add_control_routes(app, state, sender)
    app.router.add_route("*", "/bot{token}/{method}", api.handle)
    app.router.add_route("*", "/bot{token}/test/{method}", api.handle)
    app.router.add_get("/file/bot{token}/{path:.+}", api.download)
    add_webchat_routes(app, state, webchat)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


async def serve(
    host: str, port: int, *, limits: bool = True, webchat: WebChatConfig | None = None
) -> None:
    """Runs the emulator until the task is cancelled, then shuts down cleanly."""
    # The request log at /control/log replaces the access log, which would print bot tokens.
    # handler_cancellation: a client that goes away (a stopped bot) ends its long poll.
    runner = web.AppRunner(
        create_app(limits=limits, webchat=webchat),
        handle_signals=False,
        access_log=None,
        handler_cancellation=True,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Telegram Bot API emulator listening on http://%s:%s", host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
