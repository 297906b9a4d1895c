"""The figures of the daily report (日报告) for one area and one report, and the same per
area directly below it (the roll-up a community, street or district worker gets).

A report covers the 24 hours that end at its time (DAILY_REPORT_AT on its day), so that the
reports follow one another and nothing falls between two of them. A check-in slot counts once
it has ended, as answered on time, late or missed (whatever the jobs did, and in whatever
order); a check-in of a plan superseded while it was open is closed, neither due nor missed.
Only a person's action counts as action (an escalation by the bot does not). Alerts still
without action from before the window, and people expected who have not come, are listed on
every report until they are handled: a zero report means that nothing is open.

Each figure is one query over every grid under the area, grouped by grid, then added up per
child area: a district's roll-up costs the same handful of queries as one grid's report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Date,
    Dialect,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    case,
    cast,
    func,
    join,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.types import TypeEngine

from models.alerts import Alert, AlertAction
from models.areas import Area, Level
from models.base import Json, UTCDateTime, from_postgresql
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
# Each list in a grid's report shows this many names; the rest are counted.
LIST_CAP = 10


@dataclass(frozen=True)
class Expected:
    """Someone expected to arrive: who, when, how and from where."""

    name: str
    at: datetime
    transport: str
    number: str
    origin: str
    origin_code: str | None = None


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
    # Done by a person (False: the bot escalated it on its own).
    by_person: bool = True


@dataclass(frozen=True)
class Incident:
    """An abnormal report or a missed check-in today, with what was done about it."""

    kind: str
    name: str
    at: datetime
    done: tuple[Done, ...] = ()

    @property
    def handled(self) -> bool:
        """Some person acted on it (acknowledged, called, escalated by hand…)."""
        return any(step.by_person for step in self.done)


@dataclass(frozen=True)
class DailyFigures:
    area_code: str
    area_name: str
    level: str
    day: date
    # The window the report covers: [start, end).
    start: datetime | None = None
    end: datetime | None = None
    # Reports (before or on arrival) received today, and people who arrived today.
    reports: int = 0
    arrived: int = 0
    expected: tuple[Expected, ...] = ()
    monitoring: tuple[Monitored, ...] = ()
    # Plans past their end still waiting for the negatives they need.
    held: int = 0
    # Check-in slots that ended in the window: due = answered on time + late + missed.
    checkins_due: int = 0
    checkins_answered: int = 0
    checkins_missed: int = 0
    checkins_late: int = 0
    abnormal: tuple[Incident, ...] = ()
    missed: tuple[Incident, ...] = ()
    releases: tuple[str, ...] = ()
    # Alerts raised before the window that no person has acted on yet, oldest first: all of
    # them, or only the first ones when read for the report (`listed`), the rest counted in
    # `still_open_more`.
    still_open: tuple[Incident, ...] = ()
    # People expected before the end of the window who have not arrived.
    no_shows: tuple[Expected, ...] = ()
    still_open_more: int = 0

    @property
    def still_open_count(self) -> int:
        """Alerts still open from before the window, listed or not."""
        return len(self.still_open) + self.still_open_more

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
            or self.still_open
            or self.no_shows
        )


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
    checkins_late: int = 0
    abnormal: list[Incident] = field(default_factory=list)
    missed: list[Incident] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    still_open: list[Incident] = field(default_factory=list)
    no_shows: list[Expected] = field(default_factory=list)
    # How many alerts are still open when only the first are read (None: all are read).
    still_open_total: int | None = None

    def freeze(self, area: Area, day: date, window: tuple[datetime, datetime]) -> DailyFigures:
        return DailyFigures(
            area_code=area.code,
            area_name=area.name,
            level=area.level,
            day=day,
            start=window[0],
            end=window[1],
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
            checkins_late=self.checkins_late,
            abnormal=tuple(sorted(self.abnormal, key=lambda i: (i.at, i.name))),
            missed=tuple(sorted(self.missed, key=lambda i: (i.at, i.name))),
            releases=tuple(sorted(self.releases)),
            still_open=tuple(sorted(self.still_open, key=lambda i: (i.at, i.name))),
            no_shows=tuple(sorted(self.no_shows, key=lambda e: (e.at, e.name))),
            still_open_more=(
                0
                if self.still_open_total is None
                else max(self.still_open_total - len(self.still_open), 0)
            ),
        )


def _phase_rank(kind: str) -> int:
    return PHASE_ORDER.index(kind) if kind in PHASE_ORDER else len(PHASE_ORDER)


# When the daily report is made when no time is given (the DAILY_REPORT_AT setting's default).
DEFAULT_AT = time(20, 0)


def window_of(day: date, zone: ZoneInfo, at: time = DEFAULT_AT) -> tuple[datetime, datetime]:
    """The 24 hours a report covers: from the previous report's time to this one's."""
    end = datetime.combine(day, at, tzinfo=zone)
    return end - timedelta(days=1), end


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
    session: AsyncSession,
    area: Area,
    day: date,
    zone: ZoneInfo = DEFAULT_ZONE,
    at: time = DEFAULT_AT,
    *,
    listed: int | None = None,
) -> DailyFigures:
    """The report's figures for everything at or under `area` (one grid, or all of a
    district): the 24 hours ending at `at` on `day`. `listed`: for a grid, only the first so
    many alerts still open from earlier are read (what its report lists), the rest counted."""
    window = window_of(day, zone, at)
    tallies = await collect(session, area, day, zone, {area.code: area}, window, listed=listed)
    return tallies[area.code].freeze(area, day, window)


def closed(checkin: CheckIn) -> bool:
    """A check-in of a plan superseded while it was open: neither due nor missed."""
    return bool((checkin.extra or {}).get("closed"))


async def grid_keys(session: AsyncSession, area: Area, keyed: dict[str, Area]) -> dict[int, str]:
    """Each grid at or under `area`, to the key area (the area itself, or a child) it counts in."""
    depth = len(area.path.split("/"))
    found: dict[int, str] = {}
    for grid_id, path in (
        await session.execute(
            select(Area.id, Area.path).where(Area.level == Level.GRID, under(area))
        )
    ).all():
        codes = path.split("/")
        key = area.code if area.code in keyed else (codes[depth] if len(codes) > depth else "")
        if key in keyed:
            found[grid_id] = key
    return found


async def collect(
    session: AsyncSession,
    area: Area,
    day: date,
    zone: ZoneInfo,
    keyed: dict[str, Area],
    window: tuple[datetime, datetime],
    *,
    listed: int | None = None,
) -> dict[str, _Tally]:
    """A tally per key area (the area itself, or each child), with the names behind each
    figure: one statement (arrivals, plans, check-ins, alerts, what was done about them).
    `listed` (a grid only): the alerts still open from earlier read only so many."""
    start, end = window
    tallies = {code: _Tally() for code in keyed}
    # Plain rows from the connection: no ORM result machinery for a read-only statement
    # (what the session holds unwritten is written first, as `session.execute` would).
    await session.flush()
    connection = await session.connection()
    horizon = end + timedelta(days=EXPECTED_DAYS)
    values: dict[str, Any] = {"start": start, "end": end, "horizon": horizon, "day": day}
    if area.level == Level.GRID:
        grid_key = {area.id: area.code} if area.code in keyed else {}
        # Built and compiled once: a grid's report is the one made a thousand times a day.
        statement = _grid_report(connection.dialect.name, listed)
        values["grid"] = area.id
    else:
        grid_key = await grid_keys(session, area, keyed)
        grids = grids_under(area)
        statement = _report(lambda _: Resident.grid_id.in_(grids), Alert.grid_id.in_(grids))
    rows = (await connection.execute(statement, values)).all()
    _tally_rows(rows, lambda grid_id: tallies.get(grid_key.get(grid_id, "")), window, day)
    return tallies


async def grid_figures(
    session: AsyncSession,
    grids: Sequence[Area],
    day: date,
    zone: ZoneInfo = DEFAULT_ZONE,
    at: time = DEFAULT_AT,
    *,
    listed: int | None = None,
) -> dict[int, DailyFigures]:
    """Each grid's report figures (by the grid's id), the same as `daily_figures` of each
    grid (with the same `listed`), from one statement for all of them: the report job's way
    (`services.digest`), which would otherwise run a thousand grids' statements one by one."""
    window = window_of(day, zone, at)
    start, end = window
    await session.flush()
    connection = await session.connection()
    values: dict[str, Any] = {
        "start": start,
        "end": end,
        "horizon": end + timedelta(days=EXPECTED_DAYS),
        "day": day,
        "grids": [grid.id for grid in grids],
    }
    statement = _grids_report(connection.dialect.name, listed)
    rows = (await connection.execute(statement, values)).all()
    tallies = {grid.id: _Tally() for grid in grids}
    _tally_rows(rows, tallies.get, window, day, per_grid=True)
    return {grid.id: tallies[grid.id].freeze(grid, day, window) for grid in grids}


