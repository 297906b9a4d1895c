"""A pushed list in the workers' chat: the tasks reach the right grid's worker, outcomes are
recorded from the buttons, a personal link lets the person report themselves (their task
closes by itself), /pushed sums it up, and a worker of another grid sees none of it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.contract import Incoming, Kind, Send
from chat.i18n import Translator
from models.alerts import Alert
from models.areas import Area
from models.outbox import Outgoing
from models.people import Resident
from models.plans import MonitoringPlan
from models.pushed import PushedRow
from models.staff import AuditEntry
from rules.policy import load_policy
from services.alerts import render_alert
from services.digest import daily_reports
from services.options import Options
from services.pushed import link_filed
from tests.handlers.test_staff import deliver, worker_of
from tests.pushed_data import (
    GRID_1,
    GRID_3,
    fifty,
    file_people,
    id_number,
    import_for_city,
    name,
    phone,
)
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
ZONE = Options().zone
POLICY = load_policy("lanzhou")


async def imported(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> None:
    listed = fifty()
    async with sessions.begin() as session:
        await file_people(session, listed.reported, now=clock.now(), zone=ZONE, policy=POLICY)
    async with sessions.begin() as session:
        await import_for_city(
            session,
            listed.data,
            source="省指挥部 协查",
            now=clock.now(),
            zone=ZONE,
            policy=POLICY,
        )


async def workbook_rows(worker: Person) -> list[tuple[object, ...]]:
    replies = await worker.core.handle(
        Incoming(
            user_id=worker.user_id,
            chat_id=worker.user_id,
            kind=Kind.COMMAND,
            command="pushed",
            args="xlsx 1",
            language="en",
            message_id=90_000 + worker.user_id,
        )
    )
    (sent,) = [r for r in replies if isinstance(r, Send) and r.file is not None]
    assert sent.file is not None
    book = openpyxl.load_workbook(io.BytesIO(sent.file.content))
    return list(book.active.iter_rows(values_only=True))[1:]


async def test_a_task_from_the_buttons_to_the_link_and_the_feedback(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_1, 6001)
    other = await worker_of(resident, sessions, clock, GRID_3, 6002)
    await imported(sessions, clock)
    sent = await deliver(sessions, clock)
    async with sessions() as session:
        grid = await session.scalar(select(Area).where(Area.code == GRID_1))
        assert grid is not None
        open_rows = list(
            await session.scalars(
                select(PushedRow)
                .where(PushedRow.area_id == grid.id, PushedRow.resident_id.is_(None))
                .order_by(PushedRow.line)
            )
        )
    tasks = [m for m in sent if m.chat_id == 6001 and "find this person" in (m.text or "")]
    assert len(tasks) == len(open_rows) > 3
    assert "Reached by phone" in str(tasks[0].buttons)
    first, second, third = open_rows[:3]

    # A worker of another grid can do nothing with these rows.
    await other.send(f"/outcome {first.id} visited")
    assert "No such person" in other.last.text
    await other.send(f"/plink {first.id}")
    assert "No such person" in other.last.text

    await worker.send(f"/outcome {first.id} visited")
    assert "Recorded for" in worker.last.text
    await worker.send(f"/outcome {second.id} not_here")
    await worker.send("Moved to Lanzhou in October")
    assert "Saved with" in worker.last.text
    await worker.send(f"/outcome {third.id} reached")
    assert "personal link" in worker.last.text
    await worker.send(f"/plink {third.id}")
    token = re.search(r"/start (\S+)", worker.last.text)
    assert token is not None

    # The person opens the link and reports: the row is theirs, the task closed.
    person = Person(resident.core, user_id=6100, language="en")
    await person.send(f"/start {token[1]}")
    await person.press("English")
    await person.press("I agree")
    assert "Your community asked you to report here" in " ".join(person.texts())
    await person.send(third.name)
    await person.share_contact("86" + (third.phone or "").removeprefix("+86"))
    await person.send(third.id_number or "")
    for label in ("雄关区", "新华街道", "新华南路社区"):
        await person.press(label)
    await person.send(third.address.split("新华南路社区")[1])
    await person.press("I have just arrived")
    await person.type_place("南京", "Nanjing")
    await person.press("Train")
    await person.send("G7001")
    await person.press("No more places")
    await person.press("No one more")
    await person.press("All well")
    await person.press("No test")
    await person.press("Submit")
    assert "Your report is filed" in " ".join(person.texts())
    async with sessions() as session:
        row = await session.get(PushedRow, third.id)
        assert row is not None and row.outcome == "reported" and row.resident_id is not None
        task = await session.get(Alert, row.task_alert_id)
        assert task is not None and task.status != "open"
        moved = await session.get(PushedRow, second.id)
        assert moved is not None and moved.moved_to == "Moved to Lanzhou in October"

    await worker.send("/pushed")
    summary = worker.last.text
    assert "visited 1" in summary and "not here 1" in summary and "reported themselves 1" in summary
    rows = await workbook_rows(worker)
    assert len(rows) == len(open_rows) + sum(1 for p in fifty().reported if p.grid == GRID_1)
    assert {r[1] for r in rows} >= {first.name, third.name}
    assert all(r[4] == "新华南路社区第一网格" for r in rows)
    other_rows = await workbook_rows(other)
    assert other_rows and not {r[1] for r in other_rows} & {first.name, second.name, third.name}
    async with sessions() as session:
        actions = {e.action for e in await session.scalars(select(AuditEntry))}
        assert {"import", "view", "export", "pushed_outcome", "pushed_link"} <= actions
        copies = list(await session.scalars(select(Outgoing).where(Outgoing.chat_id == 6002)))
        assert not any(first.name in (c.text or "") for c in copies)


async def test_a_task_reads_in_chinese_without_codes(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await imported(sessions, clock)
    async with sessions() as session:
        tasks = list(await session.scalars(select(Alert).where(Alert.kind.like("pushed%"))))
        assert {t.kind for t in tasks} == {"pushed_task", "pushed_match"}
        for task in tasks:
            for language in ("zh_Hans", "zh_Hant"):
                shown, buttons = await render_alert(session, task, Translator(language), ZONE)
                labels = " ".join(b.text for row in buttons for b in row)
                assert not re.search(
                    r"[A-Za-z]{2,}|_", re.sub(r"<[^>]+>|/[a-z]+", "", shown + labels)
                )


async def test_the_daily_report_carries_the_open_lists(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await worker_of(resident, sessions, clock, GRID_1, 6001)
    await worker_of(resident, sessions, clock, "620201001", 6003)  # 新华街道: the street
    await imported(sessions, clock)
    clock.at = clock.now() + timedelta(hours=11)  # 21:00 in Shanghai
    async with sessions.begin() as session:
        await daily_reports(session, clock.now(), ZONE)
    async with sessions() as session:
        reports = {
            m.chat_id: m.text or ""
            for m in await session.scalars(
                select(Outgoing).where(Outgoing.purpose == "daily_report")
            )
        }
    assert "Pushed lists still open" in reports[6001] and "省指挥部 协查" in reports[6001]
    assert "open" in reports[6001] and "matched" in reports[6001]
    assert "Pushed lists still open" in reports[6003]


async def test_a_release_from_quarantine_asks_for_the_transfer_before_arrival(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_1, 6001)
    data = (
        "姓名,身份证号,手机号,事由,预计抵达时间,现住址\n"
        f"{name(7)},{id_number(7)},{phone(7)},入境解除集中隔离,2026-07-03 15:00,"
        "嘉峪关市雄关区新华街道新华南路社区3栋2单元501\n"
    ).encode()
    async with sessions.begin() as session:
        result = await import_for_city(
            session,
            data,
            source="兰州 入境推送",
            now=clock.now(),
            zone=ZONE,
            policy=POLICY,
        )
    assert result.transfers == 1
    sent = await deliver(sessions, clock)
    (task,) = [m for m in sent if m.chat_id == 6001]
    assert "contact them before they travel" in (task.text or "")
    assert "Record the transfer" in str(task.buttons)
    async with sessions() as session:
        row = (await session.scalars(select(PushedRow))).one()
    await worker.send(f"/transfer {row.id}")
    await worker.send("7-3 16:30")
    assert "separated by commas" in worker.last.text
    await worker.send("7-3 16:30, 王师傅, 甘B12345")
    assert "Transfer recorded" in worker.last.text
    async with sessions() as session:
        row = (await session.scalars(select(PushedRow))).one()
        assert row.transfer_by == "王师傅" and row.transfer_vehicle == "甘B12345"
        assert row.transfer_at is not None
        assert row.transfer_at.astimezone(ZONE).strftime("%m-%d %H:%M") == "07-03 16:30"

    # They report once home: the row is theirs, and their plan counts from the transfer.
    arriving = next(
        p for p in fifty(reported=8, unreported=0, bad=0, unknown=0).reported if p.n == 7
    )
    async with sessions.begin() as session:
        await file_people(session, [arriving], now=clock.now(), zone=ZONE, policy=POLICY)
        filed = (
            await session.scalars(select(Resident).where(Resident.name == arriving.name))
        ).one()
        (linked,) = await link_filed(session, [filed], clock.now(), ZONE, policy=POLICY)
        assert linked.outcome == "reported"
        plan = await session.scalar(
            select(MonitoringPlan)
            .where(MonitoringPlan.resident_id == filed.id)
            .order_by(MonitoringPlan.id.desc())
        )
        assert plan is not None and plan.starts_on.isoformat() == "2026-07-03"


async def test_a_possible_match_is_confirmed_with_one_tap(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Same name in the same grid, but neither ID nor phone on the list matches: the task says
    so; the worker's tap links the row to the resident and checks them again."""
    worker = await worker_of(resident, sessions, clock, GRID_1, 6001)
    listed = fifty(reported=1, unreported=0, bad=0, unknown=0, first=3)  # n=3: grid 1
    (person,) = listed.reported
    async with sessions.begin() as session:
        await file_people(session, [person], now=clock.now(), zone=ZONE, policy=POLICY)
    data = (f"姓名,手机号,事由,现住址\n{person.name},{phone(900)},密接,{person.address}\n").encode()
    async with sessions.begin() as session:
        result = await import_for_city(
            session,
            data,
            source="协查",
            now=clock.now(),
            zone=ZONE,
            policy=POLICY,
        )
    assert (result.matched, result.possible, result.tasks) == (0, 1, 1)
    sent = await deliver(sessions, clock)
    (task,) = [m for m in sent if m.chat_id == 6001 and "find this person" in (m.text or "")]
    assert "Possibly already reported" in (task.text or "")
    assert "Same person" in str(task.buttons)
    async with sessions() as session:
        row = (await session.scalars(select(PushedRow))).one()
    await worker.send(f"/outcome {row.id} same")
    assert "Linked:" in worker.last.text
    async with sessions() as session:
        row = (await session.scalars(select(PushedRow))).one()
        assert row.resident_id is not None and row.outcome == "matched"
        assert row.rescreened_at is not None
        task_alert = await session.get(Alert, row.task_alert_id)
        assert task_alert is not None and task_alert.status == "acknowledged"
