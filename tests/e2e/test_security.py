"""Personal data through the real bot process with DATA_KEY set and the most talkative
logging: a resident reports, answers a check-in and tests, is released, and has their data
deleted with /forget. Then neither the database's files nor the bot's log hold their phone or
ID number, anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from emulator import EmulatorClient
from models.crypto import new_key
from tests.e2e import test_checkins as checkins
from tests.e2e.conftest import BotProcess, TelegramUser, prepared_bot
from tests.e2e.test_checkins import SHARED_BOT, Timeline, answer_checkin, arrived_from_abroad
from tests.e2e.test_report import text

pytestmark = pytest.mark.frameworks("aiogram")
days = checkins.days  # the fixture
# As the resident typed and shared them (tests/e2e/test_report.py, consent_and_identity).
PHONE, ID_NUMBER = "13812345678", "11010519491231002X"


@pytest.fixture
async def guarded_bot(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> AsyncIterator[BotProcess]:
    process = await prepared_bot(
        emulator,
        database_url,
        tmp_path,
        framework=framework,
        **SHARED_BOT,
        DATA_KEY=new_key(),
        LOG_LEVEL="DEBUG",
    )
    yield process
    await process.stop()


@pytest.mark.own_bot
async def test_after_forget_no_file_or_log_holds_the_phone_or_id_number(
    guarded_bot: BotProcess, user: TelegramUser, days: Timeline
) -> None:
    days.people.append(user)
    await arrived_from_abroad(user)
    await days.go(1, 8)
    await user.receive("Time for your health check-in")
    await answer_checkin(user)
    assert "Recorded, thank you." in text(user.last)
    await days.go(1, 20)
    await user.receive("test result")
    await user.press("Negative")
    await days.go(7, 20)
    await user.receive("test result")
    await user.press("Negative")
    await days.go(8, 9)
    assert "released" in text(await user.receive("monitoring has ended"))

    await user.say("/forget")
    await user.press("Delete my data")
    assert "your data has been deleted" in text(user.last)

    logged = guarded_bot.log.text()
    assert "DEBUG" in logged  # the most talkative level, and still:
    assert PHONE not in logged and ID_NUMBER not in logged
    url = make_url(guarded_bot.database_url)
    if url.get_backend_name() != "sqlite":
        return  # PostgreSQL's files are the server's: its VACUUM is tested in tests/bot
    path = Path(url.database or "")
    files = sorted(path.parent.glob(path.name + "*"))
    assert path in files
    for file in files:
        content = file.read_bytes()
        assert PHONE.encode() not in content, file.name
        assert ID_NUMBER.encode() not in content, file.name