def _tally_rows(
    result: Sequence[Any],
    tally: Callable[[int], _Tally | None],
    window: tuple[datetime, datetime],
    day: date,
    *,
    per_grid: bool = False,
) -> None:
    """The report statement's rows added to the tally of each row's grid (`tally`: None for a
    grid not counted). `per_grid`: the rows are several grids' reports at once, each kept to
    its own grid's rows as if made alone (a missed check-in's alert is left out of the
    alerts only when the check-in is in that alert's grid)."""
    start, end = window
    horizon = end + timedelta(days=EXPECTED_DAYS)
    # Each row's values taken by place (the tag, then `_SLOTS` in order), not by name: a
    # look-up by name per value was a third of a grid's tally.
    rows: dict[int, list[Any]] = defaultdict(list)
    for row in result:
        rows[row[0]].append(row)
    # Arrivals: reports received and arrivals in the window; people expected in the next
    # days after the report, and those due before its end who have not come.
    for row in rows[_ARRIVAL]:
        _, grid_id, name, reported, arrived, expected_at, purged, status, *strings = row[:12]
        if (t := tally(grid_id)) is None:
            continue
        t.reports += start <= reported < end
        t.arrived += arrived is not None and start <= arrived < end
        if (
            status == "expected"
            and purged is None
            and expected_at is not None
            and expected_at < horizon
        ):
            transport, number, origin, origin_code = strings
            item = Expected(name or "?", expected_at, transport, number or "", origin, origin_code)
            (t.expected if expected_at >= end else t.no_shows).append(item)
    # Plans: under monitoring on the report's day (with the day of their present phase),
    # held open, and released in the window.
    for _, grid_id, name, *_, status, _, _, _, _, _, _, _, _, phases in rows[_PLAN]:
        if (t := tally(grid_id)) is None:
            continue
        if status == HELD:
            t.held += 1
        elif status == RELEASED:
            t.releases.append(name or "?")
        elif (phase := phase_on(phases, day)) is not None:
            kind, n, total = phase
            t.monitoring.append(Monitored(name or "?", kind, n, total))
    # Check-in slots that ended in the window: on time, late or missed, as they stand now;
    # a missed one with its alert (if it was raised yet).
    missed: list[tuple[_Tally, str, datetime, int | None]] = []
    missed_grids: list[int] = []
    for _, grid_id, name, slot, answered, _, _, closed_mark, *_, alert_id, _, _, late, _ in rows[
        _CHECKIN
    ]:
        if (t := tally(grid_id)) is None or closed_mark is not None:
            continue
        t.checkins_due += 1
        if answered is None:
            t.checkins_missed += 1
            missed.append((t, name or "?", slot, alert_id))
            missed_grids.append(grid_id)
        elif late:
            t.checkins_late += 1
        else:
            t.checkins_answered += 1
    # The missed check-ins' alerts, listed with them (by grid when the rows are several
    # grids' reports: 0 stands for "any grid").
    listed = {
        (grid if per_grid else 0, alert_id)
        for grid, (_, _, _, alert_id) in zip(missed_grids, missed, strict=True)
        if alert_id is not None
    }
    # Alerts: the abnormal reports raised in the window, and every other alert still without
    # a person's action (from before the window, or a miss raised late) unless the check-in
    # it was about was answered late after all (kept on the alert), or is listed above.
    found = []
    for row in rows[_ALERT]:
        _, grid_id, name, created, settled, _, _, kind, *_, alert_id, total, _, flag, _ = row
        is_raised = bool(flag)
        if (grid_id if per_grid else 0, alert_id) in listed:
            continue
        if (t := tally(grid_id)) is None:
            continue
        if not is_raised and kind == MISSED_KIND and settled is not None:
            continue
        if total is not None:
            # Only the first still-open alerts were read: the grid's count of them all.
            t.still_open_total = total
        found.append((t, alert_id, kind, created, name or "?", is_raised))
    # What was done about them, by whom, in order.
    actions = []
    for _, _, _, at, _, _, _, kind, by, note, _, _, alert_id, actor, step_id, _, _ in rows[_ACTION]:
        actions.append((at, step_id, alert_id, Done(kind, by, note, at, actor is not None)))
    done: dict[int, list[Done]] = defaultdict(list)
    for _, _, alert_id, step in sorted(actions, key=lambda item: (item[0], item[1])):
        done[alert_id].append(step)
    for t, name, slot, alert_id in missed:
        steps = tuple(done.get(alert_id, ())) if alert_id is not None else ()
        t.missed.append(Incident(MISSED_KIND, name, slot, steps))
    for t, alert_id, kind, created, name, is_raised in found:
        incident = Incident(kind, name, created, tuple(done.get(alert_id, ())))
        (t.abnormal if is_raised else t.still_open).append(incident)


