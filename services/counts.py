"""The daily report's figures as numbers only, for one day or many, for an area or each area
directly below it: the roll-up a community, street or district worker gets, and what the API
and the dashboard serve. Tests hold them equal to the daily report's (`services.figures`),
day by day and area by area.

Everything is counted in SQL over the report's own definitions (the 24 hours ending at the
report's time, check-in slots by their end, alerts still without a person's action, people
expected and not come): each figure family is one query for all the areas × days asked,
grouped by area and by the report (day) each row falls in, so no object is built per person.
A row's day is found by a `CASE` over the reports' times; what holds on every later day (an
alert still open, someone who has not come) is counted once by its first day and spread over
the following days here.
Each row is counted in the grid it keeps (`grid_id` on check-ins, plans and arrivals, the
resident's), never through a look-up of its resident; only the people expected are read
with their resident (a purged one is no longer expected).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import Label

from models.alerts import Alert, AlertAction
from models.areas import Area, Level, children_of
from models.checkins import CheckIn
from models.people import Arrival, Resident
from models.plans import ACTIVE, HELD, RELEASED, MonitoringPlan
from services.figures import (
    ABNORMAL_KINDS,
    DEFAULT_AT,
    EXPECTED_DAYS,
    MISSED_KIND,
    PHASE_ORDER,
    AlertCounts,
    DailyFigures,
    closed_mark,
    day_bounds,
    phase_on,
    under,
    window_of,
)

AnySelect = Select[*tuple[Any, ...]]


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
    # Alerts from before the window still without a person's action; people expected before
    # the end of the window who have not come.
    still_open: int = 0
    no_shows: int = 0
    alerts: AlertCounts = field(default_factory=AlertCounts)

    @property
    def monitoring(self) -> int:
        return sum(self.by_kind.values())

    @property
    def unhandled(self) -> int:
        """Abnormal reports, missed check-ins and alerts from earlier with no person's action."""
        return (
            self.abnormal - self.abnormal_handled + self.missed - self.missed_handled
        ) + self.still_open

    @property
    def nothing(self) -> bool:
        """A day for the zero report (零报告), as `DailyFigures.nothing`."""
        return not (
            self.reports
            or self.arrived
            or self.expected
            or self.monitoring
            or self.held
            or self.checkins_due
            or self.abnormal
            or self.missed
            or self.released
            or self.still_open
            or self.no_shows
        )

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
            still_open=figures.still_open_count,
            no_shows=len(figures.no_shows),
            alerts=alerts or AlertCounts(),
        )

    def add(self, other: Counts) -> None:
        for name in _NUMBERS:
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


_NUMBERS = (
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
    "still_open",
    "no_shows",
)


@dataclass(frozen=True)
class Summary:
    """One area's report as numbers (a line of a roll-up, or its totals)."""

    area_code: str
    area_name: str
    level: str
    day: date
    start: datetime
    end: datetime
    counts: Counts

    @property
    def nothing(self) -> bool:
        return self.counts.nothing


@dataclass(frozen=True)
class Rollup:
    """An area's figures in all (`total`) and for each area directly below it."""

    total: Summary
    children: tuple[Summary, ...]


async def rollup_figures(
    session: AsyncSession,
    area: Area,
    day: date,
    zone: ZoneInfo,
    at: time = DEFAULT_AT,
) -> Rollup:
    """The report's figures for each area directly below `area`, and in all: counted in SQL,
    a handful of queries whatever the size of the area."""
    start, end = window_of(day, zone, at)
    children = await children_of(session, area.id)
    keyed = {child.code: child for child in children}
    counted = await count_days(session, area, day, day, keyed, zone=zone, at=at)
    parts = tuple(
        Summary(c.code, c.name, c.level, day, start, end, counted[c.code][0]) for c in children
    )
    total = Counts()
    for part in parts:
        total.add(part.counts)
    return Rollup(Summary(area.code, area.name, area.level, day, start, end, total), parts)


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
    `first` to `last`: the daily report's figures (the 24 hours ending at the report's time)
    and the alerts at each day's end (`figures.alert_counts`)."""
    return await count_days(
        session, area, first, last, keyed, zone=zone, at=at, alerts=(overdue_after, now)
    )


# ----- counting in SQL -----


