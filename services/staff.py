"""Staff joining with a one-time invite code: the code names the area and the role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.areas import Area, lineage
from models.chat import ChatUser
from models.staff import Invite, Staff


async def join_with_code(
    session: AsyncSession, code: str, user: ChatUser, name: str, now: datetime
) -> tuple[Staff, list[Area]] | None:
    """The user becomes staff of the invite's area (and the path down to it is returned);
    None for a code that is unknown, used or expired."""
    code = code.strip().upper()
    invite = await session.scalar(select(Invite).where(Invite.code == code)) if code else None
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    invite.used_at, invite.used_by = now, user.id
    staff = Staff(
        user_id=user.id,
        chat_id=user.chat_id,
        area_id=invite.area_id,
        role=invite.role,
        name=name[:64],
        joined_at=now,
    )
    session.add(staff)
    area = await session.get(Area, invite.area_id)
    return staff, (await lineage(session, area) if area else [])