# The report's statement is five selects in one (UNION ALL), one round trip: each row says
# which it comes from (its first column) and puts its values in shared columns of one type
# each (`_SLOTS`), NULL where it has none.
_ARRIVAL, _PLAN, _CHECKIN, _ALERT, _ACTION = range(5)


class _SlotTime(UTCDateTime):
    """A time slot of the report's rows: asyncpg returns `timestamp with time zone` values as
    aware UTC datetimes already, so they are taken as they come, not converted again one by
    one (four slots a row: some 350,000 calls in the report job)."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.driver == "asyncpg":
            return None
        chained = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or chained is None:
            return chained
        # SQLite's text parsed and made UTC in one call, not through the three layers of
        # processors each value otherwise passes (four slots a row, most of them NULL:
        # some 340,000 values in the report job of a city of 200,000).
        parse = datetime.fromisoformat

        def process(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, str):
                return chained(value)
            moment = parse(value)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

        return process


_SLOTS: dict[str, TypeEngine[Any]] = {
    "grid_id": Integer(),
    "name": String(),
    "t1": _SlotTime(),
    "t2": _SlotTime(),
    "t3": _SlotTime(),
    "t4": _SlotTime(),
    "s1": String(),
    "s2": String(),
    "s3": String(),
    "s4": String(),
    "s5": String(),
    "n1": BigInteger(),
    "n2": BigInteger(),
    "n3": BigInteger(),
    "flag": Boolean(),
    "j": Json(),
}


def _row(tag: int, table: Any, **values: Any) -> Select[Any]:
    """A select of the report's statement: its tag, then every slot (NULL of the slot's type
    where `values` has none), from `table`. Each value is read as its slot's type (the rows
    are read by the first select's types)."""
    columns: list[Any] = [literal(tag, Integer).label("tag")]
    for slot, type_ in _SLOTS.items():
        value = values.get(slot)
        column = cast(null(), type_) if value is None else type_coerce(value, type_)
        columns.append(column.label(slot))
    return select(*columns).select_from(table)


