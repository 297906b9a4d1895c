"""The daily report's figures as numbers only, for many days at once: what the API and the
dashboard serve. The same definitions as `services.figures` (the daily report), counted in
a handful of grouped queries over the whole range instead of a pass per day, so a city's
fortnight costs about what one day of its roll-up costs. Tests hold the two equal, day by
day and area by area.

Each timestamp is put in its local day by comparing it with the days' bounds (a CASE over
the range's midnights, computed here in the zone), which is exact on both databases."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts import Alert, AlertAction
from models.areas import Area
from models.checkins import CheckIn
from models.people import Arrival, Resident
from models.plans import ACTIVE, HELD, RELEASED, MonitoringPlan
from services.figures import (
    ABNORMAL_KINDS,
    EXPECTED_DAYS,
    MISSED_KIND,
    PHASE_ORDER,
    AlertCounts,
    DailyFigures,
    day_bounds,
    grid_keys,
    grids_under,
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


class _Days:
    """The range's local days and their bounds, and which day an instant falls in."""

    def __init__(self, first: date, days: int, zone: ZoneInfo) -> None:
        self.first = first
        self.n = days
        self.starts = [day_bounds(first + timedelta(days=i), zone)[0] for i in range(days)]
        self.ends = [day_bounds(first + timedelta(days=i), zone)[1] for i in range(days)]

    def bucket(self, column: Any) -> ColumnElement[int]:
        """SQL: the index of the day `column` falls in (rows are limited to the range)."""
        whens = [(column < end, i) for i, end in enumerate(self.ends[:-1])]
        return case(*whens, else_=self.n - 1) if whens else case((column.is_not(None), 0))

    def within(self, column: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return column >= self.starts[0], column < self.ends[-1]

    def index(self, at: datetime) -> int:
        """The first day whose end is after `at` (n if none)."""
        return bisect.bisect_right(self.ends, at)


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
) -> dict[str, list[Counts]]:
    """For each key area (the area itself, or each child), its counts on each day from
    `first` to `last`."""
    n = (last - first).days + 1
    days = _Days(first, n, zone)
    grid_key = await grid_keys(session, area, keyed)
    found = {code: [Counts() for _ in range(n)] for code in keyed}
    kinds: dict[str, list[dict[str, int]]] = {
        code: [defaultdict(int) for _ in range(n)] for code in keyed
    }
    grids = grids_under(area)
    people = Resident.grid_id.in_(grids)

    def each(grid_id: int) -> list[Counts] | None:
        key = grid_key.get(grid_id)
        return found[key] if key is not None else None

    async def grouped(inner: Any, *measures: Any) -> list[Any]:
        sub = inner.subquery()
        query = select(sub.c.grid_id, sub.c.day, *(m(sub) for m in measures)).group_by(
            sub.c.grid_id, sub.c.day
        )
        return list((await session.execute(query)).all())

    def count(sub: Any) -> Any:
        return func.count()

    # Reports received, and arrivals, each day.
    inner: Any
    for column, target in ((Arrival.reported_at, "reports"), (Arrival.arrived_at, "arrived")):
        inner = (
            select(Resident.grid_id.label("grid_id"), days.bucket(column).label("day"))
            .select_from(Arrival)
            .join(Resident, Resident.id == Arrival.resident_id)
            .where(people, *days.within(column))
        )
        for grid_id, day, number in await grouped(inner, count):
            if (rows := each(grid_id)) is not None:
                setattr(rows[day], target, getattr(rows[day], target) + number)
    # Expected: on each day, not arrived yet and due that day or the next EXPECTED_DAYS.
    ahead = _Days(first, n + EXPECTED_DAYS, zone)
    inner = (
        select(Resident.grid_id.label("grid_id"), ahead.bucket(Arrival.expected_at).label("day"))
        .select_from(Arrival)
        .join(Resident, Resident.id == Arrival.resident_id)
        .where(people, Arrival.status == "expected", *ahead.within(Arrival.expected_at))
    )
    for grid_id, due, number in await grouped(inner, count):
        if (rows := each(grid_id)) is not None:
            for i in range(max(0, due - EXPECTED_DAYS), min(n, due + 1)):
                rows[i].expected += number
    # Under monitoring, by kind (the plan's phase that day); plans held open.
    plans = (
        select(
            MonitoringPlan.status,
            MonitoringPlan.phases,
            MonitoringPlan.starts_on,
            MonitoringPlan.ends_on,
            Resident.grid_id,
        )
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .where(
            people,
            ((MonitoringPlan.status == ACTIVE) & (MonitoringPlan.starts_on <= last))
            & (MonitoringPlan.ends_on >= first)
            | (MonitoringPlan.status == HELD),
        )
    )
    for status, phases, starts_on, ends_on, grid_id in (await session.execute(plans)).all():
        key = grid_key.get(grid_id)
        if key is None:
            continue
        if status == HELD:
            for row in found[key]:
                row.held += 1
            continue
        _add_phases(kinds[key], phases, max(starts_on, first), min(ends_on, last), first)
    # Check-ins due (opened), answered and missed, by their slot's day.
    inner = (
        select(
            Resident.grid_id.label("grid_id"),
            days.bucket(CheckIn.slot_start).label("day"),
            CheckIn.answered_at,
            CheckIn.missed_at,
        )
        .select_from(CheckIn)
        .join(Resident, Resident.id == CheckIn.resident_id)
        .where(people, *days.within(CheckIn.slot_start))
    )
    for grid_id, day, due, answered, missed in await grouped(
        inner, count, lambda s: func.count(s.c.answered_at), lambda s: func.count(s.c.missed_at)
    ):
        if (rows := each(grid_id)) is not None:
            rows[day].checkins_due += due
            rows[day].checkins_answered += answered
            rows[day].checkins_missed += missed
    # Abnormal reports and missed check-ins raised, and how many have an action recorded.
    handled = exists().where(AlertAction.alert_id == Alert.id)
    inner = select(
        Alert.grid_id.label("grid_id"),
        days.bucket(Alert.created_at).label("day"),
        (Alert.kind == MISSED_KIND).label("missed"),
        case((handled, 1), else_=0).label("handled"),
    ).where(
        Alert.grid_id.in_(grids),
        Alert.kind.in_((*ABNORMAL_KINDS, MISSED_KIND)),
        *days.within(Alert.created_at),
    )
    sub = inner.subquery()
    query = select(
        sub.c.grid_id, sub.c.day, sub.c.missed, func.count(), func.sum(sub.c.handled)
    ).group_by(sub.c.grid_id, sub.c.day, sub.c.missed)
    for grid_id, day, is_missed, number, with_action in (await session.execute(query)).all():
        if (rows := each(grid_id)) is not None:
            row = rows[day]
            if is_missed:
                row.missed += number
                row.missed_handled += int(with_action or 0)
            else:
                row.abnormal += number
                row.abnormal_handled += int(with_action or 0)
    # Released each day.
    inner = (
        select(Resident.grid_id.label("grid_id"), days.bucket(MonitoringPlan.ended_at).label("day"))
        .select_from(MonitoringPlan)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .where(people, MonitoringPlan.status == RELEASED, *days.within(MonitoringPlan.ended_at))
    )
    for grid_id, day, number in await grouped(inner, count):
        if (rows := each(grid_id)) is not None:
            rows[day].released += number
    alerts = await _alerts(session, area, days, grid_key, overdue_after=overdue_after, now=now)
    for code, rows in found.items():
        for i, row in enumerate(rows):
            row.by_kind = dict(kinds[code][i])
            row.alerts = alerts[code][i] if code in alerts else AlertCounts()
            row.ordered()
    return found


