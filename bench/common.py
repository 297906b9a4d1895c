"""What the benchmarks share: the emulator in a child process, scratch databases, the
event-loop stall meter, and the figures with their aims.

The emulator runs in its own process, as Telegram would be elsewhere: on one event loop
with the bot it would take the bot's CPU time and its stalls would count as the bot's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from emulator import EmulatorClient
from models.crypto import Keyring, keyring, new_key, use_keys
from models.db import make_engine, upgrade
from models.people import id_number_hash, phone_tail_hash

ROOT = Path(__file__).parents[1]
# The benchmarks' own DATA_KEY (the bot in this process and the rows loaded in bulk share it).
os.environ.setdefault("DATA_KEY", new_key())
use_keys(Keyring.from_settings(os.environ["DATA_KEY"]))


def sealed(phone: str | None, id_number: str | None) -> tuple[str | None, ...]:
    """A phone and an ID number as the residents table stores them, for bulk loads that
    bypass the models: encrypted, then their look-up hashes."""
    keys = keyring()
    return (
        keys.encrypt(phone, "residents.phone") if phone else None,
        keys.encrypt(id_number, "residents.id_number") if id_number else None,
        phone_tail_hash(phone),
        id_number_hash(id_number),
    )


TOKEN = "5555555555:bench-token-not-a-secret-00000000"
# The local PostgreSQL server; each run makes a scratch database on it and drops it after.
POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


# ----- figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measured number, how to print it, and the aim it is held against."""

    key: str
    label: str
    value: float
    unit: str = ""
    aim: str = ""
    # Whether a value meets the aim; None: a figure reported for information only.
    meets: Callable[[float], bool] | None = None
    digits: int = 0

    def shown(self, value: float | None = None) -> str:
        v = self.value if value is None else value
        return f"{v:,.{self.digits}f}{(' ' + self.unit) if self.unit else ''}"


@dataclass(frozen=True)
class Summary:
    figure: Figure
    median: float
    low: float
    high: float
    runs: int
    # How many runs missed the aim (0 when the aim was met every time, or there is none).
    missed: int

    @property
    def ok(self) -> bool | None:
        return None if self.figure.meets is None else self.figure.meets(self.median)


def summarise(runs: Iterable[list[Figure]]) -> list[Summary]:
    """The median of each figure over the runs, in the order the figures first appeared."""
    by_key: dict[str, list[Figure]] = {}
    for figures in runs:
        for figure in figures:
            by_key.setdefault(figure.key, []).append(figure)
    summaries = []
    for figures in by_key.values():
        first = figures[0]
        values = [f.value for f in figures]
        missed = sum(1 for f in figures if f.meets is not None and not f.meets(f.value))
        summaries.append(
            Summary(first, statistics.median(values), min(values), max(values), len(values), missed)
        )
    return summaries


def table(summaries: list[Summary]) -> str:
    """The figures as a text table: the median, the range over the runs, the aim, met?"""
    rows = [("figure", "median", "runs' range", "aim", "ok")]
    for s in summaries:
        ok = "" if s.ok is None else ("yes" if s.ok else "NO")
        if s.missed and s.runs > 1:
            ok += f" ({s.missed}/{s.runs} runs missed)"
        spread = f"{s.figure.shown(s.low)} – {s.figure.shown(s.high)}" if s.runs > 1 else ""
        rows.append((s.figure.label, s.figure.shown(s.median), spread, s.figure.aim, ok))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, (label, value, spread, aim, ok) in enumerate(rows):
        lines.append(
            f"{label:<{widths[0]}}  {value:>{widths[1]}}  {spread:>{widths[2]}}  "
            f"{aim:<{widths[3]}}  {ok}".rstrip()
        )
        if i == 0:
            lines.append("-" * (sum(widths) + 12))
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ----- the event loop -------------------------------------------------------------------------


