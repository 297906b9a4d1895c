"""The bot's process stays small (issue 21): its runners import no drawing library (charts,
workbooks and papers are drawn in a child process, services/drawing.py), no Babel (the
translations are read from the compiled .mo files), no Alembic (the schema check reads the
migration files), no webhook server unless one is served, and the PTB runner no aiohttp at all
(PTB talks through httpx). The sizes themselves are measured by `python -m bench.memory`
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
