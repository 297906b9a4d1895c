"""People announced before arrival: asked on the expected day whether they have come (a job,
once a day), and their arrival recorded, which starts the plan on the real day."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from chat.i18n import Translator
from models.chat import ChatUser
from models.outbox import enqueue
from models.people import Arrival, Resident
from models.plans import MonitoringPlan
from rules.policy import Policy
from services.buttons import ARRIVED, NOT_YET
from services.plans import classify


async def ask_expected_arrivals(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
    """On the day someone said they would arrive, ask them whether they have (once a day)."""
    today = now.astimezone(zone).date()
    end_of_today = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    query = (
        select(Resident.reporter_user_id, ChatUser.chat_id, ChatUser.language)
        .join(Arrival, Arrival.resident_id == Resident.id)
        .join(ChatUser, ChatUser.id == Resident.reporter_user_id)
        .where(Arrival.status == "expected", Arrival.expected_at < end_of_today)
        .distinct()
    )
    queued = 0
    for user_id, chat_id, language in (await session.execute(query)).all():
        tr = Translator(language)
        queued += await enqueue(
            session,
            chat_id=chat_id,
            text=tr("Have you arrived? Please tell us as soon as you are here."),
            buttons=((ARRIVED.button(tr("✅ I have arrived")),), (NOT_YET.button(tr("Not yet")),)),
            purpose="arrival_question",
            dedupe_key=f"arrival-question:{user_id}:{today.isoformat()}",
            now=now,
        )
    return queued


async def expected_arrivals(session: AsyncSession, user_id: int) -> list[Arrival]:
    """The journeys the user reported ahead (for themself and those they answer for) that
    have not arrived yet."""
    query = (
        select(Arrival)
        .join(Resident)
        .where(Resident.reporter_user_id == user_id, Arrival.status == "expected")
        .options(selectinload(Arrival.stays), selectinload(Arrival.resident))
        .order_by(Arrival.id)
    )
    return list((await session.scalars(query)).all())


async def record_arrival(
    session: AsyncSession,
    user_id: int,
    at: datetime,
    *,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
) -> list[tuple[Resident, MonitoringPlan]]:
    """Everyone the user reported ahead has arrived at `at`: each is classified again (the
    real day starts the plan, and the risk list may have changed since the report)."""
    arrived: list[tuple[Resident, MonitoringPlan]] = []
    for arrival in await expected_arrivals(session, user_id):
        arrival.status = "arrived"
        arrival.arrived_at = at
        arrival.confirmed_at = now
        plan = await classify(session, arrival.resident, arrival, policy, now, zone)
        arrived.append((arrival.resident, plan))
    return arrived
