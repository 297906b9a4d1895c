"""The figures of the daily report (日报告) for one area and one local day, and the same per
area directly below it (the roll-up a community, street or district worker gets).

Each figure is one query over every grid under the area, grouped by grid, then added up per
child area: a district's roll-up costs the same handful of queries as one grid's report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts import Alert, AlertAction
from models.areas import Area, Level, children_of
from models.checkins import CheckIn
from models.people import Arrival, Resident
from models.plans import ACTIVE, HELD, RELEASED, MonitoringPlan

# Alerts that count as "abnormal" in the report, and the one that is a missed check-in.
ABNORMAL_KINDS = (
    "refer_clinic",
    "fever",
    "antipyretic",
    "symptoms",
    "positive_test",
    "health_code",
)
MISSED_KIND = "missed_checkin"
# Expected arrivals: today (not arrived yet) and the next this many days (每天摸排未来3天).
EXPECTED_DAYS = 3
# The zone days are counted in when none is given (the TIMEZONE setting's default).
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
# The order kinds of monitoring are listed in.
PHASE_ORDER = ("centralised", "home_isolation", "home_monitoring", "self_monitoring")


@dataclass(frozen=True)
class Expected:
    """Someone expected to arrive: who, when, how and from where."""

    name: str
    at: datetime
    transport: str
    number: str
    origin: str


@dataclass(frozen=True)
class Monitored:
    """Someone under a kind of monitoring today: day `day` of `of`."""

    name: str
    kind: str
    day: int
    of: int


@dataclass(frozen=True)
class Done:
    """Something done about an alert (acknowledged, called, visited, referred, escalated…)."""

    kind: str
    by: str
    note: str | None
    at: datetime


@dataclass(frozen=True)
class Incident:
    """An abnormal report or a missed check-in today, with what was done about it."""

    kind: str
    name: str
    at: datetime
    done: tuple[Done, ...] = ()

    @property
    def handled(self) -> bool:
        return bool(self.done)


@dataclass(frozen=True)
class DailyFigures:
    area_code: str
    area_name: str
    level: str
    day: date
    # Reports (before or on arrival) received today, and people who arrived today.
    reports: int = 0
    arrived: int = 0
    expected: tuple[Expected, ...] = ()
    monitoring: tuple[Monitored, ...] = ()
    # Plans past their end still waiting for the negatives they need.
    held: int = 0
    checkins_due: int = 0
    checkins_answered: int = 0
    checkins_missed: int = 0
    abnormal: tuple[Incident, ...] = ()
    missed: tuple[Incident, ...] = ()
    releases: tuple[str, ...] = ()

    @property
    def by_kind(self) -> dict[str, int]:
        """People under each kind of monitoring, in the usual order."""
        counts: dict[str, int] = defaultdict(int)
        for person in self.monitoring:
            counts[person.kind] += 1
        order = {kind: i for i, kind in enumerate(PHASE_ORDER)}
        return dict(sorted(counts.items(), key=lambda item: (order.get(item[0], 99), item[0])))

    @property
    def nothing(self) -> bool:
        """A day for the zero report (零报告): nobody reported, expected, watched or released,
        and nothing abnormal."""
        return not (
            self.reports
            or self.arrived
            or self.expected
            or self.monitoring
            or self.held
            or self.checkins_due
            or self.abnormal
            or self.missed
            or self.releases
        )


@dataclass(frozen=True)
class Rollup:
    """An area's figures in all (`total`) and for each area directly below it."""

    total: DailyFigures
    children: tuple[DailyFigures, ...]


@dataclass(frozen=True)
class DayPoint:
    """One day of the 14-day chart."""

    day: date
    arrivals: int
    monitoring: int
    abnormal: int


@dataclass
class _Tally:
    """The figures being added up for one area (mutable until frozen)."""

    reports: int = 0
    arrived: int = 0
    expected: list[Expected] = field(default_factory=list)
    monitoring: list[Monitored] = field(default_factory=list)
    held: int = 0
    checkins_due: int = 0
    checkins_answered: int = 0
    checkins_missed: int = 0
    abnormal: list[Incident] = field(default_factory=list)
    missed: list[Incident] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)

    def freeze(self, area: Area, day: date) -> DailyFigures:
        return DailyFigures(
            area_code=area.code,
            area_name=area.name,
            level=area.level,
            day=day,
            reports=self.reports,
            arrived=self.arrived,
            expected=tuple(sorted(self.expected, key=lambda e: (e.at, e.name))),
            monitoring=tuple(
                sorted(self.monitoring, key=lambda m: (_phase_rank(m.kind), -m.day, m.name))
            ),
            held=self.held,
            checkins_due=self.checkins_due,
            checkins_answered=self.checkins_answered,
            checkins_missed=self.checkins_missed,
            abnormal=tuple(sorted(self.abnormal, key=lambda i: i.at)),
            missed=tuple(sorted(self.missed, key=lambda i: i.at)),
            releases=tuple(sorted(self.releases)),
        )


