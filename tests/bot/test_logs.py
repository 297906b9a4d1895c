"""Logs never carry a phone or an ID number: not in messages, not in SQL echoed with its
parameters, not in a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure, mask
from tests.handlers.test_report import domestic_journey, up_to_origin
from tests.support import Person

PHONE, ID_NUMBER = "13812345678", "11010519491231002X"


@pytest.fixture
def bot_logging() -> Iterator[None]:
    """The logging set-up as the test found it, afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("areas", "bot_logging")
async def test_a_whole_report_logs_no_phone_or_id_number(
    resident: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bot's own set-up (to stderr, captured here), every SQL statement logged with its
    # parameters.
    configure("DEBUG")
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    await up_to_origin(resident)  # shares 8613812345678, types 11010519491231002X
    await domestic_journey(resident)
    await resident.press("Submit")
    assert "Your report is filed" in "\n".join(resident.texts())
    try:
        raise ValueError(f"cannot save {PHONE} / {ID_NUMBER} / E12345678")
    except ValueError:
        logging.getLogger("returnee").exception("failed for user %s", resident.user_id)
    logged = capsys.readouterr().err
    # The statements were logged with their parameters, and the numbers masked in them.
    assert "INSERT INTO residents" in logged and "***78" in logged and "***2X" in logged
    assert PHONE not in logged and ID_NUMBER not in logged and "E12345678" not in logged
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
    ],
)
def test_what_is_masked(text: str, shown: str) -> None:
    assert mask(text) == shown
