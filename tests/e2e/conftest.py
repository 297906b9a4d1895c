"""End-to-end: the real `returnee run` process against the emulator, over HTTP, as Telegram
would drive it. Tests act as users through the emulator's control API.

Every test here runs once per framework (`[aiogram]`, `[ptb]`) unless marked otherwise: the
`framework` fixture is autouse and parametrised, and its value is the bot process's
BOT_FRAMEWORK."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulator import ChatMessage, EmulatorClient

ROOT = Path(__file__).parents[2]
TOKEN = "4242424242:e2e-test-token-not-a-secret-0000"
DEMO_AREAS = ROOT / "bot" / "demo_data" / "areas.csv"
FRAMEWORKS = ("aiogram", "ptb")

# The logs of the bot processes of the running test: each writes "update N handled" (or
# ignored / failed) once its answer to update N is out.
BOT_LOGS: list[Path] = []


def update_handled(update_id: int) -> bool:
    pattern = re.compile(rf"\bupdate {update_id} (handled|ignored|failed)\b")
    return any(
        path.exists() and pattern.search(path.read_text(errors="replace")) for path in BOT_LOGS
    )


@pytest.fixture(autouse=True)
def _forget_bot_logs() -> Iterator[None]:
    yield
    BOT_LOGS.clear()


@pytest.fixture(autouse=True, params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    """The library the bot process runs on; every end-to-end test runs on each, unless it is
    marked `@pytest.mark.frameworks("aiogram")`: a feature of the core, not of a runner, is
    proven once and the suite stays short."""
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in list(items):
        marker = item.get_closest_marker("frameworks")
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None or "framework" not in callspec.params:
            continue
        if callspec.params["framework"] not in marker.args:
            items.remove(item)
            config.hook.pytest_deselected(items=[item])


@dataclass
class BotProcess:
    """`returnee run` in a child process, started, stopped and restarted by the test."""

    env: dict[str, str]
    log_path: Path
    emulator: EmulatorClient
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    async def start(self) -> None:
        if self.log_path not in BOT_LOGS:
            BOT_LOGS.append(self.log_path)
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--upgrade",
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        self.starts += 1
        # Up once it takes updates and has started: it deletes (polling) or sets (webhook) its
        # webhook, and logs "bot started" once its command menu and jobs are set up (the two
        # come in either order); anything a user sends before its first poll waits in the
        # emulator's queue.
        deadline = time.monotonic() + 60
        seen, started = await self._startups(), self._started_lines()
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"the bot exited:\n{self.output()}")
            if await self._startups() > seen and self._started_lines() > started:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the bot did not start:\n{self.output()}")

    def _started_lines(self) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count("bot.service: bot started")

    async def _startups(self) -> int:
        entries = await self.emulator.log(method="deleteWebhook")
        entries += await self.emulator.log(method="setWebhook")
        return len(entries)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(f"the bot did not stop on SIGTERM:\n{self.output()}") from None
        return self.process.returncode or 0

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


async def prepared_bot(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, *, framework: str, **settings: str
) -> BotProcess:
    """A migrated database with the demo areas, and the bot process started on it with
    BOT_FRAMEWORK=`framework`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEBHOOK_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        BOT_API_URL=emulator.base_url,
        BOT_FRAMEWORK=framework,
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
        **settings,
    )
    for command in (["db", "upgrade"], ["admin", "areas", "import", str(DEMO_AREAS)]):
        prepared = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *command,
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await prepared.communicate()
        assert prepared.returncode == 0, output.decode()
    process = BotProcess(env, tmp_path / "bot.log", emulator)
    await process.start()
    return process


