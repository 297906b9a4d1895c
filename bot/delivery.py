"""The one way messages leave the bot, whichever library sends them.

A Transport (one per library) does a single Bot API call and turns that library's errors
into ours; the Sender keeps Telegram's limits (30 messages/s overall, about 1/s per chat),
waits out 429s and retries server errors and time-outs. aiogram has neither a limiter nor
retries, and PTB's limiter lacks the per-chat limit, so both go through this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
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
# The most chats whose buckets are kept at once (beyond it, those used longest ago go even
# if not yet empty).
MAX_CHATS = 50_000


class DeliveryError(Exception):
    """A Bot API call failed; the subclass says whether trying again can help."""


class RetryAfter(DeliveryError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry after {seconds}s")
        self.seconds = seconds


class Transient(DeliveryError):
    """A 5xx, a time-out or a dropped connection: worth another try."""


class Uncertain(Transient):
    """The request went out and no answer came back (a dropped connection, a read time-out):
    Telegram may have carried it out. Sending it again may make a second copy."""


class AnswerLost(DeliveryError):
    """A message was sent, its answer was lost, and so was the answer to the one extra try:
    it is taken as delivered (probably once or twice) rather than risk a third copy."""


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
    # Added to the one-second window the overall rate is counted over: a safety margin for
    # Telegram's own accounting, which is not public (1 %).
    margin_seconds: float = 0.01
    # At most this many bulk calls (the outbox: rounds, alerts, reports) are out at once,
    # which bounds what a process killed mid-round may have sent without knowing it.
    bulk_in_flight: int = 16


class Window:
    """At most `count` calls in any window of `seconds` (`rate` × `seconds`, the window then
    widened by `margin`), counted where Telegram counts them.

    Telegram counts a call when it arrives; the bot only knows it was let go before that and
    answered after it. So a call holds its place from the moment it is let go until `seconds`
    after its answer came back: then no `seconds`-long stretch can see more than `count`
    arrivals, however the calls bunch on their way (a busy event loop, a slow proxy), and
    the rate reached is count ÷ (seconds + the answer's time). And no more than a fifth of
    the window's calls are let go in a fifth of it, so they go out as a steady stream, not as
    a burst once a second.

    A call that goes `first` (a reply) takes the next free place before any other (the round's
    messages) waiting for one. Bulk calls may use at most `bulk_share` of the places: a 429
    on a bulk call (another instance's replies, or Telegram counting differently) cuts the
    share by a quarter, and each window without one gives back a twentieth (AIMD)."""

    def __init__(self, rate: float, seconds: float = 1.0, margin: float = 0.0) -> None:
        self.count = max(1, math.floor(rate * seconds + 1e-9))
        self.seconds = seconds + margin
        # And no bursts: at most a fifth of the window's calls let go in a fifth of it.
        self.pace_count = max(1, self.count // 5)
        self.pace_seconds = seconds * self.pace_count / self.count
        self.bulk_share = 1.0
        # Places kept free of bulk for replies sent by other instances (Sender.reserve).
        self.reserve = 0
        self._answered: deque[float] = deque()  # when answers came, oldest first
        self._out = 0  # let go, not answered yet
        self._let_go: deque[float] = deque()  # when calls were let go, within a pace
        self._first_waiting = 0
        self._freed = asyncio.Event()
        self._last_cut = -math.inf
        self._last_grow = -math.inf

    def _wait(self, now: float, places: int) -> float:
        """Seconds until a call may go with `places` places (0: now; inf: at an answer)."""
        while self._answered and self._answered[0] <= now - self.seconds:
            self._answered.popleft()
        while self._let_go and self._let_go[0] <= now - self.pace_seconds:
            self._let_go.popleft()
        wait = 0.0
        if self._out + len(self._answered) >= places:
            # Until the oldest answer leaves the window, or (all places out) an answer.
            wait = self._answered[0] + self.seconds - now if self._answered else math.inf
        if len(self._let_go) >= self.pace_count:
            wait = max(wait, self._let_go[0] + self.pace_seconds - now)
        return wait

    def _bulk_places(self, now: float) -> int:
        if self.bulk_share < 1.0 and now - max(self._last_cut, self._last_grow) >= self.seconds:
            self.bulk_share = min(1.0, self.bulk_share + 0.05)
            self._last_grow = now
        reserve = min(self.reserve, self.count // 2)
        return max(1, math.floor(self.count * self.bulk_share) - reserve)

    @contextlib.asynccontextmanager
    async def place(self, *, first: bool = False) -> AsyncIterator[None]:
        """Holds a place for one call: enter just before the call, leave at its answer."""
        await self._acquire(first)
        try:
            yield
        finally:
            self._out -= 1
            self._answered.append(asyncio.get_running_loop().time())
            self._freed.set()

    async def _acquire(self, first: bool) -> None:
        loop = asyncio.get_running_loop()
        if first:
            self._first_waiting += 1
        try:
            while True:
                now = loop.time()
                wait = self._wait(now, self.count if first else self._bulk_places(now))
                if wait <= 0 and (first or not self._first_waiting):
                    self._out += 1
                    self._let_go.append(now)
                    return
                if wait <= 0:  # a reply is taking the place
                    await asyncio.sleep(0.002)
                elif math.isinf(wait):
                    self._freed.clear()
                    await self._freed.wait()
                else:
                    await asyncio.sleep(wait)
        finally:
            if first:
                self._first_waiting -= 1

    def congested(self) -> None:
        """A bulk call was answered 429: leave more room (once a window at most)."""
        now = asyncio.get_running_loop().time()
        if now - self._last_cut >= self.seconds:
            self.bulk_share = max(0.25, self.bulk_share * 0.75)
            self._last_cut = now
            log.warning(
                "429 on the round's messages: the round goes at %.0f%% of the limit for now",
                self.bulk_share * 100,
            )


class Sender:
    """Sends one message at a time per call, within the limits, retrying what can succeed."""

    def __init__(self, transport: Transport, limits: Limits | None = None) -> None:
        self.transport = transport
        self.limits = limits or Limits()
        # Telegram promises no bursts: every call holds a place in a one-second window from
        # when it is let go until a second after its answer, replies first; the round's
        # messages take every place replies leave.
        self._overall = Window(self.limits.overall_per_second, 1.0, self.limits.margin_seconds)
        self._bulk_slots = asyncio.Semaphore(self.limits.bulk_in_flight)
        # Each chat's bucket while it holds something, oldest use first. An empty one is the
        # same as a new one, so it is forgotten: a round of 20,000 chats kept 20,000 limiters
        # (100,000 objects the garbage collector walked in every full collection, up to
        # 137 ms each with the loop held, 45 of them in a round).
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        # After a 429 for a chat: no call to it before this (loop time), and its pace halved,
        # in a bucket of its own kept as long as the chat's period is.
        self._paused: dict[int, float] = {}
        self._periods: dict[int, float] = {}
        self._slowed: dict[int, AsyncLimiter] = {}

    def reserve(self, messages_per_second: int) -> None:
        """Keeps this many places a second free of bulk (up to half of them): the replies
        other instances are sending now, which Telegram counts with ours."""
        self._overall.reserve = max(0, messages_per_second)

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        slowed = self._slowed.get(chat_id)
        if slowed is not None:
            return slowed
        limiter = self._chats.pop(chat_id, None)
        if limiter is None:
            burst = self.limits.per_chat_burst
            limiter = AsyncLimiter(burst, burst / self.limits.per_chat_per_second)
        self._chats[chat_id] = limiter
        # The chats used longest ago whose bucket has emptied (a second or so after their
        # last message at the usual pace) are forgotten; this one, the newest, stays.
        while len(self._chats) > 1:
            oldest = next(iter(self._chats.values()))
            if len(self._chats) <= MAX_CHATS and not oldest.has_capacity(oldest.max_rate):
                break
            self._chats.popitem(last=False)
        return limiter

    def _slow_down(self, chat_id: int, seconds: float) -> None:
        """Telegram answered 429 for this chat: wait as it says, then half the pace, one
        message at a time, and no faster than one per `retry_after` (the chat's pace comes
        back once its period is forgotten: past 10,000 chats paused, those no longer so)."""
        now = asyncio.get_running_loop().time()
        self._paused[chat_id] = max(self._paused.get(chat_id, 0.0), now + seconds)
        before = self._periods.get(chat_id, 0.0)
        period = min(30.0, max(before, 2 / self.limits.per_chat_per_second, seconds + 0.25))
        if period > before:  # a new, slower bucket; the same one for the calls after it
            self._periods[chat_id] = period
            self._chats.pop(chat_id, None)
            self._slowed[chat_id] = AsyncLimiter(1, period)
        if len(self._paused) > 10_000:
            self._paused = {c: t for c, t in self._paused.items() if t > now}
            self._periods = {c: p for c, p in self._periods.items() if c in self._paused}
            self._slowed = {c: b for c, b in self._slowed.items() if c in self._periods}

    def _paused_now(self, chat_id: int) -> bool:
        until = self._paused.get(chat_id)
        return until is not None and until > asyncio.get_running_loop().time()

    async def _wait_if_paused(self, chat_id: int) -> None:
        until = self._paused.get(chat_id)
        if until is not None:
            wait = until - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)

    async def send(
        self,
        chat_id: int,
        reply: Send,
        *,
        answer_lost_before: bool = False,
        bulk: bool = False,
    ) -> int:
        """Sends a message; its id. A lost answer (Uncertain) is tried once more, never
        twice, so a message reaches the chat at most twice: at the second lost answer (or the
        first, when `answer_lost_before` says an earlier try already lost one) AnswerLost."""

        async def call() -> int:
            if reply.file is not None:
                return await self.transport.send_file(
                    chat_id, reply.file, reply.text, reply.buttons
                )
            return await self.transport.send_message(
                chat_id, reply.text, reply.buttons, reply.keyboard, reply.remove_keyboard
            )

        return await self._within_limits(
            chat_id, call, lost=1 if answer_lost_before else 0, bulk=bulk
        )

    async def edit(self, chat_id: int, reply: Edit) -> None:
        async def call() -> None:
            await self.transport.edit_message(chat_id, reply.message_id, reply.text, reply.buttons)

        await self._within_limits(chat_id, call)

    async def edit_buttons(self, chat_id: int, reply: EditButtons) -> None:
        async def call() -> None:
            await self.transport.edit_buttons(chat_id, reply.message_id, reply.buttons)

        await self._within_limits(chat_id, call)

    async def _within_limits(
        self,
        chat_id: int,
        call: Callable[[], Awaitable[T]],
        *,
        lost: int | None = None,
        bulk: bool = False,
    ) -> T:
        """`lost`: for a call that must not be repeated blindly (sending), how many answers
        were lost already; None for a call that can be (an edit, an answer to a button).
        `bulk`: a message the bot starts (the outbox), which gives way to replies."""
        attempt = 0
        while True:
            attempt += 1
            await self._wait_if_paused(chat_id)
            limiter = self._chat_limiter(chat_id)
            async with (
                limiter,
                self._bulk_slots if bulk else contextlib.nullcontext(),
            ):
                if self._paused_now(chat_id) or self._slowed.get(chat_id, limiter) is not limiter:
                    # A 429 for this chat came while this call waited for its turn: wait the
                    # pause and take the chat's slower pace instead of calling at the old one.
                    # (A bucket at the usual pace forgotten meanwhile was empty, as a new one.)
                    attempt -= 1
                    continue
                # The overall place is taken last, just before the call, and held until a
                # window after its answer; a reply waiting for one goes before the round.
                try:
                    async with self._overall.place(first=not bulk):
                        return await call()
                except RetryAfter as wait:
                    log.warning("429 for chat %s: waiting %.1fs", chat_id, wait.seconds)
                    self._slow_down(chat_id, wait.seconds)
                    if bulk:
                        self._overall.congested()
                    delay = 0.0  # the chat's pause is the wait
                except Uncertain as exc:
                    if lost is not None:
                        lost += 1
                        if lost >= 2:
                            log.warning(
                                "chat %s: the answer to a message was lost twice (%s); taken "
                                "as delivered, maybe twice",
                                chat_id,
                                exc,
                            )
                            raise AnswerLost(str(exc)) from exc
                        log.warning(
                            "chat %s: the answer to a message was lost (%s); one more try, "
                            "which may make a second copy",
                            chat_id,
                            exc,
                        )
                    if attempt >= self.limits.attempts:
                        raise
                    delay = self.limits.backoff_seconds
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
