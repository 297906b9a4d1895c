"""The daily report's figures stored per grid and day, for days that are over (filled by a
periodic job, `services.stored`), so that a city's fortnight is a few thousand small rows
summed rather than half a million check-ins counted. Today is always counted live."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Json


class GridDayCounts(Base):
    """One grid's figures for one day (a row only when something is to count)."""

    __tablename__ = "grid_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    # `services.counts.Counts` as numbers: the non-zero fields, "by_kind" and "alerts".
    counts: Mapped[dict[str, Any]] = mapped_column(Json)


class CountedDay(Base):
    """A day whose figures are stored for every grid, and how they were counted: the report's
    time and zone and the overdue delay must match what is asked, else it is counted live."""

    __tablename__ = "counted_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    report_at: Mapped[str] = mapped_column(String(8))
    zone: Mapped[str] = mapped_column(String(64))
    overdue_seconds: Mapped[int] = mapped_column(Integer)
    counted_at: Mapped[datetime]
    # Up to when changes to earlier days (late answers, actions on old alerts) were looked for.
    checked_at: Mapped[datetime]
