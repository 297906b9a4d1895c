"""What a resident can do once reported: see the record, correct it, say they have arrived,
and ask for help. Each is a short flow of its own, reusing the report's questions."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from chat.contract import Button, Reply, Send
from chat.i18n import N_
from handlers.chat import Chat
from handlers.forms import (
    END,
    SEPARATOR,
    Accept,
    Choice,
    Flow,
    Option,
    Outcome,
    Prompt,
    Retry,
    Step,
    Text,
    Turn,
    Widget,
    plain_text,
)
from handlers.plans import classify, describe_plan
from handlers.report import (
    HEALTH_CODES,
    REPORT,
    TRANSPORTS,
    label,
)
from handlers.widgets import DateTimePicker
from models.alerts import raise_alert
from models.areas import Area, lineage
from models.help import HelpRequest
from models.people import Arrival, Change, Resident
from models.plans import active_plan


def show_time(moment: datetime | None, turn: Turn) -> str:
    return moment.astimezone(turn.zone).strftime("%Y-%m-%d %H:%M") if moment else ""


# ----- /me -----


async def describe_people(turn: Turn, people: list[Resident]) -> str:
    tr, e = turn.tr, html.escape
    blocks: list[str] = []
    for person in people:
        arrival = person.arrivals[-1] if person.arrivals else None
        lines = [f"<b>{e(person.name or '')}</b>"]
        if person.phone:
            lines.append(f"{tr('Phone')}: {e(person.phone)}")
        if person.id_number:
            lines.append(f"{tr('ID number')}: {e(person.masked_id)}")
        if arrival is not None:
            if arrival.status == "expected":
                lines.append(
                    tr("Expected to arrive: {when}", when=show_time(arrival.expected_at, turn))
                )
            else:
                lines.append(tr("Arrived: {when}", when=show_time(arrival.arrived_at, turn)))
            transport = label(TRANSPORTS, arrival.transport, turn)
            lines.append(
                f"{tr('Coming from')}: {e(arrival.origin_text)} · {e(transport)} {e(arrival.transport_number or '')}"
            )
        blocks.append("\n".join(lines))
        plan = await active_plan(turn.session, person.id)
        if plan is not None:
            blocks.append(describe_plan(plan, tr))
    if people:
        grid = await turn.session.get(Area, people[0].grid_id)
        where = " › ".join(a.name for a in await lineage(turn.session, grid)) if grid else ""
        address = people[0].household.address or ""
        blocks.append(f"{tr('Where you stay')}: {e(where)}\n{e(address)}")
    return "\n\n".join(blocks)


async def people_of(turn: Turn) -> list[Resident]:
    query = (
        select(Resident)
        .where(Resident.reporter_user_id == turn.user.id, Resident.purged_at.is_(None))
        .options(selectinload(Resident.arrivals), selectinload(Resident.household))
        # Themselves first; not (user_id == me) DESC: dependants' NULL sorts first on PostgreSQL.
        .order_by(case((Resident.user_id == turn.user.id, 0), else_=1), Resident.id)
    )
    return list((await turn.session.scalars(query)).all())


async def me(chat: Chat) -> list[Reply]:
    people = await people_of(chat.turn)
    if not people:
        return [
            Send(chat.turn.tr("You have not reported yet. Send /start to report your arrival."))
        ]
    return [Send(await describe_people(chat.turn, people))]


# ----- /edit: a field of a saved record, every change kept -----


@dataclass(frozen=True)
class Editable:
    """A field that can be corrected after submitting: its label, and how to read and write it."""

    label: str
    step: str
    read: Callable[[Resident], Any]
    write: Callable[[Resident, Any], None]
    only_self: bool = False


def _arrival(person: Resident) -> Arrival:
    return person.arrivals[-1]


def _set(target: Callable[[Resident], Any], attribute: str) -> Callable[[Resident, Any], None]:
    def write(person: Resident, value: Any) -> None:
        setattr(target(person), attribute, value)

    return write


EDITABLE_AFTER: dict[str, Editable] = {
    "name": Editable(N_("Name"), "edit_name", lambda p: p.name, _set(lambda p: p, "name")),
    "phone": Editable(N_("Phone"), "edit_phone", lambda p: p.phone, _set(lambda p: p, "phone")),
    "id_number": Editable(
        N_("ID number"), "edit_id_number", lambda p: p.id_number, _set(lambda p: p, "id_number")
    ),
    "address": Editable(
        N_("Address"),
        "edit_address",
        lambda p: p.household.address,
        _set(lambda p: p.household, "address"),
    ),
    "transport_number": Editable(
        N_("Train, flight or plate number"),
        "edit_transport_number",
        lambda p: _arrival(p).transport_number,
        _set(_arrival, "transport_number"),
    ),
    "seat": Editable(N_("Seat"), "edit_seat", lambda p: _arrival(p).seat, _set(_arrival, "seat")),
    "health_code": Editable(
        N_("Health code"),
        "edit_health_code",
        lambda p: _arrival(p).health_code,
        _set(_arrival, "health_code"),
    ),
}


def remember_transport(turn: Turn, person: Resident) -> None:
    """A new transport number is checked against the transport it was saved with."""
    if person.arrivals:
        turn.answers["transport"] = person.arrivals[-1].transport


class PersonChoice(Widget):
    """Whose record: the user's own or one of those they answer for."""

    key = "edit_person"

    async def load(self, turn: Turn, step: str) -> None:
        turn.view["people"] = await people_of(turn)

    def prompt(self, turn: Turn, step: str) -> Prompt:
        buttons = tuple(
            (Button(p.name or "?", f"{step}{SEPARATOR}{p.id}"),) for p in turn.view["people"]
        )
        return Prompt(turn.tr("Whose record do you want to correct?"), buttons)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        for person in turn.view["people"]:
            if pressed == str(person.id):
                remember_transport(turn, person)
                return Accept(person.id, shown=person.name or "")
        return Retry(turn.tr("Please choose with the buttons."))


