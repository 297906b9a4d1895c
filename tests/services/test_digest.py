"""The daily report (日报告): the figures of a seeded day, the zero report (零报告) on a day with
nothing, the roll-up for the levels above, once per worker and day at the set time, and the
weekly chart as a real PNG."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.i18n import Translator
from handlers.app import Core
from models.alerts import Alert
from models.areas import area_by_code
from models.outbox import Outgoing
from models.people import Resident
from models.plans import RELEASED, MonitoringPlan
from services.alerts import deliver_alerts
from services.counts import rollup_figures
from services.digest import daily_reports, render_daily
from services.figures import DailyFigures, Incident, daily_figures, grid_figures
from services.placement import move_rows
from tests.handlers.test_resident import _shown_from, reported
from tests.handlers.test_staff import GRID_1, GRID_2
from tests.services.test_alerts import COMMUNITY, STREET, ZONE, staff_of
from tests.services.test_checkins import at, run
from tests.services.test_plans import list_risk, report_from
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
DAY = date(2026, 7, 1)  # a Wednesday; 6 July is the Monday after


async def rename(sessions: async_sessionmaker[AsyncSession], person: Person, name: str) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Resident).where(Resident.reporter_user_id == person.user_id).values(name=name)
        )


async def reports(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> int:
    async with sessions.begin() as session:
        return await daily_reports(session, clock.now(), ZONE, at=time(20, 0))


async def queued(sessions: async_sessionmaker[AsyncSession], purpose: str) -> list[Outgoing]:
    async with sessions() as session:
        query = select(Outgoing).where(Outgoing.purpose == purpose).order_by(Outgoing.id)
        return list(await session.scalars(query))


async def seed_day(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> Person:
    """1 July in grid 2: two people arrive into home isolation (one reports a fever at
    check-in, which the worker calls about; the other misses it), one is expected in two days,
    one arrives and is released the same day (made so by hand). Returns the grid's worker."""
    at(clock, 6, 30)  # reported early enough to be asked at 08:00 (an hour after arrival)
    worker = await staff_of(Person(core, 1), sessions, clock, GRID_2, 5001)
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    fever, silent, expected, released = (Person(core, user_id=n) for n in (1001, 1002, 1003, 1004))
    for person, name in ((fever, "Wang Fang"), (silent, "Zhao Lei")):
        await report_from(person, "广州", "Guangzhou")
        await rename(sessions, person, name)
    await reported(expected, arrived=False)
    await rename(sessions, expected, "Chen Jie")
    await report_from(released, "南京", "Nanjing")
    await rename(sessions, released, "Sun Li")
    async with sessions.begin() as session:
        await session.execute(
            update(MonitoringPlan)
            .where(
                MonitoringPlan.resident_id.in_(select(Resident.id).where(Resident.name == "Sun Li"))
            )
            .values(status=RELEASED, ended_at=clock.now())
        )
    at(clock, 10, 0)
    assert await run(sessions, clock, "open") == 2  # the 08:00 check-in, at 10:00
    await fever.send("/checkin")
    await fever.send("38.2")
    await fever.press("No medicine")
    await fever.press("None of these")
    await fever.press("Stayed home")
    async with sessions.begin() as session:
        await deliver_alerts(session, clock.now(), ZONE)
    (alert,) = [r for r in await queued(sessions, "alert") if "Fever" in r.text]
    worker.shown.append(_shown_from(alert))
    await worker.press("Record action")
    await worker.press("Called")
    await worker.send("no fever at 15:00")
    at(clock, 20, 0)
    assert await run(sessions, clock, "miss") == 1  # Zhao Lei's
    return worker


