"""After the report: /me, /edit, /arrived and /request, as a resident uses them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from chat.contract import Button
from models.help import HelpRequest
from models.outbox import Outgoing
from models.people import Arrival, Change, Resident
from services.arrivals import ask_expected_arrivals
from services.options import Options
from tests.handlers.test_report import domestic_journey, up_to_origin
from tests.support import Person, Shown

pytestmark = pytest.mark.usefixtures("areas")


async def reported(resident: Person, *, arrived: bool = True) -> None:
    await up_to_origin(resident, arrived=arrived)
    await domestic_journey(resident)
    await resident.press("Submit")


async def test_me_shows_the_record_with_the_id_masked(resident: Person) -> None:
    await reported(resident)
    await resident.send("/me")
    text = resident.last.text
    assert "Li Na" in text and "+8613812345678" in text
    assert "002X" in text and "11010519491231002X" not in text
    assert "新华南路社区第二网格" in text and "G1234" in text


async def test_me_before_reporting_says_how_to_report(resident: Person) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I agree")
    await resident.send("/me")
    assert "/start" in resident.last.text


async def test_edit_corrects_a_field_and_keeps_who_and_when(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await reported(resident)
    await resident.send("/edit")
    await resident.press("Name")
    await resident.send("Li Nana")
    assert "Saved" in resident.last.text
    async with sessions() as session:
        person = (await session.scalars(select(Resident))).one()
        change = (await session.scalars(select(Change))).one()
    assert person.name == "Li Nana"
    assert (change.field, change.old, change.new) == ("name", "Li Na", "Li Nana")
    assert change.changed_by == resident.user_id and change.changed_at == clock.now()


async def test_edit_checks_a_new_train_number_like_the_report_does(resident: Person) -> None:
    await reported(resident)
    await resident.send("/edit")
    await resident.press("Train, flight or plate number")
    await resident.send("hello")
    assert "train number" in resident.last.text
    await resident.send("D301")
    assert "Saved" in resident.last.text


async def test_a_pre_arrival_report_then_arrived(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await reported(resident, arrived=False)
    async with sessions() as session:
        arrival = (await session.scalars(select(Arrival))).one()
    assert arrival.status == "expected" and arrival.expected_at is not None
    clock.advance(timedelta(days=1))
    await resident.send("/arrived")
    await resident.press("Just now")
    assert "Welcome" in resident.last.text
    async with sessions() as session:
        arrival = (await session.scalars(select(Arrival))).one()
    assert arrival.status == "arrived" and arrival.arrived_at == clock.now()
    await resident.send("/arrived")
    assert "already recorded" in resident.last.text


async def test_on_the_expected_day_the_bot_asks_once(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await reported(resident, arrived=False)
    zone = Options().zone
    async with sessions.begin() as session:
        assert await ask_expected_arrivals(session, clock.now(), zone) == 0  # not today yet
    clock.advance(timedelta(days=1))
    async with sessions.begin() as session:
        assert await ask_expected_arrivals(session, clock.now(), zone) == 1
    async with sessions.begin() as session:
        assert await ask_expected_arrivals(session, clock.now(), zone) == 0  # once a day
    async with sessions() as session:
        queued = (await session.scalars(select(Outgoing))).one()
    assert queued.chat_id == resident.user_id and "arrived" in queued.text
    # The button in that message works like the command.
    resident.shown.append(_shown_from(queued))
    await resident.press("I have arrived")
    await resident.press("Just now")
    assert "Welcome" in resident.last.text


def _shown_from(row: Outgoing) -> Shown:
    """The queued message as it appears in the resident's chat once delivered."""
    buttons = tuple(tuple(Button(text, data) for text, data in r) for r in row.buttons)
    return Shown(10_000 + row.id, row.chat_id, row.text, buttons)


async def test_request_reaches_the_grid_and_is_numbered(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await reported(resident)
    await resident.send("/request")
    await resident.press("Daily supplies")
    await resident.send("Rice and milk for three days, please")
    assert "Received" in resident.last.text
    async with sessions() as session:
        request = (await session.scalars(select(HelpRequest))).one()
        person = (await session.scalars(select(Resident))).one()
    assert request.kind == "supplies" and request.status == "open"
    assert request.grid_id == person.grid_id and request.user_id == resident.user_id
    assert f"no. {request.id}" in resident.last.text


async def test_request_before_reporting_asks_to_report_first(resident: Person) -> None:
    await resident.send("/request")
    assert "/start" in resident.last.text


async def test_me_shows_the_reporter_first_then_the_people_they_report_for(
    resident: Person,
) -> None:
    await up_to_origin(resident)
    await resident.type_place("南京", "Nanjing")
    await resident.press("Train")
    await resident.send("G1234")
    await resident.press("No more places")
    await resident.send("Li Xiaoming")
    await resident.press("Child")
    await resident.press("No phone")
    await resident.press("All well")
    await resident.press("No one more")
    for label in ("All well", "No test", "Submit"):
        await resident.press(label)
    await resident.send("/me")
    shown = resident.last.text
    # On PostgreSQL the dependant (no Telegram account) came first before this was fixed.
    assert shown.index("Li Na") < shown.index("Li Xiaoming")
