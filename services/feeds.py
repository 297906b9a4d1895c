"""What a city platform pulls from the register: the daily report's figures per area and day
over a date range, and pages of people, plans, check-ins, alerts and test results in one
area, filtered, with a `changed_since` cursor so only what changed need be pulled again.

Every list goes through a `Scope` (the token's area), like the workers' registers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.alerts import Alert
from models.areas import Area
from models.checkins import CheckIn, TestResult
from models.people import Arrival, Resident
from models.plans import MonitoringPlan
from services import stored
from services.counts import Counts
from services.figures import DEFAULT_AT, day_bounds
from services.records import Scope

# The longest date range one call of the figures may cover.
MAX_DAYS = 92
MAX_PER_PAGE = 500


@dataclass(frozen=True)
class AreaDay:
    """One area's figures for one day: the daily report's, and its alerts."""

    area: Area
    day: date
    counts: Counts
    # When these figures were counted: now, or when the stored ones were (`services.stored`).
    as_of: datetime


async def figures_over(
    session: AsyncSession,
    area: Area,
    first: date,
    last: date,
    *,
    below: bool,
    zone: ZoneInfo,
    overdue_after: timedelta,
    now: datetime,
    fresh: timedelta | None = stored.FRESH,
    at: time = DEFAULT_AT,
) -> list[AreaDay]:
    """Day by day from `first` to `last`: the area's figures (in all), and with `below` also
    those of each area directly below it (a grid has none). Today is read from the job's
    count while younger than `fresh` (None: counted live)."""
    children = await _children(session, area) if below else []
    keyed = {c.code: c for c in children} if children else {area.code: area}
    counted, as_of = await stored.figures_over(
        session,
        area,
        first,
        last,
        keyed,
        zone=zone,
        overdue_after=overdue_after,
        now=now,
        fresh=fresh,
        at=at,
    )
    found: list[AreaDay] = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        if not children:
            found.append(AreaDay(area, day, counted[area.code][i], as_of[i]))
            continue
        total = Counts()
        for child in children:
            total.add(counted[child.code][i])
        found.append(AreaDay(area, day, total, as_of[i]))
        found += [AreaDay(child, day, counted[child.code][i], as_of[i]) for child in children]
    return found


async def _children(session: AsyncSession, area: Area) -> list[Area]:
    query = select(Area).where(Area.parent_id == area.id).order_by(Area.code)
    return list((await session.scalars(query)).all())


# ----- lists -----


@dataclass(frozen=True)
class Filters:
    plan: str | None = None
    status: str | None = None
    # On the list's own date (arrival, plan start, check-in slot, alert, test day).
    since: date | None = None
    until: date | None = None
    changed_since: datetime | None = None


T = TypeVar("T")
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Page(Generic[T]):
    """Up to `per_page` items in id order, and where the next page starts (None: the end)."""

    items: list[T]
    per_page: int
    next_after: int | None


# What each list's status filter means (the values it takes are documented in the API).
PERSON_STATUSES = ("expected", "arrived")
PLAN_STATUSES = ("active", "held", "released", "superseded")
CHECKIN_STATUSES = ("answered", "missed", "open")
ALERT_STATUSES = ("open", "acknowledged")
TEST_STATUSES = ("negative", "positive", "pending")


def _paged(query: Query, id_column: Any, after: int, per_page: int) -> Query:
    """The page after the id `after` (keyset paging: as fast deep in a city as at its start)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    return query.where(id_column > after).order_by(id_column).limit(per_page + 1)


def _page(rows: Sequence[Any], found: list[T], ids: list[int], per_page: int) -> Page[T]:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    more = len(rows) > per_page
    return Page(found, per_page, ids[per_page - 1] if more else None)


def _in_scope(scope: Scope) -> tuple[ColumnElement[bool], ...]:
    return (scope.condition(), Resident.purged_at.is_(None))


