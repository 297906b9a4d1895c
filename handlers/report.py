"""The arrival report, one question at a time, as the resident meets it.

The table REPORT below is the conversation: each step names its question, its widget and,
where the way on depends on an answer, the next step. Loops (places visited, companions)
are a "more?" question that either starts the loop's steps again or goes on.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chat.contract import Button, Reply, rows
from chat.i18n import N_
from handlers.filing import file_report
from handlers.forms import (
    END,
    RETURN_TO,
    SEPARATOR,
    Accept,
    Answers,
    Choice,
    Flow,
    Invalid,
    Jump,
    MultiSelect,
    Option,
    Outcome,
    Phone,
    Prompt,
    Redraw,
    Retry,
    Step,
    Text,
    Turn,
    Widget,
    parse_phone,
    plain_text,
)
from handlers.widgets import AreaPicker, DatePicker, DateTimePicker, PlacePicker
from models.people import mask_id
from rules import places

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# Passports and permits: letters and digits, at least one letter (an ID has none but X).
PASSPORT_SHAPE = re.compile(r"^(?=.*[A-Z])[A-Z0-9]{6,20}$")
HISTORY_DAYS = 14
PRE_ARRIVAL_DAYS = 3

# ----- answers: what each typed answer must look like -----


def parse_name(text: str, turn: Turn) -> str:
    name = plain_text(text, turn)
    if len(name) < 2 or not any(ch.isalpha() for ch in name) or any(ch.isdigit() for ch in name):
        raise Invalid(turn.tr("Please type the full name as on the ID, e.g. 张伟 or Li Na."))
    return name


def parse_id_number(text: str, turn: Turn) -> str:
    """A mainland resident ID (checked by its check digit) or a passport / permit number."""
    value = re.sub(r"[\s-]", "", text).upper()
    if re.fullmatch(r"\d{17}.", value):
        total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
        if ID_CHECK[total % 11] == value[17]:
            return value
        raise Invalid(
            turn.tr(
                "That ID number has a typo: its last character does not match. Please check it (e.g. 11010519491231002X)."
            )
        )
    if PASSPORT_SHAPE.fullmatch(value) and not re.search(r"\d{13}", value):
        return value
    raise Invalid(
        turn.tr(
            "Please type an 18-character ID number (e.g. 11010519491231002X) "
            "or a passport or permit number (e.g. E12345678)."
        )
    )


def parse_address(text: str, turn: Turn) -> str:
    address = plain_text(text, turn)
    if len(address) < 4:
        raise Invalid(turn.tr("Please type the building, unit and room, e.g. 3栋2单元501."))
    return address


TRANSPORT_NUMBERS: dict[str, tuple[re.Pattern[str], str]] = {
    # Passenger trains: G/D/C high speed, Z/T/K express, S/Y/L… or plain digits.
    "train": (
        re.compile(r"^[GDCZTKSYLP]?\d{1,4}$"),
        N_("Please type the train number, e.g. G1234, D301 or K1074."),
    ),
    # IATA: a two-character airline code, then 1-4 digits (and an optional letter).
    "flight": (
        re.compile(r"^(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{1,4}[A-Z]?$"),
        N_("Please type the flight number, e.g. CA1234 or MU5101."),
    ),
    # A mainland plate: province character, letter, then 5 (6 for new-energy) characters.
    "car": (
        re.compile(
            r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]$"
        ),
        N_("Please type the plate number, e.g. 粤B12345."),
    ),
    "coach": (re.compile(r"^.{1,32}$"), N_("Please type the coach's number or plate.")),
    "ship": (re.compile(r"^.{1,32}$"), N_("Please type the ship's name or voyage number.")),
    "other": (re.compile(r"^.{1,32}$"), N_("Please say briefly how you travelled.")),
}


def parse_transport_number(text: str, turn: Turn) -> str:
    kind = turn.answers.get("transport", "other")
    value = (
        re.sub(r"[\s·•.-]", "", text).upper()
        if kind in ("train", "flight", "car")
        else plain_text(text, turn)
    )
    shape, example = TRANSPORT_NUMBERS.get(kind, TRANSPORT_NUMBERS["other"])
    if not shape.match(value):
        raise Invalid(turn.tr(example))
    return value


TEMPERATURE = re.compile(r"^(\d{2}(?:[.,]\d{1,2})?)\s*(?:°\s*C?|℃|度|c)?$", re.IGNORECASE)


def parse_temperature(text: str, turn: Turn) -> float:
    found = TEMPERATURE.match(text.strip())
    value = float(found[1].replace(",", ".")) if found else None
    if value is None or not 34.0 <= value <= 42.5:
        raise Invalid(
            turn.tr("Please type the temperature in °C between 34.0 and 42.5, e.g. 36.8.")
        )
    return round(value, 1)


def parse_seat(text: str, turn: Turn) -> str:
    return plain_text(text, turn)[:32]


def parse_port(text: str, turn: Turn) -> str:
    port = plain_text(text, turn)
    if len(port) < 2:
        raise Invalid(turn.tr("Please type the port of entry, e.g. 上海浦东机场 or 深圳湾口岸."))
    return port


# ----- choices -----

ARRIVAL_STATUS = (
    Option("expected", N_("I will arrive in the next 3 days")),
    Option("arrived", N_("I have arrived")),
)
TRANSPORTS = (
    Option("train", N_("🚄 Train")),
    Option("flight", N_("✈️ Flight")),
    Option("coach", N_("🚌 Coach")),
    Option("car", N_("🚗 Own car")),
    Option("ship", N_("🚢 Ship")),
    Option("other", N_("Other")),
)
YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))
QUARANTINE = (
    Option("ended", N_("It has ended")),
    Option("not_ended", N_("Not ended / no quarantine yet")),
)
RELATIONS = (
    Option("spouse", N_("Spouse")),
    Option("child", N_("Child")),
    Option("parent", N_("Parent")),
    Option("relative", N_("Other family")),
    Option("friend", N_("Friend")),
    Option("colleague", N_("Colleague")),
)
SYMPTOMS = (
    Option("fever", N_("Fever")),
    Option("cough", N_("Cough")),
    Option("sore_throat", N_("Sore throat")),
    Option("fatigue", N_("Fatigue")),
    Option("taste_smell", N_("Loss of taste or smell")),
    Option("diarrhoea", N_("Diarrhoea")),
    Option("short_breath", N_("Shortness of breath")),
    Option("none", N_("None of these")),
)
HEALTH_CODES = (
    Option("green", N_("🟢 Green")),
    Option("yellow", N_("🟡 Yellow")),
    Option("red", N_("🔴 Red")),
    Option("none", N_("I have none")),
)
TEST_RESULTS = (
    Option("negative", N_("Negative")),
    Option("positive", N_("Positive")),
    Option("pending", N_("Waiting for the result")),
    Option("none", N_("No test in the last 14 days")),
)
MORE_PLACES = (Option("add", N_("➕ Add a place")), Option("done", N_("No more places")))
MORE_PEOPLE = (Option("add", N_("➕ Add a person")), Option("done", N_("No one more")))


def label(options: tuple[Option, ...], value: Any, turn: Turn) -> str:
    return next((turn.tr(o.label) for o in options if o.value == value), str(value))


# ----- windows for dates -----


def _today(turn: Turn) -> date:
    return turn.now.astimezone(turn.zone).date()


def arrival_window(turn: Turn) -> tuple[datetime, datetime]:
    if turn.answers.get("arrival_status") == "expected":
        return turn.now, turn.now + timedelta(days=PRE_ARRIVAL_DAYS)
    return turn.now - timedelta(days=HISTORY_DAYS), turn.now


def arrival_day(turn: Turn) -> date:
    at = turn.answers.get("arrival_at")
    return datetime.fromisoformat(at).astimezone(turn.zone).date() if at else _today(turn)


def history_window(turn: Turn) -> tuple[date, date]:
    last = arrival_day(turn)
    return last - timedelta(days=HISTORY_DAYS), last


def stay_end_window(turn: Turn) -> tuple[date, date]:
    first = date.fromisoformat(turn.answers["_stay"]["from"])
    return first, arrival_day(turn)


def test_window(turn: Turn) -> tuple[date, date]:
    return _today(turn) - timedelta(days=HISTORY_DAYS), _today(turn)


def quarantine_window(turn: Turn) -> tuple[date, date]:
    return _today(turn) - timedelta(days=60), _today(turn) + timedelta(days=30)


# ----- the way on, where it depends on the answers -----


def is_abroad(answers: Answers) -> bool:
    origin = answers.get("origin") or {}
    if origin.get("code"):
        return bool(places.place(origin["code"]).abroad)
    return answers.get("from_abroad") == "yes"


def after_origin(answers: Answers) -> str:
    if not (answers.get("origin") or {}).get("code"):
        return "ask_from_abroad"
    return after_abroad(answers)


def after_abroad(answers: Answers) -> str:
    # Editing from the summary: a new origin abroad still needs its port and quarantine.
    if answers.get(RETURN_TO) and is_abroad(answers) and not answers.get("entry_port"):
        return "ask_entry_port"
    return "ask_transport"


def after_transport(answers: Answers) -> str:
    return "ask_transport_number"


def after_transport_number(answers: Answers) -> str:
    if answers.get("transport") == "car":
        return after_seat(answers)
    return "ask_seat"


def after_seat(answers: Answers) -> str:
    return "ask_entry_port" if is_abroad(answers) else "ask_history_more"


def after_quarantine(answers: Answers) -> str:
    return "ask_quarantine_end" if answers.get("quarantine") == "ended" else "ask_history_more"


def after_history_more(answers: Answers) -> str:
    if answers.get("history_more") == "add":
        return "ask_stay_place"
    return "ask_companion_more"


def after_companion_more(answers: Answers) -> str:
    return "ask_companion_name" if answers.get("companion_more") == "add" else "ask_temperature"


def after_test(answers: Answers) -> str:
    return "ask_review" if answers.get("test_result") == "none" else "ask_test_date"


# ----- effects: answers that build lists -----


def start_history(turn: Turn) -> None:
    turn.answers.setdefault("history", [])


def stay_place_taken(turn: Turn) -> None:
    turn.answers["_stay"] = {"place": turn.answers.pop("stay_place")}


def stay_from_taken(turn: Turn) -> None:
    turn.answers["_stay"]["from"] = turn.answers.pop("stay_from")


def stay_to_taken(turn: Turn) -> None:
    stay = turn.answers.pop("_stay")
    stay["to"] = turn.answers.pop("stay_to")
    turn.answers.setdefault("history", []).append(stay)


def companion_named(turn: Turn) -> None:
    turn.answers["_companion"] = {"name": turn.answers.pop("companion_name")}


def companion_related(turn: Turn) -> None:
    turn.answers["_companion"]["relation"] = turn.answers.pop("companion_relation")


def companion_phoned(turn: Turn) -> None:
    turn.answers["_companion"]["phone"] = turn.answers.pop("companion_phone")


def companion_health(turn: Turn) -> None:
    companion = turn.answers.pop("_companion")
    companion["symptoms"] = turn.answers.pop("companion_symptoms")
    turn.answers.setdefault("companions", []).append(companion)


def start_companions(turn: Turn) -> None:
    turn.answers.setdefault("companions", [])


def drop_quarantine_end(turn: Turn) -> None:
    if turn.answers.get("quarantine") != "ended":
        turn.answers["quarantine_end"] = None


def drop_test_date(turn: Turn) -> None:
    if turn.answers.get("test_result") == "none":
        turn.answers["test_date"] = None


# ----- the loops' "more?" questions show what is listed so far -----


@dataclass(frozen=True)
class More(Choice):
    """ "Add another / done", above the list of what was added so far (which can be cleared)."""

    listing: str = "history"

    def prompt(self, turn: Turn, step: str) -> Prompt:
        base = super().prompt(turn, step)
        entries = describe_list(turn, self.listing)
        if not entries:
            return base
        clear = Button(turn.tr("🗑 Clear the list"), f"{step}{SEPARATOR}clear")
        return Prompt(base.text + "\n\n" + "\n".join(entries), (*base.buttons, (clear,)))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "clear":
            turn.answers[self.listing] = []
            return Redraw()
        return super().take(turn, pressed)


def describe_list(turn: Turn, listing: str) -> list[str]:
    if listing == "history":
        return [
            f"• {html.escape(s['place']['text'])}: {s['from']} → {s['to']}"
            for s in turn.answers.get("history", [])
        ]
    return [
        f"• {html.escape(c['name'])} ({label(RELATIONS, c['relation'], turn)})"
        + (f", {html.escape(c['phone'])}" if c.get("phone") else "")
        for c in turn.answers.get("companions", [])
    ]


# ----- the summary, with an edit button per field -----

# (step to edit, label of the edit button)
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
    a, tr, e = turn.answers, turn.tr, html.escape
    heading = tr("Please check your report")
    lines = [f"<b>{heading}</b>", ""]

    def line(title: str, value: str) -> None:
        lines.append(f"<b>{tr(title)}:</b> {value}")

    line(N_("Name"), e(a.get("name", "")))
    line(N_("Phone"), e(a.get("phone", "")))
    line(N_("ID number"), e(mask_id(a.get("id_number"))))
    line(N_("Where you stay"), e(" › ".join(a.get("stay", {}).get("path", []))))
    line(N_("Address"), e(a.get("address", "")))
    status = label(ARRIVAL_STATUS, a.get("arrival_status"), turn)
    at = a.get("arrival_at")
    when = datetime.fromisoformat(at).astimezone(turn.zone).strftime("%Y-%m-%d %H:%M") if at else ""
    line(N_("Arrival"), f"{status}, {when}")
    line(N_("Coming from"), e((a.get("origin") or {}).get("text", "")))
    transport = label(TRANSPORTS, a.get("transport"), turn)
    number = a.get("transport_number") or ""
    seat = a.get("seat")
    line(N_("Transport"), e(" ".join(x for x in (transport, number, seat or "") if x)))
    if is_abroad(a):
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

    def prompt(self, turn: Turn, step: str) -> Prompt:
        edits = [
            Button("✏️ " + turn.tr(title), f"{step}{SEPARATOR}{target}")
            for target, title in EDITABLE
            if target != "ask_entry_port" or is_abroad(turn.answers)
        ]
        submit = Button(turn.tr("✅ Submit"), f"{step}{SEPARATOR}submit")
        return Prompt(summary(turn), ((submit,), *rows(*edits, width=2)))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "submit":
            return Accept("submit", shown=turn.tr("Submitted"))
        if pressed in {target for target, _ in EDITABLE}:
            return Jump(pressed)
        return Retry(turn.tr("Please press ✅ Submit, or a field to change it."))


async def submitted(turn: Turn) -> list[Reply]:
    return await file_report(turn)


def symptoms_widget(key: str, question: str) -> MultiSelect:
    return MultiSelect(key, question, SYMPTOMS, none_value="none")


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
            inner=("ask_arrival_at",),
        ),
        Step(
            "ask_arrival_at",
            DateTimePicker(
                "arrival_at",
                N_("When do you (or did you) arrive?"),
                arrival_window,
                now_button=lambda turn: turn.answers.get("arrival_status") == "arrived",
            ),
        ),
        Step(
            "ask_origin",
            PlacePicker(
                "origin",
                N_(
                    "Where are you coming from? Type the city (or country), e.g. 上海, 湖北武汉, Tokyo."
                ),
            ),
            next=after_origin,
            inner=("ask_from_abroad", "ask_entry_port", "ask_quarantine", "ask_quarantine_end"),
        ),
        Step(
            "ask_from_abroad",
            Choice("from_abroad", N_("Is that outside mainland China?"), YES_NO),
            next=after_abroad,
            inner=("ask_entry_port", "ask_quarantine", "ask_quarantine_end"),
        ),
        Step(
            "ask_transport",
            Choice("transport", N_("How are you travelling?"), TRANSPORTS, width=3),
            next=after_transport,
            inner=("ask_transport_number", "ask_seat"),
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
            next=after_transport_number,
            inner=("ask_seat",),
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
            next=after_seat,
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
            inner=("ask_quarantine", "ask_quarantine_end"),
        ),
        Step(
            "ask_quarantine",
            Choice(
                "quarantine",
                N_("Has your centralised quarantine after entry ended?"),
                QUARANTINE,
                width=1,
            ),
            next=after_quarantine,
            effect=drop_quarantine_end,
            inner=("ask_quarantine_end",),
        ),
        Step(
            "ask_quarantine_end",
            DatePicker("quarantine_end", N_("On which day did it end?"), quarantine_window),
            next="ask_history_more",
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
            next=after_history_more,
            effect=start_history,
            inner=("ask_stay_place", "ask_stay_from", "ask_stay_to"),
        ),
        Step(
            "ask_stay_place",
            PlacePicker("stay_place", N_("Which place? Type the city, e.g. 南京.")),
            next="ask_stay_from",
            effect=stay_place_taken,
            inner=("ask_stay_from", "ask_stay_to", "ask_history_more"),
        ),
        Step(
            "ask_stay_from",
            DatePicker("stay_from", N_("From which day were you there?"), history_window),
            next="ask_stay_to",
            effect=stay_from_taken,
            inner=("ask_stay_to", "ask_history_more"),
        ),
        Step(
            "ask_stay_to",
            DatePicker("stay_to", N_("Until which day?"), stay_end_window),
            next="ask_history_more",
            effect=stay_to_taken,
            inner=("ask_history_more",),
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
            next=after_companion_more,
            effect=start_companions,
            inner=(
                "ask_companion_name",
                "ask_companion_relation",
                "ask_companion_phone",
                "ask_companion_symptoms",
            ),
        ),
        Step(
            "ask_companion_name",
            Text("companion_name", N_("Their full name?"), N_("e.g. 张伟"), parse_name, 60),
            next="ask_companion_relation",
            effect=companion_named,
            inner=(
                "ask_companion_relation",
                "ask_companion_phone",
                "ask_companion_symptoms",
                "ask_companion_more",
            ),
        ),
        Step(
            "ask_companion_relation",
            Choice("companion_relation", N_("How are they related to you?"), RELATIONS, width=3),
            next="ask_companion_phone",
            effect=companion_related,
            inner=("ask_companion_phone", "ask_companion_symptoms", "ask_companion_more"),
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
            next="ask_companion_symptoms",
            effect=companion_phoned,
            inner=("ask_companion_symptoms", "ask_companion_more"),
        ),
        Step(
            "ask_companion_symptoms",
            symptoms_widget(
                "companion_symptoms",
                N_("Do they have any of these now? Choose all that apply, then Done."),
            ),
            next="ask_companion_more",
            effect=companion_health,
            inner=("ask_companion_more",),
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
            next=after_test,
            effect=drop_test_date,
            inner=("ask_test_date",),
        ),
        Step(
            "ask_test_date",
            DatePicker("test_date", N_("On which day were you sampled?"), test_window),
        ),
        Step("ask_review", Review(), next=END),
    ),
    finish=submitted,
)
