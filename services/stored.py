"""The daily report's figures stored per grid and day for the days that are over, so that the
API's and the dashboard's ranges (a city's fortnight: 14 days × 1,000 grids) are small rows
summed instead of half a million check-ins counted; today is always counted live.

`store_figures` is a periodic job (`bot/scheduler.py`): each run it

1. re-counts, for the grids concerned, the days already stored that something done since
   touched — a late answer to a missed check-in (`alerts.checkin_settled_at`, set by
   `record_answer`), a person's action on an alert (`alert_actions.at`), a missed check-in's
   alert raised after its day was counted — from the day of the alert (or of its slot) on.
   The changes are read from the tables (indexed times, looked back a few minutes so a
   transaction that committed late is not missed) rather than marked by each place that
   acts on an alert: there are nine of them, in handlers and services, and a place forgotten
   would leave a day wrong for good; a recount is idempotent, so seeing a change twice is
   harmless. Recomputing the last N days each run instead would cost the whole count again
   every few minutes and still miss an action on an alert older than N days, which changes
   every day since (its "still open");
2. counts the days not stored yet (a new deployment, or a setting changed), newest first,
   a few at a time;
3. forgets days older than `KEEP_DAYS`.

A stored day is the report as counted after the day ended, re-counted on the changes above.
The live count of a past day instead reads some figures as they stand now (plans held, the
kinds of monitoring of plans still active, people expected who have not come): those are not
re-counted when they change later, and a stored day keeps them as they were after the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts import Alert, AlertAction
from models.areas import Area, Level
from models.counts import CountedDay, GridDayCounts
from services.counts import _NUMBERS, Counts, count_days
from services.figures import (
    DEFAULT_AT,
    MISSED_KIND,
    AlertCounts,
    day_bounds,
    grid_keys,
    window_of,
)

# The days kept stored (the API's longest range, `feeds.MAX_DAYS`).
KEEP_DAYS = 92
# Days not stored yet counted in one run of the job.
CHUNK_DAYS = 14
# How far before the last check changes are looked for again (a transaction that began
# before it may have committed after it).
LOOK_BACK = timedelta(minutes=10)
# The transaction-scoped advisory lock the job takes on PostgreSQL ("stored figures").
LOCK = 0x5354_4F52_4544


def over_at(day: date, zone: ZoneInfo, at: time = DEFAULT_AT) -> datetime:
    """When a day's figures no longer change by themselves: its report made and the day over
    (its alerts are counted at its end)."""
    return max(window_of(day, zone, at)[1], day_bounds(day, zone)[1])


def last_over(now: datetime, zone: ZoneInfo, at: time = DEFAULT_AT) -> date:
    day = now.astimezone(zone).date()
    while over_at(day, zone, at) > now:
        day -= timedelta(days=1)
    return day


def _how(zone: ZoneInfo, at: time, overdue_after: timedelta) -> tuple[str, str, int]:
    return at.strftime("%H:%M"), zone.key, int(overdue_after.total_seconds())


def dump(counts: Counts) -> dict[str, Any]:
    """A day's counts as stored: the non-zero numbers, the kinds of monitoring, the alerts."""
    found: dict[str, Any] = {
        name: getattr(counts, name) for name in _NUMBERS if getattr(counts, name)
    }
    if counts.by_kind:
        found["by_kind"] = dict(counts.by_kind)
    alerts = counts.alerts
    if alerts != AlertCounts():
        found["alerts"] = [alerts.open, alerts.acknowledged, alerts.overdue]
    return found


def load(stored: dict[str, Any]) -> Counts:
    counts = Counts()
    for name in _NUMBERS:
        setattr(counts, name, int(stored.get(name, 0)))
    counts.by_kind = {kind: int(n) for kind, n in stored.get("by_kind", {}).items()}
    if "alerts" in stored:
        counts.alerts = AlertCounts(*(int(n) for n in stored["alerts"]))
    return counts


# ----- the job -----


