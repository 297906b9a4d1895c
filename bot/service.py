"""What both runners share: an update in, the core's answer carried out, in order per user."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from bot.clock import EmulatorClock
from bot.delivery import DeliveryError, Limits, Sender, Transport, carry_out
from bot.locks import InstanceLock, stand_by
from bot.outbox_worker import OutboxWorker
from bot.scheduler import Scheduler, periodic_jobs
from bot.updates import incoming_from_update
from chat.contract import Incoming, Send
from chat.i18n import N_, Translator, language_from_telegram
from handlers.app import Core, asks
from models.outbox import enqueue

log = logging.getLogger(__name__)

# The command menu Telegram shows, per language Telegram knows (it has no zh-Hant code).
COMMAND_MENU = (
    ("start", N_("Report your arrival, or go on with your report")),
    ("language", N_("Change the language")),
    ("cancel", N_("Leave the current question")),
    ("me", N_("See your record and plan")),
    ("time", N_("Move your daily check-ins")),
    ("request", N_("Ask your grid worker for help")),
    ("forget", N_("Delete your data (after monitoring)")),
    ("help", N_("What you can do")),
)
MENU_LANGUAGES = {None: "zh_Hans", "en": "en"}
# The files users send that the bot reads (a pushed list), and the most it fetches (the Bot
# API's own limit for getFile).
READ_FILES = (".xlsx", ".csv")
MAX_FILE = 20 * 1024 * 1024
# Updates waiting behind the one being handled, for one user, before they are asked to wait.
FLOOD_AT = 5


def settle_memory() -> None:
    """Once started (once per process): what the imports and the wiring made is kept out of
    the garbage collector's sight from now on. A full collection otherwise walks those few
    hundred thousand objects each time, 120–210 ms with the loop held (measured in a round:
    the longest stall 162 → 49 ms with this)."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()


