"""A command that cannot start says why in one line and exits 2, never with a traceback."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from models.crypto import new_key
from tests.bot.test_settings import TOKEN, returnee


def one_line(stderr: str) -> str:
    # Alembic's INFO lines may come first; the reason is the last line, and no traceback.
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if " INFO " not in line]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


@pytest.fixture
def refusing_api() -> Iterator[str]:
    """A Bot API that answers every call as Telegram answers a revoked token (in a thread of
    its own: the test blocks on the command it runs)."""

    async def unauthorized(_request: web.Request) -> web.Response:
        body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
        return web.json_response(body, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", unauthorized)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.run_until_complete(runner.cleanup())
    loop.close()


def test_db_upgrade_with_postgresql_down(tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/returnee"
    result = returnee("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("returnee: DATABASE_URL: cannot open the database"), line


@pytest.mark.parametrize(
    "command", [("db", "current"), ("db", "upgrade"), ("admin", "staff", "list")]
)
def test_a_sqlite_file_that_cannot_be_opened(tmp_path: Path, command: tuple[str, ...]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    result = returnee(*command, env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 2
    assert "DATABASE_URL: cannot open the database" in one_line(result.stderr)


def test_db_current_exits_non_zero_on_an_old_schema(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"}
    assert returnee("db", "upgrade", "--revision", "0011", env=env, cwd=tmp_path).returncode == 0
    behind = returnee("db", "current", env=env, cwd=tmp_path)
    assert behind.returncode == 1 and "out of date" in behind.stdout
    assert returnee("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    current = returnee("db", "current", env=env, cwd=tmp_path)
    assert current.returncode == 0 and "up to date" in current.stdout


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
def test_run_with_the_bot_api_unreachable(tmp_path: Path, closed_port: int, framework: str) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "BOT_TOKEN": TOKEN,
        "DATA_KEY": new_key(),
        "BOT_API_URL": f"http://127.0.0.1:{closed_port}",
        "BOT_FRAMEWORK": framework,
    }
    result = returnee("run", "--upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith("returnee: BOT_API_URL: cannot reach the Bot API")


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
def test_run_with_a_token_the_bot_api_refuses(
    tmp_path: Path, framework: str, refusing_api: str
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "BOT_TOKEN": TOKEN,
        "DATA_KEY": new_key(),
        "BOT_API_URL": refusing_api,
        "BOT_FRAMEWORK": framework,
    }
    result = returnee("run", "--upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith("returnee: BOT_TOKEN: the Bot API refused the token")


def test_the_emulator_on_a_busy_port_or_no_port(tmp_path: Path, busy_port: int) -> None:
    busy = returnee("emulator", "--port", str(busy_port), env={}, cwd=tmp_path)
    assert busy.returncode == 2 and "in use" in one_line(busy.stderr)
    impossible = returnee("emulator", "--port", "99999", env={}, cwd=tmp_path)
    assert impossible.returncode == 2 and "99999" in impossible.stderr
    assert "Traceback" not in impossible.stderr


def test_the_demo_on_a_busy_port(tmp_path: Path, busy_port: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    result = returnee("demo", "--port", str(busy_port), "--database", url, env={}, cwd=tmp_path)
    assert result.returncode == 2 and "in use" in one_line(result.stderr)


def test_chat_with_no_emulator(tmp_path: Path, closed_port: int) -> None:
    result = returnee("chat", "--emulator", f"http://127.0.0.1:{closed_port}", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot connect" in one_line(result.stderr)


def test_a_list_to_encrypt_without_the_data_key(tmp_path: Path) -> None:
    """Personal data cannot be stored without DATA_KEY: the command says so in one line and
    stores nothing."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"}
    areas = Path(__file__).parents[2] / "bot" / "demo_data" / "areas.csv"
    assert returnee("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    assert returnee("admin", "areas", "import", str(areas), env=env, cwd=tmp_path).returncode == 0
    listed = tmp_path / "协查名单.csv"
    listed.write_text("姓名,身份证号,手机号\n张伟,110105194001010026,13900001111\n")
    result = returnee(
        "admin", "pushed", "import", str(listed), "--source", "省指挥部", env=env, cwd=tmp_path
    )
    assert result.returncode == 2
    assert (
        one_line(result.stderr)
        == "returnee: DATA_KEY: missing (`returnee admin new-key` prints one)"
    )
