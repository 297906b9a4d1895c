"""Every message the bot starts (not a reply): queued here, delivered by one worker, its fate
recorded. A dedupe key makes "the arrival question for household 7 on 1 July" exist once,
however many times or instances a job runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from chat.contract import Buttons
from models.base import Base, Json

PENDING, SENT, FAILED, UNREACHABLE = "pending", "sent", "failed", "unreachable"


class Outgoing(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    text: Mapped[str] = mapped_column(Text)
    # Inline buttons as [[text, data], …] rows.
    buttons: Mapped[list[list[list[str]]]] = mapped_column(Json, default=list)
    purpose: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker that claimed the row owns it until then; after that another may take it over.
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(300))
    # A file sent with the message (the text is then its caption): a weekly chart.
    file_name: Mapped[str | None] = mapped_column(String(100))
    file_kind: Mapped[str | None] = mapped_column(String(16))  # photo | document
    file_content: Mapped[bytes | None] = mapped_column(LargeBinary)


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    text: str,
    purpose: str,
    now: datetime,
    buttons: Buttons = (),
    dedupe_key: str | None = None,
    due_at: datetime | None = None,
    file: tuple[str, str, bytes] | None = None,
) -> bool:
    """Queue a message; False if one with the same dedupe key exists already.

    `file` is (name, "photo" or "document", content); the text is then its caption."""
    values: dict[str, Any] = {
        "chat_id": chat_id,
        "text": text,
        "buttons": [[[b.text, b.data] for b in row] for row in buttons],
        "purpose": purpose,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "due_at": due_at or now,
        "status": PENDING,
        "attempts": 0,
    }
    if file is not None:
        values["file_name"], values["file_kind"], values["file_content"] = file
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Outgoing).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 1))


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease: timedelta
) -> list[Outgoing]:
    """Take up to `limit` due messages for this worker; two workers never take the same row."""
    query = (
        select(Outgoing)
        .where(
            Outgoing.status == PENDING,
            Outgoing.due_at <= now,
            or_(Outgoing.claimed_until.is_(None), Outgoing.claimed_until < now),
        )
        .order_by(Outgoing.due_at, Outgoing.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.scalars(query)).all())
    if rows:
        # One statement for the batch (row by row, a claim of 600 took longer than sending).
        await session.execute(
            update(Outgoing)
            .where(Outgoing.id.in_([row.id for row in rows]))
            .values(claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        for row in rows:
            set_committed_value(row, "claimed_until", now + lease)
    return rows
