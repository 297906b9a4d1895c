"""A grid worker joins, and the alert for a resident of their grid reaches them through the
running bot (scheduler → outbox → sender), and is acknowledged. On both runners: the one
end-to-end test of the outbox going out through each runner's transport."""

from __future__ import annotations

from emulator import EmulatorClient
from tests.e2e.conftest import BotProcess, TelegramUser, new_user, returnee
from tests.e2e.test_report import consent_and_identity, text


async def invite_code(bot: BotProcess, grid: str) -> str:
    code, output = await returnee(
        ["admin", "invite", "--area", grid, "--role", "grid"], bot.env, bot.log_path.parent
    )
    assert code == 0
    return output.splitlines()[0].removeprefix("/join ").strip()


async def test_a_fever_at_arrival_reaches_the_grid_worker_who_acknowledges(
    bot: BotProcess, user: TelegramUser, emulator: EmulatorClient
) -> None:
    worker = new_user(emulator)
    code = await invite_code(bot, "620201001001001")
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
