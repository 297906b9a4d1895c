"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL when
TEST_DATABASE_URL names one), the core on a clock the test moves, and chat drivers.

Under pytest-xdist each worker has a PostgreSQL database of its own, made beside the one
TEST_DATABASE_URL names (on the same server, named after it and the worker) and dropped at the
end; SQLite databases are files in each test's own directory anyway."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from emulator import EmulatorClient, create_app
from handlers.app import Core
from models.crypto import Keyring, new_key, use_keys
from models.db import make_engine, make_sessions, upgrade
from services.options import Options
from tests.support import Person

# The tests' own DATA_KEY: phones and ID numbers are encrypted with it here and in the bot
# processes the end-to-end tests start (which inherit the environment).
os.environ.setdefault("DATA_KEY", new_key())
use_keys(Keyring.from_settings(os.environ["DATA_KEY"]))

POSTGRES = os.environ.get("TEST_DATABASE_URL", "")
# "gw0", "gw1" … under pytest-xdist; "" in a plain run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# The PostgreSQL databases this process made, dropped when the session ends.
_MADE: list[str] = []


def _admin(url: str) -> tuple[str, str]:
    """asyncpg's address for the server of `url`, and the name of `url`'s database."""
    parsed = make_url(url)
    name = parsed.database or ""
    plain = parsed.set(drivername="postgresql")
    return plain.render_as_string(hide_password=False), name


async def _execute(statement: str) -> None:
    import asyncpg

    address, _ = _admin(POSTGRES)
    connection = await asyncpg.connect(address)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def fresh_database(suffix: str) -> str:
    """An empty PostgreSQL database beside TEST_DATABASE_URL's, named after it, this worker
    and `suffix`; dropped at the end of the session."""
    _, base = _admin(POSTGRES)
    name = f"{base}_{WORKER or 'main'}_{suffix}"[:63]
    await _execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _execute(f'CREATE DATABASE "{name}"')
    _MADE.append(name)
    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def _drop_made_databases() -> Iterator[None]:
    yield
    if _MADE:

        async def drop() -> None:
            for name in _MADE:
                await _execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        asyncio.run(drop())


# The slowest files first, so that under `make test` (xdist, one file to a worker at a time,
# in this order) they start at once rather than making a long tail: the end-to-end ones (bot
# processes answering at Telegram's pace of about a message a second per chat; a file's
# tests share its bot, so they stay together) and the conversation fuzzer.
SLOW_FIRST = (
    "tests/e2e/test_checkins.py",
    "tests/e2e/test_report.py",
    "tests/e2e/test_skeleton.py",
    "tests/e2e/test_checkins_restart.py",
    "tests/handlers/test_fuzz.py",
    "tests/e2e/",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.relative_to(config.rootpath).as_posix()
        return next((i for i, p in enumerate(SLOW_FIRST) if path.startswith(p)), len(SLOW_FIRST))

    items.sort(key=rank)


_worker_database = ""


async def worker_database() -> str:
    """TEST_DATABASE_URL itself in a plain run; under xdist, this worker's own database."""
    global _worker_database
    if not WORKER:
        return POSTGRES
    if not _worker_database:
        _worker_database = await fresh_database("tests")
    return _worker_database


# A test that asks for `engine` gets a database at the newest migration with no rows in it.
# The migrations run once per process, not once per test: they took about 0.5 s a test on
# SQLite and 4 s on PostgreSQL on the CI machine (some 290 tests). On SQLite the migrated
# file is copied; on PostgreSQL the worker's database is emptied (TRUNCATE), unless its
# schema is no longer exactly what the migrations made (a test dropped it, or changed it),
# when it is made again. The migrations insert no rows, so empty is what they leave.
_sqlite_template: Path | None = None
# The PostgreSQL worker database's schema as the migrations left it (SCHEMA_PRINT), or None
# while it is not known to be so.
_postgres_schema: str | None = None
SCHEMA_PRINT = text(
    """
    SELECT md5(concat_ws('|',
      (SELECT string_agg(concat_ws(':', table_name, column_name, data_type, is_nullable,
                                   column_default), ',' ORDER BY table_name, column_name)
         FROM information_schema.columns WHERE table_schema = 'public'),
      (SELECT string_agg(indexdef, ',' ORDER BY indexdef)
         FROM pg_indexes WHERE schemaname = 'public'),
      (SELECT string_agg(conrelid::regclass || conname || pg_get_constraintdef(oid), ','
                         ORDER BY conrelid::regclass::text, conname)
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
      (SELECT string_agg(sequencename, ',' ORDER BY sequencename)
         FROM pg_sequences WHERE schemaname = 'public'),
      (SELECT string_agg(version_num, ',') FROM alembic_version)))
    """
)


async def sqlite_template(directory: Path) -> Path:
    """A SQLite file the migrations brought to head, made once per process."""
    global _sqlite_template
    if _sqlite_template is None:
        path = directory / "migrated.db"
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()
        # The last connection's close checkpoints the WAL into the file and removes it, so
        # the file alone is the whole database.
        assert not path.with_name(path.name + "-wal").exists()
        _sqlite_template = path
    return _sqlite_template


async def _postgres_blank(url: str) -> None:
    global _postgres_schema
    _postgres_schema = None
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _postgres_migrated(url: str) -> None:
    """The database at head with no rows: emptied if its schema is the migrations' own,
    else made again."""
    global _postgres_schema
    engine = make_engine(url)
    try:
        if _postgres_schema is not None:
            async with engine.begin() as connection:
                if await connection.scalar(SCHEMA_PRINT) == _postgres_schema:
                    tables = (
                        await connection.scalars(
                            text(
                                "SELECT quote_ident(tablename) FROM pg_tables "
                                "WHERE schemaname = 'public' AND tablename != 'alembic_version'"
                            )
                        )
                    ).all()
                    await connection.execute(
                        text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                    )
                    return
        await _postgres_blank(url)
        await upgrade(engine)
        async with engine.connect() as connection:
            _postgres_schema = await connection.scalar(SCHEMA_PRINT)
    finally:
        await engine.dispose()


@pytest.fixture
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """An empty database; at the newest migration (with no rows) when the test also asks
    for `engine`, else with no schema at all."""
    migrated = "engine" in request.fixturenames
    if not POSTGRES:
        path = tmp_path / "test.db"
        if migrated:
            shutil.copyfile(await sqlite_template(tmp_path_factory.getbasetemp()), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = await worker_database()
    if migrated:
        await _postgres_migrated(url)
    else:
        await _postgres_blank(url)
    yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's database (migrated by `database_url`)."""
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


@pytest.fixture
def clock() -> FixedClock:
    # 10:00 in Shanghai.
    return FixedClock(datetime(2026, 7, 1, 2, 0, tzinfo=UTC))


@pytest.fixture
def core(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> Core:
    return Core(sessions, clock, Options())


@pytest.fixture
def resident(core: Core) -> Person:
    """A resident's phone: what they see of the bot, and their thumbs."""
    return Person(core, user_id=1001)


DEMO_AREAS = Path(__file__).parents[1] / "bot" / "demo_data" / "areas.csv"


@pytest.fixture
async def areas(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The demo city's districts, streets, communities and grids."""
    from models.areas import import_areas

    async with sessions.begin() as session:
        await import_areas(session, DEMO_AREAS.read_text(encoding="utf-8"))


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorClient]:
    app = create_app(limits=True)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with EmulatorClient(f"http://127.0.0.1:{port}") as client:
        yield client
    await runner.cleanup()
