"""Monitoring plans: what the local rules decided for one person's arrival, with its dates.

A re-classification (arrival, re-screening) supersedes the active plan with a new row, so
what was decided when, and why, stays on file."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Json

ACTIVE, SUPERSEDED, RELEASED, HELD = "active", "superseded", "released", "held"


class MonitoringPlan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_status_ends", "status", "ends_on"),
        # Releases in the daily report's window.
        Index("ix_plans_status_ended", "status", "ended_at"),
        # People under each kind of monitoring per grid, from the index alone in the grid's
        # order (17,000 active plans in the generated city of 200,000).
        Index("ix_plans_status_grid", "status", "grid_id", "starts_on", "ends_on", "phases"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    # The resident's grid, as on check-ins (the roll-up's counts per grid).
    grid_id: Mapped[int | None] = mapped_column(Integer)
    arrival_id: Mapped[int] = mapped_column(ForeignKey("arrivals.id"), index=True)
    policy: Mapped[str] = mapped_column(String(60))
    plan_key: Mapped[str] = mapped_column(String(60))
    rule: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    # [{"kind": "home_monitoring", "first": "2021-07-01", "last": "2021-07-07"}, …]
    phases: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    test_days: Mapped[list[str]] = mapped_column(Json)
    negatives_needed: Mapped[int] = mapped_column(Integer)
    refer_to_clinic: Mapped[bool] = mapped_column(Boolean, default=False)
    # The match against the risk list was not certain: the grid worker confirms.
    needs_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=ACTIVE)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


async def active_plan(session: AsyncSession, resident_id: int) -> MonitoringPlan | None:
    query = select(MonitoringPlan).where(
        MonitoringPlan.resident_id == resident_id, MonitoringPlan.status == ACTIVE
    )
    return await session.scalar(query.order_by(MonitoringPlan.id.desc()).limit(1))