FIELD_OPTIONS = tuple(Option(key, field.label) for key, field in EDITABLE_AFTER.items())


def after_person(answers: dict[str, Any]) -> str:
    return "ask_edit_field"


def after_field(answers: dict[str, Any]) -> str:
    return EDITABLE_AFTER[answers["edit_field"]].step


def _report_widget(step: str, key: str) -> Widget:
    """The report's own question for a field, asked again under another step name."""
    widget = REPORT.by_name[step].widget
    return _Rekeyed(widget, key)


@dataclass(frozen=True)
class _Rekeyed(Widget):
    inner: Widget
    key: str

    async def load(self, turn: Turn, step: str) -> None:
        await self.inner.load(turn, step)

    def prompt(self, turn: Turn, step: str) -> Prompt:
        return self.inner.prompt(turn, step)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        return self.inner.take(turn, pressed)

    @property
    def keyboard_after_answer(self) -> bool:  # type: ignore[override]
        return self.inner.keyboard_after_answer


async def apply_edit(turn: Turn) -> list[Reply]:
    a = turn.answers
    person_id, field = a.pop("edit_person"), a.pop("edit_field")
    value = a.pop("edit_value", None)
    a.pop("transport", None)
    people = {p.id: p for p in await people_of(turn)}
    person = people.get(person_id)
    if person is None or (
        field in ("transport_number", "seat", "health_code") and not person.arrivals
    ):
        return [Send(turn.tr("That record cannot be changed any more."))]
    editable = EDITABLE_AFTER[field]
    old = editable.read(person)
    if old == value:
        return [Send(turn.tr("Nothing changed: that is what was saved."))]
    editable.write(person, value)
    person.updated_at = turn.now
    turn.session.add(
        Change(
            resident_id=person.id,
            field=field,
            old=old,
            new=value,
            changed_by=turn.user.id,
            changed_at=turn.now,
        )
    )
    return [Send(turn.tr("Saved. Your grid worker sees the correction."))]


EDIT = Flow(
    "edit",
    (
        Step("ask_edit_person", PersonChoice(), next=after_person),
        Step(
            "ask_edit_field",
            Choice("edit_field", N_("Which field?"), FIELD_OPTIONS, width=2),
            next=after_field,
        ),
        Step("edit_name", _report_widget("ask_name", "edit_value"), next=END),
        Step("edit_phone", _report_widget("ask_phone", "edit_value"), next=END),
        Step("edit_id_number", _report_widget("ask_id_number", "edit_value"), next=END),
        Step("edit_address", _report_widget("ask_address", "edit_value"), next=END),
        Step(
            "edit_transport_number", _report_widget("ask_transport_number", "edit_value"), next=END
        ),
        Step("edit_seat", _report_widget("ask_seat", "edit_value"), next=END),
        Step(
            "edit_health_code",
            Choice("edit_value", N_("The colour of the health code?"), HEALTH_CODES),
            next=END,
        ),
    ),
    finish=apply_edit,
)


