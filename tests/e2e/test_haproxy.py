"""Several machines, as docs/deployment.md sets them up: three `returnee run` instances in
webhook mode behind HAProxy on one PostgreSQL, the emulator posting every update to HAProxy.
In the middle of a round of prompts the instance sending the outbox is killed with `kill -9`:
another takes the outbox over, every prompt arrives (twice at most for those in flight at
that instant), every update sent before and after the kill is answered once, and the
instances keep Telegram's limits together (the emulator in strict mode counts the 429s)."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.delivery import Limits
from bot.outbox_worker import FLUSH_SIZE
from emulator import EmulatorClient
from models.db import make_engine, make_sessions
from models.outbox import enqueue
from tests.conftest import POSTGRES
from tests.e2e.conftest import (
    BOT_LOGS,
    ROOT,
    TOKEN,
    BotProcess,
    TelegramUser,
    bot_env,
    returnee,
)
from tests.e2e.test_instances import until_logged
from tests.e2e.test_kill_mid_round import round_copies

pytestmark = [pytest.mark.frameworks("aiogram"), pytest.mark.own_bot]
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CHATS = range(8301, 8601)  # 300 prompts: 10 s at Telegram's 30/s
HOOK = "/telegram/hook"
SECRET = "haproxy-e2e-secret-of-at-least-32-characters"
STANDING_BY = "another instance sends the outbox: standing by"
TAKEN_OVER = "this instance sends the outbox now"
_HANDLED = re.compile(r"\bupdate (\d+) handled\b")


def haproxy_config(listen: str, servers: list[str]) -> str:
    """The configuration docs/deployment.md shows, for `listen` and the instances' `servers`
    (host:port), without TLS (HAProxy ends it in production: `bind :443 ssl crt …`)."""
    lines = "\n".join(
        f"    server {chr(ord('a') + i)} {server} check" for i, server in enumerate(servers)
    )
    return f"""\
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client  30s
    timeout server  30s
    # An update whose instance died before answering is posted to another one: handling is
    # idempotent (handled_updates), so a retried update changes nothing twice.
    retries 2
    option redispatch
    retry-on conn-failure empty-response response-timeout

frontend telegram
    bind {listen}
    # Only Telegram's webhook path; everything else is refused at the edge.
    acl hook path {HOOK}
    http-request deny unless hook
    default_backend returnee

backend returnee
    balance roundrobin
    # GET on the webhook path answers 405: the instance is up.
    option httpchk GET {HOOK}
    http-check expect status 405
    default-server inter 1s fall 2 rise 2
{lines}
"""


def start_haproxy(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """HAProxy in the foreground (`-db`) on the test's own configuration: no system service."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [HAPROXY, "-db", "-f", str(config)], stdout=output, stderr=subprocess.STDOUT
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def until_taken_over(survivors: list[BotProcess], killed: float) -> float:
    """Seconds from the kill until one of the survivors says it sends the outbox now."""
    deadline = killed + 30
    while time.monotonic() < deadline:
        if any(TAKEN_OVER in bot.log.text() for bot in survivors):
            return time.monotonic() - killed
        await asyncio.sleep(0.05)
    raise AssertionError("no instance took the outbox over")


