"""Staff joining with a one-time invite code: the code names the area and the role.

A code makes one worker, however many people send it at once: it is taken by one UPDATE
that only matches an unused, unexpired code (`… WHERE used_at IS NULL AND expires_at > now
RETURNING …`), so the database settles the race. Each failed attempt is audited, and a user
gets `JOIN_ATTEMPTS` of them an hour: guessing a code is slow and leaves a trail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.areas import Area, lineage
from models.chat import ChatUser
from models.staff import AuditEntry, Invite, Staff, audit

# Failed /join attempts a user may make in `JOIN_WINDOW`.
JOIN_ATTEMPTS = 5
JOIN_WINDOW = timedelta(hours=1)
JOIN_FAILED = "join_failed"


async def join_attempts_left(session: AsyncSession, user_id: int, now: datetime) -> int:
    """How many more codes the user may try now (failed attempts in the last hour count)."""
    failed = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.actor_user_id == user_id,
            AuditEntry.action == JOIN_FAILED,
            AuditEntry.at > now - JOIN_WINDOW,
        )
    )
    return max(0, JOIN_ATTEMPTS - (failed or 0))


async def join_with_code(
    session: AsyncSession, code: str, user: ChatUser, name: str, now: datetime
) -> tuple[Staff, list[Area]] | None:
    """The user becomes staff of the invite's area (and the path down to it is returned);
    None for a code that is unknown, used or expired (the attempt is audited)."""
    code = code.strip().upper()[:32]
    claimed = None
    if code:
        claim = (
            update(Invite)
            .where(Invite.code == code, Invite.used_at.is_(None), Invite.expires_at > now)
            .values(used_at=now, used_by=user.id)
            .returning(Invite.area_id, Invite.role)
            .execution_options(synchronize_session=False)
        )
        claimed = (await session.execute(claim)).first()
    if claimed is None:
        await audit(session, user.id, JOIN_FAILED, "invite", now, code=code)
        return None
    area_id, role = claimed
    staff = Staff(
        user_id=user.id,
        chat_id=user.chat_id,
        area_id=area_id,
        role=role,
        name=name[:64],
        joined_at=now,
    )
    session.add(staff)
    area = await session.get(Area, area_id)
    return staff, (await lineage(session, area) if area else [])
