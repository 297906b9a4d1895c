"""Pushed lists (issue 20) at the service level: the headers mapped, rows checked, people
matched, tasks placed, the same list twice changing nothing, feedback counted."""

from __future__ import annotations

import os
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models.alerts import Alert
from models.areas import Area
from models.crypto import Keyring, use_keys
from models.people import id_number_hashes
from models.plans import MonitoringPlan
from models.pushed import PushedList, PushedRow
from rules import pushed as rules
from rules.policy import load_policy
from services.pushed import AreaFinder, import_list, reencrypt_rows, rescreen_matched, summary
from services.records import Scope
from services.retention import purge
from tests.pushed_data import (
    DISTRICT,
    GRID_1,
    GRID_2,
    GRID_3,
    fifty,
    file_people,
    id_number,
    import_for_city,
)

ZONE = ZoneInfo("Asia/Shanghai")
POLICY = load_policy("lanzhou")


@pytest.mark.parametrize(
    ("headers", "fields", "unknown"),
    [
        (["姓名", "身份证号", "手机号"], {"name": 0, "id_number": 1, "phone": 2}, ()),
        (["Name", "ID Number", "Mobile", "Notes"], {"name": 0, "id_number": 1, "phone": 2}, ("Notes",)),
        (["姓名", "证件号码", "联系电话", "来源地/旅居地", "时间", "事由", "现住址", "推送单位"],
         {"name": 0, "id_number": 1, "phone": 2, "place": 3, "date": 4, "reason": 5, "address": 6},
         ("推送单位",)),
        (["  姓 名 ", "身份证号码", "预计抵达时间"], {"name": 0, "id_number": 1, "expected": 2}, ()),
    ],
)  # fmt: skip
def test_headers_are_mapped_by_name_and_unknown_ones_kept(
    headers: list[str], fields: dict[str, int], unknown: tuple[str, ...]
) -> None:
    columns = rules.map_headers(headers)
    assert dict(columns.fields) == fields
    assert columns.unknown == unknown


@pytest.mark.parametrize(
    ("id_text", "phone", "problem"),
    [
        (id_number(1), "13937000001", None),
        (id_number(1).lower(), "", None),  # an x as check digit is the X
        (id_number(2, valid=False), "13937000002", "check digit"),
        ("11010519491331002X", "", "date of birth"),
        ("1101051949123100", "", "18 digits"),
        ("E12345678", "13937000003", None),  # a passport
        ("", "12345", "phone"),
        ("", "", "neither"),
    ],
)
def test_rows_are_checked(id_text: str, phone: str, problem: str | None) -> None:
    columns = rules.map_headers(["姓名", "身份证号", "手机号"])
    read = rules.read_row(columns, ["王伟", id_text, phone], 2, date(2026, 7, 1), ZONE)
    if problem is None:
        assert isinstance(read, rules.Row)
    else:
        assert isinstance(read, rules.BadRow) and problem in read.problem and read.line == 2
        assert id_text not in read.problem or not id_text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("密接", rules.CLOSE_CONTACT),
        ("次密接", rules.CONTACT_OF_CONTACT),
        ("密切接触者", rules.CLOSE_CONTACT),
        ("入境解除集中隔离", rules.RELEASED),
        ("中高风险地区来返", rules.RISK_AREA),
        ("close contact", rules.CLOSE_CONTACT),
        ("其他", rules.OTHER),
    ],
)
def test_the_reasons_vocabulary(text: str, code: str) -> None:
    assert rules.reason_of(text) == code


async def test_addresses_find_their_grid_or_the_district(
    sessions: async_sessionmaker[AsyncSession], areas: None
) -> None:
    async with sessions() as session:
        every = list(await session.scalars(select(Area)))
        city = next(a for a in every if a.level == "city")
        finder = AreaFinder(every, city)
        assert finder.find("嘉峪关市雄关区新华街道新华南路社区3栋2单元501").code == GRID_1
        assert finder.find("新华南路社区15号楼").code == GRID_2
        assert finder.find("建设路社区8号").code == GRID_3
        assert finder.find("嘉峪关市雄关区幸福路88号").code == DISTRICT


async def _import(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, data: bytes
) -> tuple[int, int, int, int, int]:
    async with sessions.begin() as session:
        result = await import_for_city(
            session,
            data,
            source="省指挥部 协查 12-01",
            now=clock.now(),
            zone=ZONE,
            policy=POLICY,
        )
        return result.matched, result.tasks, len(result.bad), result.to_district, int(result.new)


