"""Requests for help from people under monitoring: supplies, medical, someone to talk to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class HelpRequest(Base):
    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_grid_status", "grid_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    # The Telegram user who asked, and who is told of the answer.
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # "open" until a worker answers; then "answered" with the answer.
    status: Mapped[str] = mapped_column(String(16), default="open")
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(BigInteger)
    answer: Mapped[str | None] = mapped_column(Text)