_START = bindparam("start", type_=UTCDateTime())
_END = bindparam("end", type_=UTCDateTime())
_HORIZON = bindparam("horizon", type_=UTCDateTime())
_DAY = bindparam("day", type_=Date())


@cache
def _grid_report(dialect: str, listed: int | None = None) -> CompoundSelect[Any]:
    """One grid's report (the grid's id as `grid`)."""
    grid = bindparam("grid", type_=Integer())
    if dialect != "postgresql":
        return _report(lambda _resident_id: Resident.grid_id == grid, Alert.grid_id == grid, listed)
    # The grid's residents as an array, read first (an InitPlan): PostgreSQL's generic plan
    # (asyncpg prepares statements) then looks up each table by `resident_id = ANY(…)`,
    # estimated at a handful of people, rather than reading the whole city's rows of the
    # window by time and joining them to the grid (3,371 check-ins for 20 in the short city).
    residents = cast(
        select(func.array_agg(Resident.id)).where(Resident.grid_id == grid).scalar_subquery(),
        from_postgresql("ARRAY")(Integer()),
    )
    return _report(
        lambda resident_id: resident_id == any_(residents), Alert.grid_id == grid, listed
    )


@cache
def _grids_report(dialect: str, listed: int | None = None) -> CompoundSelect[Any]:
    """Several grids' reports in one (their ids as the list `grids`)."""
    grids = bindparam("grids", type_=Integer(), expanding=True)

    # The check-ins and plans found by their own grid too (kept the resident's:
    # `placement.move_rows`), through `ix_checkins_grid_slot_end` and `ix_plans_status_grid`:
    # the chunk's grids' rows alone, where the whole city's were read for each chunk and
    # joined to the residents (the window's 33,825 check-ins for 3,526; 18,542 plans for
    # 1,935): half the chunk's time on PostgreSQL.
    def rows_in(grid_id: Any) -> ColumnElement[bool]:
        return grid_id.in_(grids)  # type: ignore[no-any-return]

    if dialect == "postgresql":
        # Each table joined to the residents found by their grids: with the list of the
        # residents' ids below, PostgreSQL hashed a scan of every resident of the city to
        # join the check-ins to their names (70 of a chunk's 150 ms).
        return _report(
            lambda _resident_id: Resident.grid_id.in_(grids),
            Alert.grid_id.in_(grids),
            listed,
            rows_in,
        )
    # Each table looked up by the grids' residents (a list the subquery makes once): joined
    # to the residents instead, SQLite read the window's check-ins of the whole city by time
    # for every chunk (34,000 rows for 100 grids' 3,400).
    residents = select(Resident.id).where(Resident.grid_id.in_(grids))
    return _report(
        lambda resident_id: resident_id.in_(residents),
        Alert.grid_id.in_(grids),
        listed,
        rows_in,
    )