@pytest.fixture
async def bot_process(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> AsyncIterator[BotProcess]:
    process = await prepared_bot(emulator, database_url, tmp_path, framework=framework)
    yield process
    with contextlib.suppress(AssertionError):
        await process.stop()


@dataclass
class TelegramUser:
    """A person in the emulator: sends, presses, and reads what the bot showed them."""

    emulator: EmulatorClient
    user_id: int
    language_code: str = "en"
    seen: int = 0
    transcript: list[ChatMessage] = field(default_factory=list)
    # For `receive`: messages dated before `since` (a Unix time) are old news; `claimed` ones
    # were received already.
    since: int = 0
    claimed: set[int] = field(default_factory=set)

    async def say(self, text: str) -> list[ChatMessage]:
        before = await self._snapshot()
        sent = await self.emulator.send(self.user_id, text, language_code=self.language_code)
        return await self._answer(before, sent["update_id"])

    async def press(self, label: str) -> list[ChatMessage]:
        message, data = self._button(label)
        before = await self._snapshot()
        pressed = await self.emulator.press(self.user_id, message["message_id"], data=data)
        return await self._answer(before, pressed["update_id"])

    async def share_contact(self, phone: str) -> list[ChatMessage]:
        before = await self._snapshot()
        sent = await self.emulator.contact(self.user_id, phone)
        return await self._answer(before, sent["update_id"])

    async def send_other(self, kind: Any) -> list[ChatMessage]:
        before = await self._snapshot()
        sent = await self.emulator.other(self.user_id, kind)
        return await self._answer(before, sent["update_id"])

    async def receive(self, contains: str, timeout: float = 45) -> ChatMessage:
        """Waits for a bot message containing `contains`, dated at or after `since` and not
        received before: what the bot sends by itself, from its jobs and the outbox (their
        order among themselves is not fixed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = await self._bot_messages()
            for message in messages:
                if (
                    message["message_id"] not in self.claimed
                    and message["date"] >= self.since
                    and contains in _text(message)
                ):
                    self.claimed.add(message["message_id"])
                    self.transcript = messages
                    self.seen = max(self.seen, messages[-1]["message_id"])
                    return message
            await asyncio.sleep(0.1)
        recent = [_text(m) for m in await self._bot_messages() if m["date"] >= self.since]
        raise AssertionError(f"user {self.user_id} got no {contains!r}; since then: {recent}")

    async def received(self, contains: str) -> list[ChatMessage]:
        """Every bot message so far containing `contains`."""
        return [m for m in await self._bot_messages() if contains in _text(m)]

    @property
    def last(self) -> ChatMessage:
        return self.transcript[-1]

    def labels(self, message: ChatMessage | None = None) -> list[str]:
        markup = (message or self.last).get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [button["text"] for row in rows for button in row]

    def _button(self, label: str) -> tuple[ChatMessage, str]:
        for message in reversed(self.transcript):
            markup = message.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        return message, button["callback_data"]
        raise AssertionError(f"no button {label!r} on screen")

    async def _bot_messages(self) -> list[ChatMessage]:
        return [m for m in await self.emulator.messages(self.user_id) if m["from_bot"]]

    async def _snapshot(self) -> list[tuple[int, int]]:
        """The bot's messages with their edits, and (as -1) how many presses it answered:
        a refused press may change nothing but the little notice over the chat."""
        answered = len(await self.emulator.callbacks())
        messages = [(m["message_id"], m["edit_count"]) for m in await self._bot_messages()]
        return [*messages, (-1, answered)]

    async def _answer(
        self, before: list[tuple[int, int]], update_id: int, quiet: float = 1.2
    ) -> list[ChatMessage]:
        """What the bot shows in answer (new messages and edits): once the bot has logged the
        update as handled (its replies are out by then) and the chat has fallen quiet.

        Quiet means longer than the 1 s Telegram asks between messages to one chat, which the
        bot's sender keeps once a chat's short burst is used up: it catches what the outbox
        sends to the same chat right after. Silence alone is no proof: under load the bot can
        take longer than `quiet` between two replies to one update."""
        deadline = time.monotonic() + 30
        last, changed_at, handled = before, time.monotonic(), False
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now = await self._snapshot()
            if now != last:
                last, changed_at = now, time.monotonic()
            elif not handled:
                handled = update_handled(update_id)
                if handled:
                    changed_at = max(changed_at, time.monotonic() - quiet / 2)
            elif time.monotonic() - changed_at >= quiet:
                break
        else:
            raise AssertionError(f"the bot did not answer user {self.user_id} in time")
        messages = await self._bot_messages()
        self.transcript = messages
        new = [m for m in messages if m["message_id"] > self.seen]
        if messages:
            self.seen = max(self.seen, messages[-1]["message_id"])
        return new


def _text(message: ChatMessage) -> str:
    return str(message.get("text") or message.get("caption") or "")


@pytest.fixture
def user(emulator: EmulatorClient) -> TelegramUser:
    return TelegramUser(emulator, user_id=7001)
