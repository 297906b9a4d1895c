"""The papers that prove a plan (issue 19): the notice when it starts and the certificate at
its end, as PDFs opened back here (text extracted), in the reader's language, each with a code
the grid worker verifies with /verify."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from rules.policy import load_policy
from services.options import Options
from services.papers import plan_notices
from tests.handlers.test_staff import worker_of
from tests.services.test_checkins import ZONE, at
from tests.services.test_release import answer_test, queued, released_abroad, run
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
GRID_2 = "620201001001002"  # up_to_origin's address (13栋)
GRID_1 = "620201001001001"


def pdf_text(content: bytes | None) -> str:
    assert content is not None and content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def resident_zh(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> Person:
    """A Lanzhou resident who reads 简体中文."""
    core = Core(sessions, clock, Options(policy=load_policy("lanzhou")))
    return Person(core, user_id=1011, language="zh-hans")


async def in_chinese(person: Person, language: str = "简体中文") -> None:
    """The report's helper answers in English; the reader goes back to Chinese."""
    await person.send("/language")
    await person.press(language)


async def notices(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> int:
    async with sessions.begin() as session:
        return await plan_notices(session, clock.now(), ZONE)


async def test_a_home_plan_comes_with_its_notice_in_chinese_with_the_name_and_dates(
    resident_zh: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await released_abroad(resident_zh)
    await in_chinese(resident_zh)
    assert await notices(sessions, clock) == 1
    assert await notices(sessions, clock) == 0  # once per plan
    (sent,) = await queued(sessions, "paper_notice")
    assert sent.file_kind == "document" and (sent.file_name or "").endswith(".pdf")
    text = pdf_text(sent.file_content)
    assert "居家健康监测告知书" in text and "Li Na" in text
    assert "**************002X" in text and "11010519491231002X" not in text
    assert (
        "7月1日" in text and "7月7日" in text
    )  # the plan's days, as a reader of Chinese writes them
    assert "新华南路社区" in text and "13栋2单元501" in text
    code = re.search(r"/verify ([A-Z0-9]{8})", text)
    assert code is not None and code[1] in (sent.file_name or "")


async def test_the_worker_verifies_the_code_and_another_grid_cannot(
    resident_zh: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident_zh, sessions, clock, GRID_2, 5002)
    other = await worker_of(resident_zh, sessions, clock, GRID_1, 5001)
    await released_abroad(resident_zh)
    await notices(sessions, clock)
    (sent,) = await queued(sessions, "paper_notice")
    code = re.search(r"/verify ([A-Z0-9]{8})", pdf_text(sent.file_content))
    assert code is not None
    await worker.send(f"/verify {code[1].lower()}")
    assert "A genuine plan notice" in worker.last.text and "Li Na" in worker.last.text
    assert "valid: the plan is running" in worker.last.text
    await other.send(f"/verify {code[1]}")
    assert "No paper with that code" in other.last.text
    await worker.send("/verify NOTACODE")
    assert "No paper with that code" in worker.last.text


async def test_release_sends_the_certificate(
    lanzhou: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await released_abroad(lanzhou)
    at(clock, 20, 5)
    await run(sessions, clock, "tests")
    await answer_test(lanzhou, sessions, "Negative")
    at(clock, 20, 5, days=6)
    await run(sessions, clock, "tests")
    await answer_test(lanzhou, sessions, "Negative")
    at(clock, 9, 0, days=7)
    await run(sessions, clock, "end")
    (sent,) = await queued(sessions, "paper_release")
    text = pdf_text(sent.file_content)
    assert "Certificate of release from monitoring" in text and "Li Na" in text
    assert "Released on" in text and "8 Jul" in text


async def test_traditional_chinese_is_set_in_its_own_font(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    core = Core(sessions, clock, Options(policy=load_policy("lanzhou")))
    reader = Person(core, user_id=1012, language="zh-hant")
    await released_abroad(reader)
    await in_chinese(reader, "繁體中文")
    await notices(sessions, clock)
    (sent,) = await queued(sessions, "paper_notice")
    assert "居家健康監測告知書" in pdf_text(sent.file_content)