def _report(
    people: Callable[[Any], ColumnElement[bool]],
    in_grids: ColumnElement[bool],
    listed: int | None = None,
    rows_in: Callable[[Any], ColumnElement[bool]] | None = None,
) -> CompoundSelect[Any]:
    """The report's statement for the residents `people` (a condition on a resident's id)
    and the alerts `in_grids`, with the window as `start`, `end`, the expected arrivals'
    `horizon` and the report's `day`. `listed`: of the alerts still open from earlier, only
    the first so many of each grid (in the report's order), each with the grid's count of
    them (`n2`). `rows_in`: a further condition on the check-ins' and plans' own grid (kept
    the resident's), the same rows found by an index."""
    start, end = _START, _END
    # Arrivals: reported or arrived in the window, or expected before the horizon.
    arrivals = _row(
        _ARRIVAL,
        join(Arrival, Resident, Resident.id == Arrival.resident_id),
        grid_id=Resident.grid_id,
        name=Resident.name,
        t1=Arrival.reported_at,
        t2=Arrival.arrived_at,
        t3=Arrival.expected_at,
        t4=Resident.purged_at,
        s1=Arrival.status,
        s2=Arrival.transport,
        s3=Arrival.transport_number,
        s4=Arrival.origin_text,
        s5=Arrival.origin_code,
    ).where(
        people(Arrival.resident_id),
        or_(
            (Arrival.reported_at >= start) & (Arrival.reported_at < end),
            (Arrival.arrived_at >= start) & (Arrival.arrived_at < end),
            (Arrival.status == "expected") & (Arrival.expected_at < _HORIZON),
        ),
    )
    # Plans: active on the day, held, or released in the window.
    plans = _row(
        _PLAN,
        join(MonitoringPlan, Resident, Resident.id == MonitoringPlan.resident_id),
        grid_id=Resident.grid_id,
        name=Resident.name,
        t1=MonitoringPlan.ended_at,
        s1=MonitoringPlan.status,
        j=MonitoringPlan.phases,
    ).where(
        people(MonitoringPlan.resident_id),
        or_(
            (MonitoringPlan.status == ACTIVE)
            & (MonitoringPlan.starts_on <= _DAY)
            & (MonitoringPlan.ends_on >= _DAY),
            MonitoringPlan.status == HELD,
            (MonitoringPlan.status == RELEASED)
            & (MonitoringPlan.ended_at >= start)
            & (MonitoringPlan.ended_at < end),
        ),
    )
    if rows_in is not None:
        plans = plans.where(rows_in(MonitoringPlan.grid_id))
    # Check-in slots that ended in the window, a missed one with its alert's id.
    missed_alert = (
        select(Alert.id)
        .where(Alert.dedupe_key == literal(f"{MISSED_KIND}:") + cast(CheckIn.id, String))
        .scalar_subquery()
    )
    checkins = _row(
        _CHECKIN,
        join(CheckIn, Resident, Resident.id == CheckIn.resident_id),
        grid_id=Resident.grid_id,
        name=Resident.name,
        t1=CheckIn.slot_start,
        t2=CheckIn.answered_at,
        n1=case((CheckIn.answered_at.is_(None), missed_alert), else_=None),
        flag=CheckIn.late,
        # The closed mark alone, as text (not the JSON, decoded for every row).
        s1=closed_mark(CheckIn),
    ).where(people(CheckIn.resident_id), CheckIn.slot_end > start, CheckIn.slot_end <= end)
    if rows_in is not None:
        checkins = checkins.where(rows_in(CheckIn.grid_id))
    # Alerts: abnormal ones raised in the window, and the others still without a person's
    # action (from before the window, or a missed check-in's).
    kinds = (*ABNORMAL_KINDS, MISSED_KIND)
    # Looked up per alert (`ix_alert_actions_alert_id`), not a list of every alert any person
    # ever acted on, which grows with the city's history.
    acted = (
        select(AlertAction.id)
        .where(AlertAction.alert_id == Alert.id, AlertAction.actor_user_id.is_not(None))
        .exists()
    )
    raised = kind_in(ABNORMAL_KINDS) & (Alert.created_at >= start) & (Alert.created_at < end)
    still_open = (
        kind_in(kinds)
        & (Alert.created_at < end)
        & ~acted
        & or_(Alert.created_at < start, Alert.kind == MISSED_KIND)
    )
    with_person = join(Alert, Resident, Resident.id == Alert.resident_id, isouter=True)
    alert_slots = {
        "grid_id": Alert.grid_id,
        "name": Resident.name,
        "t1": Alert.created_at,
        "t2": Alert.checkin_settled_at,
        "s1": Alert.kind,
        "n1": Alert.id,
    }
    alerts: Select[Any] | CompoundSelect[Any]
    if listed is None:
        alerts = _row(_ALERT, with_person, **alert_slots, flag=raised).where(
            in_grids, or_(raised, still_open)
        )
    else:
        alerts = union_all(
            _row(_ALERT, with_person, **alert_slots, flag=raised).where(in_grids, raised),
            _first_still_open(alert_slots, in_grids, raised, still_open, listed),
        )
    # What was done about the alerts above and the missed check-ins' (read once each: CTEs).
    checkin_rows = checkins.cte("report_checkins")
    alert_rows = alerts.cte("report_alerts")
    actions = _row(
        _ACTION,
        AlertAction,
        n1=AlertAction.alert_id,
        n2=AlertAction.actor_user_id,
        n3=AlertAction.id,
        s1=AlertAction.kind,
        s2=AlertAction.actor_name,
        s3=AlertAction.note,
        t1=AlertAction.at,
    ).where(
        # One list of ids (a semi-join the planner may drive from it through
        # `ix_alert_actions_alert_id`), not two `IN`s joined by OR (a scan of every action).
        AlertAction.alert_id.in_(
            union_all(
                select(checkin_rows.c.n1).where(checkin_rows.c.n1.is_not(None)),
                select(alert_rows.c.n1),
            )
        )
    )
    return union_all(
        arrivals,
        plans,
        select(checkin_rows),
        select(alert_rows),
        actions,
    )


