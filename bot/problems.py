"""What went wrong, in one line an operator can act on: the commands' failures to start.

A command that cannot start (the database or the Bot API unreachable, a bad token, a port in
use) says why in one line and exits 2; a traceback is for the bot's own bugs."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError


def sqlite_folder_missing(url: str) -> Path | None:
    """The folder a SQLite file would be in, when it does not exist (SQLite cannot make it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    folder = Path(parsed.database).expanduser().parent
    return None if folder.is_dir() else folder


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0]


def _library(exc: BaseException) -> str:
    return type(exc).__module__.split(".")[0]


def explain(exc: BaseException) -> str | None:
    """One line for a failure the operator can fix, or None for a bug (keep its traceback)."""
    for cause in _chain(exc):
        if isinstance(cause, OperationalError | DBAPIError):
            return f"DATABASE_URL: cannot open the database ({first_line(cause)})"
        name = type(cause).__name__
        if _library(cause) in ("aiogram", "telegram"):
            if name in ("TelegramUnauthorizedError", "InvalidToken") or "Unauthorized" in str(
                cause
            ):
                return "BOT_TOKEN: the Bot API refused the token (Unauthorized); check BOT_TOKEN"
            if name in ("TelegramNetworkError", "NetworkError", "TimedOut"):
                return f"BOT_API_URL: cannot reach the Bot API ({first_line(cause)})"
            if name in ("TelegramConflictError", "Conflict"):
                return f"another process uses this token ({first_line(cause)})"
        if isinstance(cause, OverflowError) and "port" in str(cause):
            return f"--port: {first_line(cause)}"
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return f"the port is in use by another program ({first_line(cause)})"
        if _library(cause) == "aiohttp" and name.startswith("ClientConnector"):
            return f"cannot connect: {first_line(cause)} (is the emulator or Bot API running?)"
        if isinstance(cause, ConnectionError | TimeoutError):
            return f"cannot connect: {first_line(cause)}"
    return None
