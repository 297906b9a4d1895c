"""Engines, sessions and the schema's migration state, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine with the settings each database needs to be safe under concurrent use."""
    parsed = make_url(url)
    # An error's message and the logs never carry a statement's values (names, phones).
    kwargs.setdefault("hide_parameters", True)
    kwargs["echo"] = False
    if parsed.get_backend_name() == "sqlite":
        # Waiting on a busy database beats failing with "database is locked".
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    return engine


# A pooled connection used this recently is taken to be alive without asking the server.
# SQLAlchemy's `pool_pre_ping` asks at every checkout: three round trips on asyncpg (BEGIN,
# an empty statement, ROLLBACK) before each transaction, more than a short read costs (one
# grid's report is one statement). A connection that died since (a restart, a cut) is then
# found by the statement's error: SQLAlchemy invalidates the pool, the request is refused
# ("try again in a minute") and the next ones connect anew (tests/e2e/test_outage.py).
PING_AFTER_IDLE = 2.0
_CHECKED_IN = "checked_in_at"


def ping_when_idle(engine: AsyncEngine, idle: float = PING_AFTER_IDLE) -> None:
    """Ping a pooled connection at checkout only when it was idle for `idle` seconds or more
    (what a restart of the server or a firewall's idle timeout kills), as `pool_pre_ping`
    would: a failed ping invalidates the pool and the checkout connects anew."""
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        # A connection just made (no check-in yet) or used a moment ago is not asked.
        if since is None or time.monotonic() - since < idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError() from error
            raise

    event.listen(engine.sync_engine.pool, "checkin", checkin)
    event.listen(engine.sync_engine.pool, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # What is deleted or overwritten is overwritten with zeros in the file, not left in free
    # space for a copy of the file to give away (the WAL is emptied after erasures, below).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# Set in a session's info when personal data was erased in its transaction: once it is
# committed, `scrub_files` takes the old copies out of the database's files.
ERASED = "erased_personal_data"
# The tables erasures touch, vacuumed on PostgreSQL.
ERASABLE = (
    "residents",
    "households",
    "arrivals",
    "stays",
    "checkins",
    "help_requests",
    "changes",
    "alerts",
    "alert_actions",
    "outbox",
    "conversations",
    "audit_log",
)


# Set by the scheduler in a job's session (bot/scheduler.py): a long job may then commit what
# it has done so far (`commit_chunk`), and the callback (the outbox worker's nudge) is called
# after each commit, so the first messages leave while the rest are being written.
COMMIT_AS_YOU_GO = "commit_as_you_go"


class StopRequested(Exception):
    """Raised by the session's owner after a chunk is committed, when the process is stopping:
    the job ends there, and what is left is done at the next start."""


async def commit_chunk(session: AsyncSession) -> None:
    """Commit the work so far when the session's owner allows it (`COMMIT_AS_YOU_GO`); else
    nothing: everything stays in the caller's one transaction."""
    committed = session.info.get(COMMIT_AS_YOU_GO)
    if committed is not None:
        await session.commit()
        committed()


def mark_erased(session: AsyncSession) -> None:
    session.info[ERASED] = True


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


async def scrub_files(engine: AsyncEngine) -> None:
    """Old copies of erased rows out of the files: SQLite copies its write-ahead log into the
    database (where deleted content is zeroed, `secure_delete`) and truncates it; PostgreSQL
    vacuums the tables erasures touch, so the old row versions are freed for reuse."""
    async with engine.connect() as connection:
        if is_sqlite(engine):
            # Waits (busy_timeout) for readers of older snapshots, then empties the WAL.
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql(f"VACUUM {', '.join(ERASABLE)}")


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


_REVISION_NAMES = ("revision", "down_revision")


@cache
def head_revision() -> str:
    """The newest migration: the one revision no other revises. Read from the files' own
    `revision` and `down_revision` lines, as Alembic's ScriptDirectory would answer, so that
    the start-up check keeps Alembic (and Mako, and Pygments) out of the bot's memory;
    tests/models/test_migrations.py holds the two answers equal."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                for target in targets:
                    if not isinstance(target, ast.Name) or node.value is None:
                        continue
                    if target.id in _REVISION_NAMES:
                        values[target.id] = ast.literal_eval(node.value)
        if "revision" not in values:
            continue
        revisions.add(values["revision"])
        down = values.get("down_revision")
        revised.update((down,) if isinstance(down, str) else tuple(down or ()))
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


async def schema_state(engine: AsyncEngine) -> SchemaState:
    head = head_revision()

    def current(connection: Connection) -> str | None:
        """The revision the database is at (Alembic's version table), None before any."""
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = list(connection.execute(text("SELECT version_num FROM alembic_version")))
        if len(versions) > 1:
            raise RuntimeError(f"the database is at {len(versions)} revisions at once")
        return str(versions[0][0]) if versions else None

    async with engine.connect() as connection:
        return SchemaState(current=await connection.run_sync(current), head=head)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`, on the engine's own connection."""

    def run(connection: Connection) -> None:
        from alembic import command

        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
