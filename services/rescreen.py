"""Re-screening (再排查): when a place turns risky, find everyone who came from it or passed
through it since a date, classify them again, tell each their new plan, and give each grid's
workers one alert listing theirs."""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from chat.i18n import Translator
from models.alerts import raise_alert
from models.chat import ChatUser
from models.outbox import enqueue
from models.people import Arrival, Resident
from rules import places
from rules.policy import Policy
from services.plans import classify
from services.wording import describe_plan


@dataclass(frozen=True)
class Rescreened:
    people: int
    grids: int


def _last_day_there(
    arrival: Arrival, target: places.Area | None, text: str, since: date, zone: ZoneInfo
) -> date | None:
    """The last day the person may have been in the listed place since `since`; None when
    their journey does not touch it. Anyone who may have been there: classify() then tells
    certain from possible."""

    def matches(code: str | None, typed: str) -> bool:
        if target is not None and code:
            try:
                return places.overlaps(places.place(code), target.place)
            except KeyError:
                return False
        if target is not None and target.mentioned_in(typed):
            return True  # a street of the listed place, in what they typed
        name = text.split("/")[-1]
        return bool(name) and name in typed

    moment = arrival.arrived_at or arrival.expected_at
    arrived_on = moment.astimezone(zone).date() if moment is not None else None
    if arrived_on is not None and arrived_on >= since:
        if matches(arrival.origin_code, arrival.origin_text):
            return arrived_on  # they left it to come here
    days = [
        s.to_date
        for s in arrival.stays
        if s.to_date >= since and matches(s.place_code, s.place_text)
    ]
    return max(days) if days else None


async def rescreen(
    session: AsyncSession,
    *,
    place: str,
    since: date,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
) -> Rescreened:
    target = places.resolve_area(place)  # a place, or a street of one
    start = datetime.combine(since, time(0), tzinfo=zone)
    # Everyone whose journey could touch the window: arrived (or expected) since the date, or
    # arrived within the history window after it (their stays may reach back into it).
    query = (
        select(Arrival)
        .where(
            or_(
                Arrival.arrived_at >= start - timedelta(days=policy.window_days),
                Arrival.expected_at >= start - timedelta(days=policy.window_days),
            )
        )
        .options(selectinload(Arrival.stays), selectinload(Arrival.resident))
        .order_by(Arrival.id)
    )
    latest: dict[int, Arrival] = {}
    for arrival in await session.scalars(query):
        latest[arrival.resident_id] = arrival  # a person's newest journey counts
    by_grid: dict[int, list[Resident]] = defaultdict(list)
    for arrival in latest.values():
        last_day = _last_day_there(arrival, target, place, since, zone)
        if last_day is None:
            continue
        resident = arrival.resident
        if resident.purged_at is not None:
            continue
        # The days count from the last day there; a match that is only possible (they gave
        # the city of a listed district) waits for the worker's one tap (services/alerts.py).
        plan = await classify(session, resident, arrival, policy, now, zone, start=last_day)
        by_grid[resident.grid_id].append(resident)
        reporter = await session.get(ChatUser, resident.reporter_user_id)
        if reporter is None:
            continue
        tr = Translator(reporter.language)
        shown = target.display(tr.language) if target else place
        heading = tr(
            "{place} has been listed as a risk area. Your plan has been checked again:",
            place=html.escape(shown),
        )
        if resident.user_id != resident.reporter_user_id:
            heading = f"<b>{html.escape(resident.name or '')}</b>\n" + heading
        await enqueue(
            session,
            chat_id=reporter.chat_id,
            text=f"{heading}\n\n{describe_plan(plan, tr)}",
            purpose="rescreen",
            dedupe_key=f"rescreen:{plan.id}",
            now=now,
        )
    for grid_id, residents in by_grid.items():
        await raise_alert(
            session,
            grid_id=grid_id,
            kind="rescreen",
            now=now,
            details={
                "place": place,
                "since": since.isoformat(),
                "residents": [r.id for r in residents],
                "names": [r.name or "" for r in residents],
            },
            dedupe_key=f"rescreen:{grid_id}:{place}:{since.isoformat()}:{now.date().isoformat()}",
        )
    return Rescreened(sum(len(r) for r in by_grid.values()), len(by_grid))
