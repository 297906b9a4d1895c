"""Logging set-up: one line per record, and never a phone or ID number in the logs."""

from __future__ import annotations

import logging
import re

# Runs of 7+ digits (phones, ID numbers, also with a trailing X) are masked in every record.
_LONG_NUMBER = re.compile(r"(?<![\w])\+?\d[\d -]{5,}\d[Xx]?(?![\w])")


class MaskNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _LONG_NUMBER.sub(_mask, message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _mask(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    # Telegram user ids are numbers too, and harmless; keep those of at most 10 digits.
    if len(digits) <= 10 and not match.group().startswith("+"):
        return match.group()
    return "***" + match.group()[-2:]


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskNumbers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiogram.event", "httpx", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
