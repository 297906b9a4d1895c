"""End-to-end: the real `returnee run` process against the emulator, over HTTP, as Telegram
would drive it. Tests act as users through the emulator's control API.

Two kinds of bot:

- `bot`: the module's shared bot, one process and one emulator per module and runner, started
  by the first test that asks for it. Its tests keep out of each other's way by their data:
  each has its own users (`user`, `new_user`) and, where a grid worker is involved, its own
  grid. A module sets `SHARED_BOT = {"POLICY": …}` for settings of its own.
- `bot_process`: the test's own bot on its own emulator and database, for a test that stops,
  restarts or reconfigures the bot (or breaks its emulator). Such a test may also call
  `prepared_bot` itself; it is then marked `@pytest.mark.own_bot` so its `emulator` is its own.

The emulators run in threads of their own, and the bots in child processes that no event loop
owns, so a bot started by one test outlives that test's event loop.

Tests wait for events, never for a fixed time: a user's send or press returns once the bot has
logged "update N handled" (which it logs only after its replies are out); what the bot sends
by itself (jobs, the outbox) is awaited with `receive`; a clock move waits until the bot logs
that its jobs caught up with it.

Every end-to-end test runs on both runners (`[aiogram]`, `[ptb]`) unless marked
`@pytest.mark.frameworks("aiogram")`: what depends on the runner (transport, polling, webhook,
files, errors) is proven on each, the core's behaviour once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from sqlalchemy import func, select

from emulator import STATE_KEY, ChatMessage, EmulatorClient, EmulatorTimeout, create_app
from models.db import make_engine
from models.outbox import PENDING, Outgoing
from tests.conftest import POSTGRES, fresh_database

ROOT = Path(__file__).parents[2]
TOKEN = "4242424242:e2e-test-token-not-a-secret-0000"
DEMO_AREAS = ROOT / "bot" / "demo_data" / "areas.csv"
FRAMEWORKS = ("aiogram", "ptb")
# How long a user waits for the bot to handle one update, and for a bot to start or stop:
# only a failing test waits that long, so they leave room for a machine busy with other work.
ANSWER_TIMEOUT = 90.0
START_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
# The bots' pace to one chat (CHAT_RATE): Telegram's 1 message a second would make every
# answer of a conversation wait about a second, most of the end-to-end tests' time. The
# emulators allow twice that, with a burst of 10, and refuse (429) what goes faster, so a bot
# that broke its pace is still caught, while the jitter of a busy machine between the bot's
# count and the emulator's is not (at a tenth of a second a message, 429s came from that
# alone with the two rates equal, and with twice the rate and Telegram's burst of 3: the
# emulator, a thread of the test process, counts a call when it gets to it). The several-instances test keeps Telegram's own
# figures (test_haproxy.py).
CHAT_RATE = 10.0
# Where every emulator's clock starts: a quiet morning hour in the bots' zone, hours away from
# the 20:00 slot and daily report.
ZONE = ZoneInfo("Asia/Shanghai")
START_AT = clock_time(10, 0)


def next_start_at() -> datetime:
    now = datetime.now(ZONE)
    start = datetime.combine(now.date(), START_AT, ZONE)
    return start if start > now else start + timedelta(days=1)


# --- the bots' logs ------------------------------------------------------------------------

_HANDLED = re.compile(rb"\bupdate (\d+) (?:handled|ignored|failed)\b")
_CAUGHT_UP = re.compile(rb"\bjobs caught up with the clock at (\S+)")


class BotLog:
    """What a bot process logged, read as it grows: which updates it finished with, and up to
    which time its jobs caught up with a moved clock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handled: set[int] = set()
        self.caught_up: datetime | None = None
        self._offset = 0
        self._rest = b""

    def read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        self._offset += len(data)
        lines = (self._rest + data).split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            if match := _HANDLED.search(line):
                self.handled.add(int(match.group(1)))
            elif match := _CAUGHT_UP.search(line):
                at = datetime.fromisoformat(match.group(1).decode())
                if self.caught_up is None or at > self.caught_up:
                    self.caught_up = at

    def text(self) -> str:
        return self.path.read_text(errors="replace") if self.path.exists() else ""


# The logs of the bots each emulator (by its address) serves, for the users of that emulator.
BOT_LOGS: dict[str, list[BotLog]] = {}


def _logs(api_url: str) -> list[BotLog]:
    logs = BOT_LOGS.get(api_url, [])
    for log in logs:
        log.read()
    return logs


def update_handled(api_url: str, update_id: int) -> bool:
    return any(update_id in log.handled for log in _logs(api_url))


