"""Every message the bot starts (not a reply): queued here, delivered by one worker, its fate
recorded. A dedupe key makes "the arrival question for household 7 on 1 July" exist once,
however many times or instances a job runs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from chat.contract import Buttons
from models.base import Base, Json, insert_for
from models.crypto import EncryptedText

PENDING, SENT, FAILED, UNREACHABLE = "pending", "sent", "failed", "unreachable"
# A message that went out as part of another (`enqueue(fold_with=…)`): kept for its dedupe
# key and the record, never sent by itself.
FOLDED = "folded"


# Telegram's limit is 4096 characters; folded messages stay well below it.
FOLD_LIMIT = 3500


class Outgoing(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # Encrypted: an alert quotes the person's name and phone (models/crypto.py).
    text: Mapped[str] = mapped_column(EncryptedText("outbox.text"))
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
    # Set: the row edits that message of the chat (text and buttons) instead of sending one.
    edit_message_id: Mapped[int | None] = mapped_column(BigInteger)


# The status, where a chat's waiting messages are looked for, in a form no index serves: the
# planner then starts from the chat (`ix_outbox_chat_id`), not from every pending message
# (`ix_outbox_status_due`), which it chose while a round filled the outbox — each chunk of
# 500 chats then read all 20,000 prompts pending (measured: 10.7 ms a chunk and growing).
_STATUS_UNINDEXED = func.coalesce(Outgoing.status, "")


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
    edit_message_id: int | None = None,
    fold_with: Collection[str] = (),
    status: str = PENDING,
) -> bool:
    """Queue a message; False if one with the same dedupe key exists already.

    `file` is (name, "photo" or "document", content); the text is then its caption.

    `fold_with`: purposes this message may join. If the chat has such a message still
    waiting (not yet taken by a worker), this one is added to it (its text below, its
    buttons after) and recorded as FOLDED under its own dedupe key: what is due for one
    person at one moment goes as one message, within the chat's limit of one a second."""
    if fold_with and file is None and due_at is None:
        waiting = await session.scalar(
            select(Outgoing)
            .where(
                Outgoing.chat_id == chat_id,
                _STATUS_UNINDEXED == PENDING,
                Outgoing.purpose.in_(tuple(fold_with)),
                Outgoing.claimed_until.is_(None),
                Outgoing.file_name.is_(None),
                Outgoing.due_at <= now,
            )
            .order_by(Outgoing.id.desc())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if waiting is not None and len(waiting.text) + len(text) < FOLD_LIMIT:
            if not await enqueue(
                session,
                chat_id=chat_id,
                text=text,
                purpose=purpose,
                now=now,
                buttons=buttons,
                dedupe_key=dedupe_key,
                status=FOLDED,
            ):
                return False
            waiting.text = f"{waiting.text}\n\n{text}"
            waiting.buttons = [
                *waiting.buttons,
                *([[b.text, b.data] for b in row] for row in buttons),
            ]
            return True
    values: dict[str, Any] = {
        "chat_id": chat_id,
        "text": text,
        "buttons": [[[b.text, b.data] for b in row] for row in buttons],
        "purpose": purpose,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "due_at": due_at or now,
        "status": status,
        "attempts": 0,
        "edit_message_id": edit_message_id,
    }
    if file is not None:
        values["file_name"], values["file_kind"], values["file_content"] = file
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    statement = (
        insert(Outgoing).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 1))


@dataclass(frozen=True)
class Message:
    """One message for `enqueue_many`."""

    chat_id: int
    text: str
    purpose: str
    dedupe_key: str | None = None
    buttons: Buttons = ()


async def enqueue_many(
    session: AsyncSession,
    messages: Sequence[Message],
    *,
    now: datetime,
    fold_with: Collection[str] = (),
) -> int:
    """Queue many messages at once; how many were queued (those whose dedupe key exists are
    not). As `enqueue` one by one, in order, but in a few statements: the first message of
    each chat goes in with one `INSERT` when that chat has nothing waiting to fold it into;
    a chat's later messages, and those of chats with a message waiting, go through
    `enqueue(fold_with=…)` after it, so what falls due for a chat at once still goes as one
    message."""
    if not messages:
        return 0
    one_by_one: set[int] = set()
    if fold_with:
        chats: set[int] = set()
        for message in messages:
            if message.chat_id in chats:
                one_by_one.add(message.chat_id)
            chats.add(message.chat_id)
        # The chats' range, not a list of them: a list of 500 was compared with every
        # pending message (PostgreSQL's generic plan) as a round filled the outbox.
        waiting = await session.scalars(
            select(Outgoing.chat_id).where(
                Outgoing.chat_id.between(min(chats), max(chats)),
                _STATUS_UNINDEXED == PENDING,
                Outgoing.purpose.in_(tuple(fold_with)),
                Outgoing.claimed_until.is_(None),
                Outgoing.file_name.is_(None),
                Outgoing.due_at <= now,
            )
        )
        one_by_one.update(chat for chat in waiting if chat in chats)
    rows = [
        {
            "chat_id": m.chat_id,
            "text": m.text,
            "buttons": [[[b.text, b.data] for b in row] for row in m.buttons],
            "purpose": m.purpose,
            "dedupe_key": m.dedupe_key,
            "created_at": now,
            "due_at": now,
            "status": PENDING,
            "attempts": 0,
        }
        for m in messages
        if m.chat_id not in one_by_one
    ]
    queued = 0
    if rows:
        insert = insert_for(session.get_bind().dialect.name)
        table = Base.metadata.tables[Outgoing.__tablename__]
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
        queued += len((await session.execute(statement, rows)).all())
    for m in messages:
        if m.chat_id in one_by_one:
            queued += await enqueue(
                session,
                chat_id=m.chat_id,
                text=m.text,
                purpose=m.purpose,
                now=now,
                buttons=m.buttons,
                dedupe_key=m.dedupe_key,
                fold_with=fold_with,
            )
    return queued


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


async def reencrypt_texts(session: AsyncSession, after: int, limit: int = 500) -> int | None:
    """The texts of the next `limit` messages (by id, after `after`) encrypted again with the
    current key (`returnee admin rotate-key`); the last id done, or None when none are left."""
    rows = (
        await session.scalars(
            select(Outgoing)
            .where(Outgoing.id > after, Outgoing.text != "")
            .order_by(Outgoing.id)
            .limit(limit)
            .with_for_update()
        )
    ).all()
    for row in rows:
        flag_modified(row, "text")
    return rows[-1].id if rows else None
