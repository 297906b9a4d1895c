"""Papers the bot hands a resident: the notice of their plan (告知书) when it starts, and the
release certificate (解除管控告知单) at its end, each with a short code a worker verifies."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

NOTICE, RELEASE = "notice", "release"
# 8 characters without look-alikes (no 0/O, 1/I/L): read out on the phone or typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class Paper(Base):
    __tablename__ = "papers"
    __table_args__ = (UniqueConstraint("plan_id", "kind", name="uq_papers_plan_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # notice | release
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
