"""What the dashboard shows of an area: today's figures beside yesterday's (the daily
report's, with the alerts), the areas below it sorted by what is overdue, the 14-day trend
(arrivals, people under monitoring and abnormal reports, counted as the daily report counts
them, so the chart's last day is the cards'), and the open alerts by age with the workers
who hold them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts import OPEN, Alert
from models.areas import Area, lineage
from models.staff import Staff, covers
from services.feeds import AreaDay, figures_over
from services.figures import DEFAULT_AT, DayPoint, grids_under
from services.pushed import Figures as PushedFigures
from services.pushed import progress

TREND_DAYS = 14
# The open alerts listed (the oldest first); more are counted.
ALERTS_SHOWN = 50


@dataclass(frozen=True)
class OpenAlert:
    id: int
    kind: str
    grid: Area
    created_at: datetime
    # The level it is addressed to now, and the workers there who hold it.
    level: str
    holders: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    area: Area
    above: list[Area]
    day: date
    today: AreaDay
    yesterday: AreaDay
    # Each area directly below: today and yesterday, the most overdue first.
    below: list[tuple[AreaDay, AreaDay]]
    trend: tuple[DayPoint, ...]
    open_alerts: list[OpenAlert]
    open_count: int
    # Lists pushed from above with a row in the area: their progress there, as of now.
    pushed: list[PushedFigures] = field(default_factory=list)


def _most_overdue(pair: tuple[AreaDay, AreaDay]) -> tuple[int, int, int, str]:
    today = pair[0]
    return (
        -today.counts.alerts.overdue,
        -today.counts.checkins_missed,
        -today.counts.alerts.open,
        today.area.code,
    )


async def overview(
    session: AsyncSession,
    area: Area,
    *,
    now: datetime,
    zone: ZoneInfo,
    overdue_after: timedelta,
    at: time = DEFAULT_AT,
) -> Overview:
    day = now.astimezone(zone).date()
    rows = await figures_over(
        session,
        area,
        day - timedelta(days=TREND_DAYS - 1),
        day,
        below=True,
        zone=zone,
        overdue_after=overdue_after,
        now=now,
        # Today counted live: a worker reads here what they have just done in the bot (one
        # area of theirs, not the city's platform pulling every area).
        fresh=None,
        at=at,
    )
    # The area in all, each day: the trend, in the daily report's terms like the rest.
    totals = [r for r in rows if r.area.code == area.code]
    trend = tuple(
        DayPoint(r.day, r.counts.arrived, r.counts.monitoring, r.counts.abnormal) for r in totals
    )
    yesterday_rows = {r.area.code: r for r in rows if r.day == day - timedelta(days=1)}
    today_rows = [r for r in rows if r.day == day]
    today, children = today_rows[0], today_rows[1:]
    below = sorted(
        ((child, yesterday_rows[child.area.code]) for child in children), key=_most_overdue
    )
    alerts, count = await open_alerts(session, area)
    return Overview(
        area=area,
        above=(await lineage(session, area))[:-1],
        day=day,
        today=today,
        yesterday=yesterday_rows[area.code],
        below=below,
        trend=trend,
        open_alerts=alerts,
        open_count=count,
        pushed=await progress(session, area, now),
    )


async def open_alerts(session: AsyncSession, area: Area) -> tuple[list[OpenAlert], int]:
    """The oldest open alerts at or under the area, with who holds each, and how many in all."""
    query = (
        select(Alert, Area)
        .join(Area, Area.id == Alert.grid_id)
        .where(Alert.grid_id.in_(grids_under(area)), Alert.status == OPEN)
        .order_by(Alert.created_at, Alert.id)
    )
    rows = (await session.execute(query)).all()
    shown = rows[:ALERTS_SHOWN]
    codes = {code for _, grid in shown for code in grid.path.split("/")}
    staff = (
        await session.execute(
            select(Staff, Area)
            .join(Area, Area.id == Staff.area_id)
            .where(Staff.revoked_at.is_(None), Area.code.in_(codes))
            .order_by(Staff.id)
        )
    ).all()
    found = [
        OpenAlert(
            id=alert.id,
            kind=alert.kind,
            grid=grid,
            created_at=alert.created_at,
            level=alert.level,
            holders=tuple(
                member.name or "?"
                for member, post in staff
                if member.role == alert.level and covers(post, grid)
            ),
        )
        for alert, grid in shown
    ]
    return found, len(rows)
