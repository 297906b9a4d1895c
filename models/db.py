"""Engines, sessions and the schema's migration state, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, exc, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import UpdateBase

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


# A connection given back to the pool less than this long ago is taken as it is; one idle
# for longer is pinged first (see `_ping_when_idle`).
PING_AFTER_IDLE = 1.0
_RETURNED = "returned_at"


def make_engine(
    url: str, *, ping_after_idle: float = PING_AFTER_IDLE, **kwargs: Any
) -> AsyncEngine:
    """An engine with the settings each database needs to be safe under concurrent use."""
    parsed = make_url(url)
    # An error's message and the logs never carry a statement's values (names, phones).
    kwargs.setdefault("hide_parameters", True)
    kwargs["echo"] = False
    if parsed.get_backend_name() == "sqlite":
        # Waiting on a busy database beats failing with "database is locked".
        kwargs.setdefault("connect_args", {"timeout": 30})
        # One writer at a time: the pool's size is PostgreSQL's concern.
        kwargs.pop("pool_size", None)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Room for every update the runner handles at once (CONCURRENCY, 8 by default), the
    # remembered question after each, the outbox worker and the scheduler's jobs. With
    # SQLAlchemy's default of 5 the rest were overflow connections, closed when given back and
    # opened again for the next update: a new PostgreSQL backend (a fork, authentication, an
    # SSL offer) every few updates — 29 → 130 answers/s in the answers benchmark (issue 21).
    # Connections are opened only when needed, never ahead, but kept once opened: the bot
    # sizes its pool by CONCURRENCY (bot/runtime.py); a one-off command or the API gets this.
    kwargs.setdefault("pool_size", 10)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: AsyncEngine, after: float) -> None:
    """A connection that was idle in the pool is pinged before use, and replaced when the
    server has gone away (a restart, a fail-over, an idle time-out) — what `pool_pre_ping`
    does, but not for a connection given back `after` seconds ago or less: under load every
    checkout would otherwise cost a round trip to the server (one of the eight of a check-in
    answer). A connection lost within that second fails its one transaction, as it would
    if lost during it."""
    dialect = engine.dialect

    def returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        if dbapi_connection is not None:
            record.info[_RETURNED] = (id(dbapi_connection), time.monotonic())

    def taken(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        stamp = record.info.get(_RETURNED)
        if stamp is None or stamp[0] != id(dbapi_connection):
            return  # just opened
        if time.monotonic() - stamp[1] <= after:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool closes this one and opens another (up to three tries).
            raise exc.DisconnectionError(f"the database connection was lost ({error})") from error

    event.listen(engine.sync_engine, "checkin", returned)
    event.listen(engine.sync_engine, "checkout", taken)


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


# A write held back on PostgreSQL to ride with the unit of work's next statement (`defer_write`).
_HELD = "held_write"


def defer_write(session: AsyncSession, statement: UpdateBase, params: dict[str, Any]) -> bool:
    """On PostgreSQL, `statement` (an INSERT, UPDATE or DELETE whose result nobody reads) is
    held back to go with the unit of work's next statement: in the same round trip when that
    statement can carry it (`take_held`, as a data-modifying CTE: the check-in's answer with
    the conversation, one round trip of an answer's six), else run just before it, before a
    flush or before the commit, so nothing in the unit of work can tell it was held. False
    on SQLite (no round trip to save): the caller runs it now."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    _run_held(session.sync_session)  # one at a time, in order
    session.info[_HELD] = (statement, params)
    return True


def take_held(session: AsyncSession) -> tuple[UpdateBase, dict[str, Any]] | None:
    """The write held back (`defer_write`), now the caller's to run within its own statement."""
    held: tuple[UpdateBase, dict[str, Any]] | None = session.info.pop(_HELD, None)
    return held


def _run_held(session: Session) -> None:
    held = session.info.pop(_HELD, None)
    if held is not None:
        session.execute(*held)


@event.listens_for(Session, "do_orm_execute")
def _held_before_a_statement(state: ORMExecuteState) -> None:
    _run_held(state.session)


@event.listens_for(Session, "before_flush")
def _held_before_a_flush(session: Session, *_: Any) -> None:
    _run_held(session)


@event.listens_for(Session, "before_commit")
def _held_before_the_commit(session: Session) -> None:
    _run_held(session)


@event.listens_for(Session, "after_soft_rollback")
def _held_rolled_back(session: Session, *_: Any) -> None:
    session.info.pop(_HELD, None)


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
