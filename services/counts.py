"""The daily report's figures as numbers only, for many days at once: what the API and the
dashboard serve, counted by the daily report's own code (`services.figures`) day by day, so
the two cannot disagree. Tests hold them equal, day by day and area by area."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.areas import Area
from services.figures import (
    DEFAULT_AT,
    PHASE_ORDER,
    AlertCounts,
    DailyFigures,
    alert_counts,
    collect,
    window_of,
)


@dataclass
class Counts:
    """One area's figures for one day, as numbers."""

    reports: int = 0
    arrived: int = 0
    expected: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    held: int = 0
    checkins_due: int = 0
    checkins_answered: int = 0
    checkins_missed: int = 0
    checkins_late: int = 0
    abnormal: int = 0
    abnormal_handled: int = 0
    missed: int = 0
    missed_handled: int = 0
    released: int = 0
    alerts: AlertCounts = field(default_factory=AlertCounts)

    @property
    def monitoring(self) -> int:
        return sum(self.by_kind.values())

    @classmethod
    def of(cls, figures: DailyFigures, alerts: AlertCounts | None = None) -> Counts:
        """The counts of the daily report's figures."""
        return cls(
            reports=figures.reports,
            arrived=figures.arrived,
            expected=len(figures.expected),
            by_kind=figures.by_kind,
            held=figures.held,
            checkins_due=figures.checkins_due,
            checkins_answered=figures.checkins_answered,
            checkins_missed=figures.checkins_missed,
            checkins_late=figures.checkins_late,
            abnormal=len(figures.abnormal),
            abnormal_handled=sum(i.handled for i in figures.abnormal),
            missed=len(figures.missed),
            missed_handled=sum(i.handled for i in figures.missed),
            released=len(figures.releases),
            alerts=alerts or AlertCounts(),
        )

    def add(self, other: Counts) -> None:
        for name in (
            "reports",
            "arrived",
            "expected",
            "held",
            "checkins_due",
            "checkins_answered",
            "checkins_missed",
            "checkins_late",
            "abnormal",
            "abnormal_handled",
            "missed",
            "missed_handled",
            "released",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        kinds = dict(self.by_kind)
        for kind, number in other.by_kind.items():
            kinds[kind] = kinds.get(kind, 0) + number
        self.by_kind = kinds
        a, b = self.alerts, other.alerts
        self.alerts = AlertCounts(
            a.open + b.open, a.acknowledged + b.acknowledged, a.overdue + b.overdue
        )
        self.ordered()

    def ordered(self) -> Counts:
        order = {kind: i for i, kind in enumerate(PHASE_ORDER)}
        kinds = sorted(self.by_kind.items(), key=lambda item: (order.get(item[0], 99), item[0]))
        self.by_kind = {kind: n for kind, n in kinds if n}
        return self


async def counts_over(
    session: AsyncSession,
    area: Area,
    first: date,
    last: date,
    keyed: dict[str, Area],
    *,
    zone: ZoneInfo,
    overdue_after: timedelta,
    now: datetime,
    at: time = DEFAULT_AT,
) -> dict[str, list[Counts]]:
    """For each key area (the area itself, or each child), its counts on each day from
    `first` to `last`: each day's figures are the daily report's own (`figures.collect`, the
    24 hours ending at the report's time), so the API can never disagree with the report."""
    found: dict[str, list[Counts]] = {code: [] for code in keyed}
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        window = window_of(day, zone, at)
        tallies = await collect(session, area, day, zone, keyed, window)
        alerts = await alert_counts(
            session, area, day, keyed, zone=zone, overdue_after=overdue_after, now=now
        )
        for code, key in keyed.items():
            figures = tallies[code].freeze(key, day, window)
            found[code].append(Counts.of(figures, alerts[code]).ordered())
    return found
