"""The daily report (日报告) every worker gets at DAILY_REPORT_AT, through the outbox, once per
worker and day: for a grid worker their grid in detail, for the levels above one line per
area below them and the totals. A day with nothing in it is the zero report (零报告), said in
so many words: silence never means "nobody checked". On Mondays a chart of the last 14 days
follows it as a photo.

The figures come from `digests.daily`; rendering here is pure (figures and a translator in,
text out), so tests and benchmarks can call it directly."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import N_, Translator
from models.areas import Area, Level
from models.chat import ChatUser
from models.outbox import Message, Outgoing, enqueue, enqueue_many
from models.pushed import PushedRow
from models.staff import Staff, covers
from services.chart import cjk_font, render_chart
from services.counts import Rollup, Summary, rollup_figures
from services.drawing import drawn
from services.figures import (
    DEFAULT_AT,
    EXPECTED_DAYS,
    LIST_CAP,
    DailyFigures,
    DayPoint,
    Incident,
    daily_figures,
    grid_figures,
    history,
)
from services.pushed import daily_lines
from services.vocabulary import DONE_TEXTS, INCIDENT_NAMES, PHASE_NAMES, TRANSPORTS
from services.wording import day_text, moment_text, option_name, place_name

ZERO_HEADING = N_("📋 Zero report (零报告)")
DAILY_HEADING = N_("📋 Daily report (日报告)")
IN_ALL = N_("In all")
BY_AREA = N_("By area")
CHART_LABELS = (N_("Arrivals"), N_("Under monitoring"), N_("Abnormal reports"))
# Telegram's limit for one message is 4096 characters.
MAX_TEXT = 4000
# The weekday (Monday = 0) whose report carries the 14-day chart.
CHART_WEEKDAY = 0
CHART_DAYS = 14
# Workers whose report is composed per run of the job; the rest follow a minute later.
PER_RUN = 200
# Grids whose figures are read with one statement (the job's): more rows per statement, fewer
# statements; measured on the generated city of 1,000 grids (docs/benchmarks.md).
GRIDS_AT_ONCE = 100


# ----- rendering (pure) -----


def _heading(figures: DailyFigures | Summary, tr: Translator, zone: ZoneInfo) -> str:
    name = html.escape(figures.area_name)
    day = day_text(figures.day, tr)
    heading = tr(ZERO_HEADING if figures.nothing else DAILY_HEADING)
    lines = [f"<b>{heading}</b> · {name} · {day}"]
    if figures.start is not None and figures.end is not None:
        lines.append(
            "🕗 "
            + tr(
                "From {start} to {end}",
                start=moment_text(figures.start, zone, tr),
                end=moment_text(figures.end, zone, tr),
            )
        )
    return "\n".join(lines)


T = TypeVar("T")


def _capped(
    items: Sequence[T], line: Callable[[T], str], tr: Translator, more: int = 0
) -> list[str]:
    """The first LIST_CAP items' lines (only those are written: a grid may have sixty alerts
    open), and how many more there are (`more`: besides `items`, not read)."""
    if len(items) + more <= LIST_CAP:
        return [line(item) for item in items]
    shown = [line(item) for item in items[:LIST_CAP]]
    return [*shown, "  " + tr("…and {n} more", n=len(items) + more - LIST_CAP)]


def _transport(value: str, tr: Translator) -> str:
    return option_name(TRANSPORTS, value, tr)


def _done(incident: Incident, tr: Translator, zone: ZoneInfo) -> str:
    if not incident.done:
        return tr("no action recorded yet")
    parts = []
    for step in incident.done:
        what = tr(DONE_TEXTS.get(step.kind, step.kind))
        who = html.escape(step.by) if step.by else tr("the bot")
        text = what + tr.paren(tr.clauses([who, step.at.astimezone(zone).strftime("%H:%M")]))
        if step.note:
            text = tr.label(text, html.escape(step.note))
        parts.append(text)
    return tr.items(parts)


def _incidents(incidents: Sequence[Incident], tr: Translator, zone: ZoneInfo) -> list[str]:
    return _capped(
        incidents,
        lambda i: (
            f"  • {i.at.astimezone(zone).strftime('%H:%M')} "
            + tr.label(
                tr.clauses([html.escape(i.name), tr(INCIDENT_NAMES.get(i.kind, i.kind))]),
                _done(i, tr, zone),
            )
        ),
        tr,
    )


ZERO_TEXT = N_(
    "Nothing to report: no reports received, no arrivals expected in the next {days} days "
    "and no one expected who has not come, no one under monitoring, no check-ins due, "
    "nothing abnormal, no missed check-ins, no releases, and no alert left open."
)


def render_daily(figures: DailyFigures, tr: Translator, zone: ZoneInfo) -> str:
    """One area's report in detail (a grid worker's): each figure with the names behind it,
    and what was done about each abnormal report and missed check-in."""
    lines = [_heading(figures, tr, zone)]
    if figures.nothing:
        lines.append(tr(ZERO_TEXT, days=EXPECTED_DAYS))
        return "\n".join(lines)
    if figures.still_open:
        lines.append(
            "❗ "
            + tr(
                "Still open from earlier, no action recorded: {n}",
                n=figures.still_open_count,
            )
        )
        lines += _capped(
            figures.still_open,
            lambda i: (
                "  • "
                + tr.label(
                    tr.clauses(
                        [
                            moment_text(i.at, zone, tr),
                            html.escape(i.name),
                            tr(INCIDENT_NAMES.get(i.kind, i.kind)),
                        ]
                    ),
                    _done(i, tr, zone),
                )
            ),
            tr,
            figures.still_open_more,
        )
    if figures.no_shows:
        lines.append("🚫 " + tr("Expected but not arrived: {n}", n=len(figures.no_shows)))
        lines += _capped(
            figures.no_shows,
            lambda e: (
                "  • "
                + tr.label(
                    html.escape(e.name),
                    tr.clauses(
                        [
                            tr("expected {when}", when=moment_text(e.at, zone, tr)),
                            f"{_transport(e.transport, tr)} {html.escape(e.number)}".strip(),
                        ]
                    ),
                )
            ),
            tr,
        )
    lines.append(
        "📝 "
        + tr(
            "Reports received: {reports}; arrived: {arrived}",
            reports=figures.reports,
            arrived=figures.arrived,
        )
    )
    lines.append(
        "🧳 "
        + tr("Expected in the next {days} days: {n}", days=EXPECTED_DAYS, n=len(figures.expected))
    )
    lines += _capped(
        figures.expected,
        lambda e: (
            "  • "
            + tr.label(
                html.escape(e.name),
                tr.clauses(
                    [
                        moment_text(e.at, zone, tr),
                        f"{_transport(e.transport, tr)} {html.escape(e.number)}".strip(),
                        tr(
                            "from {origin}",
                            origin=html.escape(place_name(e.origin_code, e.origin, tr)),
                        ),
                    ]
                ),
            )
        ),
        tr,
    )
    lines.append("🏠 " + tr("Under monitoring: {n}", n=len(figures.monitoring)))
    for kind, count in figures.by_kind.items():
        lines.append(f"  <i>{tr.label(tr(PHASE_NAMES.get(kind, kind)), str(count))}</i>")
        lines += _capped(
            [m for m in figures.monitoring if m.kind == kind],
            lambda m: (
                "  • "
                + tr(
                    "{name}: day {n} of {total}",
                    name=html.escape(m.name),
                    n=m.day,
                    total=m.of,
                )
            ),
            tr,
        )
    if figures.held:
        lines.append("  " + tr("Plans held open for missing negative tests: {n}", n=figures.held))
    lines.append(
        "🌡 "
        + tr(
            "Check-ins ended: {due} due, {answered} on time, {late} late, {missed} missed",
            answered=figures.checkins_answered,
            due=figures.checkins_due,
            late=figures.checkins_late,
            missed=figures.checkins_missed,
        )
    )
    lines.append(
        "⚠️ "
        + tr(
            "Abnormal: {n} ({handled} with action)",
            n=len(figures.abnormal),
            handled=sum(i.handled for i in figures.abnormal),
        )
    )
    lines += _incidents(figures.abnormal, tr, zone)
    lines.append(
        "📵 "
        + tr(
            "Missed check-ins: {n} ({handled} with action)",
            n=len(figures.missed),
            handled=sum(i.handled for i in figures.missed),
        )
    )
    lines += _incidents(figures.missed, tr, zone)
    lines.append("✅ " + tr("Released: {n}", n=len(figures.releases)))
    lines += _capped(figures.releases, lambda name: f"  • {html.escape(name)}", tr)
    return _fit("\n".join(lines), tr)


def _summary(summary: Summary, tr: Translator) -> str:
    """The figures on one line (an area in a roll-up, or the totals)."""
    if summary.nothing:
        return tr("zero report (零报告): nothing to report")
    c = summary.counts
    return tr(
        "reports {reports}, arrived {arrived}, expected {expected}, not arrived {no_shows}, "
        "under monitoring {monitoring}, check-ins {due} due ({answered} on time, {late} late), "
        "abnormal {abnormal} ({abnormal_handled} with action), missed {missed} "
        "({missed_handled} with action), released {released}, still open from earlier "
        "{still_open}",
        reports=c.reports,
        arrived=c.arrived,
        expected=c.expected,
        no_shows=c.no_shows,
        monitoring=c.monitoring,
        answered=c.checkins_answered,
        late=c.checkins_late,
        still_open=c.still_open,
        due=c.checkins_due,
        abnormal=c.abnormal,
        abnormal_handled=c.abnormal_handled,
        missed=c.missed,
        missed_handled=c.missed_handled,
        released=c.released,
    )


def render_rollup(rollup: Rollup, tr: Translator, zone: ZoneInfo) -> str:
    """A higher level's report: the totals, then one line per area directly below."""
    total = rollup.total
    lines = [_heading(total, tr, zone)]
    if total.nothing:
        lines.append(tr(ZERO_TEXT, days=EXPECTED_DAYS))
    else:
        lines.append(tr.label(f"<b>{tr(IN_ALL)}</b>", _summary(total, tr)))
        kinds = tr.clauses(
            f"{tr(PHASE_NAMES.get(kind, kind))} {count}"
            for kind, count in total.counts.by_kind.items()
        )
        if kinds:
            lines.append("🏠 " + kinds)
        if total.counts.unhandled:
            lines.append("⚠️ " + tr("No action recorded yet: {n}", n=total.counts.unhandled))
    if rollup.children:
        lines.append("")
        lines.append(f"<b>{tr(BY_AREA)}</b>")
        for child in rollup.children:
            lines.append("• " + tr.label(html.escape(child.area_name), _summary(child, tr)))
    return _fit("\n".join(lines), tr)


