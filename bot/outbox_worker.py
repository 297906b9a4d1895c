"""Delivers the outbox: claims due messages, sends them through the one Sender, records fates."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import DeliveryError, Rejected, Sender, Transient, Unreachable
from chat.clock import Clock
from chat.contract import Button, Edit, File, Send
from models.outbox import FAILED, SENT, UNREACHABLE, Outgoing, claim_due
from services.reachability import resident_unreachable

log = logging.getLogger(__name__)
# What a database that went away raises (the bot's own bugs are not among them).
STORAGE_ERRORS = (OperationalError, DBAPIError, OSError)
MAX_ATTEMPTS = 8


class OutboxWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        clock: Clock,
        *,
        batch: int = 200,
        lease: timedelta = timedelta(minutes=2),
        idle_wait: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.idle_wait = idle_wait
        self._nudged = asyncio.Event()

    def nudge(self) -> None:
        """Something was queued: look now rather than after the idle wait."""
        self._nudged.set()

    async def run(self) -> None:
        storage_down = False
        while True:
            try:
                sent = await self.run_once()
            except STORAGE_ERRORS as exc:
                # One line when the database goes, one when it is back: not a traceback a second.
                if not storage_down:
                    log.error("storage unavailable, the outbox waits: %s", _first_line(exc))
                storage_down = True
                await asyncio.sleep(self.idle_wait * 2)
                continue
            except Exception:
                log.exception("the outbox could not be read; trying again shortly")
                sent = 0
            if storage_down:
                log.warning("storage is back; the outbox goes on")
                storage_down = False
            if sent == 0:
                self._nudged.clear()
                try:
                    await asyncio.wait_for(self._nudged.wait(), self.idle_wait)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        async with self.sessions.begin() as session:
            claimed = await claim_due(session, self.clock.now(), self.batch, self.lease)
            jobs = [(row.id, row.chat_id, _as_send(row), row.edit_message_id) for row in claimed]
        if not jobs:
            return 0
        fates = await asyncio.gather(
            *(self._deliver(chat_id, send, edit) for _, chat_id, send, edit in jobs)
        )
        async with self.sessions.begin() as session:
            now = self.clock.now()
            unreachable: set[int] = set()
            for (row_id, _, _, _), (status, message_id, error) in zip(jobs, fates, strict=True):
                row = await session.get(Outgoing, row_id)
                if row is None:
                    continue
                row.attempts += 1
                row.claimed_until = None
                row.error = error
                if status == "retry" and row.attempts < MAX_ATTEMPTS:
                    row.due_at = now + timedelta(seconds=min(600, 5 * 2**row.attempts))
                    continue
                row.status = FAILED if status == "retry" else status
                if status == SENT:
                    row.sent_at, row.message_id = now, message_id
                elif status == UNREACHABLE:
                    unreachable.add(row.chat_id)
            for chat_id in unreachable:
                await resident_unreachable(session, chat_id, now)
        return len(jobs)

    async def _deliver(
        self, chat_id: int, send: Send, edit: int | None = None
    ) -> tuple[str, int | None, str | None]:
        try:
            if edit is not None:
                # An edit of a message sent before: already as wanted, or gone, is done.
                try:
                    await self.sender.edit(chat_id, Edit(edit, send.text, send.buttons))
                except Rejected as exc:
                    if not (exc.not_modified or exc.message_gone):
                        raise
                return SENT, edit, None
            return SENT, await self.sender.send(chat_id, send), None
        except Unreachable as exc:
            log.warning("chat %s is unreachable: %s", chat_id, exc)
            return UNREACHABLE, None, str(exc)[:300]
        except Transient as exc:
            return "retry", None, str(exc)[:300]
        except Rejected as exc:
            log.error("Telegram refused a message to chat %s: %s", chat_id, exc)
            return FAILED, None, str(exc)[:300]
        except DeliveryError as exc:
            return "retry", None, str(exc)[:300]


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]


def _as_send(row: Outgoing) -> Send:
    buttons = tuple(tuple(Button(text, data) for text, data in r) for r in row.buttons)
    file = None
    if row.file_name and row.file_content is not None:
        file = File(row.file_name, row.file_content, row.file_kind or "document")
    return Send(row.text, buttons=buttons, file=file)
