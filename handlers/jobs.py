"""Work the bot does on its own, on a timer: each job reads what is due from our tables and
queues messages in the outbox (deduplicated), so it can run any number of times safely."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import Translator
from models.chat import ChatUser
from models.outbox import enqueue
from models.people import Arrival, Resident


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
            buttons=[[[tr("✅ I have arrived"), "/arrived"]], [[tr("Not yet"), "/notyet"]]],
            purpose="arrival_question",
            dedupe_key=f"arrival-question:{user_id}:{today.isoformat()}",
            now=now,
        )
    return queued
