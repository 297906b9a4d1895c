"""Retention: personal data erased RETENTION_DAYS after a plan ends (or after the last word of
someone who never came), anonymous counts kept; /forget at once once no plan runs; audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.scheduler import periodic_jobs
from chat.clock import FixedClock
from models.alerts import Alert
from models.chat import Conversation
from models.checkins import CheckIn
from models.help import HelpRequest
from models.outbox import SENT, Outgoing
from models.people import Arrival, Household, Resident
from models.plans import ACTIVE, RELEASED, MonitoringPlan
from models.staff import AuditEntry
from services.options import Options
from services.release import end_plans
from services.retention import purge, purge_expired
from tests.handlers.test_register import file_report
from tests.handlers.test_report import up_to_origin
from tests.handlers.test_staff import worker_of
from tests.services.test_checkins import ZONE, at, run
from tests.services.test_plans import list_risk
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
GRID_2 = "620201001001002"
DAYS = 30


async def household_at_home(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Li Na and her child, 14 days at home from Guangzhou (medium risk), by car; one
    check-in where she went out, and a help request."""
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    await up_to_origin(resident)
    await resident.type_place("广州", "Guangzhou")
    await resident.press("Own car")
    await resident.send("粤A12345")
    await resident.press("No more places")
    await resident.send("Li Xiaoming")
    await resident.press("Child")
    await resident.press("No phone")
    await resident.press("All well")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press("None of these")
    await resident.press("Green")
    await resident.press("No test")
    await resident.press("Submit")
    at(clock, 20, 30)
    await run(sessions, clock, "open")
    await resident.send("/checkin")
    for _ in range(2):
        await resident.press("36.5")
        await resident.press("No medicine")
        await resident.press("None of these")
        await resident.press("Went out")
        await resident.send("药店 on 新华路 with Li Na")
    await resident.send("/request")
    await resident.press("Daily supplies")
    await resident.send("Rice for Li Na, call 13812345678")


