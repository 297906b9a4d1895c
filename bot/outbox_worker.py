"""Delivers the outbox: claims due messages, sends them through the one Sender, and records
each message's fate as Telegram answers it.

Fates are written a few at a time (FLUSH_SIZE rows, or every FLUSH_EVERY seconds) while the
batch is still being sent, so a process killed mid-round sends again only what was in flight
or not yet written at that instant, rather than the whole batch after the lease. While the
database is away the fates wait in memory and are written first when it is back: a message
Telegram took is never sent again because storage went away."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import AnswerLost, DeliveryError, Rejected, Sender, Transient, Unreachable
from bot.locks import InstanceLock
from chat.clock import Clock
from chat.contract import Button, Edit, File, Send
from models.chat import updates_handled_since
from models.outbox import FAILED, PENDING, SENT, UNREACHABLE, Outgoing, claim_due
from services.reachability import resident_unreachable

log = logging.getLogger(__name__)
# What a database that went away raises (the bot's own bugs are not among them).
STORAGE_ERRORS = (OperationalError, DBAPIError, OSError)
MAX_ATTEMPTS = 8
RETRY = "retry"
# A row whose answer was lost once: another lost answer and it is taken as sent.
ANSWER_LOST = "answer lost"
FLUSH_SIZE = 10
FLUSH_EVERY = 0.25
# The updates handled by all instances over this long stand for their replies a second.
REPLIES_OVER = timedelta(seconds=2)
# How often an instance standing by tries to become the outbox's sender.
LOCK_EVERY = 2.0


@dataclass(frozen=True)
class Fate:
    row_id: int
    status: str  # SENT, UNREACHABLE, FAILED or RETRY
    message_id: int | None = None
    error: str | None = None


class OutboxWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        clock: Clock,
        *,
        batch: int | None = None,
        lease: timedelta = timedelta(minutes=2),
        idle_wait: float = 1.0,
        lock: InstanceLock | None = None,
    ) -> None:
        self.sessions = sessions
        # With several instances, the one holding it sends (elected; another takes over
        # within LOCK_EVERY seconds of its end): Telegram's 30/s are for all of them.
        self.lock = lock
        self.sender = sender
        self.clock = clock
        # About a second of sending at the sender's rate, never fewer than 60 (two seconds at
        # Telegram's 30/s): the next is claimed while the last half of one goes out, and a
        # process that dies leaves at most one and a half to wait for the lease. Each row in
        # flight is a task waiting for its turn, and a full garbage collection walks every
        # one: two seconds at 300/s (900 tasks) made collections of 35-49 ms, the round's
        # longest stalls on a slow machine; one second halves them (docs/benchmarks.md).
        self.batch = batch or max(60, round(sender.limits.overall_per_second))
        self.lease = lease
        self.idle_wait = idle_wait
        self._nudged = asyncio.Event()
        # Fates known and not yet written (the database was away, or the flush is due).
        self._unwritten: list[Fate] = []
        self._flush_now = asyncio.Event()
        self._writing = asyncio.Lock()
        # The rows being sent now, or sent and their fates not yet written.
        self._sending: set[int] = set()

    def nudge(self) -> None:
        """Something was queued: look now rather than after the idle wait."""
        self._nudged.set()

    @property
    def unwritten(self) -> int:
        return len(self._unwritten)

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            # Stopping (SIGTERM): what Telegram took is written, so a restart does not send it
            # again. Only kill -9 leaves the last few fates unwritten.
            if self._unwritten:
                try:
                    await asyncio.wait_for(self._write_unwritten(), 5)
                except (*STORAGE_ERRORS, TimeoutError, asyncio.CancelledError):
                    log.warning(
                        "stopping with %d fates unwritten: those may be sent again",
                        len(self._unwritten),
                    )

    async def _run(self) -> None:
        storage_down = False
        standing_by = False
        while True:
            try:
                if self.lock is not None and not await self.lock.take():
                    if not standing_by:
                        log.info("another instance sends the outbox: standing by")
                        standing_by = True
                    sent = -1
                else:
                    if standing_by:
                        log.warning("this instance sends the outbox now")
                        standing_by = False
                    sent = await self.run_once()
            except STORAGE_ERRORS as exc:
                # One line when the database goes, one when it is back: not a traceback a second.
                if not storage_down:
                    log.error(
                        "storage unavailable, the outbox waits (%d fates kept in memory): %s",
                        len(self._unwritten),
                        _first_line(exc),
                    )
                storage_down = True
                await asyncio.sleep(self.idle_wait * 2)
                continue
            except Exception:
                log.exception("the outbox could not be read; trying again shortly")
                sent = 0
            if storage_down:
                log.warning("storage is back; the outbox goes on")
                storage_down = False
            if sent < 0:
                await asyncio.sleep(LOCK_EVERY)
            elif sent == 0:
                self._nudged.clear()
                try:
                    await asyncio.wait_for(self._nudged.wait(), self.idle_wait)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Sends while rows are due: fates kept from before written first, then due rows
        claimed and sent, their fates written as they come. The next batch is claimed while
        this one is still going out (once fewer than half of it are left), so the rate does
        not dip between batches. Returns how many rows were sent; raises a storage error
        (fates kept) if the database is away."""
        await self._write_unwritten()
        jobs = await self._claim()
        if not jobs:
            return 0
        total = 0
        sending: set[asyncio.Task[None]] = set()
        done = asyncio.Event()
        flusher = asyncio.create_task(self._flush_while(done))
        try:
            while jobs:
                for row_id, chat_id, send, error, edit in jobs:
                    if row_id in self._sending:
                        # Its lease ran out while it was sent or its fate waited to be
                        # written (the clock jumped, Telegram was slow): still this
                        # worker's, not sent twice.
                        continue
                    total += 1
                    self._sending.add(row_id)
                    task = asyncio.create_task(
                        self._deliver(row_id, chat_id, send, error.startswith(ANSWER_LOST), edit)
                    )
                    task.add_done_callback(functools.partial(self._sent, row_id))
                    sending.add(task)
                while len(sending) > self.batch // 2:
                    finished, sending = await asyncio.wait(
                        sending, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in finished:
                        task.result()  # a bug in delivering is raised, as it was
                # Still the outbox's sender (its lock's connection may have gone meanwhile)?
                if self.lock is not None and not await self.lock.take():
                    break
                jobs = await self._claim()
        except asyncio.CancelledError:
            # Stopping (or killed in a test): the calls out stop at once.
            for task in sending:
                task.cancel()
            raise
        finally:
            # What was let go is seen through (a storage error claiming the next batch, or a
            # lost lock, does not cut it off).
            if sending:
                await asyncio.wait(sending)
            done.set()
            # The flusher ends after its write in progress (a write cut off half-way would
            # leave SQLite locked).
            self._flush_now.set()
            await asyncio.wait([flusher])
        await self._write_unwritten()
        return total

    def _sent(self, row_id: int, task: asyncio.Task[None]) -> None:
        # A row with a fate stays this worker's until the fate is written.
        if task.cancelled() or task.exception() is not None:
            self._sending.discard(row_id)

    async def _claim(self) -> list[tuple[int, int, Send, str, int | None]]:
        async with self.sessions.begin() as session:
            now = self.clock.now()
            # Every instance answers the updates it handles, and Telegram's limits count
            # those replies with the round: keep room for them (about two messages an
            # update, so the updates of the last two seconds are the messages a second).
            self.sender.reserve(await updates_handled_since(session, now - REPLIES_OVER))
            claimed = await claim_due(session, now, self.batch, self.lease)
            return [
                (row.id, row.chat_id, _as_send(row), row.error or "", row.edit_message_id)
                for row in claimed
            ]

    async def _flush_while(self, done: asyncio.Event) -> None:
        """Writes fates FLUSH_SIZE at a time or every FLUSH_EVERY seconds until `done`;
        a database away leaves them in memory (said once), for the next write."""
        failing = False
        while not done.is_set():
            self._flush_now.clear()
            try:
                await asyncio.wait_for(self._flush_now.wait(), FLUSH_EVERY)
            except TimeoutError:
                pass
            if not self._unwritten:
                continue
            try:
                await self._write_unwritten()
                failing = False
            except STORAGE_ERRORS as exc:
                if not failing:
                    log.warning(
                        "cannot record fates now (%s); %d kept in memory",
                        _first_line(exc),
                        len(self._unwritten),
                    )
                failing = True

    async def _deliver(
        self, row_id: int, chat_id: int, send: Send, lost_before: bool, edit: int | None = None
    ) -> None:
        try:
            if edit is not None:
                # An edit of a message sent before: already as wanted, or gone, is done.
                try:
                    await self.sender.edit(chat_id, Edit(edit, send.text, send.buttons))
                except Rejected as exc:
                    if not (exc.not_modified or exc.message_gone):
                        raise
                message_id: int | None = edit
            else:
                message_id = await self.sender.send(
                    chat_id, send, answer_lost_before=lost_before, bulk=True
                )
            fate = Fate(row_id, SENT, message_id)
        except AnswerLost as exc:
            fate = Fate(row_id, SENT, None, f"{ANSWER_LOST}, taken as sent: {exc}"[:300])
        except Unreachable as exc:
            log.warning("chat %s is unreachable: %s", chat_id, exc)
            fate = Fate(row_id, UNREACHABLE, None, str(exc)[:300])
        except Transient as exc:
            note = ANSWER_LOST + ": " if lost_before else ""
            fate = Fate(row_id, RETRY, None, f"{note}{exc}"[:300])
        except Rejected as exc:
            log.error("Telegram refused a message to chat %s: %s", chat_id, exc)
            fate = Fate(row_id, FAILED, None, str(exc)[:300])
        except DeliveryError as exc:
            fate = Fate(row_id, RETRY, None, str(exc)[:300])
        self._unwritten.append(fate)
        if len(self._unwritten) >= FLUSH_SIZE:
            self._flush_now.set()

    async def _write_unwritten(self) -> None:
        async with self._writing:
            if not self._unwritten:
                return
            fates = self._unwritten[:]
            await self._write(fates)
            # Only what was written goes: fates added meanwhile stay.
            written = {id(f) for f in fates}
            self._unwritten = [f for f in self._unwritten if id(f) not in written]
            self._sending.difference_update(f.row_id for f in fates)

    async def _write(self, fates: list[Fate]) -> None:
        async with self.sessions.begin() as session:
            now = self.clock.now()
            unreachable: set[int] = set()
            # One read for the lot, not one a row.
            found = await session.scalars(
                select(Outgoing).where(Outgoing.id.in_({fate.row_id for fate in fates}))
            )
            rows = {row.id: row for row in found}
            for fate in fates:
                row = rows.get(fate.row_id)
                if row is None or row.status != PENDING:
                    continue
                row.attempts += 1
                row.claimed_until = None
                row.error = fate.error
                if fate.status == RETRY and row.attempts < MAX_ATTEMPTS:
                    row.due_at = now + timedelta(seconds=min(600, 5 * 2**row.attempts))
                    continue
                row.status = FAILED if fate.status == RETRY else fate.status
                if fate.status == SENT:
                    row.sent_at, row.message_id = now, fate.message_id
                elif fate.status == UNREACHABLE:
                    unreachable.add(row.chat_id)
            for chat_id in unreachable:
                await resident_unreachable(session, chat_id, now)


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]


def _as_send(row: Outgoing) -> Send:
    buttons = tuple(tuple(Button(text, data) for text, data in r) for r in row.buttons)
    file = None
    if row.file_name and row.file_content is not None:
        file = File(row.file_name, row.file_content, row.file_kind or "document")
    return Send(row.text, buttons=buttons, file=file)