def _fit(text: str, tr: Translator) -> str:
    if len(text) <= MAX_TEXT:
        return text
    cut = text[:MAX_TEXT].rsplit("\n", 1)[0]
    return cut + "\n" + tr("…(shortened; /export has everything)")


def chart_png(points: Sequence[DayPoint], area_name: str, tr: Translator) -> bytes:
    """The chart, labelled in the reader's language where an installed font can write it
    (without a Chinese font: English labels, and no area name in the title)."""
    font = cjk_font()

    def fits(text: str) -> bool:
        return font is not None or text.isascii()

    labels = (tr(CHART_LABELS[0]), tr(CHART_LABELS[1]), tr(CHART_LABELS[2]))
    if not all(fits(label) for label in labels):
        labels = CHART_LABELS
    days = len(points)
    title = tr("Last {days} days: {area}", days=days, area=area_name)
    if not fits(title):
        title = f"Last {days} days, to {points[-1].day.isoformat()}" if points else ""
    return render_chart(points, title, labels)


# ----- the job -----


async def report_for(
    session: AsyncSession,
    area: Area,
    day: date,
    zone: ZoneInfo,
    tr: Translator,
    at: time = DEFAULT_AT,
) -> str:
    """The report a worker posted at `area` reads: detailed for a grid, rolled up above."""
    if area.level == Level.GRID:
        # Every alert still open is read: for one grid (some 60 in the generated city) that is
        # no slower than ranking them in SQL to read ten (the report job's way, below).
        return render_daily(await daily_figures(session, area, day, zone, at), tr, zone)
    return render_rollup(await rollup_figures(session, area, day, zone, at), tr, zone)


