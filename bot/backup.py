"""Backups of the SQLite database, consistent while the bot runs (SQLite's online backup API
copies one snapshot however the bot writes meanwhile), and their restore. PostgreSQL has its
own tools: `pg_dump` / `pg_restore` (docs/reliability.md)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

# Tables a returnee database has, whatever its revision.
EXPECTED_TABLES = ("alembic_version", "chat_users", "residents")


class BackupProblem(Exception):
    """What went wrong, in one line for the administrator; nothing was changed."""


@dataclass(frozen=True)
class Copied:
    path: Path
    size: int
    revision: str | None


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupProblem("DATABASE_URL names no database file")
    return Path(parsed.database)


def postgres_advice(url: str) -> str:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=True)
    return (
        "DATABASE_URL is PostgreSQL: use its own tools (see docs/reliability.md), e.g.\n"
        f"  pg_dump --format=custom --file=returnee.dump '{plain}'\n"
        "and to restore, with the bot stopped:\n"
        f"  pg_restore --clean --if-exists --no-owner --dbname='{plain}' returnee.dump"
    )


def _revision(connection: sqlite3.Connection) -> str | None:
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def _copy(source: sqlite3.Connection, target: Path) -> Copied:
    """Copy a snapshot of `source` into a new file `target` (written aside, then renamed)."""
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    copy = sqlite3.connect(part)
    try:
        # All pages in one step: one consistent snapshot, whatever the bot commits meanwhile.
        source.backup(copy)
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupProblem(f"the copy failed its integrity check: {verdict}")
        revision = _revision(copy)
    finally:
        copy.close()
    part.replace(target)
    return Copied(target, target.stat().st_size, revision)


def backup(database: Path, target: Path) -> Copied:
    if not database.is_file():
        raise BackupProblem(f"no database at {database}")
    if target.exists():
        raise BackupProblem(f"{target} exists already; choose a new name")
    if not target.parent.is_dir():
        raise BackupProblem(f"{target.parent} is not a folder")
    source = sqlite3.connect(database, timeout=30)
    try:
        return _copy(source, target)
    except sqlite3.Error as exc:
        raise BackupProblem(f"{database}: {exc}") from exc
    finally:
        source.close()


def check_backup(path: Path) -> str | None:
    """The schema revision of a backup file, or BackupProblem if it is not one of ours."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupProblem(f"{path} is damaged (integrity check failed)")
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not set(EXPECTED_TABLES) <= tables:
                raise BackupProblem(f"{path} is not a returnee database")
            return _revision(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupProblem(f"{path} is not a SQLite database ({exc})") from exc


def in_use(database: Path) -> bool:
    """Whether another process has the database open: a write-ahead log next to it (the bot
    keeps one while connected), or a transaction running now."""
    if Path(f"{database}-wal").exists():
        return True
    if not database.exists():
        return False
    connection = sqlite3.connect(database, timeout=0)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        connection.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()


def restore(path: Path, database: Path, now: datetime | None = None) -> tuple[Copied, Path | None]:
    """Replace the database's content with the backup's; the database as it was is kept
    beside it first (returned), so a restore can itself be undone."""
    check_backup(path)
    kept = None
    if database.exists():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        backup(database, kept)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(database, timeout=30)
    try:
        # Through the backup API as well: connections still open see the restored content at
        # their next transaction, instead of a file replaced under them.
        source.backup(target)
        revision = _revision(target)
    except sqlite3.Error as exc:
        raise BackupProblem(f"{database}: {exc}") from exc
    finally:
        source.close()
        target.close()
    return Copied(database, database.stat().st_size, revision), kept