def handled_counts(bots: list[BotProcess]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for bot in bots:
        counts.update(int(n) for n in _HANDLED.findall(bot.log.text()))
    return counts


async def test_the_docs_show_the_config_the_test_uses() -> None:
    example = haproxy_config(
        "127.0.0.1:8080", ["127.0.0.1:8443", "127.0.0.1:8444", "127.0.0.1:8445"]
    )
    assert example in (ROOT / "docs" / "deployment.md").read_text()


@pytest.mark.skipif(not POSTGRES, reason="several instances share PostgreSQL, not SQLite")
@pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="haproxy is not installed (.ci/run installs it)"
)
async def test_three_instances_behind_haproxy_one_killed_mid_round(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> None:
    # The round's chats exist before any bot is up; their first messages are confirmed, so
    # no instance is asked to answer them.
    await emulator.set_limits(False)
    for chat in CHATS:
        await emulator.send(chat, "hi")
    pending = await emulator.updates()
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{emulator.base_url}/bot{TOKEN}/getUpdates",
            params={"offset": str(max(u["update_id"] for u in pending) + 1), "timeout": "0"},
        ) as response,
    ):
        assert response.status == 200
    # Telegram's limits as Telegram states them, no burst: 30 in any one second, 1/s a chat.
    await emulator.set_limits(True, strict=True, global_rate=30, chat_rate=1)

    listen = f"127.0.0.1:{free_port()}"
    ports = [free_port() for _ in range(3)]
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(listen, [f"127.0.0.1:{port}" for port in ports]))
    proxy = start_haproxy(config, tmp_path / "haproxy.log")
    bots: list[BotProcess] = []
    try:
        env = bot_env(
            emulator.base_url,
            database_url,
            framework,
            WEBHOOK_URL=f"http://{listen}{HOOK}",
            WEBHOOK_SECRET=SECRET,
            CHAT_RATE="1",  # Telegram's pace, which the emulator holds them to here
        )
        code, output = await returnee(["db", "upgrade"], env, tmp_path)
        assert code == 0, output
        for i, port in enumerate(ports):
            bot = BotProcess(
                {**env, "WEBHOOK_LISTEN": f"127.0.0.1:{port}"},
                tmp_path / f"instance-{i}.log",
                emulator.base_url,
            )
            await bot.start()
            bots.append(bot)
        # The first one up sends the outbox; the others stand by, one line each.
        for bot in bots[1:]:
            await until_logged(bot.log, STANDING_BY)
        sender, survivors = bots[0], bots[1:]
        assert STANDING_BY not in sender.log.text()

        # The round: 300 prompts due now (the bots' clock is the emulator's).
        now = await emulator.now()
        engine = make_engine(database_url)
        try:
            async with make_sessions(engine).begin() as session:
                for chat in CHATS:
                    await enqueue(
                        session,
                        chat_id=chat,
                        text=f"Round prompt {chat}",
                        purpose="checkin",
                        now=now,
                    )
        finally:
            await engine.dispose()

        async def delivered(at_least: int) -> bool:
            return sum((await round_copies(emulator)).values()) >= at_least

        # Residents write while the round goes out: each update reaches one instance or another.
        users = [TelegramUser(emulator, user_id=8701 + i) for i in range(16)]
        for user in users[:8]:
            await user.say("/start")
        await until(lambda: delivered(80), "a third of the round delivered")
        assert sender.process is not None
        sender.process.kill()  # kill -9: its connections, and the outbox's lock, go with it
        killed = time.monotonic()
        killed_at = len(await round_copies(emulator))
        assert killed_at < len(CHATS), "the round was over before the kill"
        # HAProxy still counts the dead instance in for a second or two: what it posts there
        # is refused and goes to another one.
        for user in users[8:]:
            await user.say("/start")
        took = await until_taken_over(survivors, killed)
        assert took < 10
        # What the dead instance had claimed and not sent comes back after its lease (2
        # minutes of the bots' clock, which is the emulator's).
        await emulator.advance(timedelta(minutes=3))

        async def everyone_prompted() -> bool:
            return set(await round_copies(emulator)) == set(CHATS)

        await until(everyone_prompted, "every prompt delivered", 90)
    finally:
        for bot in bots:
            bot.stop_now()
        proxy.terminate()
        proxy.wait(10)
        BOT_LOGS.pop(emulator.base_url, None)

    copies = await round_copies(emulator)
    assert set(copies) == set(CHATS), "a prompt was lost"
    assert max(copies.values()) <= 2
    twice = sum(1 for n in copies.values() if n > 1)
    assert twice <= Limits().bulk_in_flight + FLUSH_SIZE, twice
    # Every update answered once, by one instance.
    for user in users:
        answers = [m for m in await emulator.messages(user.user_id) if m["from_bot"]]
        assert len(answers) == 1, (user.user_id, answers)
    counts = handled_counts(bots)
    assert all(counts[u] == 1 for u in counts), counts
    # Together within Telegram's limits: the emulator refused (429) almost nothing, though
    # the replies of three instances went out beside the round (measured: 0–1 in ~330).
    log = await emulator.log(method="sendMessage")
    limited = sum(1 for entry in log if entry["status"] == 429)
    assert limited <= 0.01 * len(log), (limited, len(log))