async def wait_update_handled(api_url: str, update_id: int, who: str) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while not update_handled(api_url, update_id):
        if time.monotonic() > deadline:
            tails = "\n".join(log.text()[-3000:] for log in BOT_LOGS.get(api_url, []))
            raise AssertionError(
                f"the bot did not answer {who} in time (update {update_id}):\n{tails}"
            )
        await asyncio.sleep(0.02)


async def wait_caught_up(api_url: str, when: datetime, timeout: float = 120.0) -> None:
    """Until the bot behind the emulator has run its jobs at `when` or later after a clock
    move (it logs "jobs caught up with the clock at …" once they are done)."""
    deadline = time.monotonic() + timeout
    while True:
        if any(log.caught_up is not None and log.caught_up >= when for log in _logs(api_url)):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot's jobs did not catch up with the clock at {when}")
        await asyncio.sleep(0.05)


# --- emulators ------------------------------------------------------------------------------


class EmulatorServer:
    """The Bot API emulator serving in a thread of its own, so that it outlives any one
    test's event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="emulator", daemon=True)
        self.runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> EmulatorServer:
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        BOT_LOGS[self.url] = []
        return self

    async def _start(self) -> str:
        app = create_app(limits=True, chat_rate=2 * CHAT_RATE, chat_burst=10)
        # The bots follow this clock (CLOCK=emulator), set to the next START_AT in Shanghai:
        # what a test sees never depends on when it runs (the daily report at 20:00 and the
        # check-in slots would otherwise come and go with the time of day).
        state = app[STATE_KEY]
        state.clock_offset = next_start_at().timestamp() - time.time()
        self.runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    def stop(self) -> None:
        BOT_LOGS.pop(self.url, None)
        if self.runner is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


# --- processes -------------------------------------------------------------------------------


class Child:
    """A `returnee …` process forked by the launcher (tests/e2e/launcher.py): the part of
    subprocess.Popen's interface the tests use. Its exit code arrives in a file."""

    def __init__(self, pid: int, exit_path: Path) -> None:
        self.pid = pid
        self.exit_path = exit_path
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self.exit_path.exists():
            self.returncode = int(self.exit_path.read_text())
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("returnee", timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    async def finished(self, timeout: float) -> int | None:
        """The exit code once it has ended, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.02)
        return self.returncode


class Launcher:
    """This test process's launcher: one per xdist worker, started on first use."""

    _instance: Launcher | None = None

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.launcher"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        self._serial = itertools.count(1)
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        assert ready == b"ready\n", f"the launcher did not start: {ready!r}"

    @classmethod
    def get(cls) -> Launcher:
        if cls._instance is None or cls._instance.process.poll() is not None:
            cls._instance = Launcher()
        return cls._instance

    @classmethod
    def close(cls) -> None:
        if cls._instance is not None:
            assert cls._instance.process.stdin is not None
            cls._instance.process.stdin.close()
            cls._instance.process.wait(30)
            cls._instance = None

    def spawn(self, argv: list[str], env: dict[str, str], log_path: Path) -> Child:
        """`returnee ARGV` with `env`, its output appended to `log_path`."""
        exit_path = log_path.with_name(f"{log_path.name}.exit{next(self._serial)}")
        request = {
            "argv": argv,
            "env": env,
            "cwd": str(ROOT),
            "log": str(log_path),
            "exit": str(exit_path),
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        return Child(int(self.process.stdout.readline()), exit_path)


@pytest.fixture(scope="session", autouse=True)
def _launcher() -> Iterator[None]:
    yield
    Launcher.close()


async def returnee(
    argv: list[str], env: dict[str, str], directory: Path, timeout: float = 120.0
) -> tuple[int, str]:
    """`returnee ARGV` run to its end: its exit code and its output."""
    output = directory / f"cli-{next(_commands)}.log"
    child = Launcher.get().spawn(argv, env, output)
    code = await child.finished(timeout)
    if code is None:
        child.kill()
        raise AssertionError(f"returnee {' '.join(argv)} did not end in {timeout}s")
    return code, output.read_text(errors="replace")


_commands = itertools.count(1)


# --- bot processes ----------------------------------------------------------------------------


@dataclass
class BotProcess:
    """`returnee run` in a child process, started, stopped and restarted by the test."""

    env: dict[str, str]
    log_path: Path
    api_url: str
    process: Child | None = None
    starts: int = 0
    log: BotLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = BotLog(self.log_path)

    async def start(self) -> None:
        logs = BOT_LOGS.setdefault(self.api_url, [])
        if self.log not in logs:
            logs.append(self.log)
        async with EmulatorClient(self.api_url) as emulator:
            seen, started = await self._startups(emulator), self._started_lines()
            self.process = Launcher.get().spawn(["run", "--upgrade"], self.env, self.log_path)
            self.starts += 1
            # Up once it takes updates and has started: it deletes (polling) or sets (webhook)
            # its webhook, and logs "bot started" once its command menu and jobs are set up
            # (the two come in either order); anything a user sends before its first poll
            # waits in the emulator's queue.
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"the bot exited:\n{self.output()}")
                if self._started_lines() > started and await self._startups(emulator) > seen:
                    return
                await asyncio.sleep(0.05)
        self.stop_now()
        raise AssertionError(f"the bot did not start:\n{self.output()}")

    def _started_lines(self) -> int:
        return self.log.text().count("bot.service: bot started")

    @staticmethod
    async def _startups(emulator: EmulatorClient) -> int:
        entries = await emulator.log(method="deleteWebhook")
        entries += await emulator.log(method="setWebhook")
        return len(entries)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while self.process.poll() is None:
                if time.monotonic() > deadline:
                    self.process.kill()
                    self.process.wait()
                    raise AssertionError(f"the bot did not stop on SIGTERM:\n{self.output()}")
                await asyncio.sleep(0.05)
        return self.process.returncode or 0

    def stop_now(self) -> None:
        """For teardown outside any event loop: SIGTERM, then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def output(self) -> str:
        return self.log.text()[-5000:]

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]


def bot_env(api_url: str, database_url: str, framework: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEBHOOK_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        BOT_API_URL=api_url,
        BOT_FRAMEWORK=framework,
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
        CLOCK="emulator",
        CHAT_RATE=str(CHAT_RATE),
    )
    env.update(settings)
    return env


async def prepared_bot(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, *, framework: str, **settings: str
) -> BotProcess:
    """A migrated database with the demo areas, and the bot process started on it with
    BOT_FRAMEWORK=`framework`."""
    env = bot_env(emulator.base_url, database_url, framework, **settings)
    for command in (["db", "upgrade"], ["admin", "areas", "import", str(DEMO_AREAS)]):
        code, output = await returnee(command, env, tmp_path)
        assert code == 0, output
    process = BotProcess(env, tmp_path / "bot.log", emulator.base_url)
    await process.start()
    return process


# --- fixtures ---------------------------------------------------------------------------------


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


class SharedBots:
    """A module's shared emulators and bots, one of each per runner, started on first use."""

    def __init__(self, settings: dict[str, str], directory: Path) -> None:
        self.settings = settings
        self.directory = directory
        self.servers: dict[str, EmulatorServer] = {}
        self.bots: dict[str, BotProcess] = {}
        self.databases: list[str] = []

    def server(self, framework: str) -> EmulatorServer:
        if framework not in self.servers:
            self.servers[framework] = EmulatorServer().start()
        return self.servers[framework]

    async def bot(self, framework: str, emulator: EmulatorClient) -> BotProcess:
        bot = self.bots.get(framework)
        if bot is None:
            directory = self.directory / framework
            directory.mkdir()
            if POSTGRES:
                database_url = await fresh_database(f"{self.directory.name}_{framework}")
            else:
                database_url = f"sqlite+aiosqlite:///{directory / 'shared.db'}"
            bot = await prepared_bot(
                emulator, database_url, directory, framework=framework, **self.settings
            )
            self.bots[framework] = bot
        elif bot.process is None or bot.process.poll() is not None:
            raise AssertionError(f"the module's shared bot is gone:\n{bot.output()}")
        return bot

    def close(self) -> None:
        for bot in self.bots.values():
            bot.stop_now()
        for server in self.servers.values():
            server.stop()


_modules = itertools.count(1)


@pytest.fixture(scope="module")
def shared_bots(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedBots]:
    settings = dict(getattr(request.module, "SHARED_BOT", {}))
    bots = SharedBots(settings, tmp_path_factory.mktemp(f"shared{next(_modules)}", numbered=True))
    yield bots
    bots.close()


def _own_bot(request: pytest.FixtureRequest) -> bool:
    return "bot_process" in request.fixturenames or (
        request.node.get_closest_marker("own_bot") is not None
    )


@pytest.fixture
async def emulator(
    request: pytest.FixtureRequest, shared_bots: SharedBots, framework: str
) -> AsyncIterator[EmulatorClient]:
    """The test's emulator: the module's shared one for its runner, or its own for a test
    with its own bot."""
    if _own_bot(request):
        server = EmulatorServer().start()
        try:
            async with EmulatorClient(server.url) as client:
                yield client
        finally:
            server.stop()
        return
    async with EmulatorClient(shared_bots.server(framework).url) as client:
        yield client


@pytest.fixture
async def bot(
    request: pytest.FixtureRequest,
    shared_bots: SharedBots,
    emulator: EmulatorClient,
    framework: str,
) -> BotProcess:
    """The module's shared bot for the test's runner."""
    assert not _own_bot(request), "a test with its own bot uses `bot_process`, not `bot`"
    return await shared_bots.bot(framework, emulator)


@pytest.fixture
async def bot_process(
    emulator: EmulatorClient, database_url: str, tmp_path: Path, framework: str
) -> AsyncIterator[BotProcess]:
    """The test's own bot, on its own emulator and database: to stop, restart, reconfigure."""
    process = await prepared_bot(emulator, database_url, tmp_path, framework=framework)
    yield process
    with contextlib.suppress(AssertionError):
        await process.stop()


_user_ids = itertools.count(7001)


def new_user_id() -> int:
    """A user id no other test of this process used: users of a shared bot never meet."""
    return next(_user_ids)


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
    answered: ChatMessage | None = None

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

    async def receive(self, contains: str, timeout: float = 90) -> ChatMessage:
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
                    self.transcript, self.answered = messages, None
                    self.seen = max(self.seen, messages[-1]["message_id"])
                    return message
            # Until the bot sends this user anything more (the emulator's long poll).
            newest = max((m["message_id"] for m in messages), default=0)
            left = deadline - time.monotonic()
            if left > 0:
                with contextlib.suppress(EmulatorTimeout):
                    await self.emulator.wait(self.user_id, after=newest, timeout=min(left, 5))
        recent = [_text(m) for m in await self._bot_messages() if m["date"] >= self.since]
        raise AssertionError(f"user {self.user_id} got no {contains!r}; since then: {recent}")

    async def received(self, contains: str) -> list[ChatMessage]:
        """Every bot message so far containing `contains`."""
        return [m for m in await self._bot_messages() if contains in _text(m)]

    async def callbacks(self) -> list[Any]:
        """The bot's answers to this user's button presses."""
        return [c for c in await self.emulator.callbacks() if c["user_id"] == self.user_id]

    @property
    def last(self) -> ChatMessage:
        """The bot's last answer to this user's last send or press: its newest new message,
        else the message it edited; after `receive`, the newest message in the chat."""
        if self.answered is not None:
            return self.answered
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

    async def _snapshot(self) -> dict[int, int]:
        """The bot's messages in the chat with their edit counts."""
        return {m["message_id"]: m["edit_count"] for m in await self._bot_messages()}

    async def _answer(self, before: dict[int, int], update_id: int) -> list[ChatMessage]:
        """What the bot shows in answer (new messages and edits), once the bot has logged the
        update as handled: it logs that line only after its replies (and the answer to a
        button press) are out, so no quiet period is needed. Messages its jobs and outbox
        send by themselves are not awaited here: a test waits for those with `receive`."""
        await wait_update_handled(self.emulator.base_url, update_id, f"user {self.user_id}")
        messages = await self._bot_messages()
        self.transcript = messages
        new = [m for m in messages if m["message_id"] > self.seen]
        edited = [
            m
            for m in messages
            if m["message_id"] in before and m["edit_count"] != before[m["message_id"]]
        ]
        fresh = [m for m in messages if m["message_id"] not in before]
        self.answered = fresh[-1] if fresh else edited[-1] if edited else None
        if messages:
            self.seen = max(self.seen, messages[-1]["message_id"])
        return new


def _text(message: ChatMessage) -> str:
    return str(message.get("text") or message.get("caption") or "")


@pytest.fixture
def user(emulator: EmulatorClient) -> TelegramUser:
    return TelegramUser(emulator, user_id=new_user_id())


def new_user(emulator: EmulatorClient, language_code: str = "en") -> TelegramUser:
    """Another person in the test, with an id of their own."""
    return TelegramUser(emulator, user_id=new_user_id(), language_code=language_code)


async def outbox_settled(bot: BotProcess, chat_id: int, timeout: float = 60.0) -> None:
    """Until nothing is waiting in the bot's outbox for `chat_id`: what its jobs queued for
    the chat has gone out (or failed for good)."""
    engine = make_engine(bot.database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            async with engine.connect() as connection:
                waiting = await connection.scalar(
                    select(func.count())
                    .select_from(Outgoing)
                    .where(Outgoing.chat_id == chat_id, Outgoing.status == PENDING)
                )
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{waiting} messages to {chat_id} still in the outbox")
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