class _Keys:
    """Which key area (the area itself, or a child) a grid counts in, in SQL: every grid under
    it when there is one key; the grid itself when the keys are grids; else the query is
    counted per grid first and those counts added up per key area (found by its path)."""

    def __init__(self, area: Area, keyed: dict[str, Area], *, by_time: bool) -> None:
        self.by_time = by_time
        self.codes = list(keyed)
        self.area = area
        self.single = keyed[self.codes[0]] if len(self.codes) == 1 else None
        self.grids = all(keyed[code].level == Level.GRID for code in self.codes)
        self.number = {keyed[code].id: i for i, code in enumerate(self.codes)}

    def apply(self, query: AnySelect, grid: Any, groups: int) -> AnySelect:
        """The query (its first `groups` columns grouped, the rest counts) restricted to the
        grids counted, with the key's area id last unless there is one key."""
        if self.single is not None:
            if self.single.level == Level.GRID:
                return query.where(grid == self.single.id)
            return query.where(grid.in_(_grids_under(self.single)))
        if self.grids:
            query = query.where(grid.in_(list(self.number)))
            return _by_grid_first(query.add_columns(grid.label("k")), "k", groups)
        if self.area.parent_id is not None or not self.by_time:
            # A part of the city: from its grids.
            query = query.where(grid.in_(_grids_under(self.area)))
        inner = _by_grid_first(query.add_columns(grid.label("g")), "g", groups).subquery()
        columns = list(inner.c)
        grouped, counted = columns[:groups], columns[groups:-1]
        grid_area, key_area = aliased(Area), aliased(Area)
        return (
            select(
                *grouped,
                *(cast(func.sum(c), Integer) for c in counted),
                key_area.id.label("k"),
            )
            .join(grid_area, grid_area.id == inner.c.g)
            .join(
                key_area,
                key_area.id.in_(list(self.number))
                & or_(
                    grid_area.path == key_area.path,
                    func.substr(grid_area.path, 1, func.length(key_area.path) + 1)
                    == key_area.path + "/",
                ),
            )
            .group_by(*grouped, "k")
        )

    def key_of(self, row: Any) -> tuple[int | None, Any]:
        """The key a row counts in, and the rest of the row."""
        if self.single is not None:
            return 0, row
        return self.number.get(row[-1]), row[:-1]


def _by_grid_first(query: AnySelect, grid: str, groups: int) -> AnySelect:
    """The query grouped by the grid first, then by its first `groups` columns: SQLite then
    reads an index that starts with the grid in its order and counts each grid's rows as they
    come (`ix_plans_status_grid`, `ix_alerts_grid_open`), instead of sorting every row first
    (72,000 alerts still open in the generated city: 0.48 s against 0.10 s)."""
    grouped = [
        # A label by its name: a `CASE` with bound values written twice would be two
        # expressions to PostgreSQL (`$1` and `$5`), not the selected one.
        column.name if isinstance(column, Label) else column
        for column in list(query.selected_columns)[:groups]
    ]
    return query.group_by(None).group_by(grid, *grouped)


def _grids_under(area: Area) -> AnySelect:
    return select(Area.id).where(Area.level == Level.GRID, under(area))


def _bucket(
    value: Any, bounds: Sequence[datetime], *, closed_right: bool = False
) -> ColumnElement[int]:
    """The index of the first bound `value` is before (`<`; `<=` with `closed_right`), or
    len(bounds) after the last."""
    return case(
        *(((value <= b) if closed_right else (value < b), i) for i, b in enumerate(bounds)),
        else_=len(bounds),
    )


def _closed() -> ColumnElement[bool]:
    """A check-in closed with its superseded plan (`figures.closed_mark`)."""
    closed: ColumnElement[bool] = closed_mark(CheckIn).is_not(None)
    return closed


_acted = select(AlertAction.alert_id).where(AlertAction.actor_user_id.is_not(None))
_MISSED_PREFIX = f"{MISSED_KIND}:"