def _phase_rank(kind: str) -> int:
    return PHASE_ORDER.index(kind) if kind in PHASE_ORDER else len(PHASE_ORDER)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day as [start, end) instants."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def under(area: Area) -> ColumnElement[bool]:
    """Areas at or under `area` (by their materialised path)."""
    return or_(Area.path == area.path, Area.path.startswith(area.path + "/", autoescape=True))


def grids_under(area: Area) -> Select[Any]:
    return select(Area.id).where(Area.level == Level.GRID, under(area))


async def daily_figures(
    session: AsyncSession, area: Area, day: date, zone: ZoneInfo = DEFAULT_ZONE
) -> DailyFigures:
    """The day's figures for everything at or under `area` (one grid, or all of a district)."""
    tallies = await _collect(session, area, day, zone, {area.code: area})
    return tallies[area.code].freeze(area, day)


async def rollup_figures(
    session: AsyncSession, area: Area, day: date, zone: ZoneInfo = DEFAULT_ZONE
) -> Rollup:
    """The day's figures for each area directly below `area`, and in all."""
    children = await children_of(session, area.id)
    keyed = {child.code: child for child in children}
    tallies = await _collect(session, area, day, zone, keyed)
    parts = tuple(tallies[child.code].freeze(child, day) for child in children)
    total = _Tally()
    for code in keyed:
        _add(total, tallies[code])
    return Rollup(total.freeze(area, day), parts)


def _add(into: _Tally, part: _Tally) -> None:
    counts = ("reports", "arrived", "held", "checkins_due", "checkins_answered", "checkins_missed")
    for name in counts:
        setattr(into, name, getattr(into, name) + getattr(part, name))
    for name in ("expected", "monitoring", "abnormal", "missed", "releases"):
        getattr(into, name).extend(getattr(part, name))


async def _collect(
    session: AsyncSession, area: Area, day: date, zone: ZoneInfo, keyed: dict[str, Area]
) -> dict[str, _Tally]:
    """A tally per key area (the area itself, or each child), from one pass of queries."""
    start, end = day_bounds(day, zone)
    depth = len(area.path.split("/"))
    grid_key: dict[int, str] = {}
    for grid_id, path in (
        await session.execute(
            select(Area.id, Area.path).where(Area.level == Level.GRID, under(area))
        )
    ).all():
        codes = path.split("/")
        key = area.code if area.code in keyed else (codes[depth] if len(codes) > depth else "")
        if key in keyed:
            grid_key[grid_id] = key
    tallies = {code: _Tally() for code in keyed}
    grids = grids_under(area)

    def tally(grid_id: int) -> _Tally | None:
        key = grid_key.get(grid_id)
        return tallies[key] if key is not None else None

    people = Resident.grid_id.in_(grids)
    # Reports received today, and arrivals today.
    for column, target in ((Arrival.reported_at, "reports"), (Arrival.arrived_at, "arrived")):
        query = (
            select(Resident.grid_id, func.count())
            .select_from(Arrival)
            .join(Resident, Resident.id == Arrival.resident_id)
            .where(people, column >= start, column < end)
            .group_by(Resident.grid_id)
        )
        for grid_id, count in (await session.execute(query)).all():
            if (t := tally(grid_id)) is not None:
                setattr(t, target, getattr(t, target) + count)
    # Expected arrivals: today (not arrived yet) and the next days.
    horizon = day_bounds(day + timedelta(days=EXPECTED_DAYS), zone)[1]
    expected = (
        select(Arrival, Resident.name, Resident.grid_id)
        .join(Resident, Resident.id == Arrival.resident_id)
        .where(
            people,
            Arrival.status == "expected",
            Arrival.expected_at >= start,
            Arrival.expected_at < horizon,
        )
    )
    for arrival, name, grid_id in (await session.execute(expected)).all():
        if (t := tally(grid_id)) is not None and arrival.expected_at is not None:
            t.expected.append(
                Expected(
                    name or "?",
                    arrival.expected_at,
                    arrival.transport,
                    arrival.transport_number or "",
                    arrival.origin_text,
                )
            )
    # Under monitoring today, with the day of their present phase; plans held open.
    plans = (
        select(MonitoringPlan.status, MonitoringPlan.phases, Resident.name, Resident.grid_id)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .where(
            people,
            or_(
                (MonitoringPlan.status == ACTIVE)
                & (MonitoringPlan.starts_on <= day)
                & (MonitoringPlan.ends_on >= day),
                MonitoringPlan.status == HELD,
            ),
        )
    )
    for status, phases, name, grid_id in (await session.execute(plans)).all():
        if (t := tally(grid_id)) is None:
            continue
        if status == HELD:
            t.held += 1
            continue
        phase = phase_on(phases, day)
        if phase is not None:
            kind, n, total = phase
            t.monitoring.append(Monitored(name or "?", kind, n, total))
    # Today's check-ins: due (opened), answered, missed.
    checkins = (
        select(
            Resident.grid_id,
            func.count(),
            func.count(CheckIn.answered_at),
            func.count(CheckIn.missed_at),
        )
        .select_from(CheckIn)
        .join(Resident, Resident.id == CheckIn.resident_id)
        .where(people, CheckIn.slot_start >= start, CheckIn.slot_start < end)
        .group_by(Resident.grid_id)
    )
    for grid_id, due, answered, missed in (await session.execute(checkins)).all():
        if (t := tally(grid_id)) is not None:
            t.checkins_due += due
            t.checkins_answered += answered
            t.checkins_missed += missed
    # Abnormal reports and missed check-ins raised today, with what was done about them.
    raised = (
        Alert.grid_id.in_(grids),
        Alert.kind.in_((*ABNORMAL_KINDS, MISSED_KIND)),
        Alert.created_at >= start,
        Alert.created_at < end,
    )
    done: dict[int, list[Done]] = defaultdict(list)
    actions = (
        select(AlertAction)
        .join(Alert, Alert.id == AlertAction.alert_id)
        .where(*raised)
        .order_by(AlertAction.at, AlertAction.id)
    )
    for action in await session.scalars(actions):
        done[action.alert_id].append(Done(action.kind, action.actor_name, action.note, action.at))
    alerts = (
        select(Alert, Resident.name)
        .outerjoin(Resident, Resident.id == Alert.resident_id)
        .where(*raised)
    )
    for alert, name in (await session.execute(alerts)).all():
        if (t := tally(alert.grid_id)) is None:
            continue
        incident = Incident(alert.kind, name or "?", alert.created_at, tuple(done[alert.id]))
        (t.missed if alert.kind == MISSED_KIND else t.abnormal).append(incident)
    # Released today.
    released = (
        select(Resident.name, Resident.grid_id)
        .join(MonitoringPlan, MonitoringPlan.resident_id == Resident.id)
        .where(
            people,
            MonitoringPlan.status == RELEASED,
            MonitoringPlan.ended_at >= start,
            MonitoringPlan.ended_at < end,
        )
    )
    for name, grid_id in (await session.execute(released)).all():
        if (t := tally(grid_id)) is not None:
            t.releases.append(name or "?")
    return tallies


