"""Each adult answers for themself: a companion with a phone is invited with a personal link,
and once she opens it her check-ins are her own; children stay with the reporter."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.checkins import CheckIn
from models.people import Resident
from services.options import Options
from tests.handlers.test_report import up_to_origin
from tests.services.test_checkins import at, outbox, run
from tests.services.test_plans import list_risk
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")


async def family_reported(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Li Na, her husband Wang Fang (with a phone) and their child (without), into home
    isolation."""
    await list_risk(sessions, clock, "广东省广州市,medium,2026-06-01\n")
    await up_to_origin(resident)
    await resident.type_place("广州", "Guangzhou")
    await resident.press("Own car")
    await resident.send("粤A12345")
    await resident.press("No more places")
    await resident.send("Wang Fang")
    await resident.press("Spouse")
    await resident.send("13912345678")
    await resident.press("All well")
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


def token_in(text: str) -> str:
    found = re.search(r"start[= ]([A-Za-z0-9_-]{8,})", text)
    assert found, text
    return found[1]


async def reporters(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        people = {r.id: r.name for r in await session.scalars(select(Resident))}
        return {
            people[c.resident_id] or "": c.reporter_user_id
            for c in await session.scalars(select(CheckIn))
        }


async def test_a_companion_opens_her_link_and_answers_her_own_check_ins(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    core = Core(sessions, clock, Options(bot_username="returnee_bot"))
    li, wang = Person(core, user_id=1001), Person(core, user_id=1002)
    await family_reported(li, sessions, clock)
    # After the report: an invitation for the adult with a phone, none for the child.
    assert li.last.labels == ["📨 Invite Wang Fang"]
    await li.send("/me")
    assert li.last.labels == ["📨 Invite Wang Fang"]
    await li.press("Invite Wang Fang")
    link = li.last.text
    assert "https://t.me/returnee_bot?start=" in link
    token = token_in(link)
    await li.send(f"/start {token}")  # her own link is not for her
    assert "send it to them" in li.last.text

    at(clock, 20, 0)  # before Wang Fang opens it, Li Na answers for all three
    await run(sessions, clock, "open")
    assert set((await reporters(sessions)).values()) == {li.user_id}

    await wang.send(f"/start {token}")
    await wang.press("English")
    await wang.press("I agree")
    assert "Welcome, Wang Fang!" in wang.last.text
    assert "All well" in wang.last.labels[0]  # the evening's check-in is hers now
    assert (await reporters(sessions))["Wang Fang"] == wang.user_id
    await wang.press("All well")
    await wang.press("36.5")  # home isolation asks a reading all the same
    await wang.press("No medicine")
    assert "Recorded" in wang.last.text
    await li.send("/checkin")  # Li Na: herself and the child
    for name in ("Li Na", "Li Xiaoming"):
        assert f"{name}: temperature now" in li.last.text
        await li.press("36.5")
        await li.press("No medicine")
        await li.press("None of these")
        await li.press("Stayed home")
    await li.send("/me")
    assert "Wang Fang" not in li.last.text and not li.last.labels

    at(clock, 8, 0, days=1)
    await run(sessions, clock, "open")
    prompts = await outbox(sessions, "checkin")
    assert {p.chat_id for p in prompts if "2026-07-02" in (p.dedupe_key or "")} == {
        li.user_id,
        wang.user_id,
    }
    other = Person(core, user_id=1003)  # the link works once
    await other.send(f"/start {token}")
    await other.press("English")
    await other.press("I agree")
    assert "not valid" in other.last.text


async def test_an_invitation_expires_and_is_read_out_as_a_code_without_a_username(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await family_reported(resident, sessions, clock)
    await resident.press("Invite Wang Fang")
    assert "t.me" not in resident.last.text
    token = token_in(resident.last.text)
    clock.advance(timedelta(days=3, minutes=1))
    wang = Person(resident.core, user_id=1002)
    await wang.send(f"/start {token}")
    await wang.press("English")
    await wang.press("I agree")
    assert "expired" in wang.last.text
    await resident.send("/invite 99999")  # not one of hers
    assert "nobody to invite" in resident.last.text