async def released(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> None:
    """The day after the 14 days: the plans end (no tests needed), and every queued message
    counts as delivered."""
    at(clock, 9, 0, days=15)
    async with sessions.begin() as session:
        assert await end_plans(session, clock.now(), ZONE) == 2
        await session.execute(update(Outgoing).values(status=SENT))
    async with sessions() as session:
        statuses = set(await session.scalars(select(MonitoringPlan.status)))
    assert statuses == {RELEASED}


async def purge_at(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> int:
    async with sessions.begin() as session:
        return await purge_expired(session, clock.now(), ZONE, days=DAYS)


async def people(sessions: async_sessionmaker[AsyncSession]) -> list[Resident]:
    async with sessions() as session:
        query = select(Resident).options(
            selectinload(Resident.arrivals).selectinload(Arrival.stays),
            selectinload(Resident.household),
        )
        return list((await session.scalars(query.order_by(Resident.id))).all())


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {
            table.__name__: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Resident, Arrival, MonitoringPlan, CheckIn, HelpRequest, Alert)
        }


def everything(rows: list[object]) -> str:
    """Every column of every row, as text: what a search for a name would look through."""
    return "\n".join(
        repr({c: getattr(row, c) for c in row.__table__.columns.keys()})  # type: ignore[attr-defined]
        for row in rows
    )


async def all_text(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions() as session:
        rows: list[object] = []
        for table in (Resident, Household, Arrival, CheckIn, HelpRequest, Alert, Outgoing):
            rows += list(await session.scalars(select(table)))
        rows += list(await session.scalars(select(Conversation)))
    return everything(rows)


PERSONAL = ("Li Na", "Li Xiaoming", "13812345678", "11010519491231002X", "3栋2单元501", "粤A12345")
PERSONAL += ("药店", "Rice for")


async def test_personal_data_goes_after_the_retention_period_and_the_counts_stay(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await household_at_home(resident, sessions, clock)
    await released(sessions, clock)
    before = await counts(sessions)
    text = await all_text(sessions)
    assert all(mark in text for mark in PERSONAL)
    clock.advance(timedelta(days=DAYS - 1))
    assert await purge_at(sessions, clock) == 0  # not yet
    assert (await people(sessions))[0].name == "Li Na"
    clock.advance(timedelta(days=2))
    assert await purge_at(sessions, clock) == 2
    assert await purge_at(sessions, clock) == 0  # once only
    text = await all_text(sessions)
    assert not [mark for mark in PERSONAL if mark in text]
    # Anonymous counts: the same rows, with their dates, grid, plan kind and answers.
    assert await counts(sessions) == before
    li, child = await people(sessions)
    assert li.purged_at == child.purged_at == clock.now()
    assert li.name is li.phone is li.id_number is li.user_id is None
    assert li.household.address is None
    arrival = li.arrivals[0]
    assert arrival.transport == "car" and arrival.origin_code and arrival.arrived_at
    async with sessions() as session:
        plans = list(await session.scalars(select(MonitoringPlan)))
        answered = list(await session.scalars(select(CheckIn.answered_at)))
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert {p.plan_key for p in plans} == {"home_isolation_14"} and len(answered) == 2
    assert all(answered)
    # Each run that erased anything says so (the first, early one only old message texts).
    assert [e.action for e in entries] == ["purge", "purge"]
    entry = entries[-1]
    assert entries[0].details["residents"] == [] and entries[0].details["messages"] > 0
    assert entry.details["by"] == "system" and entry.details["residents"] == [li.id, child.id]
    assert entry.at == clock.now()


async def test_after_the_purge_the_resident_and_the_worker_see_no_name(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_2, 5002)
    await household_at_home(resident, sessions, clock)
    await released(sessions, clock)
    clock.advance(timedelta(days=DAYS + 1))
    await purge_at(sessions, clock)
    await resident.send("/me")
    assert "You have not reported yet" in resident.last.text
    for command in ("/find Li", "/find 13812345678"):
        await worker.send(command)
        assert "No one matching" in worker.last.text
    for command in ("/monitoring", "/alerts", "/person 1"):
        await worker.send(command)
        assert "Li Na" not in worker.last.text and "13812345678" not in worker.last.text


async def test_someone_who_never_came_goes_after_the_period_from_their_last_word(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await file_report(
        resident, "Zhao Lei", "8613700002222", "G87654321", "第二网格", "南京", "Nanjing",
        arrived=False,
    )  # fmt: skip
    async with sessions() as session:
        arrival = (await session.scalars(select(Arrival))).one()
    assert arrival.expected_at is not None
    clock.at = arrival.expected_at + timedelta(days=DAYS - 1)
    assert await purge_at(sessions, clock) == 0
    clock.at = arrival.expected_at + timedelta(days=DAYS + 1)
    assert await purge_at(sessions, clock) == 1
    (zhao,) = await people(sessions)
    assert zhao.name is None and zhao.purged_at is not None


async def test_a_running_plan_is_never_purged(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await household_at_home(resident, sessions, clock)
    clock.advance(timedelta(days=200))  # end_plans has not run: the plans are still active
    assert await purge_at(sessions, clock) == 0
    assert [p.name for p in await people(sessions)] == ["Li Na", "Li Xiaoming"]


async def test_unfinished_answers_and_sent_texts_go_after_the_period_too(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I agree")
    await resident.send("Half Way")
    clock.advance(timedelta(days=DAYS + 1))
    async with sessions.begin() as session:
        done = await purge(session, clock.now(), days=DAYS, by="admin")
    assert done.people == 0 and done.conversations == 1
    assert "Half Way" not in await all_text(sessions)
    async with sessions() as session:
        entry = (await session.scalars(select(AuditEntry))).one()
    assert entry.details["by"] == "admin" and entry.details["conversations"] == 1


def test_the_purge_runs_daily_with_the_setting() -> None:
    jobs = {name: (job, every) for name, job, every in periodic_jobs(Options(retention_days=9))}
    job, every = jobs["purge_expired"]
    assert every == 24 * 3600 and job.keywords == {"days": 9}  # type: ignore[attr-defined]


# ----- /forget -----


async def test_forget_waits_while_a_plan_runs(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await household_at_home(resident, sessions, clock)
    await resident.send("/forget")
    assert "cannot be deleted yet" in resident.last.text
    assert "Li Na" in resident.last.text and "2026-07-14" in resident.last.text
    assert not resident.last.buttons
    assert [p.name for p in await people(sessions)] == ["Li Na", "Li Xiaoming"]


async def test_forget_after_the_plan_erases_the_household_once_confirmed(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_2, 5002)
    await household_at_home(resident, sessions, clock)
    await released(sessions, clock)
    await resident.send("/forget")
    assert "Li Na" in resident.last.text and "Li Xiaoming" in resident.last.text
    await resident.press("Keep it")
    assert "Nothing was deleted" in resident.last.text
    assert (await people(sessions))[0].name == "Li Na"
    await resident.send("/forget")
    await resident.press("Delete my data")
    assert "your data has been deleted" in resident.last.text
    assert [p.purged_at for p in await people(sessions)] == [clock.now(), clock.now()]
    text = await all_text(sessions)
    assert not [mark for mark in PERSONAL if mark in text]
    await resident.send("/me")
    assert "You have not reported yet" in resident.last.text
    await worker.send("/find Li")
    assert "Li Na" not in worker.last.text
    async with sessions() as session:
        entry = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "forget"))
        ).one()
    assert entry.actor_user_id == resident.user_id and entry.details["by"] == "resident"
    assert len(entry.details["residents"]) == 2
    # The privacy notice comes again before a new report.
    await resident.send("/start")
    assert "Do you agree?" in resident.last.text or "language" in resident.last.text
    await resident.send("/forget")
    assert "no record about you" in resident.last.text


async def test_forget_with_nothing_stored_says_so(resident: Person) -> None:
    await resident.send("/forget")  # before choosing a language: Telegram's, zh-hans
    assert resident.last.text == "我们没有保存您的任何登记信息。"


async def test_a_stale_confirmation_deletes_nothing(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await household_at_home(resident, sessions, clock)
    await released(sessions, clock)
    await resident.send("/forget")
    question = resident.last
    (delete,) = [b.data for row in question.buttons for b in row if "Delete" in b.text]
    await resident.press("Keep it")
    await resident.press_data(delete, question.message_id)
    assert [p.name for p in await people(sessions)] == ["Li Na", "Li Xiaoming"]


async def test_forget_of_a_pre_arrival_plan_must_wait_too(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await file_report(
        resident, "Zhao Lei", "8613700002222", "G87654321", "第二网格", "南京", "Nanjing",
        arrived=False,
    )  # fmt: skip
    async with sessions() as session:
        assert (await session.scalars(select(MonitoringPlan.status))).one() == ACTIVE
    await resident.send("/forget")
    assert "cannot be deleted yet" in resident.last.text


async def test_after_forget_the_database_files_hold_no_copy(
    resident: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    database_url: str,
) -> None:
    """Not in the rows, and not in the file's free space or its write-ahead log either: the
    bytes of every SQLite file are searched for the name, phone, ID and the address."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the files searched are SQLite's")
    worker = await worker_of(resident, sessions, clock, GRID_2, 5002)
    await household_at_home(resident, sessions, clock)
    await released(sessions, clock)
    await worker.send("/find Li Na")  # the worker looked: the audit log has it too
    await resident.send("/forget")
    await resident.press("Delete my data")
    assert "your data has been deleted" in resident.last.text
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    files = sorted(path.parent.glob(path.name + "*"))
    assert path in files
    marks = ("Li Na", "Li Xiaoming", "13812345678", "11010519491231002X", "3栋2单元501", "粤A12345")
    found = {(f.name, mark) for f in files for mark in marks if mark.encode() in f.read_bytes()}
    assert found == set()
