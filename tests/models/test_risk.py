"""Risk listings: imported all or nothing, history kept, the level on any date known."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.risk import RiskImportProblem, import_risk_areas, listings_on
from rules import places
from rules.risk import risk_of

NOW = datetime(2021, 7, 1, tzinfo=UTC)


async def test_a_new_listing_closes_the_old_one_and_history_is_kept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        first = await import_risk_areas(
            session,
            "place,level,valid_from\n中国/上海市,medium,2021-06-01\n",
            source="a.csv",
            now=NOW,
        )
    assert first.added == 1 and [r.level for r in first.raised] == ["medium"]
    async with sessions.begin() as session:
        second = await import_risk_areas(
            session, "place,level,valid_from\n上海市,high,2021-06-20\n", source="b.csv", now=NOW
        )
    assert [r.level for r in second.raised] == ["high"]
    async with sessions() as session:
        assert [x.level for x in await listings_on(session, date(2021, 6, 10))] == ["medium"]
        assert [x.level for x in await listings_on(session, date(2021, 6, 25))] == ["high"]
        assert await listings_on(session, date(2021, 5, 1)) == []


async def test_lowering_a_level_raises_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await import_risk_areas(
            session, "place,level,valid_from\n武汉,high,2021-06-01\n", source="a.csv", now=NOW
        )
        lowered = await import_risk_areas(
            session, "place,level,valid_from\n湖北省武汉市,low,2021-06-15\n", source="b", now=NOW
        )
    assert lowered.raised == []


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("上海,severe,2021-06-01", "level 'severe'"),
        ("上海,high,June 1st", "YYYY-MM-DD"),
        (",high,2021-06-01", "place is required"),
        ("上海,high,2021-06-01,2021-05-01", "before valid_from"),
    ],
)
async def test_a_bad_row_is_named_by_line_and_nothing_is_imported(
    sessions: async_sessionmaker[AsyncSession], row: str, problem: str
) -> None:
    text = f"place,level,valid_from,valid_to\n北京,low,2021-06-01,\n{row}\n"
    with pytest.raises(RiskImportProblem) as caught:
        async with sessions.begin() as session:
            await import_risk_areas(session, text, source="x.csv", now=NOW)
    assert str(caught.value).startswith("line 3:") and problem in str(caught.value)
    async with sessions() as session:
        assert await listings_on(session, date(2021, 6, 2)) == []


async def test_unknown_places_are_kept_and_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        result = await import_risk_areas(
            session,
            "place,level,valid_from\n"
            "中国/湖北省/武汉市/江厦区,high,2021-06-01\n"  # no such district
            "中国/上海市/浦东新区/祝桥镇,high,2021-06-01\n",  # a town of a known district
            source="x.csv",
            now=NOW,
        )
    assert result.unresolved == ["中国/湖北省/武汉市/江厦区"]
    assert result.partial == ["中国/上海市/浦东新区/祝桥镇"]
    async with sessions() as session:
        listed = {x.place: x.place_code for x in await listings_on(session, date(2021, 6, 2))}
    assert listed == {"中国/湖北省/武汉市/江厦区": None, "中国/上海市/浦东新区/祝桥镇": "310115"}


async def test_a_street_and_its_district_are_listed_apart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await import_risk_areas(
            session,
            "place,level,valid_from\n"
            "青海省/西宁市/城东区,medium,2021-06-01\n"
            "青海省/西宁市/城东区/东关大街街道,high,2021-06-01\n"
            "青海省/西宁市/城东区/周家泉街道,high,2021-06-01\n",
            source="a.csv",
            now=NOW,
        )
        # A new level for one street closes that street's listing only.
        later = await import_risk_areas(
            session,
            "place,level,valid_from\n西宁市城东区东关大街街道,low,2021-06-15\n",
            source="b.csv",
            now=NOW,
        )
    assert later.raised == [] and later.partial == ["西宁市城东区东关大街街道"]
    async with sessions() as session:
        june_20 = await listings_on(session, date(2021, 6, 20))
    assert sorted((x.place, x.level) for x in june_20) == [
        ("西宁市城东区东关大街街道", "low"),
        ("青海省/西宁市/城东区", "medium"),
        ("青海省/西宁市/城东区/周家泉街道", "high"),
    ]
    # Someone from 城东区: medium for certain, high possible (周家泉街道), to confirm.
    found = risk_of("630102", "城东区", date(2021, 6, 16), date(2021, 6, 20), june_20)
    assert (found.level, found.possible, found.needs_confirmation) == ("medium", "high", True)


async def test_matching_is_certain_inside_a_listing_and_possible_around_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await import_risk_areas(
            session,
            "place,level,valid_from\n中国/上海市/浦东新区,high,2021-06-01\n湖北省武汉市,medium,2021-06-01\n",
            source="x.csv",
            now=NOW,
        )
    async with sessions() as session:
        listed = await listings_on(session, date(2021, 6, 20))
    shanghai = places.match("上海")[0]
    wuhan = places.match("武汉")[0]
    pudong = places.match("上海浦东")[0]
    june = (date(2021, 6, 10), date(2021, 6, 20))
    assert risk_of(wuhan.code, "武汉", *june, listed).level == "medium"
    inside = risk_of(pudong.code, "浦东", *june, listed)
    assert inside.level == "high" and not inside.needs_confirmation
    around = risk_of(shanghai.code, "上海", *june, listed)
    assert around.level is None and around.possible == "high" and around.needs_confirmation
    before = risk_of(wuhan.code, "武汉", date(2021, 5, 1), date(2021, 5, 20), listed)
    assert before.level is None
