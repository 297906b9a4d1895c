"""The daily report's figures stored per area and day, so that the API's and the dashboard's
ranges (a city's fortnight: 14 days × 1,000 grids) are a few rows read instead of half a
million check-ins counted: each grid's figures as counted, and each area above a grid the sum
of its grids' (the city's districts over 14 days: 14 × 17 rows).

`store_figures` is a periodic job (`bot/scheduler.py`) for the days that are over; each run it

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

`store_today` (every minute) counts today, which is not over, for every grid: a snapshot read
while it is younger than `FRESH` and counted live once older (the job not running: an API
without a bot), each day of an answer saying when its figures were counted. Counting today
live for the whole city costs about a second on the long city (the day's check-ins, plans and
arrivals joined to residents for their grid); once a minute in the job it costs that once,
not on every call. A change made since shows within the minute.

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

from sqlalchemy import delete, exists, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.access import ApiToken
from models.alerts import Alert, AlertAction
from models.areas import Area, Level
from models.counts import AreaDayCounts, CountedDay
from services.counts import _NUMBERS, Counts, count_days
from services.figures import (
    DEFAULT_AT,
    MISSED_KIND,
    AlertCounts,
    day_bounds,
    window_of,
)

# The days kept stored (the API's longest range, `feeds.MAX_DAYS`).
KEEP_DAYS = 92
# Days not stored yet counted in one run of the job.
CHUNK_DAYS = 14
# How far before the last check changes are looked for again (a transaction that began
# before it may have committed after it).
LOOK_BACK = timedelta(minutes=10)
# How long today's snapshot is read (`store_today` runs every minute) before today is counted
# live again.
FRESH = timedelta(minutes=2)
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


def _how_of(mark: CountedDay) -> tuple[str, str, int]:
    return mark.report_at, mark.zone, mark.overdue_seconds


def _over_when_counted(mark: CountedDay, zone: ZoneInfo, at: time) -> bool:
    return mark.counted_at >= over_at(mark.day, zone, at)


async def _locked(session: AsyncSession) -> bool:
    """On PostgreSQL, this transaction holds the job's lock: one instance at a time (several
    bots on one database), the others skip this run rather than insert the same rows and
    fail on their keys."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK}))


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
    if not await _locked(session):
        return 0
    last = last_over(now, zone, at)
    first = last - timedelta(days=KEEP_DAYS - 1)
    how = _how(zone, at, overdue_after)
    marks = {
        mark.day: mark
        for mark in await session.scalars(select(CountedDay).where(CountedDay.day >= first))
    }
    # A day counted before it was over (yesterday's last snapshot of "today") is counted
    # again as a whole, as a day not stored.
    stored = [
        day
        for day, mark in marks.items()
        if _how_of(mark) == how and day <= last and _over_when_counted(mark, zone, at)
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
    await session.execute(delete(AreaDayCounts).where(AreaDayCounts.day < first))
    await session.execute(delete(CountedDay).where(CountedDay.day < first))
    return done


async def store_today_for_the_api(
    session: AsyncSession,
    now: datetime,
    zone: ZoneInfo,
    *,
    overdue_after: timedelta,
    at: time = DEFAULT_AT,
) -> int:
    """`store_today`, the scheduler's way: only while some API token is live (not revoked, not
    expired). The count serves the API alone (the bot's reports and the dashboard count
    live), and it costs seconds a minute in a big city on SQLite; with no token nobody can
    read it. A token made later finds today counted live until the job's next run."""
    live = await session.scalar(
        select(exists().where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now))
    )
    if not live:
        return 0
    return await store_today(session, now, zone, overdue_after=overdue_after, at=at)


