"""What a resident can do once reported: see the record (/me), correct it (/edit), say they
have arrived (/arrived), ask for help (/request) and have their data deleted (/forget). Each
is a short flow of its own, reusing the report's questions."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chat import forms
from chat.buttons import answer_button
from chat.contract import Reply, Send
from chat.forms import END, RESUME, Accept, Branch, Choice, Option, Outcome, Prompt, Retry, Text
from chat.i18n import N_, Translator
from chat.widgets import DateTimePicker
from handlers.answers import parse_free_text, parse_seat, parse_transport_number
from handlers.context import Chat, Flow, Step, Turn, Widget
from handlers.invites import invite_offer
from handlers.report import REPORT, label
from models.areas import Area, lineage
from models.people import Resident
from models.plans import MonitoringPlan, active_plan
from models.staff import audit
from services.arrivals import expected_arrivals, record_arrival
from services.residents import FIELDS, correct, people_of, request_help
from services.retention import forget_now, open_plans
from services.vocabulary import HEALTH_CODES, HELP_KINDS, TRANSPORTS
from services.wording import describe_plan

NOT_REPORTED = N_("You have not reported yet. Send /start to report your arrival.")


def show_time(moment: datetime | None, turn: Turn) -> str:
    return moment.astimezone(turn.zone).strftime("%Y-%m-%d %H:%M") if moment else ""


async def my_people(turn: Turn) -> list[Resident]:
    return await people_of(turn.session, turn.user.id)


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


async def me(chat: Chat) -> list[Reply]:
    people = await my_people(chat.turn)
    if not people:
        return [Send(chat.turn.tr(NOT_REPORTED))]
    return [Send(await describe_people(chat.turn, people)), *await invite_offer(chat.turn)]


# ----- /edit: a field of a saved record, every change kept -----


@dataclass(frozen=True)
class Editable:
    """A field that can be corrected after submitting: its label and the step that asks it."""

    label: str
    step: str


EDITABLE_AFTER: dict[str, Editable] = {
    "name": Editable(N_("Name"), "edit_name"),
    "phone": Editable(N_("Phone"), "edit_phone"),
    "id_number": Editable(N_("ID number"), "edit_id_number"),
    "address": Editable(N_("Address"), "edit_address"),
    "transport_number": Editable(N_("Train, flight or plate number"), "edit_transport_number"),
    "seat": Editable(N_("Seat"), "edit_seat"),
    "health_code": Editable(N_("Health code"), "edit_health_code"),
}
assert set(EDITABLE_AFTER) == set(FIELDS)


def remember_transport(turn: Turn, person: Resident) -> None:
    """A new transport number is checked against the transport it was saved with."""
    if person.arrivals:
        turn.answers["transport"] = person.arrivals[-1].transport


class PersonChoice(Widget):
    """Whose record: the user's own or one of those they answer for."""

    key = "edit_person"

    async def load(self, turn: Turn, step: str) -> None:
        turn.view["people"] = await my_people(turn)

    def prompt(self, turn: Turn, step: str) -> Prompt:
        buttons = tuple(
            (answer_button(p.name or "?", step, str(p.id)),) for p in turn.view["people"]
        )
        return Prompt(turn.tr("Whose record do you want to correct?"), buttons)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        for person in turn.view["people"]:
            if pressed == str(person.id):
                remember_transport(turn, person)
                return Accept(person.id, shown=person.name or "")
        return Retry(turn.tr("Please choose with the buttons."))


FIELD_OPTIONS = tuple(Option(key, field.label) for key, field in EDITABLE_AFTER.items())


def after_field(answers: dict[str, Any]) -> str:
    return EDITABLE_AFTER[answers["edit_field"]].step


@dataclass(frozen=True)
class _Rekeyed(Widget):
    """The report's own question for a field, asked again with its answer under `key`."""

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


def _report_widget(step: str) -> Widget:
    return _Rekeyed(REPORT.by_name[step].widget, "edit_value")


async def apply_edit(turn: Turn) -> list[Reply]:
    a = turn.answers
    person_id, field = a.pop("edit_person"), a.pop("edit_field")
    value = a.pop("edit_value", None)
    a.pop("transport", None)
    done = await correct(turn.session, turn.user.id, person_id, field, value, turn.now)
    if done is None:
        return [Send(turn.tr("That record cannot be changed any more."))]
    if not done.changed:
        return [Send(turn.tr("Nothing changed: that is what was saved."))]
    return [Send(turn.tr("Saved. Your grid worker sees the correction."))]


EDIT = Flow(
    "edit",
    (
        Step("ask_edit_person", PersonChoice(), next="ask_edit_field"),
        Step(
            "ask_edit_field",
            Choice("edit_field", N_("Which field?"), FIELD_OPTIONS, width=2),
            next=Branch(after_field, tuple(e.step for e in EDITABLE_AFTER.values())),
        ),
        Step("edit_name", _report_widget("ask_name"), next=END),
        Step("edit_phone", _report_widget("ask_phone"), next=END),
        Step("edit_id_number", _report_widget("ask_id_number"), next=END),
        Step("edit_address", _report_widget("ask_address"), next=END),
        Step(
            "edit_transport_number",
            Text(
                "edit_value",
                N_("The train, flight or plate number?"),
                N_("e.g. G1234"),
                parse_transport_number,
                32,
            ),
            next=END,
        ),
        Step(
            "edit_seat",
            Text(
                "edit_value",
                N_("Your seat (carriage and seat), if you have one?"),
                N_("e.g. 5车12F"),
                parse_seat,
                32,
                skip=N_("No seat number"),
            ),
            next=END,
        ),
        Step(
            "edit_health_code",
            Choice("edit_value", N_("The colour of the health code?"), HEALTH_CODES),
            next=END,
        ),
    ),
    finish=apply_edit,
)