async def count_days(
    session: AsyncSession,
    area: Area,
    first: date,
    last: date,
    keyed: dict[str, Area],
    *,
    zone: ZoneInfo,
    at: time = DEFAULT_AT,
    alerts: tuple[timedelta, datetime] | None = None,
) -> dict[str, list[Counts]]:
    """Each key area's counts, day by day from `first` to `last` (the alerts' counts too when
    `alerts` gives the time after which an alert is overdue, and now)."""
    n = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(n)]
    ends = [window_of(d, zone, at)[1] for d in days]
    start = ends[0] - timedelta(days=1)
    # The reports' windows: bucket 0 before the first, i + 1 the window of day i.
    windows = [start, *ends]
    if not keyed:
        return {}
    # The whole city is read by the rows' times on PostgreSQL, and on SQLite for one day
    # (over many days its rows by time are scattered over the tables, a page each).
    by_time = n == 1 or session.get_bind().dialect.name == "postgresql"
    keys = _Keys(area, keyed, by_time=by_time)
    found = [[Counts() for _ in days] for _ in keyed]

    async def rows(query: AnySelect, grid: Any, groups: int = 1) -> list[tuple[int, Any]]:
        """(key, the rest of the row) for each row of `query`, grouped by key too."""
        got: list[tuple[int, Any]] = []
        for row in (await session.execute(keys.apply(query, grid, groups))).all():
            k, rest = keys.key_of(row)
            if k is not None:
                got.append((k, rest))
        return got

    def add(k: int, i: int, name: str, number: int) -> None:
        if 0 <= i < n:
            counts = found[k][i]
            setattr(counts, name, getattr(counts, name) + int(number))

    # Reports received and arrivals, in the window.
    for when, name in ((Arrival.reported_at, "reports"), (Arrival.arrived_at, "arrived")):
        bucket = _bucket(when, windows).label("b")
        query: AnySelect = (
            select(bucket, func.count())
            .select_from(Arrival)
            .where(when >= start, when < ends[-1])
            .group_by("b")
        )
        for k, (b, number) in await rows(query, Arrival.grid_id):
            add(k, b - 1, name, number)
    # Expected: in the three days after the report; not arrived: due before its end.
    horizon = [window_of(last + timedelta(days=j), zone, at)[1] for j in range(1, 4)]
    bounds = [*ends, *horizon]
    assert EXPECTED_DAYS == 3
    bucket = _bucket(Arrival.expected_at, bounds).label("b")
    query = (
        select(bucket, func.count())
        .select_from(Arrival)
        .join(Resident, Resident.id == Arrival.resident_id)
        .where(
            Resident.purged_at.is_(None),
            Arrival.status == "expected",
            Arrival.expected_at < bounds[-1],
        )
        .group_by("b")
    )
    for k, (b, number) in await rows(query, Arrival.grid_id):
        # Bucket b: before the end of day b, from the end of day b - 1.
        for i in range(n):
            if b <= i:
                add(k, i, "no_shows", number)
            elif b <= i + EXPECTED_DAYS:
                add(k, i, "expected", number)
    # Plans held open, whatever the day.
    query = select(func.count()).select_from(MonitoringPlan).where(MonitoringPlan.status == HELD)
    for k, (number,) in await rows(query, MonitoringPlan.grid_id, 0):
        for i in range(n):
            add(k, i, "held", number)
    # Under each kind of monitoring: plans alike are counted together, then each day's phase.
    query = (
        select(
            MonitoringPlan.starts_on,
            MonitoringPlan.ends_on,
            MonitoringPlan.phases,
            func.count(),
        )
        .where(
            MonitoringPlan.status == ACTIVE,
            MonitoringPlan.starts_on <= last,
            MonitoringPlan.ends_on >= first,
        )
        .group_by(MonitoringPlan.starts_on, MonitoringPlan.ends_on, MonitoringPlan.phases)
    )
    for k, (starts, ends_on, phases, number) in await rows(query, MonitoringPlan.grid_id, 3):
        for i, d in enumerate(days):
            if starts <= d <= ends_on and (phase := phase_on(phases, d)) is not None:
                kinds = found[k][i].by_kind
                kinds[phase[0]] = kinds.get(phase[0], 0) + int(number)
    # Released in the window.
    bucket = _bucket(MonitoringPlan.ended_at, windows).label("b")
    query = (
        select(bucket, func.count())
        .select_from(MonitoringPlan)
        .where(
            MonitoringPlan.status == RELEASED,
            MonitoringPlan.ended_at >= start,
            MonitoringPlan.ended_at < ends[-1],
        )
        .group_by("b")
    )
    for k, (b, number) in await rows(query, MonitoringPlan.grid_id):
        add(k, b - 1, "released", number)
    # Check-in slots that ended in the window (not closed): on time, late or missed.
    bucket = _bucket(CheckIn.slot_end, ends, closed_right=True).label("b")
    unanswered = CheckIn.answered_at.is_(None)
    query = (
        select(
            bucket,
            func.count(),
            cast(func.sum(case((unanswered, 1), else_=0)), Integer),
            cast(func.sum(case((~unanswered & CheckIn.late, 1), else_=0)), Integer),
        )
        .select_from(CheckIn)
        .where(CheckIn.slot_end > start, CheckIn.slot_end <= ends[-1], not_(_closed()))
        .group_by("b")
    )
    for k, (b, due, missed, late) in await rows(query, CheckIn.grid_id):
        add(k, b, "checkins_due", due)
        add(k, b, "checkins_missed", missed)
        add(k, b, "missed", missed)
        add(k, b, "checkins_late", late)
        add(k, b, "checkins_answered", due - missed - late)
    # The missed ones whose alert a person acted on.
    missed_alert = Alert.__table__.alias("missed_alert")
    bucket = _bucket(CheckIn.slot_end, ends, closed_right=True).label("b")
    query = (
        select(bucket, func.count())
        .select_from(CheckIn)
        .join(
            missed_alert,
            missed_alert.c.dedupe_key == literal(_MISSED_PREFIX) + cast(CheckIn.id, String),
        )
        .where(
            missed_alert.c.id.in_(_acted),
            CheckIn.slot_end > start,
            CheckIn.slot_end <= ends[-1],
            unanswered,
            not_(_closed()),
        )
        .group_by("b")
    )
    for k, (b, number) in await rows(query, CheckIn.grid_id):
        add(k, b, "missed_handled", number)
    # Abnormal reports raised in the window, and how many a person acted on.
    bucket = _bucket(Alert.created_at, windows).label("b")
    query = (
        select(
            bucket, func.count(), cast(func.sum(case((Alert.id.in_(_acted), 1), else_=0)), Integer)
        )
        .select_from(Alert)
        .where(
            Alert.kind.in_(ABNORMAL_KINDS),
            Alert.created_at >= start,
            Alert.created_at < ends[-1],
        )
        .group_by("b")
    )
    for k, (b, number, handled) in await rows(query, Alert.grid_id):
        add(k, b - 1, "abnormal", number)
        add(k, b - 1, "abnormal_handled", handled)
    # Alerts still without a person's action: an abnormal one from before the window; a
    # missed check-in's raised before its end, unless its check-in was answered after all,
    # closed, or is among the window's own missed check-ins (listed there).
    created = _bucket(Alert.created_at, windows).label("b")
    # The check-in's slot and whether it was settled are kept on the alert (`record_misses`,
    # `record_answer`): one indexed count, no look-up of each alert's check-in.
    slot = case(
        (Alert.checkin_slot_end.is_(None), -1),
        else_=_bucket(Alert.checkin_slot_end, windows, closed_right=True),
    ).label("s")
    is_missed = (Alert.kind == MISSED_KIND).label("m")
    query = (
        select(created, slot, is_missed, func.count())
        .select_from(Alert)
        .where(
            Alert.kind.in_((*ABNORMAL_KINDS, MISSED_KIND)),
            Alert.created_at < ends[-1],
            Alert.checkin_settled_at.is_(None),
            Alert.id.not_in(_acted),
        )
        .group_by("b", "s", "m")
    )
    for k, (b, s, missed_kind, number) in await rows(query, Alert.grid_id, 3):
        for i in range(n):
            # Window i is bucket i + 1: raised before its start (b <= i), or before its end.
            if (b <= i + 1 and s != i + 1) if missed_kind else b <= i:
                add(k, i, "still_open", number)
    if alerts is not None:
        await _alert_counts(session, found, days, zone, alerts, rows)
    return {
        code: [counts.ordered() for counts in found[number]]
        for number, code in enumerate(keys.codes)
    }