async def edit(chat: Chat) -> list[Reply]:
    people = await people_of(chat.turn)
    if not people:
        return [
            Send(chat.turn.tr("You have not reported yet. Send /start to report your arrival."))
        ]
    if len(people) == 1:
        chat.turn.answers["edit_person"] = people[0].id
        remember_transport(chat.turn, people[0])
        return await chat.begin("ask_edit_field")
    return await chat.begin("ask_edit_person")


# ----- /arrived -----


def arrived_window(turn: Turn) -> tuple[datetime, datetime]:
    return turn.now - timedelta(days=3), turn.now


async def expected_arrivals(turn: Turn) -> list[Arrival]:
    query = (
        select(Arrival)
        .join(Resident)
        .where(Resident.reporter_user_id == turn.user.id, Arrival.status == "expected")
        .options(selectinload(Arrival.stays), selectinload(Arrival.resident))
        .order_by(Arrival.id)
    )
    return list((await turn.session.scalars(query)).all())


async def record_arrival(turn: Turn) -> list[Reply]:
    at = datetime.fromisoformat(turn.answers.pop("arrived_at"))
    arrivals = await expected_arrivals(turn)
    if not arrivals:
        return [Send(turn.tr("Your arrival is already recorded."))]
    replies: list[Reply] = [
        Send(turn.tr("Welcome! Your arrival at {when} is recorded.", when=show_time(at, turn)))
    ]
    for arrival in arrivals:
        arrival.status = "arrived"
        arrival.arrived_at = at
        # Classified again at arrival: the real day starts the plan, and the risk list may
        # have changed since the report.
        plan = await classify(
            turn.session, arrival.resident, arrival, turn.policy, turn.now, turn.zone
        )
        title = f"<b>{html.escape(arrival.resident.name or '')}</b>\n" if len(arrivals) > 1 else ""
        replies.append(Send(title + describe_plan(plan, turn.tr)))
    return replies


ARRIVED = Flow(
    "arrived",
    (
        Step(
            "ask_arrived_at",
            DateTimePicker(
                "arrived_at",
                N_("When did you arrive?"),
                arrived_window,
                now_button=lambda turn: True,
            ),
        ),
    ),
    finish=record_arrival,
)


async def arrived(chat: Chat) -> list[Reply]:
    if not await expected_arrivals(chat.turn):
        if await people_of(chat.turn):
            return [Send(chat.turn.tr("Your arrival is already recorded."))]
        return [
            Send(chat.turn.tr("You have not reported yet. Send /start to report your arrival."))
        ]
    return await chat.begin("ask_arrived_at")


# ----- /request: ask for help -----

HELP_KINDS = (
    Option("supplies", N_("🛒 Daily supplies")),
    Option("medical", N_("🩺 Medical help")),
    Option("talk", N_("💬 Someone to talk to")),
    Option("other", N_("Other")),
)


def parse_request(text: str, turn: Turn) -> str:
    return plain_text(text, turn)


async def file_request(turn: Turn) -> list[Reply]:
    people = await people_of(turn)
    if not people:
        return [Send(turn.tr("You have not reported yet. Send /start to report your arrival."))]
    own = people[0]
    request = HelpRequest(
        resident_id=own.id,
        grid_id=own.grid_id,
        user_id=turn.user.id,
        kind=turn.answers.pop("help_kind"),
        text=turn.answers.pop("help_text"),
        created_at=turn.now,
        status="open",
    )
    turn.session.add(request)
    await turn.session.flush()
    await raise_alert(
        turn.session,
        grid_id=own.grid_id,
        resident_id=own.id,
        kind="help_request",
        now=turn.now,
        details={"text": f"{request.kind}: {request.text}", "request": request.id},
        dedupe_key=f"help_request:{request.id}",
    )
    return [
        Send(
            turn.tr(
                "Received (request no. {number}). Your grid worker will answer you here.",
                number=request.id,
            )
        )
    ]


HELP = Flow(
    "help",
    (
        Step("ask_help_kind", Choice("help_kind", N_("What do you need?"), HELP_KINDS, width=2)),
        Step(
            "ask_help_text",
            Text(
                "help_text",
                N_("Tell us briefly what you need (one message)."),
                N_("e.g. rice and milk for 3 days"),
                parse_request,
                500,
            ),
        ),
    ),
    finish=file_request,
)


async def request(chat: Chat) -> list[Reply]:
    if not await people_of(chat.turn):
        return [
            Send(chat.turn.tr("You have not reported yet. Send /start to report your arrival."))
        ]
    return await chat.begin("ask_help_kind")


__all__ = ["arrived", "edit", "me", "request"]
