"""Fast bulk loading for generated data: COPY on PostgreSQL, executemany on SQLite.

Rows are tuples of Python values (aware datetimes, dates, lists and dicts for JSON columns)
in the order of the columns named; each database gets them in its own storage format, the
SQLite one through SQLAlchemy's own type processors so the ORM reads back what it expects.
Ids are given explicitly (so foreign keys are known without reading anything back); on
PostgreSQL the id sequences are moved past them at the end.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, Self

from sqlalchemy import JSON, Table, TypeDecorator, make_url
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from models.crypto import SEALED

Row = tuple[Any, ...]


class Loader:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.postgres = self.url.get_backend_name() == "postgresql"
        self._connection: AsyncConnection | None = None
        self._pg: Any = None  # the asyncpg connection under SQLAlchemy's
        self._sqlite: sqlite3.Connection | None = None
        self._dialect: Dialect = sqlite_dialect.dialect()
        # Tables given ids here, whose id sequence must move past them (PostgreSQL).
        self._tables: set[str] = set()

    async def __aenter__(self) -> Self:
        if self.postgres:
            self._connection = await create_async_engine(self.url).connect()
            self._pg = (await self._connection.get_raw_connection()).driver_connection
        else:
            assert self.url.database
            self._sqlite = sqlite3.connect(self.url.database)
            self._sqlite.execute("PRAGMA journal_mode=WAL")
            self._sqlite.execute("PRAGMA synchronous=OFF")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pg is not None:
            if exc is None:
                for name in sorted(self._tables):
                    await self._pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
                    )
                await self._pg.execute("ANALYZE")
        if self._connection is not None:
            await self._connection.close()
            await self._connection.engine.dispose()
        if self._sqlite is not None:
            if exc is None:
                self._sqlite.execute("ANALYZE")
                self._sqlite.commit()
            self._sqlite.close()

    async def load(self, table: Table, columns: Sequence[str], rows: Iterable[Row]) -> int:
        """Insert `rows` (values in the order of `columns`); returns how many."""
        if "id" in columns and table.c["id"].autoincrement in (True, "auto"):
            self._tables.add(table.name)
        count = 0
        if self._pg is not None:
            json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
            # Our own types (an encrypted conversation's answers) give their stored value.
            dialect = self._connection.engine.dialect if self._connection else None
            decorated = [
                (i, t)
                for i, c in enumerate(columns)
                if isinstance(t := table.c[c].type, TypeDecorator)
                and type(t).process_bind_param is not TypeDecorator.process_bind_param
            ]
            json_at += [
                i
                for i, c in enumerate(columns)
                if isinstance(t := table.c[c].type, TypeDecorator)
                and isinstance(t.impl_instance, JSON)
            ]
            batch: list[Row] = []
            for row in rows:
                if json_at or decorated:
                    values = list(row)
                    for i, t in decorated:
                        if isinstance(values[i], str) and SEALED.fullmatch(values[i]):
                            continue  # encrypted by the caller already (common.sealed)
                        values[i] = t.process_bind_param(values[i], dialect)  # type: ignore[arg-type]
                    for i in json_at:
                        values[i] = json.dumps(values[i], ensure_ascii=False)
                    row = tuple(values)
                batch.append(row)
                if len(batch) >= 50_000:
                    await self._pg.copy_records_to_table(
                        table.name, records=batch, columns=list(columns)
                    )
                    count += len(batch)
                    batch = []
            if batch:
                await self._pg.copy_records_to_table(
                    table.name, records=batch, columns=list(columns)
                )
                count += len(batch)
            return count
        assert self._sqlite is not None
        processors = [
            table.c[c].type.dialect_impl(self._dialect).bind_processor(self._dialect)
            for c in columns
        ]
        marks = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'

        # Our own types keep a value encrypted by the caller already (common.sealed) as it
        # is, as on PostgreSQL: encrypted twice, no resident could be found by phone.
        sealed_ok = [isinstance(table.c[c].type, TypeDecorator) for c in columns]

        def kept(value: object, index: int) -> bool:
            return sealed_ok[index] and isinstance(value, str) and bool(SEALED.fullmatch(value))

        def converted() -> Iterable[Row]:
            nonlocal count
            pairs = list(enumerate(processors))
            for row in rows:
                count += 1
                yield tuple(
                    value if p is None or value is None or kept(value, i) else p(value)
                    for (i, p), value in zip(pairs, row, strict=True)
                )

        self._sqlite.executemany(statement, converted())
        self._sqlite.commit()
        return count