class Service:
    def __init__(
        self,
        core: Core,
        limits: Limits | None = None,
        *,
        follow_clock: EmulatorClock | None = None,
        poll_lock: InstanceLock | None = None,
        outbox_lock: InstanceLock | None = None,
    ) -> None:
        self.core = core
        self.follow_clock = follow_clock
        # Held by the one instance that long-polls the token, and the one that sends the
        # outbox (Telegram's limits are per token, for all instances together).
        self.poll_lock = poll_lock
        self.outbox_lock = outbox_lock
        self._follower: asyncio.Task[None] | None = None
        self.limits = limits or Limits()
        self._sender: Sender | None = None
        self._queues: dict[int, deque[tuple[object, Incoming]]] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._scheduler: Scheduler | None = None
        self._worker: asyncio.Task[None] | None = None

    def attach(self, transport: Transport) -> None:
        self._sender = Sender(transport, self.limits)

    @property
    def sender(self) -> Sender:
        assert self._sender is not None, "attach a transport first"
        return self._sender

    async def handle_update(self, update: dict[str, Any]) -> None:
        """A user's updates are handled in the order they came, never two at once. While one
        is being handled, the next ones wait in that user's queue without holding one of the
        runner's CONCURRENCY slots, so a user sending fifty messages a second slows only
        themself; past FLOOD_AT waiting, they are told (once) that answers will come in turn.
        Nothing they sent is dropped."""
        event = incoming_from_update(update)
        update_id = update.get("update_id")
        if event is None:
            log.info("update %s ignored", update_id)
            return
        queue = self._queues.get(event.user_id)
        if queue is not None:
            queue.append((update_id, event))
            if len(queue) == FLOOD_AT:
                await self._flood_notice(event)
            return
        queue = self._queues[event.user_id] = deque([(update_id, event)])
        async with self._tracked():
            try:
                while queue:
                    await self._handle_one(*queue.popleft())
            finally:
                del self._queues[event.user_id]

    async def _handle_one(self, update_id: object, event: Incoming) -> None:
        # One line per update once its answer is out: an access log for operators, and the
        # signal end-to-end tests wait on instead of guessing from silence.
        outcome = "failed"
        try:
            event = await self._fetched(event)
            replies = await self.core.handle(
                event, update_id if isinstance(update_id, int) else None
            )
            sent = await carry_out(self.sender, event, replies, later=self._send_later)
            questions = [message_id for reply, message_id in sent if asks(reply)]
            if questions:
                await self.core.remember_live(event.user_id, questions[-1])
            outcome = "handled"
        except Exception:
            # The user's next updates are still handled; the runner never sees this one fail.
            log.exception("update %s could not be handled", update_id)
        finally:
            log.info("update %s %s", update_id, outcome)

    async def _fetched(self, event: Incoming) -> Incoming:
        """A document of a kind the bot reads (a pushed list: .xlsx or .csv) comes with its
        bytes, fetched from Telegram here; anything else comes as it is."""
        document = event.document
        if (
            document is None
            or not document.file_name.lower().endswith(READ_FILES)
            or document.size > MAX_FILE
        ):
            return event
        download = getattr(self.sender.transport, "download", None)
        if download is None:
            return event
        try:
            content = await download(document.file_id)
        except Exception as exc:
            log.warning("a document could not be fetched (%s)", type(exc).__name__)
            return event
        return replace(event, document=replace(document, content=bytes(content)))

    async def _send_later(self, chat_id: int, reply: Send) -> None:
        """A reply Telegram did not take goes to the outbox, whose worker keeps retrying."""
        file = (reply.file.filename, reply.file.kind, reply.file.content) if reply.file else None
        try:
            async with self.core.sessions.begin() as session:
                await enqueue(
                    session,
                    chat_id=chat_id,
                    text=reply.text,
                    purpose="late_reply",
                    now=self.core.clock.now(),
                    buttons=reply.buttons,
                    file=file,
                )
        except Exception:
            log.exception(
                "a reply to chat %s is lost: neither Telegram nor storage took it", chat_id
            )

    async def _flood_notice(self, event: Incoming) -> None:
        tr = Translator(language_from_telegram(event.language))
        notice = tr(
            "⏳ You are sending messages faster than I can answer. I will answer each one in "
            "turn: please wait for my reply."
        )
        try:
            await self.sender.send(event.chat_id, Send(notice))
        except DeliveryError as exc:
            log.warning("could not send the flood notice to %s: %s", event.chat_id, exc)

    async def take_polling(self) -> None:
        """Long polling: returns once this instance is the one polling the token."""
        if self.poll_lock is not None:
            await stand_by(
                self.poll_lock,
                "another instance is polling this bot: standing by until it stops "
                "(one poller per token; run several instances with a webhook)",
            )

    async def started(self) -> None:
        for code, language in MENU_LANGUAGES.items():
            tr = Translator(language)
            try:
                await self.sender.transport.set_commands(
                    [(name, tr(text)) for name, text in COMMAND_MENU], code
                )
            except DeliveryError as exc:
                log.warning("could not register the command menu (%s): %s", code or "default", exc)
        self.start_background()
        settle_memory()
        log.info("bot started")

    def start_background(self) -> None:
        """The outbox worker and the periodic jobs, which need a transport to send with."""
        core = self.core
        worker = OutboxWorker(core.sessions, self.sender, core.clock, lock=self.outbox_lock)
        self._worker = asyncio.create_task(worker.run(), name="outbox")
        self._scheduler = Scheduler(
            core.sessions, core.clock, core.options.zone, periodic_jobs(core.options), worker.nudge
        )
        self._scheduler.start()
        if self.follow_clock is not None:
            self._follower = asyncio.create_task(
                self.follow_clock.follow(self._scheduler.run_all), name="clock"
            )

    async def stop_background(self) -> None:
        # The jobs first (they end between two statements), then the clock's follower, which
        # may be waiting in `run_all` for them.
        if self._scheduler is not None:
            await self._scheduler.stop()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for lock in (self.outbox_lock, self.poll_lock):
            if lock is not None:
                await lock.release()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for updates being handled to finish (graceful shutdown)."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("shutting down with %d updates still being handled", self._in_flight)
        await self.stop_background()

    @asynccontextmanager
    async def _tracked(self) -> AsyncIterator[None]:
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
