"""A missing or wrong setting stops the program with one line naming it, exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "123456:" + "A" * 35
KEY = "dGhpcnR5LXR3by1ieXRlcy1vZi1hLXRlc3Qta2V5LiE="  # 32 bytes, for these tests only


def returnee(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "DATABASE_", "WEBHOOK_", "DATA_KEY"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**clean, **env, "PYTHONPATH": str(Path(__file__).parents[2])},
        cwd=cwd,
        capture_output=True,
        text=True,
        # Only against a hang: `run --upgrade` on a new SQLite file runs every migration, which
        # took over 60 s once with the 2 cores loaded 14 deep (CI of 2026-12-01, 22:20).
        timeout=300,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "BOT_TOKEN: missing"),
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN, "BOT_FRAMEWORK": "telethon"}, "BOT_FRAMEWORK"),
        ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"BOT_TOKEN": TOKEN, "TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://example.org/hook"}, "WEBHOOK_SECRET"),
        ({"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "ftp://x"}, "WEBHOOK_URL"),
        (
            {"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://example.org/h", "WEBHOOK_SECRET": "x"},
            "WEBHOOK_SECRET: must be 32-256 characters",
        ),
        (
            {"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://e.org/h", "WEBHOOK_SECRET": "a" * 31},
            "`returnee admin secret` prints one",
        ),
        (
            {"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://e.org/h", "WEBHOOK_SECRET": "é" * 40},
            "WEBHOOK_SECRET",
        ),
        ({"BOT_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"BOT_TOKEN": TOKEN}, "DATA_KEY: required with BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN, "DATA_KEY": "c2hvcnQ="}, "DATA_KEY: must be 32 bytes"),
        ({"BOT_TOKEN": TOKEN, "DATA_KEY": "not base64!"}, "DATA_KEY: not base64"),
        ({"BOT_TOKEN": TOKEN, "DATA_KEY": KEY, "DATA_KEY_OLD": "x"}, "DATA_KEY_OLD"),
        ({"BOT_TOKEN": TOKEN, "BOT_API_URL": "nowhere"}, "BOT_API_URL"),
        ({"BOT_TOKEN": TOKEN, "WEBHOOK_LISTEN": "8443"}, "WEBHOOK_LISTEN"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(
    env: dict[str, str], named: str, tmp_path: Path
) -> None:
    result = returnee("run", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("returnee: ") and named in lines[0]
    assert "Traceback" not in result.stderr


def test_settings_come_from_the_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nTIMEZONE=Europe/Berlin\nCONCURRENCY=3\n")
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "TIMEZONE", "CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.token() == TOKEN
    assert settings.timezone == "Europe/Berlin" and settings.concurrency == 3
    assert settings.database_url == "sqlite+aiosqlite:///returnee.db"
    assert settings.bot_framework == "aiogram"


def test_the_environment_wins_over_the_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nLOG_LEVEL=DEBUG\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    assert load_settings().log_level == "ERROR"


def test_an_empty_value_counts_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEBHOOK_URL", "")
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    assert load_settings().webhook_url is None


def test_a_database_command_needs_no_token(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    result = returnee("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "database schema at" in result.stdout
    current = returnee("db", "current", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert "up to date" in current.stdout


def test_run_refuses_an_out_of_date_schema_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    result = returnee(
        "run", env={"DATABASE_URL": url, "BOT_TOKEN": TOKEN, "DATA_KEY": KEY}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "returnee db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_load_settings_raises_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(timezone="Nowhere/Else", bot_token=TOKEN)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("TIMEZONE")


def test_an_unreachable_database_is_one_line_too(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    result = returnee(
        "run", env={"DATABASE_URL": url, "BOT_TOKEN": TOKEN, "DATA_KEY": KEY}, cwd=tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("returnee: DATABASE_URL: cannot open")


def test_admin_secret_prints_a_webhook_secret_the_settings_accept(tmp_path: Path) -> None:
    printed = set()
    for _ in range(2):
        result = returnee("admin", "secret", env={}, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        printed.add(result.stdout.strip())
    assert len(printed) == 2  # a new one each time
    for secret in printed:
        settings = load_settings(
            bot_token=TOKEN, webhook_url="https://example.org/hook", webhook_secret=secret
        )
        assert settings.webhook_secret is not None and len(secret) >= 32


def test_names_are_read_in_any_case_and_an_empty_variable_leaves_the_file_s_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("timezone=Europe/Berlin\nConcurrency=3\nNOT_A_SETTING=x\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIMEZONE", "")
    monkeypatch.delenv("CONCURRENCY", raising=False)
    settings = load_settings()
    assert settings.timezone == "Europe/Berlin" and settings.concurrency == 3
    with pytest.raises(SettingsError, match=r"^CONCURRENCY: "):
        load_settings(concurrency="many")
