"""Logging set-up: one line per record, never a phone or ID number in the logs, and never the
parameters of an SQL statement (names, addresses, answers) at any level."""

from __future__ import annotations

import asyncio
import logging
import re

# A number as people write it: an optional +, digits with separators of any kind between them
# (spaces, - . _ / · and brackets: 138.1234.5678, (138)12345678, +1 (415) 555-0123), and an ID
# number's trailing X. Whether it is masked is decided by `_masked` (a date or an address of
# a server is not a phone).
_SEPARATORS = r"[ \t\u00a0\-._/()·\u2010-\u2015\u3000\uff08\uff09\uff0d]"
# One or two letters before it are part of it (E12345678, a passport); a number right after
# "10:" is the rest of a time.
_NUMBER = re.compile(
    rf"(?<![\d+])(?<!\d:)(?:(?<![A-Za-z])[A-Za-z]{{1,2}})?"
    rf"\+?[(（]?\d(?:{_SEPARATORS}{{0,3}}\d)*(?:[Xx](?![A-Za-z]))?"
)
_DATE = re.compile(r"^(?:19|20)\d\d[-/.]\d\d?[-/.]\d\d?\b")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DECIMAL = re.compile(r"^\d+\.\d+$")


class MaskNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        # A traceback quotes the failing statement's parameters: masked the same way.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class CancelledInOneLine(logging.Filter):
    """A record carrying a cancellation (SQLAlchemy's pool closing a connection while the
    process stops, say) is one line: being stopped is not an error to trace back."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            record.msg, record.args = f"{record.getMessage()} (cut off by the shutdown)", None
            record.exc_info, record.exc_text, record.levelno = None, None, logging.INFO
            record.levelname = "INFO"
        return True


def mask(text: str) -> str:
    """The text with every phone, ID, passport or permit number in it masked ("***78")."""
    return _NUMBER.sub(lambda match: _masked(match, text), text)


def _masked(match: re.Match[str], text: str) -> str:
    found = match.group()
    digits = re.sub(r"\D", "", found)
    if len(digits) < 7:
        return found
    # Glued to letters: tel13812345678, ID11010519491231002X, E12345678, 电话13812345678.
    glued = found[0].isalpha() or (match.start() > 0 and text[match.start() - 1].isalpha())
    plain = found.isdigit()
    if not glued and not found.startswith("+"):
        # Telegram user and chat ids are harmless numbers of at most 10 digits, written plain;
        # so are dates, server addresses and measures (2026-07-01 10, 127.0.0.1, 0.0123456).
        if plain and len(digits) <= 10:
            return found
        stripped = found.strip("(（）). -_")
        if _DATE.match(stripped) or _IPV4.match(stripped):
            return found
        if _DECIMAL.match(stripped) and len(digits) <= 10:
            return found
    end = found.rstrip("(（). -_")
    return "***" + end[-2:] + found[len(end) :]


# Loggers that would write personal data even at DEBUG: SQL statements (the engines hide
# their parameters too, models/db.py), aiosqlite's calls with their arguments, and the Bot
# API requests with the texts sent (names, addresses) of aiogram and python-telegram-bot.
TALKATIVE = (
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "aiogram.client",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.request",
)


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(CancelledInOneLine())
    handler.addFilter(MaskNumbers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiogram.event", "httpx", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for talkative in TALKATIVE:
        logging.getLogger(talkative).setLevel(max(logging.WARNING, root.level))