async def store_figures(
    session: AsyncSession,
    now: datetime,
    zone: ZoneInfo,
    *,
    overdue_after: timedelta,
    at: time = DEFAULT_AT,
    chunk: int = CHUNK_DAYS,
) -> int:
    """Store what is due (see the module's docstring); how many grid-days were counted."""
    if session.get_bind().dialect.name == "postgresql":
        # One instance at a time (several bots on one database): the others skip this run
        # rather than insert the same rows and fail on their keys.
        got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK})
        if not got:
            return 0
    last = last_over(now, zone, at)
    first = last - timedelta(days=KEEP_DAYS - 1)
    how = _how(zone, at, overdue_after)
    marks = {
        mark.day: mark
        for mark in await session.scalars(select(CountedDay).where(CountedDay.day >= first))
    }
    stored = [
        day
        for day, mark in marks.items()
        if (mark.report_at, mark.zone, mark.overdue_seconds) == how and day <= last
    ]

    async def grids_of(*ids: int) -> list[Area]:
        query = select(Area).where(Area.level == Level.GRID).order_by(Area.id)
        return list((await session.scalars(query.where(Area.id.in_(ids)) if ids else query)).all())

    done = 0
    if stored:
        since = min(marks[day].checked_at for day in stored) - LOOK_BACK
        changed = await changes_since(session, since, zone)
        # The grids changed, from the earliest day a change touches (stored days only).
        touched = {g: d for g, d in changed.items() if d <= last}
        if touched:
            from_day = max(min(touched.values()), min(stored))
            again = await grids_of(*touched)
            done += await _count_and_keep(
                session, again, from_day, last, zone, at, overdue_after, now, whole=False
            )
        await session.execute(
            update(CountedDay).where(CountedDay.day.in_(stored)).values(checked_at=now)
        )
    missing = sorted(
        (
            last - timedelta(days=i)
            for i in range(KEEP_DAYS)
            if last - timedelta(days=i) not in set(stored)
        ),
        reverse=True,
    )[:chunk]
    grids = await grids_of() if missing else []
    for a, b in _runs(sorted(missing)):
        done += await _count_and_keep(
            session, grids, a, b, zone, at, overdue_after, now, whole=True
        )
        await session.execute(delete(CountedDay).where(CountedDay.day >= a, CountedDay.day <= b))
        session.add_all(
            CountedDay(
                day=a + timedelta(days=i),
                report_at=how[0],
                zone=how[1],
                overdue_seconds=how[2],
                counted_at=now,
                checked_at=now,
            )
            for i in range((b - a).days + 1)
        )
    await session.execute(delete(GridDayCounts).where(GridDayCounts.day < first))
    await session.execute(delete(CountedDay).where(CountedDay.day < first))
    return done


async def changes_since(session: AsyncSession, since: datetime, zone: ZoneInfo) -> dict[int, date]:
    """Grids with a change since `since` to an earlier day's figures, and the first day it
    touches: a missed check-in answered late (or closed), a person's action on an alert, a
    missed check-in's alert raised after its slot's day."""
    found: dict[int, date] = {}
    queries = (
        select(Alert.grid_id, Alert.created_at, Alert.checkin_slot_end).where(
            Alert.checkin_settled_at >= since
        ),
        select(Alert.grid_id, Alert.created_at, Alert.checkin_slot_end)
        .join(AlertAction, AlertAction.alert_id == Alert.id)
        .where(AlertAction.at >= since, AlertAction.actor_user_id.is_not(None)),
        select(Alert.grid_id, Alert.created_at, Alert.checkin_slot_end).where(
            Alert.kind == MISSED_KIND, Alert.created_at >= since
        ),
    )
    for query in queries:
        for grid_id, created, slot_end in (await session.execute(query)).all():
            earliest = min(created, slot_end) if slot_end is not None else created
            day = earliest.astimezone(zone).date()
            if grid_id not in found or day < found[grid_id]:
                found[grid_id] = day
    return found


