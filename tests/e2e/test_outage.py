"""The database goes away for 30 seconds under the running bot: it says "try again in a
minute", logs why, keeps what was saved, and recovers by itself.

The outage is made by a TCP proxy between the bot and the local PostgreSQL that drops every
connection and refuses new ones — what the bot sees of a stopped server — rather than by
stopping the server itself, which the rest of the suite (and CI) is using at that moment."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from emulator import EmulatorClient
from tests.conftest import POSTGRES
from tests.e2e.conftest import TelegramUser, prepared_bot
from tests.e2e.test_report import text

pytestmark = [
    pytest.mark.frameworks("aiogram"),
    pytest.mark.own_bot,
    pytest.mark.skipif(not POSTGRES, reason="the outage is of a PostgreSQL server"),
]
OUTAGE = 30.0


class Proxy:
    """Forwards a local port to PostgreSQL until `cut`; `restore` listens again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


async def test_the_database_gone_for_30_seconds(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> None:
    url = make_url(database_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    bot = await prepared_bot(emulator, proxied, tmp_path, framework=framework)
    user = TelegramUser(emulator, user_id=7001)
    try:
        await user.say("/start")
        await user.press("English")
        assert "agree" in text(user.last)

        await proxy.cut()
        down_at = time.monotonic()
        await user.press("I agree")
        assert "try again in a minute" in text(user.last)
        await user.say("/help")
        assert "try again in a minute" in text(user.last)
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))
        await proxy.start()

        # Back by itself: the answer given before the outage is still there, and the
        # question refused during it can be answered now.
        await user.press("I agree")
        assert "full name" in text(user.last).lower() or "name" in text(user.last).lower()
        assert bot.process is not None and bot.process.returncode is None
        # The outbox finds the database again on its own next try (every 2 s while it is down):
        # wait for its line rather than for a fixed time.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "storage is back" in bot.log.text():
                break
            await asyncio.sleep(0.1)
        log = bot.log_path.read_text(errors="replace")
        assert "storage unavailable for an update of user 7001" in log
        # Clearly: one line when the outbox loses the database and one when it is back, not a
        # traceback a second.
        assert log.count("storage unavailable, the outbox waits") == 1
        assert "storage is back" in log and "Traceback" not in log
    finally:
        await bot.stop()
        if proxy.server is not None:
            proxy.server.close()