async def edit(chat: Chat) -> list[Reply]:
    people = await my_people(chat.turn)
    if not people:
        return [Send(chat.turn.tr(NOT_REPORTED))]
    if len(people) == 1:
        chat.turn.answers["edit_person"] = people[0].id
        remember_transport(chat.turn, people[0])
        return await chat.begin("ask_edit_field")
    return await chat.begin("ask_edit_person")


# ----- /arrived -----


def arrived_window(turn: forms.Turn) -> tuple[datetime, datetime]:
    return turn.now - timedelta(days=3), turn.now


async def arrival_recorded(turn: Turn) -> list[Reply]:
    at = datetime.fromisoformat(turn.answers.pop("arrived_at"))
    arrived = await record_arrival(
        turn.session, turn.user.id, at, now=turn.now, zone=turn.zone, policy=turn.policy
    )
    if not arrived:
        return [Send(turn.tr("Your arrival is already recorded."))]
    replies: list[Reply] = [
        Send(turn.tr("Welcome! Your arrival at {when} is recorded.", when=show_time(at, turn)))
    ]
    for resident, plan in arrived:
        title = f"<b>{html.escape(resident.name or '')}</b>\n" if len(arrived) > 1 else ""
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
    finish=arrival_recorded,
)


async def arrived(chat: Chat) -> list[Reply]:
    if not await expected_arrivals(chat.turn.session, chat.turn.user.id):
        if await my_people(chat.turn):
            return [Send(chat.turn.tr("Your arrival is already recorded."))]
        return [Send(chat.turn.tr(NOT_REPORTED))]
    return await chat.begin("ask_arrived_at")


async def not_yet(chat: Chat) -> list[Reply]:
    return [
        Send(chat.turn.tr("All right. Press the button or send /arrived as soon as you are here."))
    ]


# ----- /request: ask for help -----


async def file_request(turn: Turn) -> list[Reply]:
    request = await request_help(
        turn.session,
        turn.user.id,
        turn.answers.pop("help_kind"),
        turn.answers.pop("help_text"),
        turn.now,
    )
    if request is None:
        return [Send(turn.tr(NOT_REPORTED))]
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
                parse_free_text,
                500,
            ),
        ),
    ),
    finish=file_request,
)


async def request(chat: Chat) -> list[Reply]:
    if not await my_people(chat.turn):
        return [Send(chat.turn.tr(NOT_REPORTED))]
    return await chat.begin("ask_help_kind")


# ----- /forget -----


def _names(people: Sequence[Resident], tr: Translator) -> str:
    return tr.join(html.escape(p.name or "?") for p in people)


def _must_wait(turn: Turn, running: list[tuple[Resident, MonitoringPlan]]) -> list[Reply]:
    who = "\n".join(
        f"• {html.escape(p.name or '?')}: {plan.ends_on.isoformat()}" for p, plan in running
    )
    return [
        Send(
            turn.say(
                "Your record cannot be deleted yet: the grid worker needs it while a "
                "monitoring plan runs.\n{who}\n\nOnce the plan has ended you can send /forget "
                "again. In any case the name, phone, ID number and address are deleted "
                "{retention_days} days after the plan ends.",
                who=who,
            )
        )
    ]


async def forget(chat: Chat) -> list[Reply]:
    turn = chat.turn
    people = await my_people(turn)
    unfinished = {k: v for k, v in turn.answers.items() if k != RESUME}
    if not people and not unfinished:
        return [Send(turn.tr("We hold no record about you."))]
    running = await open_plans(turn.session, people)
    if running:
        return _must_wait(turn, running)
    if chat.asking and chat.step != "ask_forget":
        turn.answers[RESUME] = chat.step
    if people:
        what = turn.tr(
            "This deletes the records of: {names}.\nTheir names, phones, ID numbers, the "
            "address, the journey details, what you wrote to us and your unfinished answers "
            "are erased. Only anonymous counts stay for statistics.",
            names=_names(people, turn.tr),
        )
    else:
        what = turn.tr("This deletes your unfinished answers.")
    return [Send(what), *await chat.begin("ask_forget")]


async def forget_confirmed(turn: Turn) -> list[Reply]:
    if turn.answers.pop("forget") != "yes":
        turn.goto = turn.answers.pop(RESUME, None)
        return [Send(turn.tr("Nothing was deleted."))]
    people = await my_people(turn)
    running = await open_plans(turn.session, people)
    if running:
        return _must_wait(turn, running)
    await forget_now(turn.session, people, turn.now)
    await audit(
        turn.session,
        turn.user.id,
        "forget",
        "residents",
        turn.now,
        by="resident",
        residents=[p.id for p in people],
    )
    turn.answers.clear()
    # The consent went with the data: a new report starts with the privacy notice again.
    turn.user.consented_at = None
    return [
        Send(turn.tr("Done: your data has been deleted. If you need to report again, send /start."))
    ]


FORGET_OPTIONS = (Option("yes", N_("🗑 Delete my data")), Option("no", N_("Keep it")))

FORGET = Flow(
    "forget",
    (
        Step(
            "ask_forget",
            Choice("forget", N_("Delete it now? This cannot be undone."), FORGET_OPTIONS),
        ),
    ),
    finish=forget_confirmed,
)

__all__ = ["ARRIVED", "EDIT", "FORGET", "HELP", "arrived", "edit", "forget", "me", "request"]
