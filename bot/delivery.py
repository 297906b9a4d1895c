"""The one way messages leave the bot, whichever library sends them.

A Transport (one per library) does a single Bot API call and turns that library's errors
into ours; the Sender keeps Telegram's limits (30 messages/s overall, about 1/s per chat),
waits out 429s and retries server errors and time-outs. aiogram has neither a limiter nor
retries, and PTB's limiter lacks the per-chat limit, so both go through this.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from aiolimiter import AsyncLimiter

from chat.contract import (
    Buttons,
    Edit,
    EditButtons,
    File,
    Incoming,
    Keys,
    Kind,
    Reply,
    Send,
    Toast,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class DeliveryError(Exception):
    """A Bot API call failed; the subclass says whether trying again can help."""


class RetryAfter(DeliveryError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry after {seconds}s")
        self.seconds = seconds


class Transient(DeliveryError):
    """A 5xx, a time-out or a dropped connection: worth another try."""


class Unreachable(DeliveryError):
    """The user blocked the bot or the chat is gone: no retry will help."""


class Rejected(DeliveryError):
    """Telegram refused the request itself (400): retrying the same request cannot help."""

    @property
    def not_modified(self) -> bool:
        return "message is not modified" in str(self)

    @property
    def message_gone(self) -> bool:
        text = str(self)
        return "message to edit not found" in text or "message can't be edited" in text


class Transport(Protocol):
    async def send_message(
        self, chat_id: int, text: str, buttons: Buttons, keyboard: Keys, remove_keyboard: bool
    ) -> int: ...

    async def send_file(self, chat_id: int, file: File, caption: str, buttons: Buttons) -> int: ...

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, buttons: Buttons
    ) -> None: ...

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Buttons) -> None: ...

    async def answer_button(self, callback_id: str, text: str, alert: bool) -> None: ...

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Limits:
    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    # Telegram lets a chat have a short burst (a question after its answer's echo).
    per_chat_burst: int = 3
    attempts: int = 6
    backoff_seconds: float = 0.5


class Sender:
    """Sends one message at a time per call, within the limits, retrying what can succeed."""

    def __init__(self, transport: Transport, limits: Limits | None = None) -> None:
        self.transport = transport
        self.limits = limits or Limits()
        self._overall = AsyncLimiter(self.limits.overall_per_second, 1)
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None)
        if limiter is None:
            burst = self.limits.per_chat_burst
            limiter = AsyncLimiter(burst, burst / self.limits.per_chat_per_second)
        self._chats[chat_id] = limiter
        while len(self._chats) > 50_000:  # forget the chats quiet the longest
            self._chats.popitem(last=False)
        return limiter

    async def send(self, chat_id: int, reply: Send) -> int:
        async def call() -> int:
            if reply.file is not None:
                return await self.transport.send_file(
                    chat_id, reply.file, reply.text, reply.buttons
                )
            return await self.transport.send_message(
                chat_id, reply.text, reply.buttons, reply.keyboard, reply.remove_keyboard
            )

        return await self._within_limits(chat_id, call)

    async def edit(self, chat_id: int, reply: Edit) -> None:
        async def call() -> None:
            await self.transport.edit_message(chat_id, reply.message_id, reply.text, reply.buttons)

        await self._within_limits(chat_id, call)

    async def edit_buttons(self, chat_id: int, reply: EditButtons) -> None:
        async def call() -> None:
            await self.transport.edit_buttons(chat_id, reply.message_id, reply.buttons)

        await self._within_limits(chat_id, call)

    async def _within_limits(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            attempt += 1
            async with self._chat_limiter(chat_id), self._overall:
                try:
                    return await call()
                except RetryAfter as wait:
                    log.warning("429 for chat %s: waiting %.1fs", chat_id, wait.seconds)
                    delay = wait.seconds
                except Transient as exc:
                    if attempt >= self.limits.attempts:
                        raise
                    delay = self.limits.backoff_seconds * 2 ** (attempt - 1)
                    delay *= 1 + random.random() / 2
                    log.warning(
                        "send to chat %s failed (%s); try %d in %.1fs",
                        chat_id,
                        exc,
                        attempt + 1,
                        delay,
                    )
            await asyncio.sleep(delay)


Later = Callable[[int, Send], Awaitable[None]]


async def carry_out(
    sender: Sender, event: Incoming, replies: list[Reply], later: Later | None = None
) -> list[tuple[Send, int]]:
    """Carry out what a handler answered to `event`, in order. A reply Telegram could not take
    after the sender's retries (5xx, time-outs) is handed to `later` (the outbox), so an
    answer is late rather than lost when Telegram is down for a while. Returns the messages
    sent to the event's chat with the ids Telegram gave them."""
    sent: list[tuple[Send, int]] = []
    toast = next((r for r in replies if isinstance(r, Toast) and r.text), None)
    if event.kind is Kind.BUTTON and event.callback_id:
        # Always answer a button press, or the user's button keeps spinning.
        try:
            await sender.transport.answer_button(
                event.callback_id, toast.text if toast else "", toast.alert if toast else False
            )
        except DeliveryError as exc:
            log.info("could not answer a button press of user %s: %s", event.user_id, exc)
    for reply in replies:
        if isinstance(reply, Toast):
            continue
        chat_id = reply.chat_id if reply.chat_id is not None else event.chat_id
        try:
            if isinstance(reply, EditButtons):
                try:
                    await sender.edit_buttons(chat_id, reply)
                except Rejected as exc:
                    # An old copy already without buttons, or gone: nothing to take away.
                    if not (exc.not_modified or exc.message_gone):
                        raise
                continue
            if isinstance(reply, Edit):
                try:
                    await sender.edit(chat_id, reply)
                except Rejected as exc:
                    if exc.not_modified:
                        continue
                    if not exc.message_gone:
                        raise
                    await sender.send(chat_id, Send(reply.text, buttons=reply.buttons))
            else:
                message_id = await sender.send(chat_id, reply)
                if chat_id == event.chat_id:
                    sent.append((reply, message_id))
        except Transient as exc:
            if later is None:
                log.error("a reply to chat %s was not delivered: %s", chat_id, exc)
                continue
            log.warning("a reply to chat %s goes out later (%s)", chat_id, exc)
            if isinstance(reply, EditButtons):
                continue
            await later(
                chat_id,
                Send(reply.text, buttons=reply.buttons, file=reply.file)
                if isinstance(reply, Send)
                else Send(reply.text, buttons=reply.buttons),
            )
        except DeliveryError as exc:
            log.error("a reply to chat %s was not delivered: %s", chat_id, exc)
    return sent