def _days(
    column: Any, filters: Filters, zone: ZoneInfo, *, is_date: bool = False
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.since is not None:
        conditions.append(
            column >= (filters.since if is_date else day_bounds(filters.since, zone)[0])
        )
    if filters.until is not None:
        conditions.append(
            column <= filters.until if is_date else column < day_bounds(filters.until, zone)[1]
        )
    return conditions


def _changed(columns: Sequence[Any], since: datetime | None) -> list[ColumnElement[bool]]:
    if since is None:
        return []
    return [or_(*(column >= since for column in columns))]


@dataclass(frozen=True)
class PersonRow:
    person: Resident
    grid: Area
    arrival: Arrival | None
    plan: MonitoringPlan | None


async def people_page(
    session: AsyncSession,
    scope: Scope,
    filters: Filters,
    after: int,
    per_page: int,
    zone: ZoneInfo,
) -> Page[PersonRow]:
    """People in the scope, by id, with their latest arrival and current plan."""
    newest_arrival, newest_plan = aliased(Arrival), aliased(MonitoringPlan)
    latest = (
        select(newest_arrival.id)
        .where(newest_arrival.resident_id == Resident.id)
        .order_by(newest_arrival.id.desc())
        .limit(1)
        .correlate(Resident)
        .scalar_subquery()
    )
    current = (
        select(newest_plan.id)
        .where(newest_plan.resident_id == Resident.id, newest_plan.status != "superseded")
        .order_by(newest_plan.id.desc())
        .limit(1)
        .correlate(Resident)
        .scalar_subquery()
    )
    query = (
        select(Resident, Area, Arrival, MonitoringPlan)
        .join(Area, Area.id == Resident.grid_id)
        .outerjoin(Arrival, Arrival.id == latest)
        .outerjoin(MonitoringPlan, MonitoringPlan.id == current)
        .where(*_in_scope(scope))
        .where(*_changed((Resident.updated_at, Resident.created_at), filters.changed_since))
    )
    if filters.plan:
        query = query.where(MonitoringPlan.plan_key == filters.plan)
    if filters.status:
        query = query.where(Arrival.status == filters.status)
    if filters.since or filters.until:
        arrived = Arrival.arrived_at.is_not(None)
        query = query.where(
            or_(
                and_(arrived, *_days(Arrival.arrived_at, filters, zone)),
                and_(~arrived, *_days(Arrival.expected_at, filters, zone)),
            )
        )
    rows = (await session.execute(_paged(query, Resident.id, after, per_page))).all()
    kept = rows[:per_page]
    found = [PersonRow(p, g, a, m) for p, g, a, m in kept if scope.covers(g)]
    return _page(rows, found, [p.id for p, *_ in kept], per_page)


async def _records(
    session: AsyncSession,
    scope: Scope,
    entity: Any,
    conditions: Sequence[ColumnElement[bool]],
    after: int,
    per_page: int,
    *,
    plan: str | None = None,
) -> Page[tuple[Any, Resident, Area]]:
    query = (
        select(entity, Resident, Area)
        .join(Resident, Resident.id == entity.resident_id)
        .join(Area, Area.id == Resident.grid_id)
        .where(*_in_scope(scope), *conditions)
    )
    if plan:
        plans = select(MonitoringPlan.id).where(MonitoringPlan.plan_key == plan)
        if entity is MonitoringPlan:
            query = query.where(MonitoringPlan.plan_key == plan)
        elif hasattr(entity, "plan_id"):
            query = query.where(entity.plan_id.in_(plans))
        else:
            query = query.where(
                entity.resident_id.in_(
                    select(MonitoringPlan.resident_id).where(MonitoringPlan.plan_key == plan)
                )
            )
    rows = (await session.execute(_paged(query, entity.id, after, per_page))).all()
    kept = rows[:per_page]
    found = [(r, p, g) for r, p, g in kept if scope.covers(g)]
    return _page(rows, found, [r.id for r, *_ in kept], per_page)


async def plans_page(
    session: AsyncSession, scope: Scope, filters: Filters, after: int, per_page: int, zone: ZoneInfo
) -> Page[tuple[MonitoringPlan, Resident, Area]]:
    conditions = [
        *_days(MonitoringPlan.starts_on, filters, zone, is_date=True),
        *_changed((MonitoringPlan.created_at, MonitoringPlan.ended_at), filters.changed_since),
    ]
    if filters.status:
        conditions.append(MonitoringPlan.status == filters.status)
    return await _records(
        session, scope, MonitoringPlan, conditions, after, per_page, plan=filters.plan
    )


async def checkins_page(
    session: AsyncSession, scope: Scope, filters: Filters, after: int, per_page: int, zone: ZoneInfo
) -> Page[tuple[CheckIn, Resident, Area]]:
    conditions = [
        *_days(CheckIn.slot_start, filters, zone),
        *_changed(
            (CheckIn.slot_start, CheckIn.answered_at, CheckIn.missed_at), filters.changed_since
        ),
    ]
    if filters.status == "answered":
        conditions.append(CheckIn.answered_at.is_not(None))
    elif filters.status == "missed":
        conditions.append(CheckIn.missed_at.is_not(None))
    elif filters.status == "open":
        conditions += [CheckIn.answered_at.is_(None), CheckIn.missed_at.is_(None)]
    return await _records(session, scope, CheckIn, conditions, after, per_page, plan=filters.plan)


async def alerts_page(
    session: AsyncSession, scope: Scope, filters: Filters, after: int, per_page: int, zone: ZoneInfo
) -> Page[tuple[Alert, Resident, Area]]:
    conditions = [
        *_days(Alert.created_at, filters, zone),
        *_changed(
            (Alert.created_at, Alert.acknowledged_at, Alert.resent_at), filters.changed_since
        ),
    ]
    if filters.status:
        conditions.append(Alert.status == filters.status)
    return await _records(session, scope, Alert, conditions, after, per_page, plan=filters.plan)


async def tests_page(
    session: AsyncSession, scope: Scope, filters: Filters, after: int, per_page: int, zone: ZoneInfo
) -> Page[tuple[TestResult, Resident, Area]]:
    conditions = [
        *_days(TestResult.day, filters, zone, is_date=True),
        *_changed((TestResult.reported_at,), filters.changed_since),
    ]
    if filters.status:
        conditions.append(TestResult.result == filters.status)
    return await _records(
        session, scope, TestResult, conditions, after, per_page, plan=filters.plan
    )