async def store_today(
    session: AsyncSession,
    now: datetime,
    zone: ZoneInfo,
    *,
    overdue_after: timedelta,
    at: time = DEFAULT_AT,
) -> int:
    """Count the days not over yet up to today, for every grid, and keep them as a snapshot
    (see the module's docstring); how many grid-days were counted."""
    if not await _locked(session):
        return 0
    first = last_over(now, zone, at) + timedelta(days=1)
    last = now.astimezone(zone).date()
    if last < first:
        return 0
    grids = list(
        await session.scalars(select(Area).where(Area.level == Level.GRID).order_by(Area.id))
    )
    done = await _count_and_keep(
        session, grids, first, last, zone, at, overdue_after, now, whole=True
    )
    how = _how(zone, at, overdue_after)
    await session.execute(delete(CountedDay).where(CountedDay.day >= first, CountedDay.day <= last))
    session.add_all(
        CountedDay(
            day=first + timedelta(days=i),
            report_at=how[0],
            zone=how[1],
            overdue_seconds=how[2],
            counted_at=now,
            checked_at=now,
        )
        for i in range((last - first).days + 1)
    )
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
    `whole`, else of these grids only), then the sums above them."""
    if not grids:
        return 0
    keyed = {grid.code: grid for grid in grids}
    counted = await count_days(
        session, grids[0], first, last, keyed, zone=zone, at=at, alerts=(overdue_after, now)
    )
    gone = delete(AreaDayCounts).where(AreaDayCounts.day >= first, AreaDayCounts.day <= last)
    if not whole:
        gone = gone.where(AreaDayCounts.area_id.in_([grid.id for grid in grids]))
    else:
        gone = gone.where(AreaDayCounts.area_id.in_(_grid_ids))
    await session.execute(gone)
    rows = []
    for grid in grids:
        for i, counts in enumerate(counted[grid.code]):
            if stored := dump(counts):
                rows.append(
                    {"day": first + timedelta(days=i), "area_id": grid.id, "counts": stored}
                )
    await _insert(session, rows)
    await _sum_above(session, first, last)
    return len(grids) * ((last - first).days + 1)


_grid_ids = select(Area.id).where(Area.level == Level.GRID)


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 1000):
        await session.execute(insert(AreaDayCounts), rows[i : i + 1000])


async def _sum_above(session: AsyncSession, first: date, last: date) -> None:
    """The rows of the areas above the grids from `first` to `last`, summed from the grids'
    rows as stored (all of them: a recount of a few grids changes their areas' sums, which
    are summed again rather than adjusted, so that they cannot drift)."""
    areas = (await session.execute(select(Area.id, Area.code, Area.path, Area.level))).all()
    id_of = {code: area_id for area_id, code, _, _ in areas}
    above = {
        area_id: [id_of[code] for code in path.split("/")[:-1] if code in id_of]
        for area_id, _, path, level in areas
        if level == Level.GRID
    }
    query = select(AreaDayCounts.day, AreaDayCounts.area_id, AreaDayCounts.counts).where(
        AreaDayCounts.day >= first, AreaDayCounts.day <= last, AreaDayCounts.area_id.in_(_grid_ids)
    )
    sums: dict[tuple[date, int], dict[str, Any]] = {}
    for day, grid_id, counts in (await session.execute(query)).all():
        for area_id in above.get(grid_id, ()):
            _add(sums.setdefault((day, area_id), {}), counts)
    await session.execute(
        delete(AreaDayCounts).where(
            AreaDayCounts.day >= first,
            AreaDayCounts.day <= last,
            AreaDayCounts.area_id.not_in(_grid_ids),
        )
    )
    await _insert(
        session,
        [
            {"day": day, "area_id": area_id, "counts": total}
            for (day, area_id), total in sums.items()
        ],
    )


def _add(total: dict[str, Any], counts: dict[str, Any]) -> None:
    """Add stored counts to a total in the same form (as plain numbers: a `Counts.add` per
    row would cost more than reading it)."""
    for name, value in counts.items():
        if name == "by_kind":
            kinds = total.setdefault("by_kind", {})
            for kind, number in value.items():
                kinds[kind] = kinds.get(kind, 0) + number
        elif name == "alerts":
            was = total.get("alerts", [0, 0, 0])
            total["alerts"] = [x + y for x, y in zip(was, value, strict=True)]
        else:
            total[name] = total.get(name, 0) + value


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
    fresh: timedelta | None = FRESH,
) -> dict[str, list[Counts]]:
    """As `services.counts.counts_over`: the days stored (over, and counted the same way, or
    today's snapshot younger than `fresh`; None: never) read from their rows, the others
    counted live."""
    counted, _ = await figures_over(
        session,
        area,
        first,
        last,
        keyed,
        zone=zone,
        overdue_after=overdue_after,
        now=now,
        at=at,
        fresh=fresh,
    )
    return counted


async def figures_over(
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
    fresh: timedelta | None = FRESH,
) -> tuple[dict[str, list[Counts]], list[datetime]]:
    """`counts_over`, and for each day when its figures were counted (now if live)."""
    n = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(n)]
    how = _how(zone, at, overdue_after)
    done = last_over(now, zone, at)
    as_of = [now for _ in days]
    stored: set[date] = set()
    if keyed:
        marks = await session.scalars(
            select(CountedDay).where(CountedDay.day >= first, CountedDay.day <= last)
        )
        for mark in marks:
            if _how_of(mark) != how:
                continue
            if mark.day <= done and _over_when_counted(mark, zone, at):
                when = mark.checked_at
            # Either way round: the job's host and the API's may keep slightly different
            # time.
            elif mark.day > done and fresh is not None and abs(now - mark.counted_at) <= fresh:
                when = mark.counted_at
            else:
                continue
            stored.add(mark.day)
            as_of[(mark.day - first).days] = min(when, now)
    found = {code: [Counts() for _ in days] for code in keyed}
    if stored:
        # One row per key area and day: the grids' sums are stored for each area above them.
        code_of = {key.id: code for code, key in keyed.items()}
        query = select(AreaDayCounts.day, AreaDayCounts.area_id, AreaDayCounts.counts).where(
            AreaDayCounts.day >= min(stored),
            AreaDayCounts.day <= max(stored),
            AreaDayCounts.area_id.in_(list(code_of)),
        )
        for day, area_id, counts in (await session.execute(query)).all():
            if day in stored:
                found[code_of[area_id]][(day - first).days] = load(counts)
    live = [day for day in days if day not in stored]
    for a, b in _runs(live):
        counted = await count_days(
            session, area, a, b, keyed, zone=zone, at=at, alerts=(overdue_after, now)
        )
        for code, counts in counted.items():
            found[code][(a - first).days : (b - first).days + 1] = counts
    return {code: [counts.ordered() for counts in found[code]] for code in keyed}, as_of
