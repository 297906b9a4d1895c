"""The control API: tests and the demo act as Telegram users and inspect what the bot did.

Errors here are plain ``{"ok": false, "error": "..."}`` with a message meant for a person
reading a failed test, unlike the Bot API side, which answers exactly as Telegram would.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from emulator.entities import bot_command_entities, utf16_len
from emulator.limits import FaultConfig, LimitConfig
from emulator.media import tiny_png
from emulator.methods import new_callback_query_id, photo_sizes
from emulator.state import (
    CallbackQueryRecord,
    EmulatorState,
    StoredMessage,
    UserProfile,
    bot_user,
)
from emulator.webhook import WebhookSender

__all__ = ["ControlError", "add_control_routes"]

log = logging.getLogger(__name__)

OTHER_KINDS = ("sticker", "photo", "voice", "location", "document")
MAX_USER_ID = 2**53 - 1


class ControlError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _json(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ControlError(400, f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ControlError(400, "request body must be a JSON object")
    return body


def _opt_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ControlError(400, f'"{name}" must be a string')
    return value


def _req_str(body: dict[str, Any], name: str) -> str:
    value = _opt_str(body, name)
    if value is None:
        raise ControlError(400, f'"{name}" is required')
    return value


def _opt_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(400, f'"{name}" must be an integer')
    return value


def _opt_number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, f'"{name}" must be a number')
    return float(value)


def _opt_bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ControlError(400, f'"{name}" must be true or false')
    return value


def _query_int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ControlError(400, f"query parameter {name} must be an integer") from None


def _query_float(request: web.Request, name: str, default: float) -> float:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ControlError(400, f"query parameter {name} must be a number") from None


def _path_id(request: web.Request, name: str) -> int:
    try:
        value = int(request.match_info[name])
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None
    return value


def _user_id(request: web.Request) -> int:
    user_id = _path_id(request, "user_id")
    if not 0 < user_id <= MAX_USER_ID:
        raise ControlError(400, "user_id must be a positive integer (a private chat id)")
    return user_id


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(handler: Handler) -> Handler:
    """Turns any failure into a JSON error so a test sees a reason, never a dropped socket."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:
            return _json({"ok": False, "error": exc.message, **exc.extra}, status=exc.status)
        except Exception as exc:
            log.exception("control API %s %s failed", request.method, request.path)
            return _json({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, status=500)

    return wrapper


class Control:
    def __init__(self, state: EmulatorState, sender: WebhookSender) -> None:
        self.state = state
        self.sender = sender

    # --- acting as a user ---------------------------------------------------------------------

    def _user(self, user_id: int, body: dict[str, Any]) -> UserProfile:
        user = self.state.touch_user(
            user_id,
            first_name=_opt_str(body, "first_name"),
            last_name=_opt_str(body, "last_name"),
            username=_opt_str(body, "username"),
            language_code=_opt_str(body, "language_code"),
        )
        if user.blocked:
            raise ControlError(
                409,
                f"user {user_id} has blocked the bot; POST /control/users/{user_id}/unblock first",
            )
        return user

    def _user_message(self, user: UserProfile, body: dict[str, Any]) -> StoredMessage:
        reply_to = _opt_int(body, "reply_to_message_id")
        if reply_to is not None:
            target = self.state.messages.get(user.id, {}).get(reply_to)
            if target is None or target.deleted:
                raise ControlError(404, f"no message {reply_to} in chat {user.id} to reply to")
        message = self.state.new_message(user.id, from_bot=False, sender_id=user.id)
        message.reply_to_message_id = reply_to
        return message

    def _publish(self, message: StoredMessage) -> dict[str, Any]:
        self.state.touch_message(message)
        update_id = self.state.push_update("message", self.state.message_api(message))
        return {"ok": True, "update_id": update_id, "message_id": message.message_id}

    async def send(self, request: web.Request) -> web.StreamResponse:
        user_id = _user_id(request)
        body = await _body(request)
        text = _req_str(body, "text")
        if not text.strip():
            raise ControlError(400, "text must not be empty: Telegram clients do not send that")
        if utf16_len(text) > 4096:
            raise ControlError(400, "text is longer than 4096 characters")
        user = self._user(user_id, body)
        message = self._user_message(user, body)
        message.text = text
        message.raw_text = text
        message.entities = bot_command_entities(text)
        return _json(self._publish(message))

    async def press(self, request: web.Request) -> web.StreamResponse:
        user_id = _user_id(request)
        body = await _body(request)
        message_id = _opt_int(body, "message_id")
        if message_id is None:
            raise ControlError(400, '"message_id" is required')
        data = _opt_str(body, "data")
        text = _opt_str(body, "text")
        forge = _opt_bool(body, "forge", False)
        user = self._user(user_id, body)
        message = self.state.messages.get(user_id, {}).get(message_id)
        if message is None:
            raise ControlError(404, f"no message {message_id} in chat {user_id}")
        if not message.from_bot:
            raise ControlError(400, f"message {message_id} was sent by the user, not the bot")
        if message.deleted:
            raise ControlError(400, f"message {message_id} was deleted by the bot")
        buttons = [button for row in message.inline_keyboard for button in row]
        available = [
            {k: v for k, v in button.items() if k in ("text", "callback_data", "url")}
            for button in buttons
        ]
        chosen_data: str | None = None
        if text is not None:
            matches = [b for b in buttons if b.get("text") == text]
            if data is not None:
                matches = [b for b in matches if b.get("callback_data") == data]
            if not matches:
                raise ControlError(
                    400,
                    f"no button with text {text!r} on message {message_id}; "
                    f"buttons: {json.dumps(available, ensure_ascii=False)}",
                    buttons=available,
                )
            if not isinstance(matches[0].get("callback_data"), str):
                raise ControlError(
                    400,
                    f"button {text!r} has no callback_data, pressing it sends no update",
                    buttons=available,
                )
            chosen_data = matches[0]["callback_data"]
        elif data is not None:
            if any(b.get("callback_data") == data for b in buttons) or forge:
                chosen_data = data
            else:
                raise ControlError(
                    400,
                    f"no button with callback_data {data!r} on message {message_id}; "
                    f"buttons: {json.dumps(available, ensure_ascii=False)}; "
                    'pass "forge": true to send it anyway',
                    buttons=available,
                )
        else:
            raise ControlError(
                400,
                '"data" or "text" is required to choose a button; '
                f"buttons: {json.dumps(available, ensure_ascii=False)}",
                buttons=available,
            )
        assert chosen_data is not None
        query_id = new_callback_query_id()
        self.state.callback_queries[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=user_id,
            chat_id=user_id,
            message_id=message_id,
            data=chosen_data,
        )
        update_id = self.state.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.as_user(),
                "message": self.state.message_api(message),
                "chat_instance": str((user_id * 2654435761) % (2**62)),
                "data": chosen_data,
            },
        )
        return _json(
            {"ok": True, "update_id": update_id, "callback_query_id": query_id, "data": chosen_data}
        )

    async def contact(self, request: web.Request) -> web.StreamResponse:
        user_id = _user_id(request)
        body = await _body(request)
        phone = _req_str(body, "phone_number")
        if not phone.strip():
            raise ControlError(400, '"phone_number" must not be empty')
        own = _opt_bool(body, "own", True)
        user = self._user(user_id, {k: v for k, v in body.items() if k != "first_name"})
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": _opt_str(body, "first_name") or (user.first_name if own else "Contact"),
        }
        last_name = _opt_str(body, "last_name") or (user.last_name if own else None)
        if last_name:
            contact["last_name"] = last_name
        other_id = _opt_int(body, "user_id")
        if own:
            contact["user_id"] = user_id
        elif other_id is not None:
            contact["user_id"] = other_id
        message = self._user_message(user, body)
        message.contact = contact
        return _json(self._publish(message))

    async def other(self, request: web.Request) -> web.StreamResponse:
        user_id = _user_id(request)
        body = await _body(request)
        kind = _req_str(body, "kind")
        if kind not in OTHER_KINDS:
            raise ControlError(400, f'"kind" must be one of {", ".join(OTHER_KINDS)}')
        user = self._user(user_id, body)
        message = self._user_message(user, body)
        state = self.state
        caption = _opt_str(body, "caption")
        if kind == "photo":
            message.photo = photo_sizes(state, tiny_png(160, 120), 160, 120)
        elif kind == "document":
            file_name = _opt_str(body, "file_name") or "document.txt"
            content = _opt_str(body, "content") or "A document sent by a test user.\n"
            encoded = _opt_str(body, "content_base64")
            try:
                data = base64.b64decode(encoded, validate=True) if encoded else content.encode()
            except (binascii.Error, ValueError):
                raise ControlError(400, '"content_base64" is not base64') from None
            mime = "text/plain" if encoded is None else "application/octet-stream"
            extension = "." + file_name.rsplit(".", 1)[-1] if "." in file_name else ".txt"
            stored = state.store_file(
                data,
                kind="document",
                file_name=file_name,
                mime_type=mime,
                extension=extension[:8],
            )
            message.document = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mime,
                "file_size": len(stored.data),
            }
        elif kind == "voice":
            stored = state.store_file(
                b"OggS" + bytes(60), kind="voice", mime_type="audio/ogg", extension=".oga"
            )
            message.voice = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": 2,
                "mime_type": "audio/ogg",
                "file_size": len(stored.data),
            }
        elif kind == "sticker":
            stored = state.store_file(
                b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(32),
                kind="sticker",
                mime_type="image/webp",
                extension=".webp",
                width=512,
                height=512,
            )
            message.sticker = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "file_size": len(stored.data),
            }
        else:
            latitude = _opt_number(body, "latitude")
            longitude = _opt_number(body, "longitude")
            message.location = {
                "latitude": 39.9042 if latitude is None else latitude,
                "longitude": 116.4074 if longitude is None else longitude,
            }
        if caption and kind in ("photo", "document"):
            message.caption = caption
            message.raw_caption = caption
        return _json(self._publish(message))

    async def edit(self, request: web.Request) -> web.StreamResponse:
        user_id = _user_id(request)
        body = await _body(request)
        message_id = _opt_int(body, "message_id")
        if message_id is None:
            raise ControlError(400, '"message_id" is required')
        text = _req_str(body, "text")
        if not text.strip():
            raise ControlError(400, "text must not be empty")
        self._user(user_id, body)
        message = self.state.messages.get(user_id, {}).get(message_id)
        if message is None or message.deleted:
            raise ControlError(404, f"no message {message_id} in chat {user_id}")
        if message.from_bot:
            raise ControlError(400, f"message {message_id} is the bot's; users edit their own")
        if message.text is None:
            raise ControlError(400, f"message {message_id} has no text to edit")
        message.text = text
        message.raw_text = text
        message.entities = bot_command_entities(text)
        message.edit_date = self.state.date()
        message.edit_count += 1
        self.state.touch_message(message)
        update_id = self.state.push_update("edited_message", self.state.message_api(message))
        return _json({"ok": True, "update_id": update_id, "message_id": message_id})

    async def block(self, request: web.Request) -> web.StreamResponse:
        return _json(self._set_blocked(_user_id(request), True))

    async def unblock(self, request: web.Request) -> web.StreamResponse:
        return _json(self._set_blocked(_user_id(request), False))

    def _set_blocked(self, user_id: int, blocked: bool) -> dict[str, Any]:
        """Telegram tells the bot through a my_chat_member update; so does the emulator."""
        user = self.state.touch_user(user_id)
        if user.blocked == blocked:
            return {"ok": True, "blocked": blocked, "update_id": None}
        user.blocked = blocked
        update_id: int | None = None
        if self.state.bot_id is not None:
            me = bot_user(self.state.bot_id)
            member = {"status": "member", "user": me}
            kicked = {"status": "kicked", "user": me, "until_date": 0}
            update_id = self.state.push_update(
                "my_chat_member",
                {
                    "chat": user.as_chat(),
                    "from": user.as_user(),
                    "date": self.state.date(),
                    "old_chat_member": member if blocked else kicked,
                    "new_chat_member": kicked if blocked else member,
                },
            )
        self.state.notify()
        return {"ok": True, "blocked": blocked, "update_id": update_id}

    # --- reading what the bot did -------------------------------------------------------------

    async def users(self, request: web.Request) -> web.StreamResponse:
        users = [{**user.as_user(), "blocked": user.blocked} for user in self.state.users.values()]
        return _json({"ok": True, "users": users})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        chat_id = _path_id(request, "chat_id")
        after = _query_int(request, "after", 0)
        chat = self.state.messages.get(chat_id, {})
        items = [
            self.state.control_message(message)
            for message_id, message in sorted(chat.items())
            if message_id > after
        ]
        return _json({"ok": True, "messages": items})

    async def wait(self, request: web.Request) -> web.StreamResponse:
        chat_id = _path_id(request, "chat_id")
        after = _query_int(request, "after", 0)
        count = max(1, _query_int(request, "count", 1))
        timeout = min(max(0.0, _query_float(request, "timeout", 10.0)), 300.0)
        edits = request.query.get("edits", "0").lower() in ("1", "true", "yes")
        state = self.state
        started = state.change_seq

        def fresh() -> list[StoredMessage]:
            chat = state.messages.get(chat_id, {})
            return [m for i, m in sorted(chat.items()) if m.from_bot and i > after]

        def changed() -> list[StoredMessage]:
            chat = state.messages.get(chat_id, {})
            return [
                m
                for _, m in sorted(chat.items())
                if m.from_bot and m.change_seq > started and (m.edit_count > 0 or m.deleted)
            ]

        def ready() -> bool:
            return len(fresh()) >= count or (edits and bool(changed()))

        done = await state.wait_for(ready, timeout)
        new_messages = fresh()
        changed_messages = changed() if edits else []
        merged = {m.message_id: m for m in [*new_messages, *changed_messages]}
        payload: dict[str, Any] = {
            "ok": done,
            "messages": [state.control_message(m) for _, m in sorted(merged.items())],
            "new": [m.message_id for m in new_messages],
            "changed": [m.message_id for m in changed_messages],
        }
        if not done:
            what = f"{count} bot message(s) after message {after}"
            if edits:
                what += " or an edit"
            payload["error"] = (
                f"timed out after {timeout:g}s waiting for {what} in chat {chat_id}; "
                f"got {len(new_messages)}"
            )
        return _json(payload, status=200 if done else 408)

    async def callbacks(self, request: web.Request) -> web.StreamResponse:
        after = _query_int(request, "after", 0)
        answers = [a for a in self.state.callback_answers if a["seq"] > after]
        return _json({"ok": True, "callbacks": answers})

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            raise ControlError(404, f"no file with file_id {request.match_info['file_id']!r}")
        headers = {}
        if stored.file_name:
            safe = stored.file_name.replace('"', "")
            headers["Content-Disposition"] = f'attachment; filename="{safe}"'
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )

    async def log(self, request: web.Request) -> web.StreamResponse:
        after = _query_int(request, "after", 0)
        method = request.query.get("method")
        entries = [
            entry
            for entry in self.state.log
            if entry["seq"] > after
            and (method is None or entry["method"].lower() == method.lower())
        ]
        return _json({"ok": True, "entries": entries})

    async def stats(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        hook = state.webhook
        return _json(
            {
                "ok": True,
                "requests": dict(state.requests_by_method),
                "statuses": {str(code): n for code, n in sorted(state.statuses.items())},
                "rate_limited": state.rate_limited,
                "faults": dict(state.faults_injected),
                "messages_per_chat": {str(chat): n for chat, n in state.messages_sent.items()},
                "pending_updates": len(state.updates),
                "webhook": {
                    "url": hook.url if hook else None,
                    "deliveries": state.webhook_deliveries,
                    "failures": state.webhook_failures,
                    "statuses": list(state.webhook_statuses),
                    "last_error": hook.last_error_message if hook else None,
                },
            }
        )

    async def updates(self, request: web.Request) -> web.StreamResponse:
        return _json({"ok": True, "updates": list(self.state.updates)})

    async def commands(self, request: web.Request) -> web.StreamResponse:
        default_key = json.dumps(
            {"scope": {"type": "default"}, "language_code": ""}, sort_keys=True
        )
        default = self.state.commands.get(default_key)
        return _json(
            {
                "ok": True,
                "commands": default["commands"] if default else [],
                "sets": list(self.state.commands.values()),
            }
        )

    # --- settings ------------------------------------------------------------------------------

    async def get_limits(self, request: web.Request) -> web.StreamResponse:
        return _json({"ok": True, "limits": self.state.limiter.config.as_dict()})

    async def put_limits(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        known = {"enabled", "strict", "global_rate", "global_burst", "chat_rate", "chat_burst"}
        unknown = set(body) - known
        if unknown:
            raise ControlError(400, f"unknown limit fields: {sorted(unknown)}")
        current = self.state.limiter.config
        config = LimitConfig(
            enabled=_opt_bool(body, "enabled", current.enabled),
            global_rate=_positive(_opt_number(body, "global_rate"), current.global_rate),
            global_burst=int(_positive(_opt_int(body, "global_burst"), current.global_burst)),
            chat_rate=_positive(_opt_number(body, "chat_rate"), current.chat_rate),
            chat_burst=int(_positive(_opt_int(body, "chat_burst"), current.chat_burst)),
            strict=_opt_bool(body, "strict", current.strict),
        )
        self.state.limiter.configure(config)
        return _json({"ok": True, "limits": config.as_dict()})

    async def get_faults(self, request: web.Request) -> web.StreamResponse:
        return _json({"ok": True, "faults": self.state.faults.as_dict()})

    async def put_faults(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        try:
            faults = FaultConfig.from_dict(body)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        self.state.faults = faults
        return _json({"ok": True, "faults": faults.as_dict()})

    async def reset(self, request: web.Request) -> web.StreamResponse:
        self.sender.stop()
        self.state.clear()
        return _json({"ok": True})

    async def health(self, request: web.Request) -> web.StreamResponse:
        return _json({"ok": True})

    # --- the clock ------------------------------------------------------------------------------

    def _clock(self) -> dict[str, Any]:
        now = datetime.fromtimestamp(self.state.now(), UTC)
        return {"ok": True, "now": now.isoformat(), "offset_seconds": self.state.clock_offset}

    async def get_clock(self, request: web.Request) -> web.StreamResponse:
        return _json(self._clock())

    async def move_clock(self, request: web.Request) -> web.StreamResponse:
        """Moves the clock forward, by `advance_seconds` or `to` an ISO time; never back,
        because a bot's deadlines and dedupe keys assume time only grows."""
        body = await _body(request)
        unknown = set(body) - {"advance_seconds", "to"}
        if unknown or len(body) != 1:
            raise ControlError(400, "give exactly one of advance_seconds or to")
        if "advance_seconds" in body:
            by = _opt_number(body, "advance_seconds")
            if by is None or by < 0:
                raise ControlError(400, "advance_seconds must be a number ≥ 0")
        else:
            raw = _opt_str(body, "to")
            try:
                target = datetime.fromisoformat(raw or "")
            except ValueError:
                raise ControlError(
                    400, "to must be an ISO date-time, e.g. 2026-07-01T08:00+08:00"
                ) from None
            if target.tzinfo is None:
                raise ControlError(400, "to needs a time zone, e.g. 2026-07-01T08:00+08:00")
            by = target.timestamp() - self.state.now()
            if by < 0:
                raise ControlError(400, "the clock only moves forward")
        self.state.clock_offset += by
        self.state.notify()
        return _json(self._clock())


def _positive(value: float | None, default: float) -> float:
    if value is None:
        return default
    if value <= 0:
        raise ControlError(400, "rates and bursts must be positive")
    return value


def add_control_routes(app: web.Application, state: EmulatorState, sender: WebhookSender) -> None:
    control = Control(state, sender)
    routes: list[tuple[str, str, Handler]] = [
        ("POST", "/control/users/{user_id}/send", control.send),
        ("POST", "/control/users/{user_id}/press", control.press),
        ("POST", "/control/users/{user_id}/contact", control.contact),
        ("POST", "/control/users/{user_id}/other", control.other),
        ("POST", "/control/users/{user_id}/edit", control.edit),
        ("POST", "/control/users/{user_id}/block", control.block),
        ("POST", "/control/users/{user_id}/unblock", control.unblock),
        ("GET", "/control/users", control.users),
        ("GET", "/control/chats/{chat_id}/messages", control.messages),
        ("GET", "/control/chats/{chat_id}/wait", control.wait),
        ("GET", "/control/callbacks", control.callbacks),
        ("GET", "/control/files/{file_id}", control.file),
        ("GET", "/control/log", control.log),
        ("GET", "/control/stats", control.stats),
        ("GET", "/control/updates", control.updates),
        ("GET", "/control/commands", control.commands),
        ("GET", "/control/limits", control.get_limits),
        ("PUT", "/control/limits", control.put_limits),
        ("GET", "/control/faults", control.get_faults),
        ("PUT", "/control/faults", control.put_faults),
        ("POST", "/control/reset", control.reset),
        ("GET", "/control/clock", control.get_clock),
        ("POST", "/control/clock", control.move_clock),
        ("GET", "/control/health", control.health),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _guarded(handler))

    async def unknown(request: web.Request) -> web.StreamResponse:
        return _json(
            {"ok": False, "error": f"no control endpoint {request.method} {request.path}"}, 404
        )

    app.router.add_route("*", "/control/{tail:.*}", unknown)
