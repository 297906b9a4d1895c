"""Delivers queued updates to a webhook the way Telegram does: one at a time, in order, retrying.

Telegram keeps an update until the bot's endpoint answers 2xx, so a failing endpoint delays
every later update; tests of webhook mode need that behaviour, not fire-and-forget posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from emulator.params import UploadedFile, read_multipart
from emulator.state import EmulatorState, WebhookConfig

__all__ = ["MethodRunner", "WebhookSender"]

log = logging.getLogger(__name__)

#: Runs a Bot API method the endpoint answered with: (token, method, values, files).
MethodRunner = Callable[[str, str, dict[str, Any], dict[str, UploadedFile]], Awaitable[None]]

_MIN_BACKOFF = 0.1
_MAX_BACKOFF = 2.0


class WebhookSender:
    def __init__(self, state: EmulatorState, run_method: MethodRunner) -> None:
        self._state = state
        self._run_method = run_method
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def restart(self) -> None:
        self.stop()
        self._task = asyncio.get_running_loop().create_task(self._deliver_forever())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_forever(self) -> None:
        state = self._state
        hook = state.webhook
        backoff = _MIN_BACKOFF
        while hook is not None and state.webhook is hook and not state.closing:
            await state.wait_for(lambda: bool(state.updates) or state.webhook is not hook, 30.0)
            if state.webhook is not hook or not state.updates:
                continue
            update = state.updates[0]
            status, error, reply = await self._post(hook, update)
            state.webhook_statuses.append(status)
            if 200 <= status < 300:
                if state.updates and state.updates[0] is update:
                    state.updates.popleft()
                state.webhook_deliveries += 1
                backoff = _MIN_BACKOFF
                state.notify()
                if reply is not None:
                    await self._answer(hook, reply)
                continue
            state.webhook_failures += 1
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            state.notify()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _post(
        self, hook: WebhookConfig, update: dict[str, Any]
    ) -> tuple[int, str, tuple[dict[str, Any], dict[str, UploadedFile]] | None]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with self._session.post(
                hook.url, data=json.dumps(update), headers=headers
            ) as response:
                if not 200 <= response.status < 300:
                    return (
                        response.status,
                        f"Wrong response from the webhook: {response.status} {response.reason}",
                        None,
                    )
                return response.status, "", await self._read_reply(response)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return 0, f"Connection failed: {type(exc).__name__}: {exc}", None

    async def _read_reply(
        self, response: aiohttp.ClientResponse
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]] | None:
        """A webhook may answer with a method call to run; aiogram does so in multipart form."""
        try:
            if response.content_type == "application/json":
                body = await response.json()
                if isinstance(body, dict) and isinstance(body.get("method"), str):
                    return body, {}
                return None
            if response.content_type == "multipart/form-data":
                reader = aiohttp.MultipartReader(response.headers, response.content)
                values, files = await read_multipart(reader)
                if isinstance(values.get("method"), str):
                    return values, files
        except Exception:  # a bad reply must not stop delivery
            log.warning("could not read the webhook's reply", exc_info=True)
        return None

    async def _answer(
        self, hook: WebhookConfig, reply: tuple[dict[str, Any], dict[str, UploadedFile]]
    ) -> None:
        values, files = reply
        values = dict(values)
        method = str(values.pop("method"))
        try:
            await self._run_method(hook.token, method, values, files)
        except Exception:
            log.warning("method %s from the webhook reply failed", method, exc_info=True)
