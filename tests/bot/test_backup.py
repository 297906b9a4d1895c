"""`returnee admin backup / restore / purge` as an administrator runs them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.backup import BackupProblem, backup, check_backup, in_use
from tests.bot.test_settings import returnee

DEMO_AREAS = Path(__file__).parents[2] / "bot" / "demo_data" / "areas.csv"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"}
    assert returnee("db", "upgrade", env=values, cwd=tmp_path).returncode == 0
    imported = returnee("admin", "areas", "import", str(DEMO_AREAS), env=values, cwd=tmp_path)
    assert imported.returncode == 0
    return values


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


def test_backup_change_restore_and_the_data_is_back(env: dict[str, str], tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "monday.db"
    before = query(live, "SELECT code, name FROM areas ORDER BY code")
    made = returnee("admin", "backup", str(copy), env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "written to" in made.stdout and copy.exists()
    # Changes after the backup: an invitation, and every area renamed.
    invited = returnee("admin", "invite", "--area", "620201001001001", "--role", "grid", env=env, cwd=tmp_path)  # fmt: skip
    assert invited.returncode == 0
    with sqlite3.connect(live) as connection:
        connection.execute("UPDATE areas SET name = 'gone'")
    assert query(live, "SELECT count(*) FROM invites") == [(1,)]
    refused = returnee("admin", "restore", str(copy), env=env, cwd=tmp_path)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert query(live, "SELECT count(*) FROM invites") == [(1,)]  # nothing changed yet
    restored = returnee("admin", "restore", str(copy), "--yes", env=env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert query(live, "SELECT code, name FROM areas ORDER BY code") == before
    assert query(live, "SELECT count(*) FROM invites") == [(0,)]
    # The database as it was before the restore is kept, and the bot's schema check passes.
    (kept,) = tmp_path.glob("live.db.before-restore-*")
    assert query(kept, "SELECT count(*) FROM invites") == [(1,)]
    current = returnee("db", "current", env=env, cwd=tmp_path)
    assert "up to date" in current.stdout


def test_a_backup_while_the_bot_writes_is_consistent(env: dict[str, str], tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    bot = sqlite3.connect(live, isolation_level=None)
    bot.execute("PRAGMA journal_mode=WAL")
    bot.execute("BEGIN IMMEDIATE")
    bot.execute("UPDATE areas SET name = 'half-written'")
    assert in_use(live)
    copied = backup(live, tmp_path / "during.db")  # does not wait for the bot's transaction
    bot.execute("COMMIT")
    bot.close()
    assert copied.revision is not None
    names = query(tmp_path / "during.db", "SELECT DISTINCT name FROM areas")
    assert ("half-written",) not in names and len(names) == 15


def test_restore_refuses_what_is_not_a_backup(env: dict[str, str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database", encoding="utf-8")
    result = returnee("admin", "restore", str(junk), "--yes", env=env, cwd=tmp_path)
    assert result.returncode == 1 and "not a SQLite database" in result.stderr
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupProblem, match="not a returnee database"):
        check_backup(other)
    assert len(query(tmp_path / "live.db", "SELECT * FROM areas")) == 15


def test_backup_will_not_overwrite_a_file(env: dict[str, str], tmp_path: Path) -> None:
    existing = tmp_path / "old.db"
    existing.write_text("keep me", encoding="utf-8")
    result = returnee("admin", "backup", str(existing), env=env, cwd=tmp_path)
    assert result.returncode == 1 and "exists already" in result.stderr
    assert existing.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("command", [("backup", "x.db"), ("restore", "x.db", "--yes")])
def test_postgresql_gets_the_pg_dump_advice(command: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "x.db").write_text("", encoding="utf-8")
    env = {"DATABASE_URL": "postgresql+asyncpg://returnee:secret@db.example/returnee"}
    result = returnee("admin", *command, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "pg_dump --format=custom" in result.stderr and "pg_restore" in result.stderr
    assert "secret" not in result.stderr


def test_purge_from_the_command_line_is_audited_as_admin(
    env: dict[str, str], tmp_path: Path
) -> None:
    live = tmp_path / "live.db"
    with sqlite3.connect(live) as connection:
        connection.execute(
            "INSERT INTO chat_users (id, chat_id, created_at, last_seen_at) "
            "VALUES (1001, 1001, '2020-01-01 00:00:00', '2020-01-01 00:00:00')"
        )
        connection.execute(
            "INSERT INTO conversations (user_id, step, answers, updated_at) "
            """VALUES (1001, 'ask_phone', '{"name": "Li Na"}', '2020-01-01 00:00:00')"""
        )
    counted = returnee("admin", "purge", "--dry-run", env=env, cwd=tmp_path)
    assert counted.returncode == 0 and "due for purge: 0 people" in counted.stdout
    assert query(live, "SELECT count(*) FROM conversations") == [(1,)]
    done = returnee("admin", "purge", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "purged: 0 people" in done.stdout and "cleared 1 unfinished conversations" in done.stdout
    assert query(live, "SELECT count(*) FROM conversations") == [(0,)]
    ((action, details),) = query(live, "SELECT action, details FROM audit_log")
    assert action == "purge" and '"by": "admin"' in str(details)
    again = returnee("admin", "purge", env=env, cwd=tmp_path)
    assert "purged: 0 people" in again.stdout and "cleared 0 unfinished" in again.stdout
