"""Our jurisdiction: city → district → street/town → community → grid, with codes.

Records point at areas by id; a re-import matches areas by code, so renaming an area or
adding new ones never breaks the people already filed under it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


LEVELS = tuple(Level)
# The level a child of each level has.
BELOW = {LEVELS[i]: LEVELS[i + 1] for i in range(len(LEVELS) - 1)}


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # The codes from the root down to this area, "/"-joined, so "everything under an area"
    # is one indexed prefix query instead of a walk.
    path: Mapped[str] = mapped_column(String(400), index=True)
    # For a grid: the buildings and compounds it takes ("1-10|阳光小区"), so a resident's
    # address places them in it (rules/addresses.py); None: a worker assigns.
    buildings: Mapped[str | None] = mapped_column(String(400))
    # A public phone number residents may call (the community office's, the grid's hotline);
    # residents see the nearest one above their grid.
    phone: Mapped[str | None] = mapped_column(String(32))


async def children_of(session: AsyncSession, parent_id: int | None) -> list[Area]:
    query = select(Area).where(Area.parent_id == parent_id).order_by(Area.code)
    if parent_id is None:
        query = select(Area).where(Area.parent_id.is_(None)).order_by(Area.code)
    return list((await session.scalars(query)).all())


async def areas_named(session: AsyncSession, text: str, level: str, limit: int = 5) -> list[Area]:
    """Areas of a level whose name is, or contains, the text typed (exact names first)."""
    typed = text.strip()
    if not typed:
        return []
    query = (
        select(Area)
        .where(Area.level == level, Area.name.contains(typed, autoescape=True))
        .order_by(Area.code)
        .limit(50)
    )
    found = list((await session.scalars(query)).all())
    exact = [a for a in found if a.name == typed]
    return (exact or found)[:limit]


async def area_by_code(session: AsyncSession, code: str) -> Area | None:
    return await session.scalar(select(Area).where(Area.code == code))


async def lineage(session: AsyncSession, area: Area) -> list[Area]:
    """The area and those above it, from the top down."""
    codes = area.path.split("/")
    found = {a.code: a for a in await session.scalars(select(Area).where(Area.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


class ImportProblem(Exception):
    """A row of an areas file is wrong; nothing was imported."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line


@dataclass(frozen=True)
class ImportResult:
    added: int
    renamed: int
    unchanged: int


AREA_COLUMNS = ("code", "name", "level", "parent_code")
# Optional: for a grid, the buildings and compounds it takes ("1-10|15|阳光小区").
BUILDINGS = "buildings"
# Optional: the area's public phone number, shown to residents ("0937-6221234").
PHONE = "phone"
_PHONE = re.compile(r"^\+?[\d\- ]{3,31}$")


async def import_areas(session: AsyncSession, text: str) -> ImportResult:
    """Import or update areas from CSV (code,name,level,parent_code[,buildings][,phone]), all
    or nothing.

    The caller's transaction makes it all-or-nothing: any ImportProblem leaves it to roll back.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in AREA_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportProblem(
            1, f"the header must name {', '.join(AREA_COLUMNS)}; missing {', '.join(missing)}"
        )
    existing = {a.code: a for a in await session.scalars(select(Area))}
    seen: set[str] = set()
    added = renamed = unchanged = 0
    for row in reader:
        line = reader.line_num
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        level = (row.get("level") or "").strip().lower()
        parent_code = (row.get("parent_code") or "").strip()
        buildings = (row.get(BUILDINGS) or "").strip() or None
        phone = (row.get(PHONE) or "").strip() or None
        if phone is not None and not _PHONE.match(phone):
            raise ImportProblem(line, f"phone {phone!r} is not a phone number")
        if not code or not name:
            raise ImportProblem(line, "code and name are required")
        if len(code) > 32 or "/" in code:
            raise ImportProblem(line, f"code {code!r} must be at most 32 characters with no '/'")
        if len(name) > 100:
            raise ImportProblem(line, "name is longer than 100 characters")
        if level not in LEVELS:
            raise ImportProblem(line, f"level {level!r} is not one of {', '.join(LEVELS)}")
        if buildings is not None and (level != Level.GRID or len(buildings) > 400):
            raise ImportProblem(line, "buildings are given for a grid, in at most 400 characters")
        if code in seen:
            raise ImportProblem(line, f"code {code} appears twice in the file")
        seen.add(code)
        parent = existing.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise ImportProblem(line, f"parent {parent_code} is not known (list parents first)")
        if parent is None and level != Level.CITY:
            raise ImportProblem(line, f"a {level} needs a parent_code")
        if parent is not None and BELOW.get(Level(parent.level)) != level:
            raise ImportProblem(
                line, f"a {level} cannot sit under a {parent.level} ({parent.code})"
            )
        path = f"{parent.path}/{code}" if parent else code
        area = existing.get(code)
        if area is None:
            area = Area(
                code=code, name=name, level=level, path=path, buildings=buildings, phone=phone
            )
            area.parent_id = parent.id if parent else None
            session.add(area)
            await session.flush()
            existing[code] = area
            added += 1
            continue
        if area.level != level or area.path != path:
            raise ImportProblem(
                line, f"{code} exists as a {area.level} at {area.path}; it cannot move"
            )
        # A file without the phone column leaves the numbers as they are.
        keep = area.phone if PHONE not in (reader.fieldnames or []) else phone
        if area.name != name or area.buildings != buildings or area.phone != keep:
            area.name, area.buildings, area.phone = name, buildings, keep
            renamed += 1
        else:
            unchanged += 1
    if not seen:
        raise ImportProblem(2, "the file has no rows")
    return ImportResult(added, renamed, unchanged)