def _runs(days: list[date]) -> Iterable[tuple[date, date]]:
    """Runs of consecutive days, as (first, last)."""
    start = prev = None
    for day in days:
        if start is None or prev is None:
            start = prev = day
        elif day == prev + timedelta(days=1):
            prev = day
        else:
            yield start, prev
            start = prev = day
    if start is not None and prev is not None:
        yield start, prev


async def _count_and_keep(
    session: AsyncSession,
    grids: list[Area],
    first: date,
    last: date,
    zone: ZoneInfo,
    at: time,
    overdue_after: timedelta,
    now: datetime,
    *,
    whole: bool,
) -> int:
    """Count `grids` from `first` to `last` live and store the rows (of every grid when
    `whole`, else of these grids only)."""
    if not grids:
        return 0
    keyed = {grid.code: grid for grid in grids}
    counted = await count_days(
        session, grids[0], first, last, keyed, zone=zone, at=at, alerts=(overdue_after, now)
    )
    gone = delete(GridDayCounts).where(GridDayCounts.day >= first, GridDayCounts.day <= last)
    if not whole:
        gone = gone.where(GridDayCounts.grid_id.in_([grid.id for grid in grids]))
    await session.execute(gone)
    rows = []
    for grid in grids:
        for i, counts in enumerate(counted[grid.code]):
            if stored := dump(counts):
                rows.append(
                    {"day": first + timedelta(days=i), "grid_id": grid.id, "counts": stored}
                )
    for i in range(0, len(rows), 1000):
        await session.execute(insert(GridDayCounts), rows[i : i + 1000])
    return len(grids) * ((last - first).days + 1)


# ----- reading -----


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
    """As `services.counts.counts_over`: the days stored (over, and counted the same way) are
    summed from their rows, the others (today, a day not stored yet) counted live."""
    n = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(n)]
    how = _how(zone, at, overdue_after)
    done = last_over(now, zone, at)
    stored: set[date] = set()
    if first <= done and keyed:
        marks = await session.execute(
            select(
                CountedDay.day, CountedDay.report_at, CountedDay.zone, CountedDay.overdue_seconds
            ).where(CountedDay.day >= first, CountedDay.day <= min(last, done))
        )
        stored = {day for day, *rest in marks.all() if tuple(rest) == how}
    found = {code: [Counts() for _ in days] for code in keyed}
    if stored:
        if area.level == Level.GRID:
            key_of = {area.id: area.code} if area.code in keyed else {}
            grid_filter = GridDayCounts.grid_id == area.id
        else:
            key_of = await grid_keys(session, area, keyed)
            grid_filter = GridDayCounts.grid_id.in_(list(key_of))
        query = select(GridDayCounts.day, GridDayCounts.grid_id, GridDayCounts.counts).where(
            GridDayCounts.day >= min(stored), GridDayCounts.day <= max(stored), grid_filter
        )
        # Added up as plain numbers (a `Counts.add` per row would cost more than the query).
        sums: dict[tuple[str, int], dict[str, Any]] = {}
        for day, grid_id, counts in (await session.execute(query)).all():
            key = key_of.get(grid_id)
            if key is None or day not in stored:
                continue
            total = sums.setdefault((key, (day - first).days), {"by_kind": {}, "alerts": [0, 0, 0]})
            for name, value in counts.items():
                if name == "by_kind":
                    kinds = total["by_kind"]
                    for kind, number in value.items():
                        kinds[kind] = kinds.get(kind, 0) + number
                elif name == "alerts":
                    total["alerts"] = [x + y for x, y in zip(total["alerts"], value, strict=True)]
                else:
                    total[name] = total.get(name, 0) + value
        for (key, i), total in sums.items():
            found[key][i] = load(total)
    live = [day for day in days if day not in stored]
    for a, b in _runs(live):
        counted = await count_days(
            session, area, a, b, keyed, zone=zone, at=at, alerts=(overdue_after, now)
        )
        for code, counts in counted.items():
            found[code][(a - first).days : (b - first).days + 1] = counts
    return {code: [counts.ordered() for counts in found[code]] for code in keyed}
