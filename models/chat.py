"""Who talks to the bot, and where each of them is in a conversation.

The conversation lives here, not in memory, so a restart or a second bot instance
continues a half-finished report from the last answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Select,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import UpdateBase

from models.base import Base, Json, insert_for
from models.crypto import EncryptedJson
from models.db import take_held


class ChatUser(Base):
    """A Telegram user who has written to the bot."""

    __tablename__ = "chat_users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(16))
    consented_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Written at most every few minutes (handlers/app.py: SEEN_EVERY).
    last_seen_at: Mapped[datetime]
    # The user's own daily check-in times ("10:00", "21:00"), one per check-in of the day,
    # chosen with /time within the policy's window; None: the bot's times.
    checkin_times: Mapped[list[str] | None] = mapped_column(Json, nullable=True)


class Conversation(Base):
    """The question a user is being asked now and the answers given so far."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chat_users.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(64))
    # Encrypted: an unfinished report's answers hold a name, a phone and an ID number.
    answers: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJson("conversations.answers"), default=dict
    )
    updated_at: Mapped[datetime]
    # The bot's message that shows the open question with its buttons (Telegram's id, known
    # once it was sent): when a newer copy replaces it, its buttons are taken away.
    live_message_id: Mapped[int | None] = mapped_column(BigInteger)


async def chat_user(session: AsyncSession, user_id: int) -> ChatUser | None:
    return await session.get(ChatUser, user_id)


@dataclass
class Talk:
    """A user's conversation as read for one update, no ORM object: the core changes it and
    writes it back with one statement (`save_talk`), so an update builds, tracks and flushes
    nothing for it."""

    step: str
    answers: dict[str, Any]
    live_message_id: int | None


def _talk(user_id: object, step: Any, answers: Any, live: Any) -> Talk | None:
    """The conversation's columns as read with the user (None: the user has none)."""
    if user_id is None:
        return None
    return Talk(step=step, answers=answers if answers is not None else {}, live_message_id=live)


async def user_for_update(
    session: AsyncSession, user_id: int
) -> tuple[ChatUser | None, Talk | None]:
    """The user and their conversation in one statement, both locked so a second instance
    handling the same user waits instead of racing, and then reads what the first wrote."""
    if session.get_bind().dialect.name == "postgresql":
        locked = (await session.execute(_TAKE_USER, {"user_id": user_id})).one()
        return locked[0], _talk(*locked[1:])
    # SQLite: one writer at a time, so nothing to lock.
    row = (await session.execute(_USER_AND_CONVERSATION, {"user_id": user_id})).first()
    return (row[0], _talk(*row[1:])) if row is not None else (None, None)


_CONVERSATIONS = Base.metadata.tables[Conversation.__tablename__]
# The conversation written back, built once. A user who had none gets a row (their own row is
# flushed first when it is new: the conversation's key refers to it).
_UPDATE_TALK = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.user_id == bindparam("talk_user_id"))
    .values(
        step=bindparam("talk_step"),
        answers=bindparam("talk_answers", type_=_CONVERSATIONS.c.answers.type),
        updated_at=bindparam("talk_now", type_=_CONVERSATIONS.c.updated_at.type),
        live_message_id=bindparam("talk_live", type_=_CONVERSATIONS.c.live_message_id.type),
    )
)
_INSERT_TALK = insert(_CONVERSATIONS).values(
    user_id=bindparam("talk_user_id"),
    step=bindparam("talk_step"),
    answers=bindparam("talk_answers", type_=_CONVERSATIONS.c.answers.type),
    updated_at=bindparam("talk_now", type_=_CONVERSATIONS.c.updated_at.type),
    live_message_id=bindparam("talk_live", type_=_CONVERSATIONS.c.live_message_id.type),
)
_SET_LIVE = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.user_id == bindparam("talk_user_id"))
    .values(live_message_id=bindparam("talk_live", type_=_CONVERSATIONS.c.live_message_id.type))
)


async def save_talk(
    session: AsyncSession, user_id: int, talk: Talk, *, new: bool, now: datetime
) -> None:
    """The conversation as `talk` has it now, in the caller's transaction (`new`: the user
    had no row yet)."""
    # Named apart from a held write's parameters (`take_held`), which go in the same statement.
    params = {
        "talk_user_id": user_id,
        "talk_step": talk.step,
        "talk_answers": talk.answers,
        "talk_now": now,
        "talk_live": talk.live_message_id,
    }
    if new and session.new:
        await session.flush()  # the user's own row, which the conversation refers to
    statement: Executable = _INSERT_TALK if new else _UPDATE_TALK
    held = take_held(session)
    if held is not None:
        # A write held back for this statement (the check-in's answer): both in one.
        write, values = held
        statement = _carrying(write, new)
        params = {**values, **params}
    await session.execute(statement, params)


# The conversation's write with a held one before it, in a CTE (PostgreSQL runs a
# data-modifying CTE once, whether or not the statement reads it); built once for each.
_CARRIED: dict[tuple[UpdateBase, bool], Executable] = {}


def _carrying(write: UpdateBase, new: bool) -> Executable:
    carried = _CARRIED.get((write, new))
    if carried is None:
        talk = _INSERT_TALK if new else _UPDATE_TALK
        carried = _CARRIED[(write, new)] = talk.add_cte(write.cte("held_write"))
    return carried


async def set_live_message(session: AsyncSession, user_id: int, message_id: int | None) -> None:
    """The message showing the user's open question (None: none shows buttons now)."""
    await session.execute(_SET_LIVE, {"talk_user_id": user_id, "talk_live": message_id})


