"""Daily check-ins of people under home monitoring: one row per plan and slot, created when
the slot opens (the unique key makes that happen once, whoever runs the job), answered,
reminded, or recorded as missed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Json


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("plan_id", "slot_start", name="uq_checkins_plan_slot"),
        Index("ix_checkins_open", "answered_at", "slot_end"),
        # Slots ended in the daily report's window: in a city (counted per grid from the
        # index alone on SQLite: the roll-up reads the day's 34,000 rows of a city of
        # 200,000), and of a grid's residents.
        Index("ix_checkins_slot_end", "slot_end", "grid_id", "answered_at", "late", "extra"),
        Index("ix_checkins_resident_slot_end", "resident_id", "slot_end"),
        # A hundred grids' slots ended in the window (the report job reads a chunk of grids
        # at a time): by `ix_checkins_slot_end` PostgreSQL read the whole city's and kept a
        # tenth. Empty on SQLite (`WHERE 0`: never read, nothing to keep up): SQLite reads
        # each grid's residents' slots by `ix_checkins_resident_slot_end` anyway, and with
        # this index it counted the roll-up's check-ins from it instead of the covering
        # `ix_checkins_slot_end` (22 → 103 ms in a city of 200,000).
        Index("ix_checkins_grid_slot_end", "grid_id", "slot_end", sqlite_where=text("0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    # The resident's grid, kept here for the roll-up's counts per grid (no look-up of the
    # resident per row); set where the row is written, moved with the resident
    # (`services.placement.move_rows`).
    grid_id: Mapped[int | None] = mapped_column(Integer)
    # Who is asked: the person, or the household member who answers for them.
    reporter_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    temperature: Mapped[float | None] = mapped_column(Float)
    symptoms: Mapped[list[str]] = mapped_column(Json, default=list)
    went_out: Mapped[bool | None] = mapped_column(Boolean)
    where: Mapped[str | None] = mapped_column(String(200))
    answered_by: Mapped[int | None] = mapped_column(BigInteger)
    extra: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class TestResult(Base):
    """A nucleic-acid test result reported on a plan's test day."""

    __tablename__ = "test_results"
    __table_args__ = (UniqueConstraint("plan_id", "day", name="uq_test_results_plan_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    # negative | positive | pending ("not yet")
    result: Mapped[str] = mapped_column(String(12))
    reported_at: Mapped[datetime]
    reported_by: Mapped[int] = mapped_column(BigInteger)