class StallMeter:
    """A small task that wakes every `interval`; how late it wakes is how long the loop was
    busy with something else. `longest(a, b)` is the longest stall that ended between a and
    b (time.perf_counter())."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self._stalls: list[tuple[float, float]] = []  # (when it ended, how long), > 1 ms
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            after = time.perf_counter()
            late = after - before - self.interval
            if late > 0.001:
                self._stalls.append((after, late))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stall-meter")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def stalls(self) -> list[tuple[float, float]]:
        """(when it ended, how long) of every stall over a millisecond."""
        return self._stalls

    def longest(self, start: float = 0.0, end: float = float("inf")) -> float:
        """Seconds; a stall counts if it overlaps [start, end]."""
        return max(
            (late for at, late in self._stalls if start <= at and at - late <= end), default=0
        )


# ----- the emulator ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Emulator:
    """`python -m emulator` in a child process, limits off until `limit()` says."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = EmulatorClient(self.url, timeout=120)
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "emulator",
            "--port",
            str(self.port),
            "--no-limits",
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if await self.client.health():
                    return self
            except (aiohttp.ClientError, OSError):
                pass
            if self._process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            await asyncio.sleep(0.1)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.client.close()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()

    async def limit(self, overall: float | None) -> None:
        """Telegram's limits at `overall` messages/s (its burst one second's worth) and 1/s per
        chat with a burst of 3; None switches them off."""
        if overall is None:
            await self.client.set_limits(False)
            return
        await self.client.set_limits(
            True,
            global_rate=overall,
            global_burst=max(1, int(overall)),
            chat_rate=1.0,
            chat_burst=3,
        )

    async def create_users(self, user_ids: Iterable[int], parallel: int = 32) -> None:
        """Each user writes once, so their private chat exists; the updates are then
        confirmed, so no bot started later sees them."""
        ids = list(user_ids)
        queue = iter(ids)

        async def worker() -> None:
            for user_id in queue:
                await self.client.send(user_id, "/start", language_code="zh")

        await asyncio.gather(*(worker() for _ in range(parallel)))
        await self.drop_updates()

    async def drop_updates(self) -> None:
        pending = await self.client.updates()
        if pending:
            last = max(int(u["update_id"]) for u in pending)
            async with (
                aiohttp.ClientSession() as http,
                http.get(
                    f"{self.url}/bot{TOKEN}/getUpdates",
                    params={"offset": str(last + 1), "timeout": "0"},
                ) as response,
            ):
                await response.read()


# ----- databases ------------------------------------------------------------------------------


class Databases:
    """Scratch databases: a SQLite file in a temporary folder, or a PostgreSQL database made
    for this run on the local server and dropped at the end. Each `fresh()` is migrated and
    empty."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="returnee-bench-")
        self._count = 0
        self._pg_name = f"returnee_bench_{os.getpid()}"
        self._pg_made = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pg_made:
            await self._server_command(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
        self._folder.cleanup()

    @property
    def folder(self) -> Path:
        return Path(self._folder.name)

    async def _server_command(self, sql: str) -> None:
        engine = make_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    @staticmethod
    async def postgres_available() -> bool:
        engine = make_engine(POSTGRES_SERVER)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            await engine.dispose()

    async def fresh(self, kind: str) -> str:
        """The URL of an empty, migrated database: kind "sqlite" or "postgresql"."""
        self._count += 1
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{self.folder / f'bench-{self._count}.db'}"
        else:
            if not self._pg_made:
                await self._server_command(f'DROP DATABASE IF EXISTS "{self._pg_name}"')
                await self._server_command(f'CREATE DATABASE "{self._pg_name}"')
                self._pg_made = True
            url = make_url(POSTGRES_SERVER).set(database=self._pg_name).render_as_string(False)
            engine = make_engine(url)
            try:
                async with engine.begin() as connection:
                    await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                    await connection.execute(text("CREATE SCHEMA public"))
            finally:
                await engine.dispose()
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        return url


@contextlib.asynccontextmanager
async def engine_for(url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


def database_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"
