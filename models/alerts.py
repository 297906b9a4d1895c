"""Alerts for a grid's workers: what happened, about whom, and what was done about it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Json

OPEN = "open"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_grid_status", "grid_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    # refer_clinic, high_risk_arrival, abroad_arrival, pre_arrival, rescreen, confirm_match…
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    # When the grid's workers were last sent it (None: not yet; no worker may have joined).
    notified_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(BigInteger)


async def raise_alert(
    session: AsyncSession,
    *,
    grid_id: int,
    kind: str,
    now: datetime,
    resident_id: int | None = None,
    details: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Record an alert once (by its dedupe key); the workers' channel delivers it."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Alert)
        .values(
            grid_id=grid_id,
            resident_id=resident_id,
            kind=kind,
            details=details or {},
            created_at=now,
            status=OPEN,
            dedupe_key=dedupe_key,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    await session.execute(statement)
