"""Risk areas elsewhere (high / medium / low), with their history: each listing says what
level a place had from when to when, so the level of a place on any date can be told."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Date, Index, String, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from rules import places
from rules.risk import LEVELS, Listing, listed_area


class RiskArea(Base):
    __tablename__ = "risk_areas"
    __table_args__ = (Index("ix_risk_areas_place_from", "place_code", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The place as published ("中国/上海市/浦东新区"), and its gazetteer code when we know it
    # (for a street or town below a known place, the code of that place: see rules.risk).
    place: Mapped[str] = mapped_column(String(200))
    place_code: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    imported_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(200))

    def listing(self) -> Listing:
        return Listing(self.place, self.place_code, self.level, self.valid_from, self.valid_to)


async def listings_on(session: AsyncSession, day: date) -> list[Listing]:
    query = select(RiskArea).where(
        RiskArea.valid_from <= day, or_(RiskArea.valid_to.is_(None), RiskArea.valid_to >= day)
    )
    return [row.listing() for row in await session.scalars(query)]


async def listings_between(session: AsyncSession, first: date, last: date) -> list[Listing]:
    """Every listing in force on some day of [first, last]."""
    query = select(RiskArea).where(
        RiskArea.valid_from <= last, or_(RiskArea.valid_to.is_(None), RiskArea.valid_to >= first)
    )
    return [row.listing() for row in await session.scalars(query)]


class RiskImportProblem(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line


@dataclass(frozen=True)
class RiskImport:
    added: int
    raised: list[Listing]  # listings whose level went up: their people are screened again
    unresolved: list[str]  # places not in the gazetteer (matched by name only)
    # streets, towns, compounds below a known place (its people are possible matches)
    partial: list[str] = field(default_factory=list)


RISK_COLUMNS = ("place", "level", "valid_from")
RANK = {level: rank for rank, level in enumerate(("low", "medium", "high"), 1)}


async def import_risk_areas(
    session: AsyncSession, text: str, *, source: str, now: datetime
) -> RiskImport:
    """Add listings from CSV (place,level,valid_from[,valid_to]); all or nothing.

    A new listing for a place closes the open listing it replaces the day before it starts,
    so the history stays whole.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in RISK_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RiskImportProblem(
            1,
            f"the header must name place,level,valid_from[,valid_to]; missing {', '.join(missing)}",
        )
    rows: list[tuple[int, str, places.Area | None, str, date, date | None]] = []
    for row in reader:
        line = reader.line_num
        place = " ".join((row.get("place") or "").split())
        level = (row.get("level") or "").strip().lower()
        if not place or len(place) > 200:
            raise RiskImportProblem(line, "place is required (at most 200 characters)")
        if level not in LEVELS:
            raise RiskImportProblem(line, f"level {level!r} is not one of high, medium, low")
        try:
            valid_from = date.fromisoformat((row.get("valid_from") or "").strip())
            raw_to = (row.get("valid_to") or "").strip()
            valid_to = date.fromisoformat(raw_to) if raw_to else None
        except ValueError:
            raise RiskImportProblem(line, "dates must be YYYY-MM-DD") from None
        if valid_to is not None and valid_to < valid_from:
            raise RiskImportProblem(line, "valid_to is before valid_from")
        rows.append((line, place, places.resolve_area(place), level, valid_from, valid_to))
    if not rows:
        raise RiskImportProblem(2, "the file has no rows")

    raised: list[Listing] = []
    for _line, place, area, level, valid_from, valid_to in rows:
        code = area.place.code if area else None
        same_place = RiskArea.place_code == code if code else RiskArea.place == place
        earlier = (
            await session.scalars(
                select(RiskArea).where(
                    same_place,
                    RiskArea.valid_from < valid_from,
                    or_(RiskArea.valid_to.is_(None), RiskArea.valid_to >= valid_from),
                )
            )
        ).all()
        if area is not None:  # a street's listing and its district's are different areas
            earlier = [e for e in earlier if _within(e) == area.within]
        before = max((RANK[e.level] for e in earlier), default=0)
        for listing in earlier:
            listing.valid_to = valid_from - timedelta(days=1)
        added = RiskArea(
            place=place,
            place_code=code,
            level=level,
            valid_from=valid_from,
            valid_to=valid_to,
            imported_at=now,
            source=source[:200],
        )
        session.add(added)
        if RANK[level] > before:
            raised.append(added.listing())
    await session.flush()
    unresolved = sorted({place for _l, place, area, *_ in rows if area is None})
    partial = sorted({place for _l, place, area, *_ in rows if area and area.within})
    return RiskImport(len(rows), raised, unresolved, partial)


def _within(listing: RiskArea) -> str | None:
    area = listed_area(listing.place, listing.place_code)
    return area.within if area is not None else None
