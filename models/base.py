"""The declarative base, shared column types and the constraint naming that migrations rely on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, MetaData, TypeDecorator
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeEngine

# Named constraints keep Alembic's batch mode on SQLite and plain ALTERs on PostgreSQL in step.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases (SQLite keeps no zone, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def from_postgresql(name: str) -> Any:
    """A name of SQLAlchemy's PostgreSQL dialect (`JSONB`, `ARRAY`, `insert`), imported when
    it is used, on PostgreSQL: the dialect's package is 4 MB of memory, which a bot on SQLite
    never needs (on PostgreSQL the engine loads it at the start anyway)."""
    from sqlalchemy.dialects import postgresql

    return getattr(postgresql, name)


def insert_for(dialect: str) -> Any:
    """The dialect's `insert`, the one with ON CONFLICT (`on_conflict_do_nothing`, …)."""
    return from_postgresql("insert") if dialect == "postgresql" else sqlite_insert


class Json(TypeDecorator[Any]):
    """JSON; JSONB on PostgreSQL (as `JSON().with_variant(JSONB(), "postgresql")`, without
    importing the PostgreSQL dialect where there is none). Python's None is stored as JSON's
    `null`, as JSON does."""

    impl = JSON
    cache_ok = True
    should_evaluate_none = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(from_postgresql("JSONB")())
        return dialect.type_descriptor(JSON())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}  # noqa: RUF012
