"""Two-way contact: a worker answers a help request in their own words, the resident reads it
as from their community and replies, the reply reaches the worker; both sides are in the
person's record and the audit log. And the community's public phone, shown to residents."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models.areas import ImportProblem, import_areas
from models.help import HelpRequest
from models.outbox import Outgoing
from models.staff import AuditEntry
from tests.handlers.test_resident import _shown_from, reported
from tests.handlers.test_staff import GRID_1, GRID_2, deliver, worker_of
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")


async def queued(sessions: async_sessionmaker[AsyncSession], purpose: str) -> list[Outgoing]:
    async with sessions() as session:
        query = select(Outgoing).where(Outgoing.purpose == purpose).order_by(Outgoing.id)
        return list(await session.scalars(query))


async def test_a_help_request_answered_in_words_and_the_reply_back(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await worker_of(resident, sessions, clock, GRID_2, 5001)
    elsewhere = await worker_of(resident, sessions, clock, GRID_1, 5004)
    await reported(resident)
    await resident.send("/request")
    await resident.press("Medical help")
    await resident.send("My blood pressure pills are running out")
    (alert,) = [a for a in await deliver(sessions, clock) if "blood pressure" in a.text]
    worker.shown.append(_shown_from(alert))
    await worker.press("Answer")
    assert "To Li Na (#1)" in "\n".join(worker.texts()[-2:])
    assert "Type your message" in worker.last.text
    await worker.send("I will bring them at 15:00. Call me if you need anything else.")
    assert "Sent to Li Na" in worker.last.text
    (to_resident,) = await queued(sessions, "contact")
    assert to_resident.chat_id == resident.user_id
    assert "A message from your community (新华南路社区), from Worker5001" in to_resident.text
    assert "(about your request no. 1)" in to_resident.text
    assert "I will bring them at 15:00" in to_resident.text
    async with sessions() as session:
        request = (await session.scalars(select(HelpRequest))).one()
    assert request.status == "answered" and request.answer is not None
    assert request.answer.startswith("I will bring them")
    # The resident replies with the button.
    resident.shown.append(_shown_from(to_resident))
    await resident.press("Reply")
    await resident.send("Thank you, 15:00 is fine")
    assert "Sent to your community" in resident.last.text
    (back,) = await queued(sessions, "contact_reply")
    assert back.chat_id == worker.user_id
    assert "Li Na (#1) replied:" in back.text and "Thank you, 15:00 is fine" in back.text
    assert "Write back" in back.buttons[0][0][0]
    # Both sides are in the record, and in the audit log.
    await worker.send("/person 1")
    record = worker.last.text
    assert "Messages" in record
    assert "Worker5001: I will bring them at 15:00" in record
    assert "Li Na: Thank you, 15:00 is fine" in record
    async with sessions() as session:
        actions = [
            (a.action, a.subject, a.actor_user_id)
            for a in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert ("message_resident", "resident:1", 5001) in actions
    assert ("resident_reply", "resident:1", resident.user_id) in actions
    # Nobody else can write to them or reply in their place.
    await elsewhere.send("/write 1")
    assert elsewhere.last.text == "No such person in your area."
    stranger = Person(resident.core, user_id=1099, language="en")
    await stranger.send(f"/reply {to_resident.id}")
    await stranger.press_data("/reply 1", 1)
    assert stranger.last.text == "That message is not one you can reply to."


async def test_the_community_phone_is_shown_to_residents(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessions.begin() as session:
        await import_areas(
            session,
            "code,name,level,parent_code,phone\n"
            "620201001001,新华南路社区,community,620201001,0937-6221234\n",
        )
    await reported(resident)
    assert "Your community's phone (新华南路社区): 0937-6221234" in resident.last.text
    await resident.send("/help")
    assert any("0937-6221234" in text for text in resident.texts()[-3:])
    # A file without the column leaves the number; a bad number is refused.
    async with sessions.begin() as session:
        result = await import_areas(
            session, "code,name,level,parent_code\n620201001001,新华南路社区,community,620201001\n"
        )
        assert result.unchanged == 1
    with pytest.raises(ImportProblem, match="not a phone number"):
        async with sessions.begin() as session:
            await import_areas(
                session,
                "code,name,level,parent_code,phone\n"
                "620201001001,新华南路社区,community,620201001,call us\n",
            )


async def test_the_words_go_with_the_persons_data(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from models.contact import ContactMessage
    from services.retention import erase

    worker = await worker_of(resident, sessions, clock, GRID_2, 5001)
    await reported(resident)
    await worker.send("/write 1")
    await worker.send("Please call the community office tomorrow.")
    async with sessions.begin() as session:
        await erase(session, [1], clock.now())
    async with sessions() as session:
        (message,) = (await session.scalars(select(ContactMessage))).all()
    assert message.text == "" and message.at == clock.now()