def closed_mark(checkin: Any) -> ColumnElement[Any]:
    """A check-in's closed mark (its plan superseded while the slot was open), NULL if none:
    read as text, its JSON not decoded per row (the reports here, the counts above a grid)."""
    return checkin.extra["closed"].as_string()  # type: ignore[no-any-return]


def _first_still_open(
    slots: dict[str, Any],
    in_grids: ColumnElement[bool],
    raised: ColumnElement[bool],
    still_open: ColumnElement[bool],
    listed: int,
) -> Select[Any]:
    """The alerts still open from earlier that a grid's report lists: those of each grid
    with fewer than `listed` older ones (so with any tied at the last time: the tally orders
    them by name, as it would all of them), each with the count of them all (`n2`). The
    generated city's grids have some 70 each, read and turned into objects only to be
    counted (72,480 rows in all, a third of the report job's time). Names are looked up only
    for the alerts read (looked up for all, the statement's estimated cost made PostgreSQL
    compile it (JIT) at each execution: 65 ms a chunk).

    Left out as the tally leaves them out (`_tally_rows`): a missed check-in's alert whose
    check-in was answered late, and one whose check-in is listed as missed in the window in
    the alert's grid (unanswered, not closed, of a resident of that grid)."""
    checkin, person = aliased(CheckIn), aliased(Resident)
    listed_as_missed = (
        select(checkin.id)
        .join(person, person.id == checkin.resident_id)
        .where(
            checkin.id == missed_checkin_id(),
            checkin.slot_end > _START,
            checkin.slot_end <= _END,
            checkin.answered_at.is_(None),
            closed_mark(checkin).is_(None),
            person.grid_id == Alert.grid_id,
        )
        .exists()
    )
    found = (
        select(
            *(column.label(slot) for slot, column in slots.items() if slot != "name"),
            Alert.resident_id.label("resident_id"),
            func.rank().over(partition_by=Alert.grid_id, order_by=Alert.created_at).label("place"),
            func.count().over(partition_by=Alert.grid_id).label("n2"),
        )
        .where(
            in_grids,
            still_open,
            ~raised,
            ~((Alert.kind == MISSED_KIND) & Alert.checkin_settled_at.is_not(None)),
            ~listed_as_missed,
        )
        .subquery("still_open")
    )
    named = aliased(Resident)
    columns = {slot: found.c[slot] for slot in slots if slot != "name"}
    return _row(
        _ALERT,
        join(found, named, named.id == found.c.resident_id, isouter=True),
        **columns,
        name=named.name,
        n2=found.c.n2,
    ).where(found.c.place <= literal(listed, Integer))


