"""The arrival report, one question at a time, as the resident meets it.

The table REPORT below is the conversation: each step names its question, its widget and,
where the way on depends on an answer, every step it can lead to. The two loops are child
flows: "places visited" (PLACE_VISITED) and "companions" (COMPANION) each ask one item's
questions and hand the item back to the "more?" question that called them, which lists what
was added so far. docs/flows.md draws all of it from these tables.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, cast

from chat import forms
from chat.buttons import answer_button
from chat.contract import Reply, Send, rows
from chat.forms import (
    END,
    Accept,
    Answers,
    Branch,
    Call,
    Choice,
    Jump,
    MultiSelect,
    Option,
    Outcome,
    Prompt,
    Redraw,
    Retry,
    Text,
    editing,
    label_of,
)
from chat.i18n import N_
from chat.widgets import DatePicker, DateTimePicker, Phone, parse_phone
from handlers.answers import (
    parse_address,
    parse_id_number,
    parse_name,
    parse_port,
    parse_seat,
    parse_temperature,
    parse_transport_number,
)
from handlers.context import Flow, Step, Turn, Widget
from handlers.widgets import AreaPicker, PlacePicker
from models.people import mask_id
from rules import places
from services.filing import file_report
from services.vocabulary import HEALTH_CODES, RELATIONS, SYMPTOMS, TEST_RESULTS, TRANSPORTS
from services.wording import describe_plan

HISTORY_DAYS = 14
PRE_ARRIVAL_DAYS = 3

# ----- the answers, by name and type -----


class PlaceAnswer(TypedDict):
    code: str | None  # the gazetteer's code; None: kept as typed
    text: str


# One place visited: "from" is a keyword, hence the functional form.
Visit = TypedDict("Visit", {"place": PlaceAnswer, "from": str, "to": str})


class Companion(TypedDict, total=False):
    name: str
    relation: str
    phone: str | None
    symptoms: list[str]


class StayAnswer(TypedDict):
    grid_id: int
    grid_code: str
    path: list[str]


class ReportAnswers(TypedDict, total=False):
    name: str
    phone: str
    id_number: str
    stay: StayAnswer
    address: str
    arrival_status: str  # expected | arrived
    arrival_at: str  # ISO, aware
    origin: PlaceAnswer
    from_abroad: str
    transport: str
    transport_number: str
    seat: str | None
    entry_port: str
    quarantine: str
    quarantine_end: str | None
    history: list[Visit]
    companions: list[Companion]
    temperature: float
    symptoms: list[str]
    health_code: str
    test_result: str
    test_date: str | None


def report_answers(turn: forms.Turn) -> ReportAnswers:
    return cast(ReportAnswers, turn.answers)


# ----- choices only the report asks -----

ARRIVAL_STATUS = (
    Option("expected", N_("I will arrive in the next 3 days")),
    Option("arrived", N_("I have arrived")),
)
YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))
QUARANTINE = (
    Option("ended", N_("It has ended")),
    Option("not_ended", N_("Not ended / no quarantine yet")),
)
MORE_PLACES = (Option("add", N_("➕ Add a place")), Option("done", N_("No more places")))
MORE_PEOPLE = (Option("add", N_("➕ Add a person")), Option("done", N_("No one more")))


def label(options: tuple[Option, ...], value: Any, turn: forms.Turn) -> str:
    return label_of(options, value, turn.tr)


# ----- windows for dates -----


def _today(turn: forms.Turn) -> date:
    return turn.now.astimezone(turn.zone).date()


def arrival_window(turn: forms.Turn) -> tuple[datetime, datetime]:
    if turn.answers.get("arrival_status") == "expected":
        return turn.now, turn.now + timedelta(days=PRE_ARRIVAL_DAYS)
    return turn.now - timedelta(days=HISTORY_DAYS), turn.now


def arrival_day(turn: forms.Turn) -> date:
    at = turn.answers.get("arrival_at")
    return datetime.fromisoformat(at).astimezone(turn.zone).date() if at else _today(turn)


def history_window(turn: forms.Turn) -> tuple[date, date]:
    last = arrival_day(turn)
    return last - timedelta(days=HISTORY_DAYS), last


def visit_end_window(turn: forms.Turn) -> tuple[date, date]:
    first = date.fromisoformat(turn.answers["visit_from"])
    return first, arrival_day(turn)


def test_window(turn: forms.Turn) -> tuple[date, date]:
    return _today(turn) - timedelta(days=HISTORY_DAYS), _today(turn)


def quarantine_window(turn: forms.Turn) -> tuple[date, date]:
    return _today(turn) - timedelta(days=60), _today(turn) + timedelta(days=30)


# ----- the way on, where it depends on the answers -----


def is_abroad(answers: Answers) -> bool:
    origin = answers.get("origin") or {}
    if origin.get("code"):
        return bool(places.place(origin["code"]).abroad)
    return answers.get("from_abroad") == "yes"


def after_abroad(answers: Answers) -> str:
    # Editing from the summary: a new origin abroad still needs its port and quarantine.
    if editing(answers) and is_abroad(answers) and not answers.get("entry_port"):
        return "ask_entry_port"
    return "ask_transport"


def after_origin(answers: Answers) -> str:
    if not (answers.get("origin") or {}).get("code"):
        return "ask_from_abroad"
    return after_abroad(answers)


def after_seat(answers: Answers) -> str:
    return "ask_entry_port" if is_abroad(answers) else "ask_history_more"


def after_transport_number(answers: Answers) -> str:
    if answers.get("transport") == "car":
        return after_seat(answers)
    return "ask_seat"


def after_quarantine(answers: Answers) -> str:
    return "ask_quarantine_end" if answers.get("quarantine") == "ended" else "ask_history_more"


def after_history_more(answers: Answers) -> str | Call:
    return Call("place_visited") if answers.get("history_more") == "add" else "ask_companion_more"


def after_companion_more(answers: Answers) -> str | Call:
    return Call("companion") if answers.get("companion_more") == "add" else "ask_temperature"


def after_test(answers: Answers) -> str:
    return "ask_review" if answers.get("test_result") == "none" else "ask_test_date"


ORIGIN_NEXT = Branch(after_origin, ("ask_from_abroad", "ask_entry_port", "ask_transport"))
ABROAD_NEXT = Branch(after_abroad, ("ask_entry_port", "ask_transport"))
TRANSPORT_NUMBER_NEXT = Branch(
    after_transport_number, ("ask_seat", "ask_entry_port", "ask_history_more")
)
SEAT_NEXT = Branch(after_seat, ("ask_entry_port", "ask_history_more"))
QUARANTINE_NEXT = Branch(after_quarantine, ("ask_quarantine_end", "ask_history_more"))
HISTORY_NEXT = Branch(after_history_more, (Call("place_visited"), "ask_companion_more"))
COMPANIONS_NEXT = Branch(after_companion_more, (Call("companion"), "ask_temperature"))
TEST_NEXT = Branch(after_test, ("ask_review", "ask_test_date"))


# ----- effects -----


def drop_quarantine_end(turn: Turn) -> None:
    if turn.answers.get("quarantine") != "ended":
        turn.answers["quarantine_end"] = None


def drop_test_date(turn: Turn) -> None:
    if turn.answers.get("test_result") == "none":
        turn.answers["test_date"] = None


def add_visit(turn: Turn, visit: Any) -> None:
    turn.answers.setdefault("history", []).append(visit)


def add_companion(turn: Turn, companion: Any) -> None:
    turn.answers.setdefault("companions", []).append(companion)


# ----- the loops' "more?" questions show what is listed so far -----


@dataclass(frozen=True)
class More(Choice):
    """ "Add another / done", above the list of what was added so far (which can be cleared)."""

    listing: str = "history"

    def prompt(self, turn: forms.Turn, step: str) -> Prompt:
        base = super().prompt(turn, step)
        entries = describe_list(turn, self.listing)
        if not entries:
            return base
        clear = answer_button(turn.tr("🗑 Clear the list"), step, "clear")
        return Prompt(base.text + "\n\n" + "\n".join(entries), (*base.buttons, (clear,)))

    def take(self, turn: forms.Turn, pressed: str | None) -> Outcome:
        if pressed == "clear":
            turn.answers[self.listing] = []
            return Redraw()
        return super().take(turn, pressed)


def describe_list(turn: forms.Turn, listing: str) -> list[str]:
    a = report_answers(turn)
    if listing == "history":
        return [
            f"• {html.escape(v['place']['text'])}: {v['from']} → {v['to']}"
            for v in a.get("history", [])
        ]
    return [
        f"• {html.escape(c.get('name', ''))} ({label(RELATIONS, c.get('relation'), turn)})"
        + (f", {html.escape(phone)}" if (phone := c.get("phone")) else "")
        for c in a.get("companions", [])
    ]


# ----- the summary, with an edit button per field -----

# (step to edit, label of the edit button): editing asks the step's whole section.
EDITABLE = (
    ("ask_name", N_("Name")),
    ("ask_phone", N_("Phone")),
    ("ask_id_number", N_("ID number")),
    ("ask_stay", N_("Where you stay")),
    ("ask_address", N_("Address")),
    ("ask_arrival_status", N_("Arrival")),
    ("ask_origin", N_("Coming from")),
    ("ask_transport", N_("Transport")),
    ("ask_entry_port", N_("Port of entry")),
    ("ask_history_more", N_("Places in the last 14 days")),
    ("ask_companion_more", N_("Travelling with you")),
    ("ask_temperature", N_("Temperature")),
    ("ask_symptoms", N_("Symptoms")),
    ("ask_health_code", N_("Health code")),
    ("ask_test", N_("Nucleic-acid test")),
)


def summary(turn: Turn) -> str:
    a, tr, e = report_answers(turn), turn.tr, html.escape
    heading = tr(Review.question)
    lines = [f"<b>{heading}</b>", ""]

    def line(title: str, value: str) -> None:
        lines.append(f"<b>{tr(title)}:</b> {value}")

    line(N_("Name"), e(a.get("name", "")))
    line(N_("Phone"), e(a.get("phone", "")))
    line(N_("ID number"), e(mask_id(a.get("id_number"))))
    stay = a.get("stay")
    line(N_("Where you stay"), e(" › ".join(stay["path"] if stay else [])))
    line(N_("Address"), e(a.get("address", "")))
    status = label(ARRIVAL_STATUS, a.get("arrival_status"), turn)
    at = a.get("arrival_at")
    when = datetime.fromisoformat(at).astimezone(turn.zone).strftime("%Y-%m-%d %H:%M") if at else ""
    line(N_("Arrival"), f"{status}, {when}")
    origin = a.get("origin")
    line(N_("Coming from"), e(origin["text"] if origin else ""))
    transport = label(TRANSPORTS, a.get("transport"), turn)
    number = a.get("transport_number") or ""
    seat = a.get("seat")
    line(N_("Transport"), e(" ".join(x for x in (transport, number, seat or "") if x)))
    if is_abroad(turn.answers):
        line(N_("Port of entry"), e(a.get("entry_port") or ""))
        ended = a.get("quarantine_end")
        line(
            N_("Centralised quarantine"),
            tr("ended on {day}", day=ended) if ended else tr("not ended"),
        )
    history = describe_list(turn, "history")
    line(N_("Places in the last 14 days"), "\n" + "\n".join(history) if history else tr("none"))
    people = describe_list(turn, "companions")
    line(N_("Travelling with you"), "\n" + "\n".join(people) if people else tr("no one"))
    temperature = a.get("temperature")
    line(N_("Temperature"), f"{temperature} °C" if temperature is not None else "")
    line(N_("Symptoms"), ", ".join(label(SYMPTOMS, s, turn) for s in a.get("symptoms", [])))
    line(N_("Health code"), label(HEALTH_CODES, a.get("health_code"), turn))
    test = label(TEST_RESULTS, a.get("test_result"), turn)
    line(N_("Nucleic-acid test"), f"{test} {a.get('test_date') or ''}".strip())
    return "\n".join(lines)


class Review(Widget):
    key = "review"
    question = N_("Please check your report")

    def prompt(self, turn: Turn, step: str) -> Prompt:
        edits = [
            answer_button("✏️ " + turn.tr(title), step, target)
            for target, title in EDITABLE
            if target != "ask_entry_port" or is_abroad(turn.answers)
        ]
        submit = answer_button(turn.tr("✅ Submit"), step, "submit")
        return Prompt(summary(turn), ((submit,), *rows(*edits, width=2)))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "submit":
            return Accept("submit", shown=turn.tr("Submitted"))
        if pressed in {target for target, _ in EDITABLE}:
            return Jump(pressed)
        return Retry(turn.tr("Please press ✅ Submit, or a field to change it."))


# ----- the report filed, and what the resident is told -----


async def submitted(turn: Turn) -> list[Reply]:
    filed = await file_report(
        turn.session,
        turn.answers,
        user_id=turn.user.id,
        now=turn.now,
        zone=turn.zone,
        policy=turn.policy,
    )
    turn.answers.clear()
    tr = turn.tr
    names = ", ".join(html.escape(r.name or "") for r, _ in filed.people)
    if filed.workers:
        contact = tr(
            "Your grid worker: {names}. They will contact you.",
            names=html.escape(", ".join(filed.workers)),
        )
    else:
        contact = tr("Your grid worker will contact you.")
    replies: list[Reply] = [
        Send(
            tr("✅ Your report is filed, for: {names}.", names=names)
            + "\n"
            + tr("Your grid: {grid}.", grid=html.escape(" › ".join(filed.where)))
            + "\n"
            + contact
            + "\n"
            + tr("/me shows your record and plan; /edit corrects it.")
        )
    ]
    for resident, plan in filed.people:
        title = f"<b>{html.escape(resident.name or '')}</b>\n" if len(filed.people) > 1 else ""
        replies.append(Send(title + describe_plan(plan, tr)))
    return replies


def symptoms_widget(key: str, question: str) -> MultiSelect:
    return MultiSelect(key, question, SYMPTOMS, none_value="none")


# ----- the loops, as child flows that hand back one item each -----


async def visit_done(turn: Turn) -> list[Reply]:
    a = turn.answers
    turn.done({"place": a.pop("visit_place"), "from": a.pop("visit_from"), "to": a.pop("visit_to")})
    return []


PLACE_VISITED = Flow(
    "place_visited",
    (
        Step(
            "ask_stay_place",
            PlacePicker("visit_place", N_("Which place? Type the city, e.g. 南京.")),
        ),
        Step(
            "ask_stay_from",
            DatePicker("visit_from", N_("From which day were you there?"), history_window),
        ),
        Step("ask_stay_to", DatePicker("visit_to", N_("Until which day?"), visit_end_window)),
    ),
    finish=visit_done,
)


async def companion_done(turn: Turn) -> list[Reply]:
    a = turn.answers
    companion: Companion = {
        "name": a.pop("companion_name"),
        "relation": a.pop("companion_relation"),
        "phone": a.pop("companion_phone"),
        "symptoms": a.pop("companion_symptoms"),
    }
    turn.done(companion)
    return []


COMPANION = Flow(
    "companion",
    (
        Step(
            "ask_companion_name",
            Text("companion_name", N_("Their full name?"), N_("e.g. 张伟"), parse_name, 60),
        ),
        Step(
            "ask_companion_relation",
            Choice("companion_relation", N_("How are they related to you?"), RELATIONS, width=3),
        ),
        Step(
            "ask_companion_phone",
            Text(
                "companion_phone",
                N_("Their phone number, if they have one?"),
                N_("e.g. 13812345678"),
                lambda text, turn: parse_phone(text, turn.tr),
                20,
                skip=N_("No phone: I answer for them"),
            ),
        ),
        Step(
            "ask_companion_symptoms",
            symptoms_widget(
                "companion_symptoms",
                N_("Do they have any of these now? Choose all that apply, then Done."),
            ),
        ),
    ),
    finish=companion_done,
)


# ----- the report -----

REPORT = Flow(
    "report",
    (
        Step(
            "ask_name", Text("name", N_("What is your full name?"), N_("e.g. 张伟"), parse_name, 60)
        ),
        Step(
            "ask_phone",
            Phone("phone", N_("Your phone number? Press the button below, or type it.")),
        ),
        Step(
            "ask_id_number",
            Text(
                "id_number",
                N_(
                    "Your ID number (resident ID, passport or permit)? Only its last four are shown."
                ),
                N_("e.g. 11010519491231002X"),
                parse_id_number,
                40,
            ),
        ),
        Step(
            "ask_stay",
            AreaPicker(
                "stay",
                N_(
                    "Where will you stay? Choose the district, then the street, community and grid."
                ),
            ),
        ),
        Step(
            "ask_address",
            Text(
                "address",
                N_("The address where you will stay (building, unit, room)?"),
                N_("e.g. 3栋2单元501"),
                parse_address,
                120,
            ),
        ),
        Step(
            "ask_arrival_status",
            Choice(
                "arrival_status",
                N_("Are you arriving soon, or already here?"),
                ARRIVAL_STATUS,
                width=1,
            ),
            section="arrival",
        ),
        Step(
            "ask_arrival_at",
            DateTimePicker(
                "arrival_at",
                N_("When do you (or did you) arrive?"),
                arrival_window,
                now_button=lambda turn: turn.answers.get("arrival_status") == "arrived",
            ),
            section="arrival",
        ),
        Step(
            "ask_origin",
            PlacePicker(
                "origin",
                N_(
                    "Where are you coming from? Type the city (or country), e.g. 上海, 湖北武汉, Tokyo."
                ),
            ),
            next=ORIGIN_NEXT,
            section="origin",
        ),
        Step(
            "ask_from_abroad",
            Choice("from_abroad", N_("Is that outside mainland China?"), YES_NO),
            next=ABROAD_NEXT,
            section="origin",
        ),
        Step(
            "ask_transport",
            Choice("transport", N_("How are you travelling?"), TRANSPORTS, width=3),
            next="ask_transport_number",
            section="transport",
        ),
        Step(
            "ask_transport_number",
            Text(
                "transport_number",
                N_("The train, flight or plate number?"),
                N_("e.g. G1234"),
                parse_transport_number,
                32,
            ),
            next=TRANSPORT_NUMBER_NEXT,
            section="transport",
        ),
        Step(
            "ask_seat",
            Text(
                "seat",
                N_("Your seat (carriage and seat), if you have one?"),
                N_("e.g. 5车12F"),
                parse_seat,
                32,
                skip=N_("No seat number"),
            ),
            next=SEAT_NEXT,
            section="transport",
        ),
        Step(
            "ask_entry_port",
            Text(
                "entry_port",
                N_("Where did you enter the country (airport or port)?"),
                N_("e.g. 上海浦东机场"),
                parse_port,
                60,
            ),
            next="ask_quarantine",
            section="origin.abroad",
        ),
        Step(
            "ask_quarantine",
            Choice(
                "quarantine",
                N_("Has your centralised quarantine after entry ended?"),
                QUARANTINE,
                width=1,
            ),
            next=QUARANTINE_NEXT,
            effect=drop_quarantine_end,
            section="origin.abroad",
        ),
        Step(
            "ask_quarantine_end",
            DatePicker("quarantine_end", N_("On which day did it end?"), quarantine_window),
            next="ask_history_more",
            section="origin.abroad",
        ),
        Step(
            "ask_history_more",
            More(
                "history_more",
                N_(
                    "Where else have you been in the 14 days before arriving (stayed or passed through)? Add each place, then press “No more places”."
                ),
                MORE_PLACES,
                width=1,
                listing="history",
            ),
            next=HISTORY_NEXT,
            on_result=add_visit,
        ),
        Step(
            "ask_companion_more",
            More(
                "companion_more",
                N_(
                    "Is anyone travelling with you (family, friends)? Each gets their own record; you answer for those without a phone."
                ),
                MORE_PEOPLE,
                width=1,
                listing="companions",
            ),
            next=COMPANIONS_NEXT,
            on_result=add_companion,
        ),
        Step(
            "ask_temperature",
            Text(
                "temperature",
                N_("Your temperature now (°C)? Press one or type it, e.g. 36.8."),
                N_("e.g. 36.8"),
                parse_temperature,
                12,
                quick=("36.2", "36.5", "36.8", "37.0", "37.3", "37.5"),
            ),
        ),
        Step(
            "ask_symptoms",
            symptoms_widget(
                "symptoms", N_("Do you have any of these now? Choose all that apply, then Done.")
            ),
        ),
        Step(
            "ask_health_code",
            Choice("health_code", N_("The colour of your health code?"), HEALTH_CODES),
        ),
        Step(
            "ask_test",
            Choice("test_result", N_("Your latest nucleic-acid test?"), TEST_RESULTS, width=2),
            next=TEST_NEXT,
            effect=drop_test_date,
            section="test",
        ),
        Step(
            "ask_test_date",
            DatePicker("test_date", N_("On which day were you sampled?"), test_window),
            section="test",
        ),
        Step("ask_review", Review(), next=END),
    ),
    finish=submitted,
)

__all__ = ["COMPANION", "PLACE_VISITED", "REPORT", "ReportAnswers", "symptoms_widget"]
