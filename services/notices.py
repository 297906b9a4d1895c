"""A notice from a worker to every resident of their areas (温馨提示): drafted first with the
number it reaches, sent once confirmed (each chat once), both in the audit log."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import N_, Translator
from models.chat import ChatUser
from models.outbox import enqueue
from models.staff import AuditEntry, audit
from services.records import Scope, people_query

DRAFT, SENT, CANCELLED = "notice_draft", "notice_sent", "notice_cancelled"
HEADING = N_("📢 A notice from your grid worker")
# A notice preview can be confirmed for this long.
VALID = timedelta(hours=24)


async def recipients(session: AsyncSession, scope: Scope) -> tuple[int, list[ChatUser]]:
    """How many people are in the scope, and the chats that answer for them (once each)."""
    rows = (await session.execute(people_query(scope))).all()
    people = [p for p, grid in rows if scope.covers(grid)]
    reporters = sorted({p.reporter_user_id for p in people})
    users = (
        list(await session.scalars(select(ChatUser).where(ChatUser.id.in_(reporters))))
        if reporters
        else []
    )
    return len(people), sorted(users, key=lambda u: u.id)


async def draft(
    session: AsyncSession, scope: Scope, user_id: int, text: str, now: datetime
) -> AuditEntry:
    entry = AuditEntry(
        actor_user_id=user_id,
        action=DRAFT,
        subject="notice",
        details={"text": text, "areas": [a.code for a in scope.areas]},
        at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def open_draft(
    session: AsyncSession, user_id: int, number: int | None, now: datetime
) -> AuditEntry | None:
    """The user's own notice, still waiting for confirmation (else None)."""
    entry = await session.get(AuditEntry, number) if number is not None else None
    if (
        entry is None
        or entry.action != DRAFT
        or entry.actor_user_id != user_id
        or entry.at + VALID < now
    ):
        return None
    done = await session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action.in_((SENT, CANCELLED)),
            AuditEntry.subject == f"notice:{entry.id}",
        )
    )
    return None if done is not None else entry


async def send(
    session: AsyncSession, scope: Scope, entry: AuditEntry, user_id: int, now: datetime
) -> int:
    """Queue the notice for every chat of the scope (once each); how many were queued."""
    text = str(entry.details.get("text", ""))
    _, users = await recipients(session, scope)
    queued = 0
    for user in users:
        reader = Translator(user.language)
        queued += await enqueue(
            session,
            chat_id=user.chat_id,
            text="<b>" + html.escape(reader(HEADING)) + "</b>\n\n" + html.escape(text),
            purpose="notice",
            dedupe_key=f"notice:{entry.id}:{user.chat_id}",
            now=now,
        )
    await audit(session, user_id, SENT, f"notice:{entry.id}", now, chats=queued)
    return queued


async def cancel(session: AsyncSession, entry: AuditEntry, user_id: int, now: datetime) -> None:
    await audit(session, user_id, CANCELLED, f"notice:{entry.id}", now)
