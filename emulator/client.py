"""An async client of the emulator's control API, for end-to-end tests and the demo.

Failures raise EmulatorError carrying the server's own explanation (for a press that matched no
button it lists the buttons), so a failing test says what went wrong without extra digging.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self, TypedDict, cast

import aiohttp

__all__ = [
    "CallbackAnswer",
    "ChatMessage",
    "EmulatorClient",
    "EmulatorError",
    "EmulatorTimeout",
    "LogEntry",
    "PressResult",
    "SentMessage",
]

OtherKind = Literal["sticker", "photo", "voice", "location", "document"]


class SentMessage(TypedDict):
    ok: bool
    update_id: int
    message_id: int


class PressResult(TypedDict):
    ok: bool
    update_id: int
    callback_query_id: str
    data: str


class ChatMessage(TypedDict):
    message_id: int
    chat_id: int
    from_bot: bool
    kind: str
    text: str | None
    raw_text: str | None
    entities: list[dict[str, Any]]
    caption: str | None
    raw_caption: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    document: dict[str, Any] | None
    photo: bool
    photo_sizes: list[dict[str, Any]] | None
    contact: dict[str, Any] | None
    sticker: dict[str, Any] | None
    voice: dict[str, Any] | None
    location: dict[str, Any] | None
    link_preview_options: dict[str, Any] | None
    reply_to_message_id: int | None
    edited: bool
    edit_count: int
    edit_date: int | None
    deleted: bool
    date: int


class CallbackAnswer(TypedDict):
    seq: int
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    time: float


class LogEntry(TypedDict):
    seq: int
    time: float
    method: str
    params: dict[str, Any]
    status: int
    ok: bool
    chat_id: int | None
    description: str | None
    fault: str | None


class EmulatorError(Exception):
    def __init__(self, status: int, message: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(f"emulator answered {status}: {message}")
        self.status = status
        self.message = message
        self.payload = payload or {}


class EmulatorTimeout(EmulatorError):
    """``wait`` ran out of time; ``messages`` holds what the bot had sent by then."""

    def __init__(self, message: str, payload: dict[str, Any]) -> None:
        super().__init__(408, message, payload)
        self.messages = cast(list[ChatMessage], payload.get("messages", []))


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class EmulatorClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        self._ensure_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        session = self._ensure_session()
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with session.request(
            method,
            f"{self.base_url}/control{path}",
            json=json,
            params=query,
            timeout=aiohttp.ClientTimeout(total=timeout or self._timeout),
        ) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                text = await response.text()
                raise EmulatorError(response.status, text[:500]) from None
        if not isinstance(body, dict):
            raise EmulatorError(response.status, f"unexpected answer: {body!r}"[:500])
        if response.status == 408:
            raise EmulatorTimeout(str(body.get("error", "timed out")), body)
        if not 200 <= response.status < 300:
            message = body.get("error") or body.get("description") or str(body)
            raise EmulatorError(response.status, str(message), body)
        return body

    # --- acting as users -----------------------------------------------------------------------

    async def send(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> SentMessage:
        body = _drop_none(
            {
                "text": text,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "reply_to_message_id": reply_to_message_id,
            }
        )
        return cast(SentMessage, await self._request("POST", f"/users/{user_id}/send", json=body))

    async def press(
        self,
        user_id: int,
        message_id: int,
        data: str | None = None,
        text: str | None = None,
        forge: bool = False,
    ) -> PressResult:
        body = _drop_none({"message_id": message_id, "data": data, "text": text, "forge": forge})
        return cast(PressResult, await self._request("POST", f"/users/{user_id}/press", json=body))

    async def contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        own: bool = True,
        contact_user_id: int | None = None,
    ) -> SentMessage:
        body = _drop_none(
            {
                "phone_number": phone_number,
                "first_name": first_name,
                "last_name": last_name,
                "own": own,
                "user_id": contact_user_id,
            }
        )
        return cast(
            SentMessage, await self._request("POST", f"/users/{user_id}/contact", json=body)
        )

    async def other(
        self,
        user_id: int,
        kind: OtherKind,
        *,
        caption: str | None = None,
        file_name: str | None = None,
        content: str | None = None,
        data: bytes | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> SentMessage:
        """A non-text message; a document carries `content` (text) or `data` (any bytes)."""
        body = _drop_none(
            {
                "kind": kind,
                "caption": caption,
                "file_name": file_name,
                "content": content,
                "content_base64": base64.b64encode(data).decode() if data is not None else None,
                "latitude": latitude,
                "longitude": longitude,
            }
        )
        return cast(SentMessage, await self._request("POST", f"/users/{user_id}/other", json=body))

    async def edit(self, user_id: int, message_id: int, text: str) -> SentMessage:
        body = {"message_id": message_id, "text": text}
        return cast(SentMessage, await self._request("POST", f"/users/{user_id}/edit", json=body))

    async def block(self, user_id: int) -> dict[str, Any]:
        return await self._request("POST", f"/users/{user_id}/block")

    async def unblock(self, user_id: int) -> dict[str, Any]:
        return await self._request("POST", f"/users/{user_id}/unblock")

    # --- what the bot did ----------------------------------------------------------------------

    async def messages(self, chat_id: int, after: int = 0) -> list[ChatMessage]:
        body = await self._request("GET", f"/chats/{chat_id}/messages", params={"after": after})
        return cast(list[ChatMessage], body["messages"])

    async def wait(
        self,
        chat_id: int,
        after: int = 0,
        count: int = 1,
        timeout: float = 10.0,
        edits: bool = False,
    ) -> list[ChatMessage]:
        """The bot's messages after ``after`` once ``count`` exist; raises EmulatorTimeout."""
        body = await self._request(
            "GET",
            f"/chats/{chat_id}/wait",
            params={"after": after, "count": count, "timeout": timeout, "edits": int(edits)},
            timeout=timeout + 10.0,
        )
        return cast(list[ChatMessage], body["messages"])

    async def callbacks(self, after: int = 0) -> list[CallbackAnswer]:
        body = await self._request("GET", "/callbacks", params={"after": after})
        return cast(list[CallbackAnswer], body["callbacks"])

    async def download(self, file_id: str) -> bytes:
        session = self._ensure_session()
        async with session.get(
            f"{self.base_url}/control/files/{file_id}",
            timeout=aiohttp.ClientTimeout(total=self._timeout),
        ) as response:
            data = await response.read()
            if response.status != 200:
                raise EmulatorError(response.status, data.decode(errors="replace")[:500])
            return data

    async def log(self, after: int = 0, method: str | None = None) -> list[LogEntry]:
        body = await self._request("GET", "/log", params={"after": after, "method": method})
        return cast(list[LogEntry], body["entries"])

    async def stats(self) -> dict[str, Any]:
        return await self._request("GET", "/stats")

    async def users(self) -> list[dict[str, Any]]:
        body = await self._request("GET", "/users")
        return cast(list[dict[str, Any]], body["users"])

    async def updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (or not yet delivered to its webhook)."""
        body = await self._request("GET", "/updates")
        return cast(list[dict[str, Any]], body["updates"])

    async def commands(self) -> dict[str, Any]:
        """``commands``: the default-scope list; ``sets``: every scope and language set."""
        return await self._request("GET", "/commands")

    # --- settings ------------------------------------------------------------------------------

    async def limits(self) -> dict[str, Any]:
        body = await self._request("GET", "/limits")
        return cast(dict[str, Any], body["limits"])

    async def set_limits(
        self,
        enabled: bool | None = None,
        *,
        global_rate: float | None = None,
        global_burst: int | None = None,
        chat_rate: float | None = None,
        chat_burst: int | None = None,
        strict: bool | None = None,
    ) -> dict[str, Any]:
        """`strict`: no bursts (see LimitConfig.strict)."""
        body = _drop_none(
            {
                "enabled": enabled,
                "strict": strict,
                "global_rate": global_rate,
                "global_burst": global_burst,
                "chat_rate": chat_rate,
                "chat_burst": chat_burst,
            }
        )
        result = await self._request("PUT", "/limits", json=body)
        return cast(dict[str, Any], result["limits"])

    async def faults(self) -> dict[str, Any]:
        body = await self._request("GET", "/faults")
        return cast(dict[str, Any], body["faults"])

    async def set_faults(
        self,
        *,
        error_rate: float = 0.0,
        latency_ms: float = 0.0,
        drop_rate: float = 0.0,
        lose_rate: float = 0.0,
        methods: list[str] | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Replaces the fault settings; ``set_faults()`` with no arguments clears them."""
        body = _drop_none(
            {
                "error_rate": error_rate,
                "latency_ms": latency_ms,
                "drop_rate": drop_rate,
                "lose_rate": lose_rate,
                "methods": methods,
                "seed": seed,
            }
        )
        result = await self._request("PUT", "/faults", json=body)
        return cast(dict[str, Any], result["faults"])

    async def reset(self) -> None:
        await self._request("POST", "/reset")

    # --- the clock (demo and tests; a bot with CLOCK=emulator follows it) -----------------------

    async def now(self) -> datetime:
        body = await self._request("GET", "/clock")
        return datetime.fromisoformat(body["now"])

    async def advance(self, by: timedelta) -> datetime:
        body = await self._request("POST", "/clock", json={"advance_seconds": by.total_seconds()})
        return datetime.fromisoformat(body["now"])

    async def move_to(self, when: datetime) -> datetime:
        body = await self._request("POST", "/clock", json={"to": when.isoformat()})
        return datetime.fromisoformat(body["now"])

    async def health(self) -> bool:
        body = await self._request("GET", "/health")
        return bool(body.get("ok"))