async def _alert_counts(
    session: AsyncSession,
    found: list[list[Counts]],
    days: list[date],
    zone: ZoneInfo,
    alerts: tuple[timedelta, datetime],
    rows: Callable[[AnySelect, Any, int], Any],
) -> None:
    """Each day's alerts at its end (or now, for today), as `figures.alert_counts`: open,
    acknowledged during the day, open for longer than `overdue_after`."""
    overdue_after, now = alerts
    n = len(days)
    midnights = [day_bounds(days[0], zone)[0], *(day_bounds(d, zone)[1] for d in days)]
    # Bucket of creation and of acknowledgement: 0 before the first day, i + 1 on day i.
    created = _bucket(Alert.created_at, midnights).label("b")
    acknowledged = case(
        (Alert.acknowledged_at.is_(None), n + 2),
        else_=_bucket(Alert.acknowledged_at, midnights),
    ).label("a")
    later = case((Alert.acknowledged_at.is_(None), False), else_=Alert.acknowledged_at > now).label(
        "f"
    )
    # Overdue on day i from the first i whose end (or now) is that long after creation.
    late = [min(midnights[i + 1], now) - overdue_after for i in range(n)]
    overdue = _bucket(Alert.created_at, late, closed_right=True).label("o")
    query = (
        select(created, acknowledged, later, overdue, func.count())
        .select_from(Alert)
        .where(
            Alert.created_at < midnights[-1],
            Alert.created_at <= now,
            or_(Alert.acknowledged_at.is_(None), Alert.acknowledged_at >= midnights[0]),
        )
        .group_by("b", "a", "f", "o")
    )
    tally: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for k, (b, a, future, o, number) in await rows(query, Alert.grid_id, 4):
        for i in range(n):
            if b > i + 1 or a < i + 1:
                continue
            if a >= i + 2 or future:
                tally[k, i][0] += number
                tally[k, i][2] += number if o <= i else 0
            else:
                tally[k, i][1] += number
    for (k, i), (open_, acknowledged_, overdue_) in tally.items():
        found[k][i].alerts = AlertCounts(int(open_), int(acknowledged_), int(overdue_))
