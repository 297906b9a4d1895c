"""What both runners share: an update in, the core's answer carried out, in order per user."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.clock import EmulatorClock
from bot.delivery import DeliveryError, Limits, Sender, Transport, carry_out
from bot.outbox_worker import OutboxWorker
from bot.scheduler import Scheduler, periodic_jobs
from bot.updates import incoming_from_update
from handlers.app import Core
from handlers.i18n import N_, Translator

log = logging.getLogger(__name__)

# The command menu Telegram shows, per language Telegram knows (it has no zh-Hant code).
COMMAND_MENU = (
    ("start", N_("Report your arrival, or go on with your report")),
    ("language", N_("Change the language")),
    ("cancel", N_("Leave the current question")),
    ("help", N_("What you can do")),
)
MENU_LANGUAGES = {None: "zh_Hans", "en": "en"}


class Service:
    def __init__(
        self, core: Core, limits: Limits | None = None, *, follow_clock: EmulatorClock | None = None
    ) -> None:
        self.core = core
        self.follow_clock = follow_clock
        self._follower: asyncio.Task[None] | None = None
        self.limits = limits or Limits()
        self._sender: Sender | None = None
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
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
        # One line per update once its answer is out: an access log for operators, and the
        # signal end-to-end tests wait on instead of guessing from silence.
        update_id = update.get("update_id")
        outcome = "failed"
        try:
            event = incoming_from_update(update)
            if event is None:
                outcome = "ignored"
                return
            async with self._tracked(), self._one_at_a_time(event.user_id):
                replies = await self.core.handle(event)
                await carry_out(self.sender, event, replies)
            outcome = "handled"
        finally:
            log.info("update %s %s", update_id, outcome)

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
        log.info("bot started")

    def start_background(self) -> None:
        """The outbox worker and the periodic jobs, which need a transport to send with."""
        core = self.core
        worker = OutboxWorker(core.sessions, self.sender, core.clock)
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
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

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

    @asynccontextmanager
    async def _one_at_a_time(self, user_id: int) -> AsyncIterator[None]:
        """A user's updates are handled in the order they came, never two at once."""
        lock, users = self._locks.get(user_id, (asyncio.Lock(), 0))
        self._locks[user_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[user_id]
            if users == 1:
                del self._locks[user_id]
            else:
                self._locks[user_id] = (lock, users - 1)
