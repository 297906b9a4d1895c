"""Logs never carry a phone or an ID number: not in messages, not in SQL echoed with its
parameters, not in a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.logs import TALKATIVE, configure, mask
from tests.handlers.test_report import domestic_journey, up_to_origin
from tests.support import Person

PHONE, ID_NUMBER = "13812345678", "11010519491231002X"


@pytest.fixture
def bot_logging() -> Iterator[None]:
    """The logging set-up as the test found it, afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for name in ("sqlalchemy.engine", *TALKATIVE):
        logging.getLogger(name).setLevel(logging.NOTSET)
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("areas", "bot_logging")
async def test_a_whole_report_logs_no_phone_or_id_number(
    resident: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bot's own set-up (to stderr, captured here) at its most talkative, and SQL
    # statements logged as someone debugging might ask for.
    configure("DEBUG")
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    await up_to_origin(resident)  # shares 8613812345678, types 11010519491231002X
    await domestic_journey(resident)
    await resident.press("Submit")
    assert "Your report is filed" in "\n".join(resident.texts())
    try:
        raise ValueError(f"cannot save {PHONE}, {ID_NUMBER}, E12345678")
    except ValueError:
        logging.getLogger("returnee").exception("failed for user %s", resident.user_id)
    logged = capsys.readouterr().err
    # The statements were logged without their parameters: no name, address or number.
    assert "INSERT INTO residents" in logged and "SQL parameters hidden" in logged
    for personal in (PHONE, ID_NUMBER, "E12345678", "Li Na", "13栋2单元501"):
        assert personal not in logged, personal
    assert "failed for user 1001" in logged and "ValueError: cannot save ***78" in logged


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("phone +8613812345678", "phone ***78"),
        ("tel 138 1234 5678", "tel ***78"),
        ("id 11010519491231002X.", "id ***2X."),
        ("passport E12345678", "passport ***78"),
        ("user 1001 chat 7777777777", "user 1001 chat 7777777777"),  # Telegram ids stay
        ("train G1234, plate 粤A12345", "train G1234, plate 粤A12345"),
        # Any separator, brackets, letters glued to the number.
        ("call 138.1234.5678 now", "call ***78 now"),
        ("call (138)12345678", "call ***78"),
        ("call （138）1234-5678", "call ***78"),
        ("tel13812345678", "tel***78"),
        ("ID11010519491231002X", "***2X"),
        ("电话13812345678，身份证11010519491231002x", "电话***78，身份证***2x"),
        ("138_1234_5678", "***78"),
        ("138/1234/5678", "***78"),
        ("138 - 1234 - 5678", "***78"),
        ("+86 138 1234 5678", "***78"),
        ("8613812345678", "***78"),
        # Hong Kong, Macau and further afield; a Hong Kong ID card and a home-return permit.
        ("+852 9123 4567", "***67"),
        ("9123-4567", "***67"),
        ("(852) 9123 4567", "***67"),
        ("+853 6612 3456", "***56"),
        ("+1 (415) 555-0123", "***23"),
        ("+44 20 7946 0958", "***58"),
        ("0044 20 7946 0958", "***58"),
        ("HKID A123456(7)", "HKID ***(7)"),
        ("permit H12345678", "permit ***78"),
        # Not personal: dates, times, server addresses, measures, short numbers.
        ("at 2026-07-01 10:00:00 (2026/7/1)", "at 2026-07-01 10:00:00 (2026/7/1)"),
        ("from 127.0.0.1:8443 in 0.0123456 s", "from 127.0.0.1:8443 in 0.0123456 s"),
        ("36.5 and 37.3, 3 of 12", "36.5 and 37.3, 3 of 12"),
    ],
)
def test_what_is_masked(text: str, shown: str) -> None:
    assert mask(text) == shown


async def test_a_failing_statement_does_not_quote_its_values(engine: AsyncEngine) -> None:
    """An error's message (which ends up in a log, or a traceback) names the statement only."""
    with pytest.raises(DBAPIError) as failed:
        async with engine.connect() as connection:
            await connection.execute(
                text("SELECT * FROM no_such_table WHERE name = :name"), {"name": "Li Na"}
            )
    assert "no_such_table" in str(failed.value) and "Li Na" not in str(failed.value)


@pytest.mark.usefixtures("bot_logging")
def test_bot_api_requests_and_sql_are_not_logged_even_at_debug() -> None:
    """aiogram's and python-telegram-bot's request logs carry the texts sent; SQLAlchemy's
    and aiosqlite's the statements' values."""
    configure("DEBUG")
    for name in (*TALKATIVE, "sqlalchemy.engine.Engine", "telegram.Bot"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    # The libraries' own lines that say which runs are kept.
    assert logging.getLogger("telegram.ext.Application").isEnabledFor(logging.INFO)
    assert logging.getLogger("aiogram.dispatcher").isEnabledFor(logging.INFO)


@pytest.mark.usefixtures("bot_logging")
def test_a_cancellation_is_logged_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """SQLAlchemy's pool logs a connection whose closing was cut off by a stop with its whole
    traceback (the CI run of 2026-12-01 failed on one): here it is one line, no traceback."""
    import asyncio

    configure("INFO")
    try:
        raise asyncio.CancelledError
    except asyncio.CancelledError:
        logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool").error(
            "Exception closing connection %r", "<connection>", exc_info=True
        )
    try:
        raise ValueError("a real failure")
    except ValueError:
        logging.getLogger("bot.scheduler").exception("job x failed")
    lines = capsys.readouterr().err.splitlines()
    assert "INFO" in lines[0] and "Exception closing connection" in lines[0]
    assert "cut off by the shutdown" in lines[0]
    assert "CancelledError" not in "\n".join(lines)
    # A real error keeps its traceback.
    assert "ERROR bot.scheduler: job x failed" in lines[1] and "Traceback" in lines[2]
