"""The arrival report as a resident goes through it, question by question."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from chat.clock import FixedClock
from models.people import Arrival, Household, Resident
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")


async def consent(resident: Person) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I agree")


async def up_to_origin(resident: Person, *, arrived: bool = True) -> None:
    await consent(resident)
    await resident.send("Li Na")
    await resident.share_contact("8613812345678")
    await resident.send("11010519491231002X")
    await resident.press("雄关区")
    await resident.press("新华街道")
    await resident.press("新华南路社区")
    await resident.send("13栋2单元501")
    if arrived:
        await resident.press("I have just arrived")
    else:
        await resident.press("I will arrive in the next 3 days")
        await resident.press("Tomorrow")
        await resident.press("14:00")


async def domestic_journey(resident: Person) -> None:
    await resident.send("上海")
    await resident.press("Train")
    await resident.send("g1234 5车12F")
    await resident.press("No more places")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.press("36.5")
    await resident.press("None of these")
    await resident.press("Green")
    await resident.press("Negative")
    await resident.press("Yesterday")


async def filed(sessions: async_sessionmaker[AsyncSession]) -> list[Resident]:
    async with sessions() as session:
        query = select(Resident).options(
            selectinload(Resident.arrivals).selectinload(Arrival.stays),
            selectinload(Resident.household),
        )
        return list((await session.scalars(query.order_by(Resident.id))).all())


async def test_a_domestic_arrival_from_start_to_summary_and_submit(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await up_to_origin(resident)
    await domestic_journey(resident)
    review = resident.last
    assert "Please check your report" in review.text
    assert "Li Na" in review.text and "+8613812345678" in review.text
    assert "**************002X" in review.text and "11010519491231002X" not in review.text
    assert "新华南路社区" in review.text and "G1234" in review.text
    await resident.press("Submit")
    assert "Your report is filed" in resident.last.text
    # The address's building (13) places the household in the second grid (buildings 11-20).
    assert "新华南路社区第二网格" in resident.last.text
    (person,) = await filed(sessions)
    assert person.name == "Li Na" and person.phone == "+8613812345678"
    assert person.id_number == "11010519491231002X" and person.household.address == "13栋2单元501"
    (arrival,) = person.arrivals
    assert arrival.status == "arrived" and arrival.transport == "train"
    assert arrival.transport_number == "G1234" and arrival.seat == "5车12F"
    assert arrival.origin_text and arrival.temperature == 36.5 and arrival.symptoms == []
    assert arrival.health_code == "green" and arrival.test_result == "negative"


async def test_the_contact_keyboard_goes_away_after_the_phone(resident: Person) -> None:
    await consent(resident)
    await resident.send("Li Na")
    assert resident.last.keyboard[0][0].request_contact
    await resident.send("13812345678")
    assert any(m.remove_keyboard for m in resident.shown[-3:])


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("1", "full name"),
        ("12345", "phone number"),
        ("11010519491231002Y", "ID number"),
    ],
)
async def test_a_bad_answer_is_re_asked_with_an_example(
    resident: Person, answer: str, problem: str
) -> None:
    await consent(resident)
    if problem != "full name":
        await resident.send("Li Na")
    if problem == "ID number":
        await resident.send("13812345678")
    question = resident.last.text
    await resident.send(answer)
    explanation, _, asked_again = resident.last.text.partition("\n\n")
    assert problem in explanation
    assert "e.g." in explanation or "Example" in explanation
    assert question.endswith(asked_again)


async def test_temperature_accepts_comma_and_degree_sign_and_rejects_nonsense(
    resident: Person,
) -> None:
    await up_to_origin(resident)
    await resident.send("上海")
    await resident.press("Own car")
    await resident.send("粤B12345")
    await resident.press("No more places")
    await resident.press("No one more")
    await resident.press("Something to report")
    await resident.send("45")
    assert "between 34.0 and 42.5" in resident.last.text
    await resident.send("36,8℃")
    assert "Do you have any of these" in resident.last.text


async def test_a_pre_arrival_report_cannot_be_more_than_3_days_ahead(
    resident: Person, clock: FixedClock
) -> None:
    await up_to_origin(resident, arrived=False)
    assert "Where are you coming from" in resident.last.text
    # Back up: choose a date 5 days ahead by typing it.
    await resident.send("/start")


async def test_an_arrival_cannot_be_in_the_future(resident: Person, clock: FixedClock) -> None:
    await consent(resident)
    await resident.send("Li Na")
    await resident.send("13812345678")
    await resident.send("E12345678")
    await resident.press("雄关区")
    await resident.press("新华街道")
    await resident.press("新华南路社区")
    await resident.send("3栋2单元501")
    await resident.press("I arrived earlier")
    tomorrow = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%d 10:00")
    await resident.send(tomorrow)
    assert "must be between" in resident.last.text
    long_ago = (clock.now() - timedelta(days=20)).strftime("%Y-%m-%d 10:00")
    await resident.send(long_ago)
    assert "must be between" in resident.last.text
    await resident.send((clock.now() - timedelta(days=2)).strftime("%Y-%m-%d 09:30"))
    assert "Where are you coming from" in resident.last.text


async def test_an_arrival_from_abroad_asks_the_port_and_quarantine(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await up_to_origin(resident)
    await resident.send("Japan")
    await resident.press("Flight")
    await resident.send("NH 919")
    assert "enter the country" in resident.last.text
    await resident.send("上海浦东机场")
    await resident.press("It has ended")
    await resident.press("Yesterday")
    await resident.press("No more places")
    await resident.press("No one more")
    await resident.press("All well")
    await resident.press("No test")
    assert "entered at 上海浦东机场" in resident.last.text
    await resident.press("Submit")
    (person,) = await filed(sessions)
    arrival = person.arrivals[0]
    assert arrival.entry_port == "上海浦东机场" and arrival.quarantine_ended_on is not None
    assert arrival.transport_number == "NH919" and arrival.seat is None


async def test_two_companions_one_without_a_phone_each_get_a_record(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await up_to_origin(resident)
    await resident.send("湖北武汉")
    await resident.press("Train")
    await resident.send("D301")
    await resident.send("南京")
    await resident.press("/")  # the first day offered
    await resident.press("/")
    assert "南京" in resident.last.text or "Nanjing" in resident.last.text
    await resident.press("No more places")
    await resident.send("Wang Fang")
    await resident.press("Spouse")
    await resident.send("13912345678")
    await resident.press("All well")
    # A child's own ID number, typed after the name; their own temperature.
    await resident.send("Li Xiaoming 110105201507010018")
    await resident.press("Child")
    await resident.press("No phone")
    await resident.press("Something to report")
    await resident.press("37.5")
    await resident.press("Cough")
    await resident.press("Done")
    assert "Wang Fang" in resident.last.text and "Li Xiaoming" in resident.last.text
    await resident.press("No one more")
    await resident.press("All well")
    await resident.press("No test")
    await resident.press("Submit")
    people = await filed(sessions)
    assert [p.name for p in people] == ["Li Na", "Wang Fang", "Li Xiaoming"]
    assert people[1].phone == "+8613912345678" and people[2].phone is None
    assert {p.household_id for p in people} == {people[0].household_id}
    assert all(p.reporter_user_id == resident.user_id for p in people)
    assert people[2].arrivals[0].symptoms == ["cough"]
    assert people[2].arrivals[0].temperature == 37.5 and people[1].arrivals[0].temperature is None
    assert people[2].id_number == "110105201507010018" and people[1].id_number is None
    assert all(len(p.arrivals[0].stays) == 1 for p in people)
    assert len({p.arrivals[0].id for p in people}) == 3


async def test_editing_from_the_summary_comes_back_to_the_summary(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await up_to_origin(resident)
    await domestic_journey(resident)
    await resident.press("✏️ Journey")
    await resident.press("I have just arrived")
    await resident.send("上海")
    await resident.press("Flight")
    await resident.send("CA1234")
    assert "Please check your report" in resident.last.text and "CA1234" in resident.last.text
    await resident.press("✏️ About you")
    await resident.send("Li Nana")
    await resident.send("13812345678")
    await resident.send("11010519491231002X")
    assert "Li Nana" in resident.last.text
    await resident.press("Submit")
    (person,) = await filed(sessions)
    assert person.name == "Li Nana" and person.arrivals[0].transport == "flight"


async def test_a_restart_mid_report_loses_nothing(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from handlers.app import Core
    from services.options import Options

    await up_to_origin(resident)
    resident.core = Core(sessions, clock, Options())
    await domestic_journey(resident)
    await resident.press("Submit")
    (person,) = await filed(sessions)
    assert person.household.address == "13栋2单元501"


async def test_user_text_is_escaped_in_the_summary(resident: Person) -> None:
    await consent(resident)
    await resident.send("Li <b>Na</b>")
    assert "no digits, signs or emoji" in resident.last.text
    await resident.send("Li Na")
    await resident.send("13812345678")
    await resident.send("E12345678")
    await resident.press("雄关区")
    await resident.press("新华街道")
    await resident.press("新华南路社区")
    await resident.send("<script>3栋</script>")
    await resident.press("I have just arrived")
    await domestic_journey(resident)
    assert "&lt;script&gt;" in resident.last.text


async def test_households_are_one_per_report(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await up_to_origin(resident)
    await domestic_journey(resident)
    await resident.press("Submit")
    async with sessions() as session:
        assert len((await session.scalars(select(Household))).all()) == 1
