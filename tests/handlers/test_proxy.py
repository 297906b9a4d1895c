"""Reporting for someone (代报) and checking in for them (代打卡): a worker files the arrival
report of an elderly resident without Telegram; the resident's check-ins are asked of the
worker, who records what they are told; every view says it was a worker who did."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models.checkins import CheckIn
from models.outbox import Outgoing
from models.people import Resident
from tests.handlers.test_register import export_reply
from tests.handlers.test_resident import _shown_from
from tests.handlers.test_staff import GRID_2, worker_of
from tests.services.test_checkins import at, run
from tests.services.test_plans import list_risk
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")


async def report_for_grandma(worker: Person) -> None:
    await worker.send("/reportfor")
    assert "Reporting for someone without Telegram" in worker.texts()[-2] + worker.last.text
    await worker.send("Zhang Guiying")
    # Her number is typed: the share button would send the worker's own.
    assert worker.last.text.startswith("Their phone number? Type it")
    assert not any(key.request_contact for row in worker.last.keyboard for key in row)
    await worker.send("13900001111")
    await worker.send("110105194001010026")
    await worker.press("雄关区")
    await worker.press("新华街道")
    await worker.press("新华南路社区")
    await worker.send("15栋1单元101")
    await worker.press("I have just arrived")
    await worker.type_place("广州", "Guangzhou")
    await worker.press("Coach")
    await worker.send("none")
    await worker.press("No more places")
    await worker.press("No one more")
    await worker.press("Something to report")
    await worker.press("36.5")
    await worker.press("None of these")
    await worker.press("Green")
    await worker.press("No test")
    await worker.press("Submit")


async def test_a_worker_reports_for_an_elderly_resident_and_checks_in_for_her(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_2, 5001)
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    await report_for_grandma(worker)
    assert "Your report is filed, for: Zhang Guiying" in "\n".join(worker.texts()[-3:])
    async with sessions() as session:
        grandma = (
            await session.scalars(select(Resident).where(Resident.name == "Zhang Guiying"))
        ).one()
    assert grandma.user_id is None and grandma.reporter_user_id == worker.user_id
    assert grandma.phone == "+8613900001111" and grandma.by_proxy
    # Her check-ins are asked of the worker, who answers what she says on the phone.
    for hour, days, temperature in ((20, 0, "36.6"), (8, 1, "36.7")):
        at(clock, hour, 5, days=days)
        assert await run(sessions, clock, "open") == 1
        async with sessions() as session:
            prompt = (
                await session.scalars(
                    select(Outgoing)
                    .where(Outgoing.purpose == "checkin", Outgoing.chat_id == worker.user_id)
                    .order_by(Outgoing.id.desc())
                )
            ).first()
        assert prompt is not None
        worker.shown.append(_shown_from(prompt))
        await worker.press("Something to report")
        assert "Zhang Guiying" in worker.last.text
        await worker.send(temperature)
        await worker.press("No medicine")
        await worker.press("None of these")
        await worker.press("Stayed home")
    async with sessions() as session:
        answered = list(
            await session.scalars(select(CheckIn).where(CheckIn.resident_id == grandma.id))
        )
    assert [(c.temperature, c.answered_by) for c in answered] == [
        (36.6, worker.user_id),
        (36.7, worker.user_id),
    ]
    # Every view says a worker reported and checked in for her.
    await worker.send(f"/person {grandma.id}")
    record = worker.last.text
    assert "Reported for them by Worker5001 (代报)" in record
    assert record.count("(recorded by a worker)") == 2
    sent = await export_reply(worker.core, worker.user_id)
    assert sent.file is not None
    book = load_workbook(io.BytesIO(sent.file.content))
    rows = list(book["新华南路社区第二网格"].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    (row,) = [dict(zip(header, r, strict=True)) for r in rows[1:] if "Zhang Guiying" in r]
    assert "reported and checked in for them by a worker (代报, 代打卡)" in str(row["Notes"])
    assert (row["Sex"], row["Age"]) == ("female", 86)
