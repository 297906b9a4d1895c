"""The emulator's in-memory world: users, private chats, messages, the update queue, files.

Everything lives on one event loop, so plain data structures suffice; waiters (long polls, the
control API's ``wait``, the webhook sender) sleep on a single "something changed" event.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.limits import FaultConfig, LimitConfig, RateLimiter

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_USERNAME",
    "DEFAULT_ALLOWED_UPDATES",
    "CallbackQueryRecord",
    "EmulatorState",
    "StoredFile",
    "StoredMessage",
    "UserProfile",
    "WebhookConfig",
    "bot_user",
]

BOT_FIRST_NAME = "Returnee Emulator Bot"
BOT_USERNAME = "returnee_emulator_bot"

#: What Telegram sends when allowed_updates is empty: everything but these three.
DEFAULT_ALLOWED_UPDATES: frozenset[str] = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


def bot_user(bot_id: int) -> dict[str, Any]:
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": BOT_USERNAME,
    }


@dataclass
class UserProfile:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh"
    blocked: bool = False

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    kind: str
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    from_bot: bool
    sender_id: int
    date: int
    text: str | None = None
    raw_text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    raw_caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    contact: dict[str, Any] | None = None
    sticker: dict[str, Any] | None = None
    voice: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False
    change_seq: int = 0

    @property
    def kind(self) -> str:
        for name in ("document", "photo", "contact", "sticker", "voice", "location"):
            if getattr(self, name) is not None:
                return name
        return "text"

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        if self.reply_markup and isinstance(self.reply_markup.get("inline_keyboard"), list):
            rows: list[list[dict[str, Any]]] = self.reply_markup["inline_keyboard"]
            return rows
        return []


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass
class WebhookConfig:
    url: str
    token: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class EmulatorState:
    def __init__(self, limits: LimitConfig | None = None) -> None:
        self._initial_limits = limits or LimitConfig()
        # Update ids only ever grow, even across reset(): a polling bot keeps its offset. Like
        # Telegram's after a quiet week, they start at a random number, so a bot that keeps
        # its database across emulator restarts (the demo) never sees an id it handled before.
        self.next_update_id = secrets.randbelow(2**30) + 1
        self._event: asyncio.Event | None = None
        # Set when the server shuts down: long polls answer at once instead of holding it up.
        self.closing = False
        self.change_seq = 0
        self.poll_generation = 0
        self.clear()

    def clear(self) -> None:
        self.users: dict[int, UserProfile] = {}
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self.next_message_id: dict[int, int] = {}
        self.updates: deque[dict[str, Any]] = deque()
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[str, dict[str, Any]] = {}
        self.webhook: WebhookConfig | None = None
        self.log: list[dict[str, Any]] = []
        self.log_seq = 0
        self.requests_by_method: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.rate_limited = 0
        self.faults_injected: Counter[str] = Counter()
        self.messages_sent: Counter[int] = Counter()
        self.webhook_deliveries = 0
        self.webhook_failures = 0
        self.webhook_statuses: deque[int] = deque(maxlen=200)
        self.limiter = RateLimiter(LimitConfig(**self._initial_limits.as_dict()))
        self.faults = FaultConfig()
        self.bot_id: int | None = None
        self._file_counter = 0
        # The demo's and the tests' clock: how far the emulator's time runs ahead of the real
        # one. Message dates follow it, and a bot started with CLOCK=emulator reads it.
        self.clock_offset = 0.0
        self.notify()

    def now(self) -> float:
        """The emulator's time, as a Unix timestamp (the real time plus the clock offset)."""
        return time.time() + self.clock_offset

    def date(self) -> int:
        """A message date, as Telegram gives it (whole seconds)."""
        return int(self.now())

    # --- change notification ------------------------------------------------------------------

    def notify(self) -> None:
        self.change_seq += 1
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Waits until predicate() holds or timeout passes; returns the final predicate."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while not predicate():
            if self.closing:
                # Shutting down: answer now, but let the loop run whoever asked next.
                await asyncio.sleep(0)
                return False
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if self._event is None:
                self._event = asyncio.Event()
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    # --- users and chats ----------------------------------------------------------------------

    def touch_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> UserProfile:
        """Creates the user (and so their private chat) or updates the profile given."""
        user = self.users.get(user_id)
        if user is None:
            user = UserProfile(id=user_id, first_name=first_name or f"User {user_id}")
            self.users[user_id] = user
            self.messages[user_id] = {}
            self.next_message_id[user_id] = 1
        elif first_name:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name or None
        if username is not None:
            user.username = username.lstrip("@") or None
        if language_code is not None:
            user.language_code = language_code or None
        return user

    def new_message(self, chat_id: int, *, from_bot: bool, sender_id: int) -> StoredMessage:
        message_id = self.next_message_id.get(chat_id, 1)
        self.next_message_id[chat_id] = message_id + 1
        message = StoredMessage(
            message_id=message_id,
            chat_id=chat_id,
            from_bot=from_bot,
            sender_id=sender_id,
            date=self.date(),
        )
        self.messages.setdefault(chat_id, {})[message_id] = message
        return message

    def touch_message(self, message: StoredMessage) -> None:
        message.change_seq = self.change_seq + 1
        self.notify()

    # --- API object builders ------------------------------------------------------------------

    def message_api(self, message: StoredMessage, *, with_reply: bool = True) -> dict[str, Any]:
        user = self.users.get(message.chat_id)
        chat = user.as_chat() if user else {"id": message.chat_id, "type": "private"}
        if message.from_bot:
            sender = bot_user(message.sender_id)
        else:
            sender = (
                user.as_user()
                if user
                else {"id": message.sender_id, "is_bot": False, "first_name": "User"}
            )
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": sender,
            "chat": chat,
            "date": message.date,
        }
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id is not None:
            replied = self.messages.get(message.chat_id, {}).get(message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                body["reply_to_message"] = self.message_api(replied, with_reply=False)
        if message.text is not None:
            body["text"] = message.text
            if message.entities:
                body["entities"] = message.entities
        if message.link_preview_options:
            body["link_preview_options"] = message.link_preview_options
        for name in ("document", "photo", "contact", "sticker", "voice", "location"):
            value = getattr(message, name)
            if value is not None:
                body[name] = value
        if message.caption is not None:
            body["caption"] = message.caption
            if message.caption_entities:
                body["caption_entities"] = message.caption_entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            # Telegram echoes only inline keyboards back in the Message.
            body["reply_markup"] = {"inline_keyboard": message.reply_markup["inline_keyboard"]}
        return body

    def control_message(self, message: StoredMessage) -> dict[str, Any]:
        """The control API's flat view of a message, meant for assertions and transcripts."""
        return {
            "message_id": message.message_id,
            "chat_id": message.chat_id,
            "from_bot": message.from_bot,
            "kind": message.kind,
            "text": message.text,
            "raw_text": message.raw_text,
            "entities": message.entities,
            "caption": message.caption,
            "raw_caption": message.raw_caption,
            "parse_mode": message.parse_mode,
            "reply_markup": message.reply_markup,
            "document": message.document,
            "photo": message.photo is not None,
            "photo_sizes": message.photo,
            "contact": message.contact,
            "sticker": message.sticker,
            "voice": message.voice,
            "location": message.location,
            "link_preview_options": message.link_preview_options,
            "reply_to_message_id": message.reply_to_message_id,
            "edited": message.edit_count > 0,
            "edit_count": message.edit_count,
            "edit_date": message.edit_date,
            "deleted": message.deleted,
            "date": message.date,
        }

    # --- updates ------------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Queues an update unless allowed_updates excludes it, as Telegram does at creation."""
        update_id = self.next_update_id
        self.next_update_id += 1
        if kind in self.allowed_updates:
            self.updates.append({"update_id": update_id, kind: payload})
        self.notify()
        return update_id

    def confirm_updates(self, offset: int) -> None:
        if offset < 0:
            keep = -offset
            while len(self.updates) > keep:
                self.updates.popleft()
            return
        while self.updates and self.updates[0]["update_id"] < offset:
            self.updates.popleft()

    # --- files --------------------------------------------------------------------------------

    def store_file(
        self,
        data: bytes,
        *,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        extension: str = "",
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        prefix = {
            "document": "BQACAgIAAxkBAA",
            "photo": "AgACAgIAAxkBAA",
            "voice": "AwACAgIAAxkBAA",
            "sticker": "CAACAgIAAxkBAA",
        }.get(kind, "BQACAgIAAxkBAA")
        folder = {"document": "documents", "photo": "photos", "voice": "voice"}.get(
            kind, "stickers" if kind == "sticker" else "documents"
        )
        file_number = self._file_counter
        self._file_counter += 1
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(24),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            data=data,
            kind=kind,
            file_path=f"{folder}/file_{file_number}{extension}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # --- request log --------------------------------------------------------------------------

    def record_request(
        self,
        *,
        method: str,
        params: dict[str, Any],
        status: int,
        chat_id: int | None,
        description: str | None = None,
        fault: str | None = None,
    ) -> None:
        self.log_seq += 1
        self.log.append(
            {
                "seq": self.log_seq,
                "time": time.time(),
                "method": method,
                "params": params,
                "status": status,
                "ok": 200 <= status < 300,
                "chat_id": chat_id,
                "description": description,
                "fault": fault,
            }
        )
        if len(self.log) > 20_000:
            del self.log[: len(self.log) - 20_000]
        self.requests_by_method[method] += 1
        self.statuses[status] += 1
        if status == 429:
            self.rate_limited += 1
