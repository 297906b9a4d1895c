"""Each adult answers for themself: the household's reporter invites a companion who has a
phone with a personal link (`https://t.me/<bot>?start=<token>`, or the code read out, sent as
`/start <token>`); once she opens it, her check-ins are her own. Until then the reporter
answers for her; children always stay with the reporter. A link works once, for a few days.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.checkins import CheckIn
from models.invites import CompanionInvite
from models.people import Resident

VALID_FOR = timedelta(days=3)
# Who answers for themself once invited: an adult companion with a phone.
NOT_INVITED = frozenset({"self", "child"})


def can_be_invited(resident: Resident, reporter_user_id: int) -> bool:
    return (
        resident.reporter_user_id == reporter_user_id
        and resident.user_id is None
        and resident.relation not in NOT_INVITED
        and bool(resident.phone)
        and resident.purged_at is None
    )


async def invitable(session: AsyncSession, user_id: int) -> list[Resident]:
    """The companions the user reported who may answer their own check-ins."""
    query = select(Resident).where(Resident.reporter_user_id == user_id).order_by(Resident.id)
    return [r for r in await session.scalars(query) if can_be_invited(r, user_id)]


async def invite(
    session: AsyncSession, user_id: int, resident_id: int, now: datetime
) -> tuple[Resident, CompanionInvite] | None:
    """A new single-use invitation for one of the user's companions; None if she is not the
    user's to invite (or answers for herself already)."""
    resident = await session.get(Resident, resident_id)
    if resident is None or not can_be_invited(resident, user_id):
        return None
    made = CompanionInvite(
        token=secrets.token_urlsafe(12),
        resident_id=resident.id,
        created_by=user_id,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(made)
    await session.flush()
    return resident, made


class Refused(Enum):
    UNKNOWN = "unknown"  # no such invitation, or it was used
    EXPIRED = "expired"
    OWN = "own"  # the reporter opened their own link


@dataclass(frozen=True)
class Joined:
    resident: Resident
    checkins: int  # open check-ins now hers to answer


async def accept(
    session: AsyncSession, token: str, user_id: int, now: datetime
) -> Joined | Refused:
    """The invited person opened her link: from now on she answers her own check-ins,
    including the one open now."""
    made = await session.scalar(
        select(CompanionInvite).where(CompanionInvite.token == token.strip()).limit(1)
    )
    if made is None or made.used_at is not None:
        return Refused.UNKNOWN
    if made.expires_at <= now:
        return Refused.EXPIRED
    resident = await session.get(Resident, made.resident_id)
    if resident is None or not can_be_invited(resident, made.created_by):
        return Refused.UNKNOWN
    if user_id == made.created_by:
        return Refused.OWN
    made.used_at, made.used_by = now, user_id
    resident.user_id = resident.reporter_user_id = user_id
    resident.updated_at = now
    open_ones = await session.scalars(
        select(CheckIn).where(
            CheckIn.resident_id == resident.id,
            CheckIn.answered_at.is_(None),
            CheckIn.slot_end > now,
        )
    )
    moved = 0
    for checkin in open_ones:
        checkin.reporter_user_id = user_id
        moved += 1
    return Joined(resident, moved)
