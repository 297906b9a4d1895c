"""Two `returnee run` processes long-polling one token: the second stands by with one line and
answers nobody; killed with `kill -9`, the first is replaced by the second within seconds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import (
    BOT_LOGS,
    BotLog,
    Launcher,
    TelegramUser,
    prepared_bot,
)
from tests.e2e.test_report import text

pytestmark = [pytest.mark.own_bot]
STANDING_BY = "another instance is polling this bot: standing by"


async def until_logged(log: BotLog, line: str, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if line in log.text():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"never logged {line!r}:\n{log.text()[-3000:]}")


async def test_a_second_poller_stands_by_then_takes_over_when_the_first_is_killed(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> None:
    first = await prepared_bot(emulator, database_url, tmp_path, framework=framework)
    second_log = BotLog(tmp_path / "second.log")
    second = Launcher.get().spawn(["run"], first.env, second_log.path)
    try:
        await until_logged(second_log, STANDING_BY)
        BOT_LOGS[emulator.base_url].append(second_log)
        user = TelegramUser(emulator, user_id=7501)
        for _ in range(5):
            await user.say("/start")
        answers = [m for m in await emulator.messages(user.user_id) if m["from_bot"]]
        assert len(answers) == 5  # one answer each, from one process
        assert "bot started" not in second_log.text()
        assert second_log.text().count(STANDING_BY) == 1
        assert "Conflict" not in first.log.text() + second_log.text()

        assert first.process is not None
        first.process.kill()  # kill -9: no goodbye, its lock goes with its connection
        took = await until_logged(second_log, "took over the", timeout=30)
        assert took < 10
        await user.press("English")
        assert "agree" in text(user.last)
    finally:
        second.kill()
        second.wait()
