"""Grid workers and the levels above them: who looks after which area, how they joined, and
the audit log of what they looked at or exported. Access is checked where data is read:
`covers(staff, area)` is the one rule — a worker sees what lies at or under their area."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.areas import Area, Level
from models.base import Base, Json

# Role → the level of area it is given for.
ROLES: dict[str, str] = {
    "grid": Level.GRID,
    "community": Level.COMMUNITY,
    "street": Level.STREET,
    "district": Level.DISTRICT,
    # The city's command post (指挥部): the figures of every district, and the dashboard.
    "city": Level.CITY,
}


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (Index("ix_staff_user_active", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # The name residents are told (their Telegram first name when they joined).
    name: Mapped[str] = mapped_column(String(64), default="")
    joined_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Who looked at or exported what, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    at: Mapped[datetime]


def new_invite_code() -> str:
    # 10 characters of an alphabet without look-alikes: easy to type from a printout.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


async def active_staff(session: AsyncSession, user_id: int) -> list[tuple[Staff, Area]]:
    query = (
        select(Staff, Area)
        .join(Area, Area.id == Staff.area_id)
        .where(Staff.user_id == user_id, Staff.revoked_at.is_(None))
        .order_by(Staff.id)
    )
    return [(staff, area) for staff, area in (await session.execute(query)).all()]


def covers(area: Area, target: Area) -> bool:
    """The area is the target or lies above it."""
    return target.path == area.path or target.path.startswith(area.path + "/")


async def staff_for_grid(session: AsyncSession, grid: Area, role: str = "grid") -> list[Staff]:
    """Active staff of a role whose area covers the grid (its own workers for role "grid")."""
    codes = grid.path.split("/")
    query = (
        select(Staff)
        .join(Area, Area.id == Staff.area_id)
        .where(Staff.revoked_at.is_(None), Staff.role == role, Area.code.in_(codes))
        .order_by(Staff.id)
    )
    return list((await session.scalars(query)).all())


async def audit(
    session: AsyncSession, actor: int, action: str, subject: str, now: datetime, **details: Any
) -> None:
    session.add(
        AuditEntry(actor_user_id=actor, action=action, subject=subject, details=details, at=now)
    )