def _add_phases(
    into: list[dict[str, int]], phases: list[dict[str, Any]], low: date, high: date, first: date
) -> None:
    """Count the plan on each day from `low` to `high` under the kind of its phase that day
    (the first phase that covers it, as `figures.phase_on` reads it)."""
    taken: set[int] = set()
    for phase in phases:
        start = max(date.fromisoformat(phase["first"]), low)
        end = min(date.fromisoformat(phase["last"]), high)
        kind = str(phase["kind"])
        for i in range((start - first).days, (end - first).days + 1):
            if i not in taken:
                taken.add(i)
                into[i][kind] += 1


async def _alerts(
    session: AsyncSession,
    area: Area,
    days: _Days,
    grid_key: dict[int, str],
    *,
    overdue_after: timedelta,
    now: datetime,
) -> dict[str, list[AlertCounts]]:
    """Per key and day: open at the day's end (or now), acknowledged during it, overdue (as
    `figures.alert_counts`). Each alert is open over a run of days, so one pass suffices."""
    n = days.n
    query = select(Alert.grid_id, Alert.created_at, Alert.acknowledged_at).where(
        Alert.grid_id.in_(grids_under(area)),
        Alert.created_at < days.ends[-1],
        Alert.created_at <= now,
        (Alert.acknowledged_at.is_(None)) | (Alert.acknowledged_at >= days.starts[0]),
    )
    # Differences per day: a run [a, b) adds 1 at a and takes it off at b.
    opened: dict[str, list[int]] = defaultdict(lambda: [0] * (n + 1))
    overdue: dict[str, list[int]] = defaultdict(lambda: [0] * (n + 1))
    acknowledged: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    # The day's "end" for an alert is its end, or now for today and after.
    seen_to = [min(end, now) for end in days.ends]
    for grid_id, created, ack in (await session.execute(query)).all():
        key = grid_key.get(grid_id)
        if key is None:
            continue
        start = days.index(created)  # the first day ending after it was raised
        acknowledged_by_now = ack is not None and ack <= now
        # Open while a day ends before it was acknowledged (or it is not, as of now).
        stop = days.index(ack) if ack is not None and acknowledged_by_now else n
        if start < stop:
            opened[key][start] += 1
            opened[key][stop] -= 1
            late = bisect.bisect_left(seen_to, created + overdue_after, lo=start)
            if late < stop:
                overdue[key][late] += 1
                overdue[key][stop] -= 1
        if ack is not None and acknowledged_by_now and start <= stop < n:
            acknowledged[key][stop] += 1  # the day it was acknowledged on
    result: dict[str, list[AlertCounts]] = {}
    for key in set(opened) | set(acknowledged):
        counts, running_open, running_late = [], 0, 0
        for i in range(n):
            running_open += opened[key][i]
            running_late += overdue[key][i]
            counts.append(AlertCounts(running_open, acknowledged[key][i], running_late))
        result[key] = counts
    return result
