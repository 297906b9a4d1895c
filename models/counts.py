"""The daily report's figures stored per area and day (a job, `services.stored`), so that a
city's fortnight is a few hundred small rows read rather than half a million check-ins
counted: days that are over, and a recent count of today."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Json


class AreaDayCounts(Base):
    """One area's figures for one day (a row only when something is to count): each grid's
    as counted, and each area above a grid the sum of its grids' (so that a range over the
    city's districts reads one row per district and day)."""

    __tablename__ = "area_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    # `services.counts.Counts` as numbers: the non-zero fields, "by_kind" and "alerts".
    counts: Mapped[dict[str, Any]] = mapped_column(Json)


class CountedDay(Base):
    """A day whose figures are stored for every area, and how they were counted: the report's
    time and zone and the overdue delay must match what is asked, else it is counted live. A
    day counted before it was over (`counted_at` before its end: today) is a snapshot, read
    only while recent and counted again as a whole once the day is over."""

    __tablename__ = "counted_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    report_at: Mapped[str] = mapped_column(String(8))
    zone: Mapped[str] = mapped_column(String(64))
    overdue_seconds: Mapped[int] = mapped_column(Integer)
    counted_at: Mapped[datetime]
    # Up to when changes to earlier days (late answers, actions on old alerts) were looked for.
    checked_at: Mapped[datetime]
