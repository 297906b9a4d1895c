"""Locks an instance holds while it lives, so that one of several does a thing: long-poll a
token (two pollers would both receive updates), or send the outbox's bulk (Telegram's 30
messages/s are per token, for all instances together).

On PostgreSQL a session advisory lock on a connection of its own: the server lets it go the
moment the holder's connection ends, `kill -9` included, and another instance takes it at its
next try. On SQLite (one machine) an exclusive `flock` on a file beside the database, which
the kernel lets go when the process ends."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
STORAGE_ERRORS = (OperationalError, DBAPIError, OSError)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class InstanceLock:
    """`await take()` → True if this instance holds `name` now (it keeps it until `release`
    or its end); False if another instance does."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._connection: AsyncConnection | None = None
        self._file: int | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    async def take(self) -> bool:
        if self.held:
            return await self._still_held()
        if self.engine.dialect.name == "postgresql":
            return await self._take_advisory()
        return self._take_file()

    async def _take_advisory(self) -> bool:
        connection = await self.engine.connect()
        try:
            taken = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.name)}
            )
            # Not inside a transaction: the lock is the session's, not a transaction's.
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def _still_held(self) -> bool:
        if self._connection is None:
            return True  # a file lock lasts as long as the process
        try:
            await self._connection.scalar(text("SELECT 1"))
            await self._connection.commit()
            return True
        except STORAGE_ERRORS:
            # The connection went, and the lock with it: another instance may hold it now.
            # The caller sees the storage error; its next `take` tries afresh.
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                await connection.invalidate()
            raise

    def _take_file(self) -> bool:
        database = make_url(str(self.engine.url)).database or "returnee.db"
        safe = "".join(c if c.isalnum() else "-" for c in self.name)
        path = Path(f"{database}.{safe}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._file = fd
        return True

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                # The connection goes back to the pool, so the lock is let go explicitly.
                await self._connection.scalar(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)}
                )
                await self._connection.commit()
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None
        if self._file is not None:
            os.close(self._file)
            self._file = None


async def stand_by(lock: InstanceLock, waiting: str, every: float = 2.0) -> None:
    """Returns once `lock` is held; while another instance holds it, says `waiting` once."""
    said = False
    while True:
        try:
            if await lock.take():
                if said:
                    log.warning("took over the %s lock: this instance goes on", lock.name)
                return
        except STORAGE_ERRORS as exc:
            log.warning("cannot take the %s lock (%s); trying again", lock.name, exc)
        if not said:
            log.warning(waiting)
            said = True
        await asyncio.sleep(every)