async def test_fifty_rows_matched_placed_and_counted(
    sessions: async_sessionmaker[AsyncSession], areas: None, clock: FixedClock
) -> None:
    listed = fifty()
    async with sessions.begin() as session:
        await file_people(
            session, listed.reported, now=clock.now() - timedelta(days=1), zone=ZONE, policy=POLICY
        )
        plans_before = await session.scalar(select(func.count()).select_from(MonitoringPlan))
    matched, tasks, bad, to_district, new = await _import(sessions, clock, listed.data)
    assert (matched, tasks, bad, to_district, new) == (20, 27, 3, 2, 1)
    async with sessions() as session:
        rows = list(await session.scalars(select(PushedRow).order_by(PushedRow.line)))
        assert len(rows) == 47
        pushed = (await session.scalars(select(PushedList))).one()
        assert [b["line"] for b in pushed.bad_rows] == listed.bad_lines
        # The unknown column is kept with the row.
        assert rows[0].raw["推送单位"] == "省疫情防控指挥部"
        by_name = {r.name: r for r in rows}
        for person in listed.reported:
            row = by_name[person.name]
            assert row.resident_id is not None and row.outcome == "matched"
            assert row.match == ("phone" if person.n % 4 == 0 else "id")
        codes = {a.id: a.code for a in await session.scalars(select(Area))}
        for person in [*listed.unreported, *listed.unknown]:
            row = by_name[person.name]
            assert row.resident_id is None and codes[row.area_id] == person.grid
            task = await session.get(Alert, row.task_alert_id)
            assert task is not None and task.grid_id == row.area_id
        # Re-screened: each matched person has a newer plan; their grid's workers are told.
        plans_after = await session.scalar(select(func.count()).select_from(MonitoringPlan))
        assert plans_after == (plans_before or 0) + 20
        told = await session.scalar(
            select(func.count()).select_from(Alert).where(Alert.kind == "pushed_match")
        )
        # One message per grid, listing its residents.
        assert told == len({p.grid for p in listed.reported})
    # The same file again changes nothing.
    assert (await _import(sessions, clock, listed.data))[-1] == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PushedRow)) == 47
        city = await session.scalar(select(Area).where(Area.level == "city"))
        assert city is not None
        scope = Scope(0, (city,))
        (figures,) = await summary(session, scope, clock.now() + timedelta(days=2), by_area=False)
        assert figures.counts["pushed"] == 47
        assert figures.counts["matched"] == 20
        assert figures.counts["open"] == figures.counts["overdue"] == 27
        grid = await session.scalar(select(Area).where(Area.code == GRID_3))
        assert grid is not None
        (mine,) = await summary(session, Scope(0, (grid,)), clock.now())
        in_grid = [p for p in [*listed.reported, *listed.unreported] if p.grid == GRID_3]
        assert mine.counts["pushed"] == len(in_grid)


async def test_a_large_lists_residents_are_checked_again_by_the_job(
    sessions: async_sessionmaker[AsyncSession], areas: None, clock: FixedClock
) -> None:
    listed = fifty()
    async with sessions.begin() as session:
        await file_people(session, listed.reported, now=clock.now(), zone=ZONE, policy=POLICY)

    async def plans() -> int:
        async with sessions() as session:
            return await session.scalar(select(func.count()).select_from(MonitoringPlan)) or 0

    before = await plans()
    async with sessions.begin() as session:
        city = await session.scalar(select(Area).where(Area.level == "city"))
        assert city is not None
        result = await import_list(
            session,
            listed.data,
            "list.csv",
            source="大名单",
            deadline=timedelta(hours=24),
            area=city,
            imported_by=None,
            now=clock.now(),
            zone=ZONE,
            policy=POLICY,
            rescreen_now=5,
        )
    assert result.matched == 20 and await plans() == before + 5
    async with sessions.begin() as session:
        assert await rescreen_matched(session, clock.now(), ZONE, policy=POLICY, limit=10) == 10
    async with sessions.begin() as session:
        assert await rescreen_matched(session, clock.now(), ZONE, policy=POLICY) == 5
        assert await rescreen_matched(session, clock.now(), ZONE, policy=POLICY) == 0
    assert await plans() == before + 20


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("2026-12-03 15:30", date(2026, 12, 1), "2026-12-03 15:30"),
        ("12-03 15:30", date(2026, 12, 1), "2026-12-03 15:30"),
        ("1月3日 9:00", date(2026, 12, 20), "2027-01-03 09:00"),
        ("7-3", date(2026, 7, 1), "2026-07-03 12:00"),
        ("2026年7月3日16点30", date(2026, 7, 1), "2026-07-03 16:30"),
    ],
)
def test_moments_as_lists_write_them(text: str, today: date, expected: str) -> None:
    moment = rules.parse_moment(text, today, ZONE)
    assert moment is not None and moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M") == expected


async def test_rotate_key_re_encrypts_the_rows(
    sessions: async_sessionmaker[AsyncSession], areas: None, clock: FixedClock
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    listed = fifty(reported=0, unreported=3, bad=0, unknown=0)
    try:
        use_keys(Keyring(old))
        await _import(sessions, clock, listed.data)
        use_keys(Keyring(new, [old]))
        async with sessions.begin() as session:
            assert await reencrypt_rows(session, 0) is not None
        use_keys(Keyring(new))
        async with sessions() as session:
            rows = list(await session.scalars(select(PushedRow).order_by(PushedRow.line)))
            assert [r.id_number for r in rows] == [p.id_number for p in listed.unreported]
            assert rows[0].raw["推送单位"] == "省疫情防控指挥部"
            found = await session.scalar(
                select(PushedRow).where(
                    PushedRow.id_number_hash.in_(id_number_hashes(listed.unreported[0].id_number))
                )
            )
            assert found is not None
    finally:
        use_keys(Keyring.from_settings(os.environ["DATA_KEY"]))


async def test_the_rows_personal_data_goes_after_the_retention_period(
    sessions: async_sessionmaker[AsyncSession], areas: None, clock: FixedClock
) -> None:
    listed = fifty(reported=0, unreported=4, bad=0, unknown=1)
    await _import(sessions, clock, listed.data)
    async with sessions.begin() as session:
        assert (
            await purge(session, clock.now() + timedelta(days=29), days=30, by="t")
        ).pushed_rows == 0
    async with sessions.begin() as session:
        purged = await purge(session, clock.now() + timedelta(days=31), days=30, by="t")
    assert purged.pushed_rows == 5
    async with sessions() as session:
        rows = list(await session.scalars(select(PushedRow)))
        assert {(r.name, r.id_number, r.phone, r.address) for r in rows} == {("", None, None, "")}
        assert all(r.raw == {} for r in rows)
        city = await session.scalar(select(Area).where(Area.level == "city"))
        assert city is not None
        (figures,) = await summary(session, Scope(0, (city,)), clock.now(), by_area=False)
        assert figures.counts["pushed"] == 5
