"""Alerts for a grid's workers: what happened, about whom, and what was done about it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Json, insert_for

OPEN, ACKNOWLEDGED = "open", "acknowledged"
# Who an alert is addressed to, from the grid up: unacknowledged, it climbs one level at a time.
LEVELS = ("grid", "community", "street", "district")
# What a worker can record having done about an alert.
ACTIONS = ("called", "visited", "referred", "quarantine")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_grid_status", "grid_id", "status"),
        # What is due for re-sending or escalation: open, and sent before a given time.
        Index("ix_alerts_status_notified", "status", "notified_at"),
        # Alerts raised in the daily report's window.
        Index("ix_alerts_kind_created", "kind", "created_at"),
        # Those still without action, counted per grid from the index alone, read in the
        # grid's order (72,000 in the generated city of 200,000, which acts on none).
        Index(
            "ix_alerts_grid_open",
            "grid_id",
            "kind",
            "created_at",
            "checkin_slot_end",
            "checkin_settled_at",
            # Last, so the count reads the index alone (not an INCLUDE column of PostgreSQL's:
            # naming a dialect's option loads that dialect, 4 MB, on SQLite too; 0031).
            "id",
        ),
        # Missed check-ins answered late or closed since the stored figures were counted.
        Index("ix_alerts_checkin_settled_at", "checkin_settled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    # refer_clinic, high_risk_arrival, abroad_arrival, pre_arrival, rescreen, confirm_match…
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    # When the workers of its current level were sent it (None: not yet; no worker may have
    # joined). Re-sending and escalation count from here.
    notified_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(BigInteger)
    # The level whose staff it is addressed to now (one of LEVELS), and when it was re-sent
    # to them (None: not yet at this level).
    level: Mapped[str] = mapped_column(String(16), default="grid", server_default="grid")
    resent_at: Mapped[datetime | None]
    # A missed check-in's alert: the end of the slot it is about, and when that check-in was
    # answered late after all, or closed with its plan (then it is no longer "still open",
    # and the report counts it without looking the check-in up).
    checkin_slot_end: Mapped[datetime | None]
    checkin_settled_at: Mapped[datetime | None]


class AlertAction(Base):
    """What was done about an alert, by whom and when: acknowledged, an action with its note,
    or an escalation (by a worker, or by the bot when nobody acknowledged in time)."""

    __tablename__ = "alert_actions"
    # What was done since the stored figures were last checked (`services.stored`).
    __table_args__ = (Index("ix_alert_actions_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    # acknowledged | called | visited | referred | quarantine | escalated
    kind: Mapped[str] = mapped_column(String(16))
    # The worker's Telegram user; None when the bot escalated on its own.
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str | None] = mapped_column(Text)
    # For an escalation: the level it went to.
    level: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime]


async def raise_alert(
    session: AsyncSession,
    *,
    grid_id: int,
    kind: str,
    now: datetime,
    resident_id: int | None = None,
    details: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    checkin_slot_end: datetime | None = None,
) -> None:
    """Record an alert once (by its dedupe key); the workers' channel delivers it."""
    insert = insert_for(session.get_bind().dialect.name)
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
            checkin_slot_end=checkin_slot_end,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    await session.execute(statement)
