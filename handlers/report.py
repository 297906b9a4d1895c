"""The arrival report, one question at a time, as the resident meets it.

The table REPORT below is the conversation: each step names its question, its widget and,
where the way on depends on an answer, every step it can lead to. The two loops are child
flows: a place visited (PLACE_VISITED) and a companion (COMPANION) are each typed at the
"anywhere else? / anyone else?" question, whose child flow asks the rest of the item and hands
it back; the question lists what was added so far. docs/flows.md draws all of it.

Few taps: a place that fits one known place is taken at once (the next question offers
"not this one?"); "arrived just now" is one tap; "none of these" ends the symptoms; one tap
says all is well; the community is typed or picked and the grid follows from the address.
The summary has one ✏️ per section.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, cast

from chat import forms
from chat.buttons import answer_button
from chat.contract import Button, Reply, Send, rows
from chat.forms import (
    END,
    Accept,
    Answers,
    Branch,
    Call,
    Choice,
    Invalid,
    Jump,
    MultiSelect,
    Option,
    Outcome,
    Prompt,
    Redraw,
    Retry,
    Text,
    label_of,
)
from chat.i18n import N_
from chat.widgets import DatePicker, DateTimePicker, Phone, parse_phone
from handlers.answers import (
    parse_address,
    parse_id_number,
    parse_name,
    parse_number_and_seat,
    parse_port,
    parse_temperature,
)
from handlers.context import Flow, Step, Turn, Widget
from handlers.invites import invite_offer
from handlers.widgets import AreaPicker, Naming, PlacePicker
from models.people import mask_id
from rules import places
from services.contact import phone_line
from services.filing import PROXY, file_report
from services.pushed import FROM_LINK, link_filed
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
    # Their own ID number (typed after the name) and temperature (when not all well).
    id_number: str | None
    temperature: float | None


class StayAnswer(TypedDict):
    area_id: int  # the community; the grid is found from the address when filed
    area_code: str
    path: list[str]


class ReportAnswers(TypedDict, total=False):
    name: str
    phone: str
    id_number: str
    stay: StayAnswer
    address: str
    arrival_when: str  # now | arrived | expected
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
    health: str  # well | report
    temperature: float | None
    symptoms: list[str]
    health_code: str
    test_result: str
    test_date: str | None


def report_answers(turn: forms.Turn) -> ReportAnswers:
    return cast(ReportAnswers, turn.answers)


# ----- choices only the report asks -----

ARRIVAL_WHEN = (
    Option("now", N_("✅ I have just arrived")),
    Option("arrived", N_("I arrived earlier")),
    Option("expected", N_("I will arrive in the next 3 days")),
)
ARRIVAL_STATUS = (
    Option("expected", N_("expected")),
    Option("arrived", N_("arrived")),
)
HEALTH = (
    Option("well", N_("✅ All well: temperature normal, no symptoms, green code")),
    Option("report", N_("Something to report: answer one by one")),
)
COMPANION_HEALTH = (
    Option("well", N_("✅ All well: temperature normal, no symptoms")),
    Option("report", N_("Something to report: answer one by one")),
)
YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))
QUARANTINE = (
    Option("ended", N_("It has ended")),
    Option("not_ended", N_("Not ended / no quarantine yet")),
)
NO_MORE_PLACES = N_("No more places")
NO_ONE_MORE = N_("No one more")


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


def after_arrival(answers: Answers) -> str:
    return "ask_origin" if answers.get("arrival_when") == "now" else "ask_arrival_at"


def after_origin(answers: Answers) -> str:
    if not (answers.get("origin") or {}).get("code"):
        return "ask_from_abroad"
    return "ask_transport"


def after_transport_number(answers: Answers) -> str:
    return "ask_entry_port" if is_abroad(answers) else "ask_history_more"


def after_quarantine(answers: Answers) -> str:
    return "ask_quarantine_end" if answers.get("quarantine") == "ended" else "ask_history_more"


def after_history_more(answers: Answers) -> str | Call:
    return Call("place_visited") if answers.get("history_more") == "add" else "ask_companion_more"


def after_companion_more(answers: Answers) -> str | Call:
    return Call("companion") if answers.get("companion_more") == "add" else "ask_health"


def after_health(answers: Answers) -> str:
    return "ask_test" if answers.get("health") == "well" else "ask_temperature"


def after_test(answers: Answers) -> str:
    return "ask_review" if answers.get("test_result") == "none" else "ask_test_date"


ARRIVAL_NEXT = Branch(after_arrival, ("ask_origin", "ask_arrival_at"))
ORIGIN_NEXT = Branch(after_origin, ("ask_from_abroad", "ask_transport"))
TRANSPORT_NUMBER_NEXT = Branch(after_transport_number, ("ask_entry_port", "ask_history_more"))
QUARANTINE_NEXT = Branch(after_quarantine, ("ask_quarantine_end", "ask_history_more"))
HISTORY_NEXT = Branch(after_history_more, (Call("place_visited"), "ask_companion_more"))
COMPANIONS_NEXT = Branch(after_companion_more, (Call("companion"), "ask_health"))
HEALTH_NEXT = Branch(after_health, ("ask_test", "ask_temperature"))
TEST_NEXT = Branch(after_test, ("ask_review", "ask_test_date"))


def after_companion_health(answers: Answers) -> str:
    return END if answers.get("companion_health") == "well" else "ask_companion_temperature"


COMPANION_HEALTH_NEXT = Branch(after_companion_health, (END, "ask_companion_temperature"))


# ----- effects -----


def arrival_taken(turn: Turn) -> None:
    """ "Just now" is the date and the time in one tap."""
    when = turn.answers.get("arrival_when")
    turn.answers["arrival_status"] = "expected" if when == "expected" else "arrived"
    if when == "now":
        turn.answers["arrival_at"] = turn.now.isoformat()


def number_and_seat(turn: Turn) -> None:
    number, seat = turn.answers.pop("number_and_seat")
    turn.answers["transport_number"], turn.answers["seat"] = number, seat


def health_taken(turn: Turn) -> None:
    """All well in one tap: a normal temperature (not measured), no symptoms, a green code."""
    if turn.answers.get("health") == "well":
        turn.answers.update(temperature=None, symptoms=[], health_code="green")


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


# ----- the loops' questions: type the next item, or say there is none -----


def listing(turn: forms.Turn, key: str) -> str:
    entries = describe_list(turn, key)
    return "\n\n" + "\n".join(entries) if entries else ""


def list_buttons(turn: forms.Turn, step: str, done: str, key: str) -> tuple[Button, ...]:
    buttons = [answer_button(turn.tr(done), step, "done")]
    if turn.answers.get(key):
        buttons.append(answer_button(turn.tr("🗑 Clear the list"), step, "clear"))
    return tuple(buttons)


@dataclass(frozen=True)
class VisitedPlaces(PlacePicker):
    """ "Where else have you been?": a place typed starts the child flow that asks its days;
    "No more places" goes on. The places added so far are listed (and can be cleared)."""

    def prompt(self, turn: Turn, step: str) -> Prompt:
        if turn.answers.get(self.draft):
            return super().prompt(turn, step)
        return Prompt(
            turn.say(self.question) + listing(turn, "history"),
            (list_buttons(turn, step, NO_MORE_PLACES, "history"),),
        )

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "done" or (
            pressed is None and (turn.event.text or "").strip() == turn.tr(NO_MORE_PLACES)
        ):
            turn.answers.pop(self.draft, None)
            return Accept("done", shown=turn.tr(NO_MORE_PLACES))
        if pressed == "clear":
            turn.answers["history"] = []
            return Redraw()
        outcome = super().take(turn, pressed)
        if isinstance(outcome, Accept):
            turn.answers["visit_place"] = outcome.value
            return Accept("add", shown=outcome.value["text"], undo=outcome.undo)
        return outcome


@dataclass(frozen=True)
class Companions(Widget):
    """ "Is anyone travelling with you?": a name typed starts the child flow that asks the
    rest about them; "No one more" goes on. Those added so far are listed."""

    key: str
    question: str

    def prompt(self, turn: Turn, step: str) -> Prompt:
        return Prompt(
            turn.say(self.question) + listing(turn, "companions"),
            (list_buttons(turn, step, NO_ONE_MORE, "companions"),),
        )

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        typed = (turn.event.text or "").strip()
        if pressed == "done" or (pressed is None and typed == turn.tr(NO_ONE_MORE)):
            return Accept("done", shown=turn.tr(NO_ONE_MORE))
        if pressed == "clear":
            turn.answers["companions"] = []
            return Redraw()
        if pressed is not None or not typed:
            return Retry(
                turn.tr(
                    "Please type their full name, or press “{done}”.", done=turn.tr(NO_ONE_MORE)
                )
            )
        # Their ID number may follow the name: "王小红 110105201507010018".
        id_number = None
        parts = typed.rsplit(None, 1)
        if len(parts) == 2 and any(ch.isdigit() for ch in parts[1]):
            try:
                id_number = parse_id_number(parts[1], turn)
            except Invalid as bad:
                return Retry(bad.problem)
            typed = parts[0]
        try:
            name = parse_name(typed[:60], turn)
        except Invalid as bad:
            return Retry(bad.problem)
        turn.answers["companion_name"] = name
        turn.answers["companion_id"] = id_number
        return Accept("add", shown=name)


def describe_list(turn: forms.Turn, key: str) -> list[str]:
    a = report_answers(turn)
    if key == "history":
        return [
            f"• {html.escape(v['place']['text'])}: {v['from']} → {v['to']}"
            for v in a.get("history", [])
        ]
    return [
        "• "
        + turn.tr(
            "{name} ({relation})",
            name=html.escape(c.get("name", "")),
            relation=label(RELATIONS, c.get("relation"), turn),
        )
        + (f" {html.escape(phone)}" if (phone := c.get("phone")) else "")
        for c in a.get("companions", [])
    ]


# ----- the summary: one compact message, one ✏️ per section -----

# (section, its title, the step it starts with): editing asks the whole section again.
SECTIONS = (
    ("person", N_("About you"), "ask_name"),
    ("home", N_("Where you stay"), "ask_stay"),
    ("journey", N_("Journey"), "ask_arrival"),
    ("history", N_("Places in the last 14 days"), "ask_history_more"),
    ("companions", N_("Travelling with you"), "ask_companion_more"),
    ("health", N_("Health"), "ask_health"),
)


def _when(at: str | None, turn: forms.Turn) -> str:
    return datetime.fromisoformat(at).astimezone(turn.zone).strftime("%Y-%m-%d %H:%M") if at else ""


def summary(turn: forms.Turn) -> str:
    a, tr, e = report_answers(turn), turn.tr, html.escape
    lines = [f"<b>{e(tr(Review.question))}</b>", ""]

    def line(icon: str, title: str, *values: str) -> None:
        value = " · ".join(v for v in values if v)
        lines.append(icon + " " + tr("<b>{label}:</b> {value}", label=e(tr(title)), value=value))

    line(
        "👤",
        "About you",
        e(a.get("name", "")),
        e(a.get("phone", "")),
        e(mask_id(a.get("id_number"))),
    )
    stay = a.get("stay")
    line(
        "🏠", "Where you stay", e(" › ".join(stay["path"] if stay else [])), e(a.get("address", ""))
    )
    status = label(ARRIVAL_STATUS, a.get("arrival_status"), turn)
    origin = a.get("origin")
    transport = label(TRANSPORTS, a.get("transport"), turn)
    how = " ".join(
        x for x in (transport, a.get("transport_number") or "", a.get("seat") or "") if x
    )
    line(
        "🧳",
        "Journey",
        e(f"{status} {_when(a.get('arrival_at'), turn)}"),
        e(tr("from {origin}", origin=origin["text"] if origin else "")),
        e(how),
    )
    if is_abroad(turn.answers):
        ended = a.get("quarantine_end")
        lines.append(
            "    "
            + e(tr("entered at {port}", port=a.get("entry_port") or ""))
            + " · "
            + e(
                tr("centralised quarantine ended on {day}", day=ended)
                if ended
                else tr("centralised quarantine not ended")
            )
        )
    history = describe_list(turn, "history")
    line("📍", "Places in the last 14 days", "" if history else tr("none"))
    lines += ["    " + h for h in history]
    people = describe_list(turn, "companions")
    line("👥", "Travelling with you", "" if people else tr("no one"))
    lines += ["    " + p for p in people]
    if a.get("health") == "well":
        health = [tr("all well")]
    else:
        temperature = a.get("temperature")
        symptoms = [s for s in a.get("symptoms", []) if s != "none"]
        health = [
            f"{temperature} °C" if temperature is not None else "",
            tr.join(label(SYMPTOMS, s, turn) for s in symptoms) if symptoms else tr("no symptoms"),
            label(HEALTH_CODES, a.get("health_code"), turn),
        ]
    tested = " ".join(
        x for x in (label(TEST_RESULTS, a.get("test_result"), turn), a.get("test_date")) if x
    )
    line(
        "🌡",
        "Health",
        *(e(h) for h in health),
        e(tr("test: {result}", result=tested)),
    )
    return "\n".join(lines)


class Review(Widget):
    key = "review"
    question = N_("Please check your report")

    def prompt(self, turn: Turn, step: str) -> Prompt:
        edits = [answer_button("✏️ " + turn.tr(title), step, first) for _, title, first in SECTIONS]
        submit = answer_button(turn.tr("✅ Submit"), step, "submit")
        return Prompt(summary(turn), ((submit,), *rows(*edits, width=2)))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "submit":
            return Accept("submit", shown=turn.tr("Submitted"))
        if pressed in {first for _, _, first in SECTIONS}:
            return Jump(pressed)
        return Retry(turn.tr("Please press ✅ Submit, or a section to change it."))


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
    # Someone on a pushed list (through their personal link, or found by their ID number):
    # the row is theirs now, and its door-to-door task closes.
    from_link = turn.answers.get(FROM_LINK)
    await link_filed(
        turn.session,
        [r for r, _ in filed.people],
        turn.now,
        turn.zone,
        row_id=from_link if isinstance(from_link, int) else None,
        policy=turn.policy,
    )
    turn.answers.clear()
    tr = turn.tr
    names = tr.join(html.escape(r.name or "") for r, _ in filed.people)
    if not filed.placed:
        contact = tr("Your community will place you in a grid; its worker will contact you.")
    elif filed.workers:
        contact = tr(
            "Your grid worker: {names}. They will contact you.",
            names=html.escape(tr.join(filed.workers)),
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
    phone = await phone_line(turn.session, [r.grid_id for r, _ in filed.people], tr)
    for n, (resident, plan) in enumerate(filed.people, start=1):
        title = f"<b>{html.escape(resident.name or '')}</b>\n" if len(filed.people) > 1 else ""
        last = f"\n\n{phone}" if phone and n == len(filed.people) else ""
        replies.append(Send(title + describe_plan(plan, tr) + last))
    return [*replies, *await invite_offer(turn)]


def symptoms_widget(key: str, question: str) -> MultiSelect:
    return MultiSelect(key, question, SYMPTOMS, none_value="none")


# ----- the loops, as child flows that hand back one item each -----


async def the_place(turn: Turn) -> dict[str, str]:
    return {"place": (turn.answers.get("visit_place") or {}).get("text", "")}


async def the_companion(turn: Turn) -> dict[str, str]:
    return {"companion": turn.answers.get("companion_name") or ""}


async def visit_done(turn: Turn) -> list[Reply]:
    a = turn.answers
    turn.done({"place": a.pop("visit_place"), "from": a.pop("visit_from"), "to": a.pop("visit_to")})
    return []


PLACE_VISITED = Flow(
    "place_visited",
    (
        Step(
            "ask_stay_from",
            Naming(
                DatePicker(
                    "visit_from", N_("{place}: from which day were you there?"), history_window
                ),
                the_place,
            ),
        ),
        Step(
            "ask_stay_to",
            Naming(
                DatePicker("visit_to", N_("{place}: until which day?"), visit_end_window),
                the_place,
            ),
        ),
    ),
    finish=visit_done,
)


async def companion_done(turn: Turn) -> list[Reply]:
    a = turn.answers
    well = a.pop("companion_health", None) == "well"
    companion: Companion = {
        "name": a.pop("companion_name"),
        "relation": a.pop("companion_relation"),
        "phone": a.pop("companion_phone"),
        "symptoms": [] if well else a.pop("companion_symptoms", []),
        "temperature": None if well else a.pop("companion_temperature", None),
        "id_number": a.pop("companion_id", None),
    }
    a.pop("companion_symptoms", None)
    a.pop("companion_temperature", None)
    turn.done(companion)
    return []


COMPANION = Flow(
    "companion",
    (
        Step(
            "ask_companion_relation",
            Naming(
                Choice(
                    "companion_relation",
                    N_("{companion}: how are they related to you?"),
                    RELATIONS,
                    width=3,
                ),
                the_companion,
            ),
        ),
        Step(
            "ask_companion_phone",
            Naming(
                Text(
                    "companion_phone",
                    N_("{companion}: their phone number, if they have one?"),
                    N_("e.g. 13812345678"),
                    lambda text, turn: parse_phone(text, turn.tr),
                    20,
                    skip=N_("No phone: I answer for them"),
                ),
                the_companion,
            ),
        ),
        Step(
            "ask_companion_health",
            Naming(
                Choice(
                    "companion_health",
                    N_("{companion}: how are they now?"),
                    COMPANION_HEALTH,
                    width=1,
                ),
                the_companion,
            ),
            next=COMPANION_HEALTH_NEXT,
        ),
        Step(
            "ask_companion_temperature",
            Naming(
                Text(
                    "companion_temperature",
                    N_("{companion}: their temperature now (°C)? Press one or type it."),
                    N_("e.g. 36.8"),
                    parse_temperature,
                    12,
                    quick=("36.2", "36.5", "36.8", "37.0", "37.3", "37.5"),
                ),
                the_companion,
            ),
        ),
        Step(
            "ask_companion_symptoms",
            Naming(
                symptoms_widget(
                    "companion_symptoms",
                    N_("{companion}: any of these now? Choose all that apply, then Done."),
                ),
                the_companion,
            ),
            next=END,
        ),
    ),
    finish=companion_done,
)


# ----- the report -----

REPORT = Flow(
    "report",
    (
        Step(
            "ask_name",
            Text("name", N_("What is your full name?"), N_("e.g. 张伟"), parse_name, 60),
            section="person",
        ),
        Step(
            "ask_phone",
            Phone(
                "phone",
                N_("Your phone number? Press the button below, or type it."),
                typed_only_when=PROXY,
                typed_question=N_("Their phone number? Type it, e.g. 13812345678."),
            ),
            section="person",
        ),
        Step(
            "ask_id_number",
            Text(
                "id_number",
                N_(
                    "Your ID number (resident ID, passport or permit)? Only its last four digits will be shown."
                ),
                N_("e.g. 11010519491231002X"),
                parse_id_number,
                40,
            ),
            section="person",
        ),
        Step(
            "ask_stay",
            AreaPicker(
                "stay",
                N_(
                    "Which community will you stay in? Type its name, or choose the district, street and community."
                ),
            ),
            section="home",
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
            section="home",
        ),
        Step(
            "ask_arrival",
            Choice("arrival_when", N_("Have you arrived?"), ARRIVAL_WHEN, width=1),
            next=ARRIVAL_NEXT,
            effect=arrival_taken,
            section="journey",
        ),
        Step(
            "ask_arrival_at",
            DateTimePicker(
                "arrival_at",
                N_("When do you (or did you) arrive?"),
                arrival_window,
                now_button=lambda turn: turn.answers.get("arrival_status") == "arrived",
            ),
            section="journey",
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
            section="journey",
        ),
        Step(
            "ask_from_abroad",
            Choice("from_abroad", N_("Is that outside mainland China?"), YES_NO),
            next="ask_transport",
            section="journey",
        ),
        Step(
            "ask_transport",
            Choice("transport", N_("How are you travelling?"), TRANSPORTS, width=3),
            section="journey",
        ),
        Step(
            "ask_transport_number",
            Text(
                "number_and_seat",
                N_("The train, flight or plate number? Add your seat after it if you have one."),
                N_("e.g. G1234 5车12F"),
                parse_number_and_seat,
                64,
            ),
            next=TRANSPORT_NUMBER_NEXT,
            effect=number_and_seat,
            section="journey",
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
            section="journey.abroad",
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
            section="journey.abroad",
        ),
        Step(
            "ask_quarantine_end",
            DatePicker("quarantine_end", N_("On which day did it end?"), quarantine_window),
            next="ask_history_more",
            section="journey.abroad",
        ),
        Step(
            "ask_history_more",
            VisitedPlaces(
                "history_more",
                N_(
                    "Where else have you been in the 14 days before arriving (stayed or passed through)? Type each place, or press “No more places”."
                ),
            ),
            next=HISTORY_NEXT,
            on_result=add_visit,
            section="history",
        ),
        Step(
            "ask_companion_more",
            Companions(
                "companion_more",
                N_(
                    "Is anyone travelling with you (family, friends)? Type each one's full name, and their ID number after it if they have one (e.g. 王小红 110105201507010018), or press “No one more”. Each gets their own record; you answer for those without a phone."
                ),
            ),
            next=COMPANIONS_NEXT,
            on_result=add_companion,
            section="companions",
        ),
        Step(
            "ask_health",
            Choice("health", N_("How are you now?"), HEALTH, width=1),
            next=HEALTH_NEXT,
            effect=health_taken,
            section="health",
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
            section="health",
        ),
        Step(
            "ask_symptoms",
            symptoms_widget(
                "symptoms", N_("Do you have any of these now? Choose all that apply, then Done.")
            ),
            section="health",
        ),
        Step(
            "ask_health_code",
            Choice("health_code", N_("The colour of your health code?"), HEALTH_CODES),
            section="health",
        ),
        Step(
            "ask_test",
            Choice("test_result", N_("Your latest nucleic-acid test?"), TEST_RESULTS, width=2),
            next=TEST_NEXT,
            effect=drop_test_date,
            section="health",
        ),
        Step(
            "ask_test_date",
            DatePicker("test_date", N_("On which day were you sampled?"), test_window),
            section="health",
        ),
        Step("ask_review", Review(), next=END),
    ),
    finish=submitted,
)

__all__ = ["COMPANION", "PLACE_VISITED", "REPORT", "ReportAnswers", "symptoms_widget"]
