"""A resident the bot can no longer reach (they blocked it or deleted the chat): their grid's
workers are told, so silence from that household is never taken for "all is well"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts import raise_alert
from models.people import Arrival, Resident
from models.plans import ACTIVE, HELD, MonitoringPlan


async def looked_after_by_chat(session: AsyncSession, chat_id: int) -> list[Resident]:
    """The people this chat reports for who still need reaching: under a plan that is not
    over, or announced but not yet arrived."""
    watched = select(MonitoringPlan.resident_id).where(MonitoringPlan.status.in_((ACTIVE, HELD)))
    expected = select(Arrival.resident_id).where(Arrival.status == "expected")
    query = (
        select(Resident)
        .where(
            or_(Resident.reporter_user_id == chat_id, Resident.user_id == chat_id),
            Resident.purged_at.is_(None),
            or_(Resident.id.in_(watched), Resident.id.in_(expected)),
        )
        .order_by(Resident.household_id, Resident.id)
    )
    return list(await session.scalars(query))


async def resident_unreachable(session: AsyncSession, chat_id: int, now: datetime) -> int:
    """One alert per household per day; a chat with nobody to look after raises none."""
    households: dict[int, list[Resident]] = {}
    for resident in await looked_after_by_chat(session, chat_id):
        households.setdefault(resident.household_id, []).append(resident)
    for household_id, people in households.items():
        reporter = next((p for p in people if p.user_id == chat_id), people[0])
        await raise_alert(
            session,
            grid_id=reporter.grid_id,
            kind="unreachable",
            now=now,
            resident_id=reporter.id,
            details={"names": [p.name or "?" for p in people]},
            dedupe_key=f"unreachable:{household_id}:{now.date().isoformat()}",
        )
    return len(households)