def kind_in(kinds: tuple[str, ...]) -> ColumnElement[bool]:
    """`Alert.kind IN (…)` as equalities: compiled once and cached (an IN list of values is
    rendered again at each execution)."""
    return or_(*(Alert.kind == kind for kind in kinds))


def missed_checkin_id() -> ColumnElement[Any]:
    """The check-in a missed check-in's alert is about (its dedupe key's number)."""
    return case(
        (
            Alert.kind == MISSED_KIND,
            cast(func.substr(Alert.dedupe_key, len(MISSED_KIND) + 2), Integer),
        ),
        else_=None,
    )


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


@dataclass(frozen=True)
class AlertCounts:
    """Alerts at the end of a day (or now, for today): still open, acknowledged during the
    day, and open for longer than they may be (overdue)."""

    open: int = 0
    acknowledged: int = 0
    overdue: int = 0


async def alert_counts(
    session: AsyncSession,
    area: Area,
    day: date,
    keyed: dict[str, Area],
    *,
    zone: ZoneInfo = DEFAULT_ZONE,
    overdue_after: timedelta,
    now: datetime,
) -> dict[str, AlertCounts]:
    """Per key area (the area itself, or each child): the day's alert counts."""
    start, end = day_bounds(day, zone)
    at = min(end, now)
    grid_key = await grid_keys(session, area, keyed)
    counts = {code: [0, 0, 0] for code in keyed}
    query = select(Alert.grid_id, Alert.created_at, Alert.acknowledged_at).where(
        Alert.grid_id.in_(grids_under(area)),
        Alert.created_at < end,
        Alert.created_at <= now,
        or_(Alert.acknowledged_at.is_(None), Alert.acknowledged_at >= start),
    )
    for grid_id, created, acknowledged in (await session.execute(query)).all():
        key = grid_key.get(grid_id)
        if key is None:
            continue
        if acknowledged is None or acknowledged >= end or acknowledged > now:
            counts[key][0] += 1
            counts[key][2] += created <= at - overdue_after
        else:
            counts[key][1] += 1
    return {code: AlertCounts(*values) for code, values in counts.items()}