async def test_nothing_before_the_report_time(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await staff_of(resident, sessions, clock, GRID_2, 5001)
    at(clock, 19, 59)
    assert await reports(sessions, clock) == 0
    at(clock, 20, 0)
    assert await reports(sessions, clock) == 1


async def test_the_figures_and_report_of_a_seeded_day(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await seed_day(core, sessions, clock)
    async with sessions() as session:
        grid = await area_by_code(session, GRID_2)
        assert grid is not None
        figures = await daily_figures(session, grid, DAY, ZONE)
    assert (figures.reports, figures.arrived) == (4, 3)
    assert [(e.name, e.transport, e.number) for e in figures.expected] == [
        ("Chen Jie", "train", "G1234")
    ]
    assert figures.expected[0].at.astimezone(ZONE).strftime("%m-%d %H:%M") == "07-02 14:00"
    assert [(m.name, m.kind, m.day, m.of) for m in figures.monitoring] == [
        ("Wang Fang", "home_isolation", 1, 14),
        ("Zhao Lei", "home_isolation", 1, 14),
    ]
    assert (figures.checkins_due, figures.checkins_answered, figures.checkins_missed) == (2, 1, 1)
    (abnormal,) = figures.abnormal
    assert (abnormal.kind, abnormal.name) == ("fever", "Wang Fang")
    assert [(d.kind, d.by, d.note) for d in abnormal.done] == [
        ("called", "Worker5001", "no fever at 15:00")
    ]
    (missed,) = figures.missed
    assert (missed.name, missed.done) == ("Zhao Lei", ())
    assert figures.releases == ("Sun Li",)
    assert not figures.nothing

    assert await reports(sessions, clock) == 1
    assert await reports(sessions, clock) == 0  # once a day
    (report,) = await queued(sessions, "daily_report")
    assert report.chat_id == worker.user_id and report.dedupe_key == "daily-report:5001:2026-07-01"
    text = report.text
    assert "Daily report (日报告)</b> · 新华南路社区第二网格 · 1 Jul" in text
    assert "Reports received: 4; arrived: 3" in text
    assert "Expected in the next 3 days: 1" in text and "Chen Jie: 2 Jul 14:00" in text
    assert "G1234" in text and "from Shanghai" in text
    assert "Under monitoring: 2" in text and "Home isolation: 2" in text
    assert "Wang Fang: day 1 of 14" in text
    assert "Check-ins ended: 2 due, 1 on time, 0 late, 1 missed" in text
    assert "Abnormal: 1 (1 with action)" in text
    assert "Wang Fang, fever at check-in: called (Worker5001, 1" in text
    assert "no fever at 15:00" in text
    assert "Missed check-ins: 1 (0 with action)" in text
    assert "08:00 Zhao Lei, missed check-in: no action recorded yet" in text
    assert "Released: 1" in text and "Sun Li" in text
    # Not a Monday: no chart.
    assert await queued(sessions, "daily_chart") == []
    # The next day at 20:00 it comes again, for that day.
    at(clock, 20, 0, days=1)
    assert await reports(sessions, clock) == 1


async def test_a_day_with_nothing_is_the_zero_report(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await staff_of(resident, sessions, clock, GRID_1, 5004)
    await staff_of(resident, sessions, clock, COMMUNITY, 5100, "community")
    at(clock, 20, 30)
    assert await reports(sessions, clock) == 2
    grid, community = await queued(sessions, "daily_report")
    assert "Zero report (零报告)</b> · 新华南路社区第一网格 · 1 Jul" in grid.text
    assert "Nothing to report: no reports received" in grid.text
    assert "nothing abnormal" in grid.text
    assert "Zero report (零报告)</b> · 新华南路社区" in community.text
    assert "第一网格: zero report (零报告): nothing to report" in community.text


async def test_the_zero_report_in_chinese(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessions() as session:
        grid = await area_by_code(session, GRID_1)
        assert grid is not None
        figures = await daily_figures(session, grid, DAY, ZONE)
    text = render_daily(figures, Translator("zh_Hans"), ZONE)
    assert "零报告" in text and "Nothing" not in text


async def test_a_street_worker_gets_the_roll_up_per_community(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await seed_day(core, sessions, clock)
    street = await staff_of(Person(core, 2), sessions, clock, STREET, 5200, "street")
    async with sessions() as session:
        area = await area_by_code(session, STREET)
        assert area is not None
        rollup = await rollup_figures(session, area, DAY, ZONE)
    assert [c.area_name for c in rollup.children] == ["新华南路社区", "建设路社区"]
    busy, quiet = rollup.children
    assert (busy.counts.reports, busy.counts.monitoring, busy.counts.abnormal) == (4, 2, 1)
    assert quiet.nothing
    assert rollup.total.counts.reports == 4
    assert rollup.total.counts.by_kind == {"home_isolation": 2}
    assert await reports(sessions, clock) == 2
    (text,) = [
        r.text for r in await queued(sessions, "daily_report") if r.chat_id == street.user_id
    ]
    assert "Daily report (日报告)</b> · 新华街道 · 1 Jul" in text
    assert (
        "<b>In all</b>: reports 4, arrived 3, expected 1, not arrived 0, under monitoring 2, "
        "check-ins 2 due (1 on time, 0 late), abnormal 1 (1 with action), missed 1 "
        "(0 with action), released 1, still open from earlier 0"
    ) in text
    assert "Home isolation 2" in text and "No action recorded yet: 1" in text
    assert "• 新华南路社区: reports 4, arrived 3" in text
    assert "• 建设路社区: zero report (零报告): nothing to report" in text
    # Names stay with the grid: the street sees figures.
    assert "Wang Fang" not in text


async def test_on_mondays_the_report_carries_a_14_day_chart(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await seed_day(core, sessions, clock)
    at(clock, 20, 0, days=5)  # Monday 6 July
    assert await reports(sessions, clock) == 1
    assert await reports(sessions, clock) == 0
    (report,) = await queued(sessions, "daily_report")
    (chart,) = await queued(sessions, "daily_chart")
    assert chart.chat_id == worker.user_id and chart.due_at > report.due_at
    assert chart.file_kind == "photo" and chart.file_name == "report-2026-07-06.png"
    assert "The last 14 days in 新华南路社区第二网格" in chart.text
    content = chart.file_content or b""
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(content)) as image:
        image.verify()
        assert image.size == (800, 450)


async def test_a_revoked_worker_gets_no_report(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from models.staff import Staff

    await staff_of(resident, sessions, clock, GRID_1, 5004)
    async with sessions.begin() as session:
        await session.execute(update(Staff).values(revoked_at=clock.now()))
    clock.advance(timedelta(hours=12))
    assert await reports(sessions, clock) == 0


async def test_a_yellow_or_red_code_counts_as_abnormal(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from models.alerts import raise_alert

    async with sessions.begin() as session:
        grid = await area_by_code(session, GRID_1)
        assert grid is not None
        await raise_alert(session, grid_id=grid.id, kind="health_code", now=clock.now())
    async with sessions() as session:
        figures = await daily_figures(session, grid, DAY, ZONE)
    ((kind, name),) = [(i.kind, i.name) for i in figures.abnormal]
    assert (kind, name) == ("health_code", "?") and not figures.nothing
    text = render_daily(figures, Translator("en"), ZONE)
    assert "?, yellow or red health code: no action recorded yet" in text


def test_a_long_list_shows_ten_names_and_how_many_more() -> None:
    end = datetime.combine(DAY, time(20, 0), tzinfo=ZONE)
    # Oldest first, as the report's figures keep them: Person 11 is the oldest.
    still_open = tuple(
        Incident("fever", f"Person {n:02d}", end - timedelta(days=2, minutes=n))
        for n in reversed(range(12))
    )
    figures = DailyFigures("g", "Grid", "grid", DAY, end - timedelta(days=1), end)
    text = render_daily(replace(figures, still_open=still_open), Translator("en"), ZONE)
    assert "Still open from earlier, no action recorded: 12" in text
    # The ten oldest are named, the two newest only counted.
    assert all(f"Person {n:02d}" in text for n in range(2, 12))
    assert "Person 00" not in text and "Person 01" not in text
    assert "…and 2 more" in text


async def test_the_jobs_grids_read_together_are_each_grids_own_report(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """The job reads the figures of many grids with one statement: each grid's are what its
    own report shows, even for someone moved to another grid after their missed check-in's
    alert was raised in the first (the check-in is listed in the new grid, the alert stays
    open in the old one)."""
    await seed_day(core, sessions, clock)  # Zhao Lei's miss recorded at 20:00: an hour earlier
    async with sessions.begin() as session:
        await session.execute(
            update(Alert)
            .where(Alert.kind == "missed_checkin")
            .values(created_at=clock.now() - timedelta(hours=1))
        )
    await staff_of(Person(core, 1), sessions, clock, GRID_1, 5004)
    async with sessions.begin() as session:
        grid_1, grid_2 = await area_by_code(session, GRID_1), await area_by_code(session, GRID_2)
        assert grid_1 is not None and grid_2 is not None
        # Moved as a worker's placement moves someone: their rows that keep the grid follow.
        moved = await session.scalar(select(Resident.id).where(Resident.name == "Zhao Lei"))
        assert moved is not None
        await session.execute(
            update(Resident).where(Resident.id == moved).values(grid_id=grid_1.id)
        )
        await move_rows(session, [moved], grid_1.id)
    async with sessions() as session:
        together = await grid_figures(session, [grid_1, grid_2], DAY, ZONE)
        # Each grid in a chunk of its own too (the chunk's rows are found by their grid).
        each = {
            grid.id: (await grid_figures(session, [grid], DAY, ZONE))[grid.id]
            for grid in (grid_1, grid_2)
        }
        alone = {
            grid.id: await daily_figures(session, grid, DAY, ZONE) for grid in (grid_1, grid_2)
        }
    assert together == alone
    assert each == alone
    assert [i.name for i in alone[grid_1.id].missed] == ["Zhao Lei"]
    assert [i.name for i in alone[grid_2.id].still_open] == ["Zhao Lei"]
    # The job's texts are the reports each grid's figures make.
    assert await reports(sessions, clock) == 2
    texts = {r.chat_id: r.text for r in await queued(sessions, "daily_report")}
    tr = Translator("en")
    assert texts[5004] == render_daily(alone[grid_1.id], tr, ZONE)
    assert texts[5001] == render_daily(alone[grid_2.id], tr, ZONE)


async def test_the_report_reads_only_the_alerts_still_open_it_lists(
    core: Core, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """A grid's report reads only the first ten alerts still open from earlier (and any tied
    with the tenth) and counts the rest: its text is the one all of them make, in the same
    order (ties at the same minute by name), leaving out the missed check-in listed today and
    one answered late."""
    from models.alerts import AlertAction, raise_alert

    await seed_day(core, sessions, clock)  # Zhao Lei's miss today: listed as missed, not open
    async with sessions.begin() as session:
        # Raised within the window (at 20:00 it is the window's end).
        await session.execute(
            update(Alert)
            .where(Alert.kind == "missed_checkin")
            .values(created_at=clock.now() - timedelta(hours=1))
        )
        grid = await area_by_code(session, GRID_2)
        assert grid is not None
        residents = {r.name: r.id for r in await session.scalars(select(Resident))}
        earlier = clock.now() - timedelta(days=2)
        # Thirteen open from two days ago: several at the same minute, named or not.
        for n, (kind, name) in enumerate(
            [("fever", "Wang Fang"), ("symptoms", None), ("fever", "Chen Jie")] * 4
            + [("missed_checkin", "Sun Li")]
        ):
            await raise_alert(
                session,
                grid_id=grid.id,
                kind=kind,
                now=earlier + timedelta(minutes=n // 3),
                resident_id=residents[name] if name else None,
                dedupe_key=f"missed_checkin:{10_000 + n}" if kind == "missed_checkin" else None,
            )
        # A missed check-in answered late after its alert: no longer open.
        await raise_alert(
            session,
            grid_id=grid.id,
            kind="missed_checkin",
            now=earlier,
            resident_id=residents["Sun Li"],
            dedupe_key="missed_checkin:20000",
        )
        await session.execute(
            update(Alert)
            .where(Alert.dedupe_key == "missed_checkin:20000")
            .values(checkin_settled_at=earlier + timedelta(hours=1))
        )
        # The bot escalated the first: not a person's action, still open, shown with it.
        first = await session.scalar(
            select(Alert.id).where(Alert.created_at == earlier).order_by(Alert.id).limit(1)
        )
        assert first is not None
        session.add(AlertAction(alert_id=first, kind="escalated", at=earlier, level="community"))
    async with sessions() as session:
        every = await daily_figures(session, grid, DAY, ZONE)
        listed = await daily_figures(session, grid, DAY, ZONE, listed=10)
        together = await grid_figures(session, [grid], DAY, ZONE, listed=10)
    assert every.still_open_count == listed.still_open_count == 13
    # Read: the ten oldest, and the two tied with the tenth at its minute.
    assert (len(every.still_open), len(listed.still_open)) == (13, 12)
    assert listed.still_open == every.still_open[:12] and together[grid.id] == listed
    assert [i.name for i in every.missed] == ["Zhao Lei"]
    tr = Translator("en")
    text = render_daily(every, tr, ZONE)
    assert render_daily(listed, tr, ZONE) == text
    assert "Still open from earlier, no action recorded: 13" in text and "…and 3 more" in text
    # The report job's text and the one report_for makes are that text.
    assert await reports(sessions, clock) == 1
    (report,) = await queued(sessions, "daily_report")
    assert report.text == text