async def daily_reports(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, at: time = time(20, 0)
) -> int:
    """From `at` (local time) on, each active worker's report for today, once per worker and
    day; on Mondays with the chart of the last 14 days after it."""
    local = now.astimezone(zone)
    if local.time() < at:
        return 0
    day = local.date()
    query = (
        select(Staff, Area)
        .join(Area, Area.id == Staff.area_id)
        .where(Staff.revoked_at.is_(None))
        .order_by(Staff.user_id, Staff.id)
    )
    posts: dict[int, list[tuple[Staff, Area]]] = {}
    for staff, area in (await session.execute(query)).all():
        posts.setdefault(staff.user_id, []).append((staff, area))
    done = await _queued(session, [_report_key(user_id, day) for user_id in posts])
    # This run's workers, and the figures of all their grids at once, a chunk of grids per
    # statement: one grid's statement a thousand times over costs far more (issue 21).
    chosen = [
        (user_id, _own_areas(theirs))
        for user_id, theirs in posts.items()
        if _report_key(user_id, day) not in done
    ][:PER_RUN]
    grids = list(
        {
            area.id: area for _, areas in chosen for area in areas if area.level == Level.GRID
        }.values()
    )
    figures: dict[int, DailyFigures] = {}
    for i in range(0, len(grids), GRIDS_AT_ONCE):
        # Only the alerts still open that each report lists are read, the rest counted: the
        # 72,480 of the generated city were a third of the job's time.
        chunk = grids[i : i + GRIDS_AT_ONCE]
        figures.update(await grid_figures(session, chunk, day, zone, at, listed=LIST_CAP))
    # The workers' languages in one statement, not one look-up per report.
    users = {
        user.id: user
        for user in await session.scalars(
            select(ChatUser).where(ChatUser.id.in_([user_id for user_id, _ in chosen]))
        )
    }
    # No pushed list with a row still open anywhere: no report has lines on one (asked once
    # per run rather than once per worker).
    lists_open = (
        await session.scalar(select(PushedRow.id).where(PushedRow.outcome.is_(None)).limit(1))
        is not None
    )
    known = _Known(figures, lists_open)
    # The reports queued with one statement (`enqueue_many`), in the workers' order.
    messages: list[Message] = []
    charts: list[tuple[int, list[Area], Translator]] = []
    for user_id, areas in chosen:
        user = users.get(user_id)
        tr = Translator(user.language if user else None)
        text = await _report_text(session, user_id, areas, day, now, zone, at, tr, known)
        chat_id = posts[user_id][0][0].chat_id
        messages.append(Message(chat_id, _fit(text, tr), "daily_report", _report_key(user_id, day)))
        charts.append((user_id, areas, tr))
    queued = await enqueue_many(session, messages, now=now)
    if day.weekday() == CHART_WEEKDAY:
        for user_id, areas, tr in charts:
            await _chart(session, user_id, posts[user_id][0][0].chat_id, areas, day, now, zone, tr)
    return queued


