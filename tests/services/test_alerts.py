"""Alerts a grid worker acts on: acknowledge, record what was done, escalate; re-sent when
nobody acknowledges and escalated after longer; forged buttons change nothing; the resident
who asked for help hears that someone has it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from models.alerts import Alert, AlertAction
from models.help import HelpRequest
from models.outbox import Outgoing
from services.alerts import escalate_alerts, resend_alerts
from services.options import Options
from tests.handlers.test_report import consent
from tests.handlers.test_resident import _shown_from
from tests.handlers.test_staff import GRID_1, GRID_2, deliver, invite
from tests.services.test_plans import report_from
from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")
ZONE = Options().zone
RESEND, ESCALATE = timedelta(hours=2), timedelta(hours=6)
COMMUNITY = "620201001001"  # above GRID_1 and GRID_2
STREET = "620201001"


async def staff_of(
    resident: Person,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    area: str,
    user_id: int,
    role: str = "grid",
) -> Person:
    worker = Person(resident.core, user_id=user_id, language="en", first_name=f"Worker{user_id}")
    await invite(sessions, clock, f"CODE{user_id}", area, role)
    await worker.send(f"/join CODE{user_id}")
    assert "Welcome" in worker.last.text
    return worker


async def run(sessions: async_sessionmaker[AsyncSession], clock: FixedClock, job: str) -> int:
    async with sessions.begin() as session:
        if job == "resend":
            return await resend_alerts(session, clock.now(), ZONE, after=RESEND)
        return await escalate_alerts(session, clock.now(), ZONE, after=ESCALATE)


async def queued(sessions: async_sessionmaker[AsyncSession], **where: object) -> list[Outgoing]:
    async with sessions() as session:
        query = select(Outgoing).filter_by(**where).order_by(Outgoing.id)
        return list(await session.scalars(query))


async def the_alert(sessions: async_sessionmaker[AsyncSession]) -> Alert:
    async with sessions() as session:
        return (await session.scalars(select(Alert))).one()


async def actions(sessions: async_sessionmaker[AsyncSession]) -> list[AlertAction]:
    async with sessions() as session:
        return list(await session.scalars(select(AlertAction).order_by(AlertAction.id)))


async def fever_alert_for(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> Person:
    """A worker of grid 2 with the alert for a resident who arrived with a cough."""
    worker = await staff_of(resident, sessions, clock, GRID_2, 5001)
    await report_from(resident, "南京", "Nanjing", symptoms="Cough")
    (sent,) = await deliver(sessions, clock)
    worker.shown.append(_shown_from(sent))
    return worker


async def test_an_alert_has_its_buttons(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    assert worker.last.labels == ["✅ Acknowledge", "📝 Record action", "💬 Write", "⬆️ Escalate"]


async def test_unacknowledged_it_is_sent_again_at_2_hours_once(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    clock.advance(RESEND - timedelta(minutes=1))
    assert await run(sessions, clock, "resend") == 0
    clock.advance(timedelta(minutes=1))
    assert await run(sessions, clock, "resend") == 1
    assert await run(sessions, clock, "resend") == 0  # once only
    first, again = await queued(sessions, purpose="alert")
    assert again.chat_id == worker.user_id and again.dedupe_key == f"alert-resend:1:grid:{1}"
    assert again.text.startswith("⏰ Reminder") and "fever clinic" in again.text
    assert again.buttons == first.buttons
    # Nothing else is due before the escalation.
    clock.advance(timedelta(hours=3))
    assert await run(sessions, clock, "resend") == 0
    assert await run(sessions, clock, "escalate") == 0


async def test_an_acknowledged_alert_is_neither_sent_again_nor_escalated(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    await staff_of(resident, sessions, clock, COMMUNITY, 5100, "community")
    await worker.press("Acknowledge")
    clock.advance(timedelta(days=1))
    assert await run(sessions, clock, "resend") == 0
    assert await run(sessions, clock, "escalate") == 0
    assert len(await queued(sessions, purpose="alert")) == 1


async def test_unacknowledged_it_is_escalated_at_6_hours_then_up_again(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await fever_alert_for(resident, sessions, clock)
    community = await staff_of(resident, sessions, clock, COMMUNITY, 5100, "community")
    street = await staff_of(resident, sessions, clock, STREET, 5200, "street")
    clock.advance(ESCALATE - timedelta(minutes=1))
    assert await run(sessions, clock, "escalate") == 0
    clock.advance(timedelta(minutes=1))
    assert await run(sessions, clock, "escalate") == 1
    assert await run(sessions, clock, "escalate") == 0  # once only
    alert = await the_alert(sessions)
    assert alert.level == "community" and alert.status == "open"
    (up,) = await queued(sessions, chat_id=community.user_id)
    assert up.dedupe_key == "alert-escalated:1:community:2"
    assert "not acknowledged at the grid level in 6 h" in up.text and "fever clinic" in up.text
    (logged,) = await actions(sessions)
    assert (logged.kind, logged.level, logged.actor_user_id) == ("escalated", "community", None)
    # At the community level it runs the same course: re-sent at 2 h, up to the street at 6 h.
    clock.advance(RESEND)
    assert await run(sessions, clock, "resend") == 1
    assert [r.dedupe_key for r in await queued(sessions, chat_id=community.user_id)][-1] == (
        "alert-resend:1:community:2"
    )
    clock.advance(ESCALATE - RESEND)
    assert await run(sessions, clock, "escalate") == 1
    assert (await the_alert(sessions)).level == "street"
    assert len(await queued(sessions, chat_id=street.user_id)) == 1


async def test_with_no_one_above_it_goes_to_the_top_and_stops(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await fever_alert_for(resident, sessions, clock)
    clock.advance(ESCALATE)
    assert await run(sessions, clock, "escalate") == 1
    assert (await the_alert(sessions)).level == "district"
    clock.advance(ESCALATE)
    assert await run(sessions, clock, "escalate") == 0
    assert len(await queued(sessions, purpose="alert")) == 1


async def test_acknowledge_is_recorded_once(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    await worker.press("Acknowledge")
    assert worker.last.text == "Alert 1 acknowledged. Thank you."
    await worker.press("Acknowledge")
    assert worker.last.text == "Alert 1 was already acknowledged."
    alert = await the_alert(sessions)
    assert alert.status == "acknowledged" and alert.acknowledged_by == worker.user_id
    (logged,) = await actions(sessions)
    assert (logged.kind, logged.actor_user_id, logged.actor_name) == (
        "acknowledged",
        worker.user_id,
        "Worker5001",
    )


async def test_record_an_action_with_a_note(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    await worker.press("Record action")
    assert "What was done about alert 1?" in worker.last.text
    assert worker.last.labels == [
        "📞 Called",
        "🏠 Visited",
        "🏥 Referred",
        "🚐 Sent to quarantine",
    ]
    await worker.press("Referred")
    assert "Recorded for alert 1: referred." in worker.last.text
    assert "Add a note" in worker.last.text and worker.last.labels == ["No note"]
    await worker.send("took her to the fever clinic at <b>14:00</b>")
    assert worker.last.text == "Note saved with alert 1."
    (logged,) = await actions(sessions)
    assert (logged.kind, logged.note) == (
        "referred",
        "took her to the fever clinic at <b>14:00</b>",
    )
    # Recording what was done acknowledges the alert: no re-send, no escalation.
    alert = await the_alert(sessions)
    assert alert.status == "acknowledged" and alert.acknowledged_by == worker.user_id
    clock.advance(timedelta(days=1))
    assert await run(sessions, clock, "resend") == 0
    # A second action, without a note.
    await worker.press("Record action")
    await worker.press("Called")
    await worker.press("No note")
    assert "no note" in worker.texts()[-1]
    assert [(a.kind, a.note) for a in await actions(sessions)][-1] == ("called", None)


async def test_a_made_up_action_is_refused(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    await worker.press_data("/act 1 teleported", 1)
    assert worker.last.text == "Please choose with the buttons."
    assert await actions(sessions) == []
    assert (await the_alert(sessions)).status == "open"


async def test_escalate_by_hand_to_the_community(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    community = await staff_of(resident, sessions, clock, COMMUNITY, 5100, "community")
    await worker.press("Escalate")
    assert worker.last.text == "Alert 1 escalated to the community level (1 told)."
    (up,) = await queued(sessions, chat_id=community.user_id)
    assert up.text.startswith("⬆️ Escalated to you by Worker5001") and "Acknowledge" in str(
        up.buttons
    )
    # The community worker acknowledges it from their own message.
    community.shown.append(_shown_from(up))
    await community.press("Acknowledge")
    assert community.last.text == "Alert 1 acknowledged. Thank you."
    assert [a.kind for a in await actions(sessions)] == ["escalated", "acknowledged"]
    # Escalated by hand twice to the same level: each worker is sent it once.
    await worker.press("Escalate")
    assert "No one above" in worker.last.text


async def test_escalate_with_no_one_above_says_so_and_changes_nothing(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    await worker.press("Escalate")
    assert "No one above has joined yet" in worker.last.text
    assert (await the_alert(sessions)).level == "grid"
    assert await actions(sessions) == []


@pytest.mark.parametrize(
    "data", ["/ack 1", "/act 1", "/act 1 called", "/escalate 1", "/ack 99", "/act x", "/ack"]
)
async def test_forged_buttons_for_an_alert_elsewhere_change_nothing(
    data: str, resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await fever_alert_for(resident, sessions, clock)
    # Staff of the community above grid 2 exist, so an escalation would have somewhere to go.
    await staff_of(resident, sessions, clock, COMMUNITY, 5100, "community")
    elsewhere = await staff_of(resident, sessions, clock, GRID_1, 5004)
    before = len(await queued(sessions))
    for presser in (elsewhere, resident):
        presser.language = "en"
        await presser.press_data(data, 1)
        assert presser.last.text == "No such alert in your area."
    alert = await the_alert(sessions)
    assert (alert.status, alert.level, alert.acknowledged_at) == ("open", "grid", None)
    assert await actions(sessions) == []
    assert len(await queued(sessions)) == before


async def test_the_resident_who_asked_for_help_is_told(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await staff_of(resident, sessions, clock, GRID_2, 5001)
    await report_from(resident, "南京", "Nanjing")
    await resident.send("/request")
    await resident.press("Daily supplies")
    await resident.send("Rice and milk, please")
    (sent,) = [s for s in await deliver(sessions, clock) if "help" in s.text.lower()]
    worker.shown.append(_shown_from(sent))
    await worker.press("Acknowledge")
    (seen,) = await queued(sessions, purpose="help_answer")
    assert seen.chat_id == resident.user_id
    # The resident reads it in their language (Chinese here), with the worker's name.
    assert "Worker5001" in seen.text and "1" in seen.text
    async with sessions() as session:
        request = (await session.scalars(select(HelpRequest))).one()
    assert request.status == "answered"
    await worker.press("Record action")
    await worker.press("Visited")
    seen, acted = await queued(sessions, purpose="help_answer")
    assert "Worker5001" in acted.text and acted.dedupe_key.startswith("help-action:")
    # Told once per step, whatever is pressed again.
    await worker.press("Acknowledge")
    assert len(await queued(sessions, purpose="help_answer")) == 2


async def test_an_english_speaking_requester_reads_who_has_seen_it(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await staff_of(resident, sessions, clock, GRID_2, 5001)
    await report_from(resident, "南京", "Nanjing")
    async with sessions.begin() as session:
        from models.chat import ChatUser

        user = await session.get(ChatUser, resident.user_id)
        assert user is not None
        user.language = "en"
    await resident.send("/request")
    await resident.press("Medical help")
    await resident.send("My pills")
    (sent,) = [s for s in await deliver(sessions, clock) if "help" in s.text.lower()]
    worker.shown.append(_shown_from(sent))
    await worker.press("Acknowledge")
    (seen,) = await queued(sessions, purpose="help_answer")
    assert seen.text == (
        "🙋 Worker5001 from your grid has seen your request (no. 1) and will contact you."
    )


async def test_no_alert_in_the_outbox_twice_whatever_runs(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await fever_alert_for(resident, sessions, clock)
    await staff_of(resident, sessions, clock, COMMUNITY, 5100, "community")
    for _ in range(12):
        clock.advance(timedelta(hours=1))
        await run(sessions, clock, "resend")
        await run(sessions, clock, "escalate")
        await run(sessions, clock, "resend")
    async with sessions() as session:
        keys = list(await session.scalars(select(Outgoing.dedupe_key)))
        count = await session.scalar(select(func.count()).select_from(Outgoing))
    assert len(set(keys)) == count


async def test_a_worker_mid_way_through_a_report_gets_back_to_it(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    worker = await fever_alert_for(resident, sessions, clock)
    alert = worker.last
    await consent(worker)
    await worker.send("Wang Wei")
    asked = worker.last.text
    await worker.press("Record action", on=alert)
    await worker.press("Visited")
    await worker.send("all well")
    assert worker.last.text == "Note saved with alert 1."
    await worker.send("/start")
    assert "Welcome back" in worker.last.text and asked in worker.last.text


async def test_a_grid_without_a_worker_hands_its_alert_to_the_nearest_level_above(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await report_from(resident, "南京", "Nanjing", symptoms="Cough")
    assert await deliver(sessions, clock) == []  # nobody anywhere yet: it waits
    street = await staff_of(resident, sessions, clock, STREET, 5200, "street")
    (sent,) = await deliver(sessions, clock)
    assert sent.chat_id == street.user_id and "fever clinic" in sent.text
    assert (await the_alert(sessions)).level == "street"
    # A grid worker joining later changes nothing for this alert: it is the street's now.
    await staff_of(resident, sessions, clock, GRID_2, 5001)
    assert len(await deliver(sessions, clock)) == 1