class HandledUpdate(Base):
    """A Telegram update already handled, kept a few days: Telegram posts an update again when
    the webhook answered late or with an error, and two pollers may both fetch one."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(index=True)


# Built once: each update runs them, and building a statement costs more Python than
# running it once built.
_USER_AND_CONVERSATION = (
    select(
        ChatUser,
        _CONVERSATIONS.c.user_id,
        _CONVERSATIONS.c.step,
        _CONVERSATIONS.c.answers,
        _CONVERSATIONS.c.live_message_id,
    )
    .outerjoin(_CONVERSATIONS, _CONVERSATIONS.c.user_id == ChatUser.id)
    .where(ChatUser.id == bindparam("user_id"))
)


# On the table, not the entity: an ORM insert with parameters is a bulk insert, whose result
# does not say whether the row went in.
@cache
def _first_handling(dialect: str) -> Any:
    return (
        insert_for(dialect)(Base.metadata.tables[HandledUpdate.__tablename__])
        .values(update_id=bindparam("update_id"), handled_at=bindparam("now"))
        .on_conflict_do_nothing(index_elements=["update_id"])
    )


async def take_update(
    session: AsyncSession, user_id: int, update_id: int | None, now: datetime
) -> tuple[bool, ChatUser | None, Talk | None]:
    """The update marked handled (`first_handling`) and the user with their conversation,
    locked (`user_for_update`): whether it is the update's first handling, then the user and
    the conversation. On PostgreSQL one statement does both (a round trip less for every
    update: four statements for a check-in answer, not five); SQLite runs the two."""
    if update_id is None:
        return (True, *await user_for_update(session, user_id))
    if session.get_bind().dialect.name == "postgresql":
        row = (
            await session.execute(
                _take_update(), {"update_id": update_id, "now": now, "user_id": user_id}
            )
        ).one()
        return bool(row[0]), row[1], _talk(*row[2:])
    if not await first_handling(session, update_id, now):
        return False, None, None
    return (True, *await user_for_update(session, user_id))


# `take_update` on PostgreSQL. The mark's INSERT runs whether or not a row is read from it;
# a second transaction handling the same update waits, in it, for the first one's commit and
# then finds the mark there (`first` false), as with `first_handling`.
# The user's row and their conversation's are both locked, each in a CTE (PostgreSQL does not
# lock the nullable side of an outer join; the outer joins from a single row make a row come
# back for a user not seen before). Locking the conversation is what makes it current: a
# statement reads other rows as they were when it began, so a transaction that waited for
# another instance handling the same user's previous update would otherwise get the
# conversation from before that update and write its answer over it. A row locked after a
# wait is read as the other transaction committed it.
_LOCKED = (
    select(ChatUser).where(ChatUser.id == bindparam("user_id")).with_for_update().cte("locked")
)
_LOCKED_USER = aliased(ChatUser, _LOCKED, name="locked_user")
_LOCKED_TALK = (
    select(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.user_id == bindparam("user_id"))
    .with_for_update()
    .cte("locked_talk")
)
# The conversation's columns, read as they are: no ORM object (`Talk`).
_TALK_COLUMNS = (
    _LOCKED_TALK.c.user_id,
    _LOCKED_TALK.c.step,
    _LOCKED_TALK.c.answers,
    _LOCKED_TALK.c.live_message_id,
)
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
_TAKE_USER = (
    select(_LOCKED_USER, *_TALK_COLUMNS)
    .select_from(_ONE_ROW)
    .outerjoin(_LOCKED_USER, true())
    .outerjoin(_LOCKED_TALK, _LOCKED_TALK.c.user_id == _LOCKED_USER.id)
)


@cache
def _take_update() -> Select[Any]:
    """PostgreSQL's one statement (built at its first use: PostgreSQL's `insert`)."""
    marked = (
        _first_handling("postgresql")
        .returning(Base.metadata.tables[HandledUpdate.__tablename__].c.update_id)
        .cte("marked")
    )
    return (
        select(exists(select(marked.c.update_id)).label("first"), _LOCKED_USER, *_TALK_COLUMNS)
        .select_from(_ONE_ROW)
        .outerjoin(_LOCKED_USER, true())
        .outerjoin(_LOCKED_TALK, _LOCKED_TALK.c.user_id == _LOCKED_USER.id)
    )


async def first_handling(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Marks the update handled in the caller's transaction; False if it was already. A second
    transaction marking the same update waits for the first one's commit, then gets False."""
    statement = _first_handling(session.get_bind().dialect.name)
    result = await session.execute(statement, {"update_id": update_id, "now": now})
    return bool(getattr(result, "rowcount", 1))


async def updates_handled_since(session: AsyncSession, since: datetime) -> int:
    """How many updates all instances handled since `since` (their replies are on their way
    to Telegram, whose limits count them with everything else the bot sends)."""
    count = await session.scalar(
        select(func.count()).select_from(HandledUpdate).where(HandledUpdate.handled_at > since)
    )
    return int(count or 0)


async def forget_handled_updates(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


async def reencrypt_conversations(
    session: AsyncSession, after: int, limit: int = 500
) -> int | None:
    """The answers of the next `limit` conversations (by user id, after `after`) encrypted
    again with the current key (`returnee admin rotate-key`); the last user id done, or None
    when there are none left."""
    conversations = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.user_id > after)
            .order_by(Conversation.user_id)
            .limit(limit)
            .with_for_update()
        )
    ).all()
    for conversation in conversations:
        flag_modified(conversation, "answers")
    return conversations[-1].user_id if conversations else None
