"""People and their journeys: one file per household, one health file per person.

A household is who reported together (the reporter and those travelling along); each of
them is a Resident with an Arrival of their own, so each gets their own plan.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    case,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, Json
from models.crypto import Encrypted, keyring


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    # The Telegram user who reported for the household and answers for those without a phone.
    reporter_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime]

    residents: Mapped[list[Resident]] = relationship(
        back_populates="household", order_by="Resident.id"
    )


class Resident(Base):
    __tablename__ = "residents"
    # Each row's grid read from the index alone when counting per grid (migration 0025).
    __table_args__ = (Index("ix_residents_id_grid_id", "id", "grid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    # The person's own Telegram account, when they reported themselves.
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Who answers for them: themselves, or the household's reporter.
    reporter_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    relation: Mapped[str] = mapped_column(String(16), default="self")
    name: Mapped[str | None] = mapped_column(String(60), index=True)
    # Encrypted at rest (models/crypto.py), each with a keyed hash for exact look-ups: the
    # phone's last four digits (/find 5678, then the candidates' phones are compared), the
    # whole ID number. The hashes follow the values when they are set.
    phone: Mapped[str | None] = mapped_column(Encrypted("residents.phone"))
    id_number: Mapped[str | None] = mapped_column(Encrypted("residents.id_number"))
    phone_tail_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set once personal data is purged after the retention period.
    purged_at: Mapped[datetime | None]

    household: Mapped[Household] = relationship(back_populates="residents")
    arrivals: Mapped[list[Arrival]] = relationship(back_populates="resident", order_by="Arrival.id")

    @property
    def by_proxy(self) -> bool:
        """Reported by a worker for someone without Telegram (代报): the household's own person
        has no chat; the worker who reported answers for them (代打卡)."""
        return self.relation == "self" and self.user_id is None and self.purged_at is None

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    @validates("phone")
    def _phone_hash(self, _key: str, value: str | None) -> str | None:
        self.phone_tail_hash = phone_tail_hash(value)
        return value

    @validates("id_number")
    def _id_number_hash(self, _key: str, value: str | None) -> str | None:
        self.id_number_hash = id_number_hash(value)
        return value


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def phone_tail_hash(phone: str | None) -> str | None:
    """The keyed hash stored for a phone: that of its last four digits."""
    digits = _digits(phone or "")
    return keyring().lookup(digits[-4:], "phone-tail") if len(digits) >= 4 else None


def phone_tail_hashes(digits: str) -> list[str]:
    """What to look for to find phones that end in (or contain) these digits, 4 or more: the
    hashes of their last four under each key; the phones found are then compared."""
    return keyring().lookups(_digits(digits)[-4:], "phone-tail")


def id_number_hash(id_number: str | None) -> str | None:
    return keyring().lookup(normal_id(id_number), "id-number") if id_number else None


def id_number_hashes(id_number: str) -> list[str]:
    return keyring().lookups(normal_id(id_number), "id-number")


def normal_id(id_number: str) -> str:
    return "".join(id_number.split()).replace("-", "").upper()


def mask_id(id_number: str | None) -> str:
    """The ID number as shown everywhere but the export: only its last four."""
    if not id_number:
        return ""
    return "*" * max(len(id_number) - 4, 2) + id_number[-4:]


class Arrival(Base):
    """One journey into the city, reported before or on arrival."""

    __tablename__ = "arrivals"
    __table_args__ = (
        # People expected, with the grid and the resident (read for `purged_at`) in the index.
        Index("ix_arrivals_status_expected", "status", "expected_at", "grid_id", "resident_id"),
        # The daily report's windows (reports received, arrivals).
        Index("ix_arrivals_reported_at", "reported_at"),
        Index("ix_arrivals_arrived_at", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    # The resident's grid, as on check-ins (the roll-up's counts per grid).
    grid_id: Mapped[int | None] = mapped_column(Integer)
    # "expected" (pre-arrival report) or "arrived".
    status: Mapped[str] = mapped_column(String(16))
    expected_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    reported_at: Mapped[datetime]
    # When a journey reported ahead was confirmed (/arrived): monitoring counts from then.
    confirmed_at: Mapped[datetime | None]
    origin_code: Mapped[str | None] = mapped_column(String(16))
    origin_text: Mapped[str] = mapped_column(String(100))
    transport: Mapped[str] = mapped_column(String(16))
    transport_number: Mapped[str | None] = mapped_column(String(32))
    seat: Mapped[str | None] = mapped_column(String(32))
    entry_port: Mapped[str | None] = mapped_column(String(60))
    # From abroad: the day centralised quarantine ended elsewhere; None with
    # quarantine_done False means it has not ended (or there was none).
    quarantine_ended_on: Mapped[date | None] = mapped_column(Date)
    temperature: Mapped[float | None] = mapped_column(Float)
    symptoms: Mapped[list[str]] = mapped_column(Json, default=list)
    health_code: Mapped[str | None] = mapped_column(String(8))
    test_result: Mapped[str | None] = mapped_column(String(12))
    test_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    resident: Mapped[Resident] = relationship(back_populates="arrivals")
    stays: Mapped[list[Stay]] = relationship(
        back_populates="arrival", order_by="Stay.from_date", cascade="all, delete-orphan"
    )


class Stay(Base):
    """A place in the travel and residence history of the 14 days before arrival."""

    __tablename__ = "stays"

    id: Mapped[int] = mapped_column(primary_key=True)
    arrival_id: Mapped[int] = mapped_column(
        ForeignKey("arrivals.id", ondelete="CASCADE"), index=True
    )
    place_code: Mapped[str | None] = mapped_column(String(16), index=True)
    place_text: Mapped[str] = mapped_column(String(100))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date)

    arrival: Mapped[Arrival] = relationship(back_populates="stays")


class Change(Base):
    """Every correction of a saved field: what, from what to what, by whom, when."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old: Mapped[Any] = mapped_column(Json, nullable=True)
    new: Mapped[Any] = mapped_column(Json, nullable=True)
    changed_by: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime]


async def residents_reported_by(session: AsyncSession, user_id: int) -> list[Resident]:
    """The people a Telegram user answers for, themselves first."""
    query = (
        select(Resident)
        .where(Resident.reporter_user_id == user_id)
        # Themselves first; not (user_id == me) DESC: dependants' NULL sorts first on PostgreSQL.
        .order_by(case((Resident.user_id == user_id, 0), else_=1), Resident.id)
    )
    return list((await session.scalars(query)).all())


async def latest_arrival(session: AsyncSession, resident_id: int) -> Arrival | None:
    query = (
        select(Arrival)
        .where(Arrival.resident_id == resident_id)
        .order_by(Arrival.id.desc())
        .limit(1)
    )
    return await session.scalar(query)
