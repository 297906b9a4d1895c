"""Logging set-up: one line per record, and never a phone or ID number in the logs."""

from __future__ import annotations

import logging
import re

# Runs of 7+ digits (phones, ID numbers, also with a trailing X) are masked in every record,
# and so are passport-like numbers (one or two letters, then 7 digits or more).
_LONG_NUMBER = re.compile(r"(?<![\w])(?:\+?\d[\d -]{5,}\d[Xx]?|[A-Za-z]{1,2}\d{7,})(?![\w])")


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


def mask(text: str) -> str:
    return _LONG_NUMBER.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    found = match.group()
    digits = re.sub(r"\D", "", found)
    # Telegram user ids are numbers too, and harmless; keep those of at most 10 digits.
    if found[0].isdigit() and len(digits) <= 10:
        return found
    return "***" + found[-2:]


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskNumbers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiogram.event", "httpx", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