@dataclass(frozen=True)
class _Known:
    """What the job read for all of a run's reports at once."""

    figures: dict[int, DailyFigures]
    lists_open: bool


def _report_key(user_id: int, day: date) -> str:
    return f"daily-report:{user_id}:{day.isoformat()}"


async def _queued(session: AsyncSession, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        query = select(Outgoing.dedupe_key).where(Outgoing.dedupe_key.in_(chunk))
        found.update(k for k in await session.scalars(query) if k)
    return found


def _own_areas(posts: list[tuple[Staff, Area]]) -> list[Area]:
    """The areas a worker's report is about: a post under another of the same worker's posts
    is in that one's report already."""
    areas = [
        area
        for _, area in posts
        if not any(other.id != area.id and covers(other, area) for _, other in posts)
    ]
    return list({area.id: area for area in areas}.values())


async def _report_text(
    session: AsyncSession,
    user_id: int,
    areas: list[Area],
    day: date,
    now: datetime,
    zone: ZoneInfo,
    at: time,
    tr: Translator,
    known: _Known,
) -> str:
    """A worker's report: each of their areas', then the lists pushed to them still open."""
    text = "\n\n".join(
        [
            render_daily(known.figures[area.id], tr, zone)
            if area.id in known.figures
            else await report_for(session, area, day, zone, tr, at)
            for area in areas
        ]
    )
    # Lists pushed from above, until every row in the worker's areas is done.
    pushed = await daily_lines(session, user_id, areas, now, tr) if known.lists_open else ""
    return f"{text}\n\n{pushed}" if pushed else text


async def _chart(
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    areas: list[Area],
    day: date,
    now: datetime,
    zone: ZoneInfo,
    tr: Translator,
) -> None:
    points = await _history(session, areas, day, zone)
    name = ", ".join(area.name for area in areas)
    await enqueue(
        session,
        chat_id=chat_id,
        text=tr(
            "📈 The last {days} days in {area}: arrivals, people under monitoring and abnormal reports.",
            days=CHART_DAYS,
            area=html.escape(name),
        ),
        purpose="daily_chart",
        dedupe_key=f"daily-chart:{user_id}:{day.isoformat()}",
        now=now,
        # After the report it belongs to, which goes out first.
        due_at=now + timedelta(seconds=5),
        file=(
            f"report-{day.isoformat()}.png",
            "photo",
            await drawn(chart_png, points, name, tr),
        ),
    )


async def _history(
    session: AsyncSession, areas: list[Area], day: date, zone: ZoneInfo
) -> tuple[DayPoint, ...]:
    """The 14 days of all the worker's (separate) areas, added up day by day."""
    series = [await history(session, area, day, zone, CHART_DAYS) for area in areas]
    return tuple(
        DayPoint(
            points[0].day,
            sum(p.arrivals for p in points),
            sum(p.monitoring for p in points),
            sum(p.abnormal for p in points),
        )
        for points in zip(*series, strict=True)
    )