def phase_on(phases: list[dict[str, Any]], day: date) -> tuple[str, int, int] | None:
    """The kind of the plan's phase on `day`, which day of it that is, and of how many."""
    for phase in phases:
        first, last = date.fromisoformat(phase["first"]), date.fromisoformat(phase["last"])
        if first <= day <= last:
            return str(phase["kind"]), (day - first).days + 1, (last - first).days + 1
    return None


async def history(
    session: AsyncSession, area: Area, day: date, zone: ZoneInfo = DEFAULT_ZONE, days: int = 14
) -> tuple[DayPoint, ...]:
    """For each of the `days` days up to `day`: arrivals, people under monitoring and
    abnormal reports at or under `area`."""
    grids = grids_under(area)
    points: list[DayPoint] = []
    for back in range(days - 1, -1, -1):
        on = day - timedelta(days=back)
        start, end = day_bounds(on, zone)
        arrivals = (
            select(func.count())
            .select_from(Arrival)
            .join(Resident, Resident.id == Arrival.resident_id)
            .where(
                Resident.grid_id.in_(grids), Arrival.arrived_at >= start, Arrival.arrived_at < end
            )
        )
        monitoring = (
            select(func.count(func.distinct(MonitoringPlan.resident_id)))
            .join(Resident, Resident.id == MonitoringPlan.resident_id)
            .where(
                Resident.grid_id.in_(grids),
                MonitoringPlan.status.in_((ACTIVE, HELD, RELEASED)),
                MonitoringPlan.starts_on <= on,
                MonitoringPlan.ends_on >= on,
            )
        )
        abnormal = (
            select(func.count())
            .select_from(Alert)
            .where(
                Alert.grid_id.in_(grids),
                Alert.kind.in_(ABNORMAL_KINDS),
                Alert.created_at >= start,
                Alert.created_at < end,
            )
        )
        points.append(
            DayPoint(
                on,
                int(await session.scalar(arrivals) or 0),
                int(await session.scalar(monitoring) or 0),
                int(await session.scalar(abnormal) or 0),
            )
        )
    return tuple(points)
