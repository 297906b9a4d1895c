"""Charts, workbooks and papers are drawn in a child process: the same results as drawn in
the bot's own, errors come back as themselves, and a child that dies is replaced."""

from __future__ import annotations

import io
import os
import signal
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from chat.i18n import Translator
from services import drawing
from services.digest import chart_png
from services.drawing import drawn
from services.export import Sheet, workbook
from services.figures import DayPoint

SHEETS = [Sheet("网格一", ["姓名", "到达"], [["王小明", date(2026, 7, 1)], ["=1+1", None]])]


def cells(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content))
    return [[c.value for c in row] for row in book["网格一"].iter_rows()]


async def test_a_workbook_drawn_in_the_child_reads_as_one_drawn_here() -> None:
    assert cells(await drawn(workbook, SHEETS)) == cells(workbook(SHEETS))


async def test_a_chart_in_the_readers_language_is_a_png() -> None:
    points = [DayPoint(date(2026, 7, 1) + timedelta(days=i), i, 2 * i, i % 3) for i in range(14)]
    png = await drawn(chart_png, points, "新华南路社区第一网格", Translator("zh_Hant"))
    assert png.startswith(b"\x89PNG")


async def test_an_error_in_the_child_comes_back_as_itself() -> None:
    with pytest.raises(TypeError):
        await drawn(workbook, None)
    # The child is still there for the next drawing.
    assert cells(await drawn(workbook, SHEETS)) == cells(workbook(SHEETS))


async def test_a_child_that_died_is_replaced() -> None:
    await drawn(workbook, SHEETS)
    process = drawing._child._process
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert cells(await drawn(workbook, SHEETS)) == cells(workbook(SHEETS))
    assert drawing._child._process is not process


async def test_an_idle_child_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drawing, "IDLE_SECONDS", 0.05)
    await drawn(workbook, SHEETS)
    process = drawing._child._process
    assert process is not None
    assert process.wait(timeout=30) == 0


def environment_value(name: str) -> bytes:
    """Drawn in the child: what it sees of a variable of the environment."""
    return os.environ.get(name, "").encode()


async def test_the_child_is_not_given_the_bots_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    drawing._child.close()
    monkeypatch.setenv("DATA_KEY", "a-key-for-the-test")
    monkeypatch.setenv("BOT_TOKEN", "42:a-token-for-the-test")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:p@db/returnee")
    monkeypatch.setenv("RETURNEE_DRAWING_TEST", "kept")
    assert await drawn(environment_value, "RETURNEE_DRAWING_TEST") == b"kept"
    for name in ("DATA_KEY", "BOT_TOKEN", "DATABASE_URL"):
        assert await drawn(environment_value, name) == b""


async def test_a_workbook_sent_in_is_read_in_the_child_and_a_bad_one_said_as_itself() -> None:
    from services.pushed import ListProblem, read_table

    rows = await drawn(read_table, workbook(SHEETS), "list.xlsx")
    assert rows[0] == ["姓名", "到达"]
    assert rows[2] == ["=1+1", None]
    with pytest.raises(ListProblem, match="not a workbook"):
        await drawn(read_table, b"PK\x03\x04 not really a zip", "list.xlsx")
