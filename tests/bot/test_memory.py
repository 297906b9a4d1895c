"""The bot's process stays small (issue 21): its runners import no drawing library (charts,
workbooks and papers are drawn in a child process, services/drawing.py), no Babel (the
translations are read from the compiled .mo files), no Alembic (the schema check reads the
migration files), no webhook server unless one is served, and the PTB runner no aiohttp at all
(PTB talks through httpx), and a bot on SQLite nothing of SQLAlchemy's PostgreSQL dialect. The
sizes themselves are measured by `python -m bench.memory`
(docs/benchmarks.md), not here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.runtime import bot_username
from bot.settings import load_settings
from emulator import EmulatorClient
from emulator.state import BOT_USERNAME

# Loaded only when something is drawn, and then in the drawing process.
DRAWING = ("matplotlib", "numpy", "openpyxl", "PIL", "reportlab")
NEVER = (*DRAWING, "babel", "alembic", "mako", "fastapi", "uvicorn")
RUNNERS = {
    # aiohttp's server only to serve a webhook.
    "aiogram": ("bot.aiogram_runner", (*NEVER, "aiohttp.web")),
    "ptb": ("bot.ptb_runner", (*NEVER, "aiohttp")),
}


def loaded_by(module: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` a fresh interpreter has loaded after importing `module` (the CLI that
    starts the bot, then its runtime, then the runner)."""
    code = (
        "import importlib, json, sys\n"
        f"for m in ('bot.cli', 'bot.runtime', {module!r}):\n"
        "    importlib.import_module(m)\n"
        f"print(json.dumps([n for n in {list(names)!r} if n in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("framework", list(RUNNERS))
def test_the_runner_imports_no_drawing_library_babel_or_alembic(framework: str) -> None:
    module, never = RUNNERS[framework]
    assert loaded_by(module, never) == []


@pytest.mark.parametrize("framework", list(RUNNERS))
async def test_the_bot_asks_its_username_through_its_runners_client(
    framework: str, emulator: EmulatorClient
) -> None:
    settings = load_settings(
        bot_token="4242424242:e2e-test-token-not-a-secret-0000",
        bot_api_url=emulator.base_url,
        bot_framework=framework,
    )
    assert await bot_username(settings) == BOT_USERNAME


@pytest.mark.parametrize("framework", list(RUNNERS))
async def test_a_bot_api_out_of_reach_leaves_the_username_unknown(framework: str) -> None:
    settings = load_settings(
        bot_token="4242424242:e2e-test-token-not-a-secret-0000",
        # A port nothing listens on (the discard port, closed on test machines).
        bot_api_url="http://127.0.0.1:9",
        bot_framework=framework,
    )
    assert await bot_username(settings) is None


# A turn's writes through the places that use a dialect's own statements or types: the update
# marked handled (ON CONFLICT), an outbox row and an alert (the same, with JSON), a JSON read.
_SQLITE_TURN = """
import asyncio, json, sys
from datetime import UTC, datetime
import bot.cli, bot.runtime, bot.aiogram_runner, bot.ptb_runner
import models.all
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from models.alerts import Alert, raise_alert
from models.base import Base
from models.chat import take_update
from models.crypto import Keyring, use_keys
from models.db import make_engine
from models.outbox import enqueue
from models.areas import Area
async def turn():
    use_keys(Keyring.generate())
    engine = make_engine("sqlite+aiosqlite://")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    now = datetime.now(UTC)
    async with async_sessionmaker(engine)() as session, session.begin():
        session.add(Area(id=1, code="110101001001", name="grid", level="grid", path="1"))
        await session.flush()
        first, _user, _talk = await take_update(session, 7, 1001, now)
        await enqueue(session, chat_id=7, text="hello", purpose="reply", now=now)
        await raise_alert(session, grid_id=1, kind="rescreen", now=now, details={"a": 1})
        details = (await session.scalars(select(Alert.details))).one()
    await engine.dispose()
    return first, details
first, details = asyncio.run(turn())
print(json.dumps([first, details, sorted(m for m in sys.modules if "postgresql" in m)]))
"""


def test_a_bot_on_sqlite_loads_nothing_of_postgresql() -> None:
    """Its imports and a turn's writes (SQLAlchemy's PostgreSQL dialect is 4 MB of memory)."""
    done = subprocess.run(
        [sys.executable, "-c", _SQLITE_TURN], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    first, details, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert (first, details) == (True, {"a": 1})
    assert loaded == []
