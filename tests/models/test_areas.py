"""Importing our jurisdiction: all or nothing, bad rows named by line, re-imports rename."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.areas import Area, ImportProblem, area_by_code, import_areas

DEMO = (Path(__file__).parents[2] / "bot" / "demo_data" / "areas.csv").read_text(encoding="utf-8")


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Area)) or 0)


async def test_the_demo_hierarchy_imports(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        result = await import_areas(session, DEMO)
    assert result.added == 15 and result.renamed == 0
    async with sessions() as session:
        grid = await area_by_code(session, "620201001001002")
        assert grid is not None and grid.level == "grid"
        assert grid.path == "620200/620201/620201001/620201001001/620201001001002"


async def test_a_re_import_renames_and_keeps_ids(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await import_areas(session, DEMO)
    async with sessions() as session:
        before = await area_by_code(session, "620201001")
        assert before is not None
    renamed = DEMO.replace("新华街道", "新华路街道")
    async with sessions.begin() as session:
        result = await import_areas(session, renamed)
    assert (result.added, result.renamed, result.unchanged) == (0, 1, 14)
    async with sessions() as session:
        after = await area_by_code(session, "620201001")
        assert after is not None and after.id == before.id and after.name == "新华路街道"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("X1,某网格,grid,NOPE", "parent NOPE is not known"),
        ("X1,某网格,village,620201001001", "level 'village'"),
        ("X1,,grid,620201001001", "code and name are required"),
        ("X1,某街道,street,620201001001", "cannot sit under a community"),
        ("620201,雄关区,district,620200", "appears twice"),
        ("X2,某区,district,", "needs a parent_code"),
    ],
)
async def test_a_bad_row_is_named_by_line_and_nothing_is_imported(
    sessions: async_sessionmaker[AsyncSession], row: str, problem: str
) -> None:
    text = DEMO + row + "\n"
    with pytest.raises(ImportProblem) as caught:
        async with sessions.begin() as session:
            await import_areas(session, text)
    assert caught.value.line == 17
    assert problem in str(caught.value) and str(caught.value).startswith("line 17:")
    assert await count(sessions) == 0


async def test_a_file_without_the_columns_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(ImportProblem, match="header"):
        async with sessions.begin() as session:
            await import_areas(session, "id,title\n1,x\n")
