"""Grid workers: joining with a code, alerts reaching them, and nothing from another grid."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models.alerts import Alert
from models.areas import area_by_code
from models.outbox import Outgoing
from models.staff import AuditEntry, Invite, Staff
from services.alerts import deliver_alerts
from services.options import Options
from tests.conftest import POSTGRES
from tests.handlers.test_resident import _shown_from
from tests.services.test_plans import report_from
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
GRID_2 = "620201001001002"  # where up_to_origin's residents stay
GRID_1 = "620201001001001"


async def invite(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    code: str,
    area: str,
    role: str = "grid",
) -> None:
    async with sessions.begin() as session:
        found = await area_by_code(session, area)
        assert found is not None
        session.add(
            Invite(
                code=code,
                area_id=found.id,
                role=role,
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(hours=72),
            )
        )


async def worker_of(
    resident: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    area: str,
    user_id: int,
) -> Person:
    worker = Person(resident.core, user_id=user_id, language="en", first_name=f"Worker{user_id}")
    await invite(sessions, clock, f"CODE{user_id}", area)
    await worker.send(f"/join code{user_id}")
    return worker


async def deliver(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> list[Outgoing]:
    async with sessions.begin() as session:
        await deliver_alerts(session, clock.now(), Options().zone)
    async with sessions() as session:
        return list(await session.scalars(select(Outgoing).where(Outgoing.purpose == "alert")))


async def test_a_worker_joins_once_with_a_code(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_2, 5001)
    assert "Welcome, grid worker of" in worker.last.text and "第二网格" in worker.last.text
    someone_else = Person(resident.core, user_id=5002, language="en")
    await someone_else.send("/join CODE5001")
    assert "not valid or has expired" in someone_else.last.text
    async with sessions() as session:
        assert len((await session.scalars(select(Staff))).all()) == 1


async def test_an_expired_code_is_refused(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await invite(sessions, clock, "LATE123456", GRID_2)
    clock.advance(timedelta(hours=73))
    worker = Person(resident.core, user_id=5003, language="en")
    await worker.send("/join LATE123456")
    assert "expired" in worker.last.text


async def test_an_alert_reaches_the_grids_worker_who_acknowledges_it(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_2, 5001)
    elsewhere = await worker_of(resident, sessions, clock, GRID_1, 5004)
    await report_from(resident, "南京", "Nanjing", symptoms="Cough")
    (sent,) = await deliver(sessions, clock)
    assert sent.chat_id == worker.user_id
    assert "fever clinic" in sent.text and "Li Na" in sent.text and "+8613812345678" in sent.text
    assert [s.id for s in await deliver(sessions, clock)] == [sent.id]  # once only
    worker.shown.append(_shown_from(sent))
    await worker.press("Acknowledge")
    assert "acknowledged" in worker.last.text
    async with sessions() as session:
        alert = (await session.scalars(select(Alert))).one()
    assert alert.acknowledged_by == worker.user_id
    # The worker of another grid cannot act on it, even with forged button data.
    await elsewhere.press_data(f"/ack {alert.id}", 1)
    assert elsewhere.last.text == "No such alert in your area."
    await elsewhere.send("/alerts")
    assert elsewhere.last.text == "No open alerts in your area."


async def test_a_help_request_reaches_the_worker(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await worker_of(resident, sessions, clock, GRID_2, 5001)
    await report_from(resident, "南京", "Nanjing")
    await resident.send("/request")
    await resident.press("Medical help")
    await resident.send("I need my blood pressure pills")
    (sent,) = [s for s in await deliver(sessions, clock) if "help" in s.text.lower()]
    assert "blood pressure pills" in sent.text


async def test_alerts_wait_for_a_worker_to_join(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await report_from(resident, "南京", "Nanjing", symptoms="Cough")
    assert await deliver(sessions, clock) == []
    await worker_of(resident, sessions, clock, GRID_2, 5001)
    assert len(await deliver(sessions, clock)) == 1


async def test_alerts_is_for_workers_only(resident: Person) -> None:
    resident.language = "en"
    await resident.send("/alerts")
    assert "for grid workers" in resident.last.text


async def test_the_resident_is_told_who_their_grid_worker_is(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await worker_of(resident, sessions, clock, GRID_2, 5001)
    await report_from(resident, "南京", "Nanjing")
    filed = next(m.text for m in resident.shown if "Your report is filed" in m.text)
    assert "Your grid worker: Worker5001" in filed


async def test_help_lists_the_worker_commands_only_for_workers(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_2, 5001)
    await worker.send("/help")
    assert "For grid workers" in worker.last.text and "/export" in worker.last.text
    await resident.send("/help")
    assert "/forget" in resident.last.text and "For grid workers" not in resident.last.text


@pytest.mark.skipif(not POSTGRES, reason="the race is between PostgreSQL transactions")
async def test_one_code_sent_at_once_by_many_makes_one_worker(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await invite(sessions, clock, "ONCE234567", GRID_2)
    people = [Person(resident.core, user_id=6000 + i, language="en") for i in range(8)]
    await asyncio.gather(*(p.send("/join ONCE234567") for p in people))
    welcomed = [p for p in people if "Welcome, grid worker" in p.last.text]
    refused = [p for p in people if "not valid or has expired" in p.last.text]
    assert len(welcomed) == 1 and len(refused) == 7
    async with sessions() as session:
        (staff,) = (await session.scalars(select(Staff))).all()
        code = (await session.scalars(select(Invite))).one()
    assert staff.user_id == welcomed[0].user_id == code.used_by


async def test_join_attempts_are_limited_and_each_failure_audited(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await invite(sessions, clock, "GOOD234567", GRID_2)
    guesser = Person(resident.core, user_id=5009, language="en")
    for guess in range(5):
        await guesser.send(f"/join WRONG{guess}")
        assert "not valid or has expired" in guesser.last.text
    # The sixth attempt is refused even with the right code, and the code stays unused.
    await guesser.send("/join GOOD234567")
    assert "Too many codes tried" in guesser.last.text
    async with sessions() as session:
        failures = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "join_failed"))
        ).all()
        assert (await session.scalars(select(Staff))).all() == []
    assert sorted(f.details["code"] for f in failures) == [f"WRONG{i}" for i in range(5)]
    assert {f.actor_user_id for f in failures} == {5009}
    # An hour on, they may try again.
    clock.advance(timedelta(hours=1, minutes=1))
    await guesser.send("/join GOOD234567")
    assert "Welcome, grid worker" in guesser.last.text


async def test_text_that_would_read_in_another_order_reaches_the_worker_plain(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """A right-to-left override (or an isolate, or a zero-width space) in a name or a message
    would show a worker letters in another order than they are stored; they are dropped."""
    await invite(sessions, clock, "BIDI234567", GRID_2)
    worker = Person(resident.core, user_id=5010, language="en", first_name="Wang\u202eFang")
    await worker.send("/join BIDI234567")
    await report_from(resident, "南京", "Nanjing")
    filed = next(m.text for m in resident.shown if "Your report is filed" in m.text)
    assert "Your grid worker: WangFang" in filed
    await resident.send("/request")
    await resident.press("Medical help")
    await resident.send("pills \u2067for\u2069 \u202bmy\u202c mo\u200bther\ufeff")
    (sent,) = [s for s in await deliver(sessions, clock) if "help" in s.text.lower()]
    assert "pills for my mother" in sent.text
    async with sessions() as session:
        (staff,) = (await session.scalars(select(Staff))).all()
    assert staff.name == "WangFang"


async def test_every_copy_of_an_alert_shows_who_handled_it(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """One worker acknowledges and records a call: the copies the others got are edited in
    place (or, not sent yet, changed before they go) to say who did what and when, and lose
    their buttons."""
    first = await worker_of(resident, sessions, clock, GRID_2, 5001)
    await worker_of(resident, sessions, clock, GRID_2, 5002)
    third = Person(resident.core, user_id=5003, language="zh-hans", first_name="王网格")
    await invite(sessions, clock, "CODE5003", GRID_2)
    await third.send("/join code5003")
    await report_from(resident, "南京", "Nanjing", symptoms="Cough")
    copies = {o.chat_id: o for o in await deliver(sessions, clock)}
    assert set(copies) == {5001, 5002, 5003} and all(o.buttons for o in copies.values())
    async with sessions.begin() as session:
        for chat_id, message_id in ((5001, 701), (5002, 702)):  # the third is not sent yet
            row = await session.get(Outgoing, copies[chat_id].id)
            assert row is not None
            row.status, row.message_id = "sent", message_id
    first.shown.append(_shown_from(copies[5001]))
    await first.press("Acknowledge")

    async def edits() -> dict[int, list[Outgoing]]:
        async with sessions() as session:
            rows = await session.scalars(
                select(Outgoing).where(Outgoing.purpose == "alert_edit").order_by(Outgoing.id)
            )
            found: dict[int, list[Outgoing]] = {}
            for row in rows:
                found.setdefault(row.chat_id, []).append(row)
            return found

    edited = await edits()
    assert set(edited) == {5001, 5002}
    (to_second,) = edited[5002]
    assert to_second.edit_message_id == 702 and to_second.buttons == []
    # The worker who acknowledged keeps what they may still do with it, and sees it was them.
    (own,) = edited[5001]
    kept = [label for row in own.buttons for label, _ in row]
    assert own.edit_message_id == 701 and "acknowledged (Worker5001" in own.text
    assert "📝 Record action" in kept and "⬆️ Escalate" in kept
    assert not any("Acknowledge" in label for label in kept)
    assert "Li Na" in to_second.text and "acknowledged (Worker5001, 1 Jul" in to_second.text
    async with sessions() as session:
        pending = await session.get(Outgoing, copies[5003].id)
    assert pending is not None and pending.buttons == [] and pending.status == "pending"
    assert "✅ 已确认（Worker5001，7月1日" in pending.text
    # A call recorded with a note: the sent copies are edited again, with both steps.
    await first.press("Record action")
    await first.press("Called")
    await first.send("no fever now")
    latest = (await edits())[5002][-1]
    assert "acknowledged (Worker5001" in latest.text and "called (Worker5001" in latest.text
    assert "no fever now" in latest.text and latest.edit_message_id == 702
