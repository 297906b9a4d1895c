"""A grid worker joins, and the alert for a resident of their grid reaches them through the
running bot (scheduler → outbox → sender), and is acknowledged."""

from __future__ import annotations

import asyncio
import sys

from emulator import EmulatorClient
from tests.e2e.conftest import ROOT, BotProcess, TelegramUser
from tests.e2e.test_report import consent_and_identity, text


async def invite_code(bot_process: BotProcess, grid: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "admin",
        "invite",
        "--area",
        grid,
        "--role",
        "grid",
        env=bot_process.env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0
    return output.decode().splitlines()[0].removeprefix("/join ").strip()


async def test_a_fever_at_arrival_reaches_the_grid_worker_who_acknowledges(
    bot_process: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    worker = TelegramUser(emulator, user_id=8001, language_code="en")
    code = await invite_code(bot_process, "620201001001001")
    await worker.say(f"/join {code}")
    assert "Welcome, grid worker of" in text(worker.last)

    await consent_and_identity(user)
    await user.press("I have just arrived")
    await user.say("南京")
    await user.press("Train")
    await user.say("G7001")
    await user.press("No more places")
    await user.press("No one more")
    await user.press("Something to report")
    await user.say("38.2")
    await user.press("Cough")
    await user.press("Done")
    await user.press("Green")
    await user.press("No test")
    await user.press("Submit")
    assert "fever clinic" in text(user.last)

    # The alert job runs every 20 s; the alert must be there within a minute.
    alert = (await emulator.wait(worker.user_id, after=worker.seen, count=1, timeout=60))[-1]
    assert "fever clinic" in text(alert) and "Li Na" in text(alert)
    worker.transcript.append(alert)
    await worker.press("Acknowledge")
    assert "acknowledged" in text(worker.last)
