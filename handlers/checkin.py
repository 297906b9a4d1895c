"""The daily check-in, as the resident meets it: /checkin (or the prompt's button) asks the
temperature, symptoms and whether they went out — for each person the user answers for, in
turn — and the test-day result question's buttons (/test). The rounds that open, remind and
miss check-ins are in services/checkins.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, time, timedelta
from itertools import pairwise
from typing import Final, TypedDict, cast

from chat import forms
from chat.contract import Reply, Send
from chat.forms import END, Branch, Choice, Invalid, Option, Text, label_of
from chat.i18n import N_
from chat.widgets import DatePicker
from handlers.answers import parse_free_text, parse_temperature
from handlers.context import Chat, Flow, Step, Turn, Widget
from handlers.report import symptoms_widget
from handlers.widgets import Naming
from rules.health import real_symptoms
from services.checkins import (
    ALL_WELL_ARG,
    Recorded,
    answers_for_someone,
    checkin_person,
    due_for,
    needs_reading,
    onset_on_file,
    own_times,
    record_answer,
    set_own_times,
)
from services.release import save_test_result
from services.vocabulary import SYMPTOMS

# The ids still to answer, the one being answered first.
CURRENT: Final = "_checkins"
# One tap "all well": nothing but the reading, where the plan asks for it.
ALL_WELL: Final = "_all_well"
# The person being asked about has said when their symptoms began (asked once).
ONSET_KNOWN: Final = "_onset_known"
SYMPTOMS_ASKED = symptoms_widget(
    "checkin_symptoms", N_("{person}: any of these today? Choose all that apply, then Done.")
)
# What one check-in's questions leave in the answers: cleared when a check-in begins, so
# nothing carries over from one left unfinished.
KEYS: Final = (
    "checkin_temperature",
    "checkin_medicine",
    "checkin_symptoms",
    SYMPTOMS_ASKED.draft,  # the symptoms ticked so far
    "checkin_onset",
    "checkin_out",
    "checkin_where",
    ALL_WELL,
    ONSET_KNOWN,
)


class CheckinAnswers(TypedDict, total=False):
    _checkins: list[int]
    _all_well: bool
    _onset_known: bool
    checkin_temperature: float
    checkin_medicine: str  # yes | no
    checkin_symptoms: list[str]
    checkin_onset: str  # an ISO date
    checkin_out: str  # yes | no
    checkin_where: str


async def the_person(turn: Turn) -> dict[str, str]:
    """The name of the person the check-in being answered is about (a household answers
    for several)."""
    ids: list[int] = turn.answers.get(CURRENT) or []
    return {"person": await the_person_of(turn, ids[0]) if ids else ""}


def _for(widget: Widget) -> Naming:
    return Naming(widget, the_person)


WENT_OUT = (Option("no", N_("Stayed home")), Option("yes", N_("Went out")))
MEDICINE = (Option("no", N_("No medicine")), Option("yes", N_("💊 Yes, some")))
MEDICINE_TAKEN = N_("took fever-reducing medicine in the last 24 hours")


def after_medicine(answers: dict[str, object]) -> str:
    return END if answers.get(ALL_WELL) else "ask_checkin_symptoms"


def after_symptoms(answers: dict[str, object]) -> str:
    symptoms = cast(list[str], answers.get("checkin_symptoms") or [])
    if real_symptoms(symptoms) and not answers.get(ONSET_KNOWN):
        return "ask_checkin_onset"
    return "ask_checkin_out"


def after_out(answers: dict[str, object]) -> str:
    return "ask_checkin_where" if answers.get("checkin_out") == "yes" else END


def onset_window(turn: forms.Turn) -> tuple[date, date]:
    today = turn.now.astimezone(turn.zone).date()
    return today - timedelta(days=14), today


async def _record(turn: Turn, checkin_id: int | None) -> Recorded | None:
    """The check-in answered with what the answers hold (nothing: all well), which they lose."""
    a, tr = cast(CheckinAnswers, turn.answers), turn.tr
    went_out = a.pop("checkin_out", "no") == "yes"
    where = a.pop("checkin_where", None)
    medicine = a.pop("checkin_medicine", None)
    onset = a.pop("checkin_onset", None)
    return await record_answer(
        turn.session,
        checkin_id,
        user_id=turn.user.id,
        now=turn.now,
        temperature=a.pop("checkin_temperature", None),
        symptoms=a.pop("checkin_symptoms", []),
        went_out=went_out,
        where=where if went_out else None,
        symptom_label=lambda code: label_of(SYMPTOMS, code, tr),
        antipyretic=None if medicine is None else medicine == "yes",
        onset=date.fromisoformat(onset) if onset and onset != "none" else None,
        medicine_label=tr(MEDICINE_TAKEN),
        kept=turn.kept,
    )


def _said(turn: Turn, recorded: Recorded | None, name: str) -> str:
    tr = turn.tr
    if recorded is None:
        return tr("That check-in is closed already.")
    if recorded.abnormal:
        reply = tr(
            "Recorded. Your grid worker has been told and will contact you; please stay at home and wear a mask."
        )
    else:
        reply = tr("Recorded, thank you.") + (" " + tr("(late)") if recorded.late else "")
    return f"<b>{html.escape(name)}</b>: {reply}" if name else reply


async def _next(turn: Turn, ids: list[int]) -> list[Reply]:
    """Go on with the check-ins still to answer: after one tap "all well", those whose plan
    needs no reading are recorded at once; the first that has questions is asked (its step
    set in `turn.goto`), or, none left, the conversation closes."""
    a = turn.answers
    for key in KEYS:
        if key not in (ALL_WELL,):
            a.pop(key, None)
    replies: list[Reply] = []
    named = len(ids) > 1
    while ids and a.get(ALL_WELL) and not await needs_reading(turn.session, ids[0], turn.policy):
        name = (await the_person_of(turn, ids[0])) if named else ""
        replies.append(Send(_said(turn, await _record(turn, ids[0]), name)))
        ids = ids[1:]
    if not ids:
        a.pop(CURRENT, None)
        a.pop(ALL_WELL, None)
        turn.goto = None
        return replies
    a[CURRENT] = ids
    a[ONSET_KNOWN] = await onset_on_file(turn.session, ids[0])
    turn.goto = "ask_checkin_temperature"
    return replies


async def the_person_of(turn: Turn, checkin_id: int) -> str:
    return await checkin_person(turn.session, checkin_id, turn.kept)


async def record_checkin(turn: Turn) -> list[Reply]:
    ids: list[int] = turn.answers.get(CURRENT) or []
    recorded = await _record(turn, ids[0] if ids else None)
    if recorded is None:
        for key in (*KEYS, CURRENT):
            turn.answers.pop(key, None)
        return [Send(_said(turn, None, ""))]
    return [Send(_said(turn, recorded, "")), *await _next(turn, ids[1:])]


CHECKIN = Flow(
    "checkin",
    (
        Step(
            "ask_checkin_temperature",
            _for(
                Text(
                    "checkin_temperature",
                    N_("{person}: temperature now (°C)? Press one or type it."),
                    N_("e.g. 36.8"),
                    parse_temperature,
                    12,
                    quick=("36.2", "36.5", "36.8", "37.0", "37.3", "37.5"),
                )
            ),
        ),
        Step(
            "ask_checkin_medicine",
            _for(
                Choice(
                    "checkin_medicine",
                    N_(
                        "{person}: any medicine that lowers fever (such as ibuprofen or paracetamol) in the last 24 hours?"
                    ),
                    MEDICINE,
                )
            ),
            next=Branch(after_medicine, ("ask_checkin_symptoms", END)),
        ),
        Step(
            "ask_checkin_symptoms",
            _for(SYMPTOMS_ASKED),
            next=Branch(after_symptoms, ("ask_checkin_onset", "ask_checkin_out")),
        ),
        Step(
            "ask_checkin_onset",
            _for(
                DatePicker(
                    "checkin_onset",
                    N_("{person}: on which day did these symptoms begin?"),
                    onset_window,
                )
            ),
        ),
        Step(
            "ask_checkin_out",
            _for(Choice("checkin_out", N_("{person}: did you go out today?"), WENT_OUT)),
            next=Branch(after_out, ("ask_checkin_where", END)),
        ),
        Step(
            "ask_checkin_where",
            _for(
                Text(
                    "checkin_where",
                    N_("Where did you go?"),
                    N_("e.g. the pharmacy on 新华路"),
                    parse_free_text,
                    200,
                )
            ),
            next=END,
        ),
    ),
    finish=record_checkin,
)


async def checkin(chat: Chat) -> list[Reply]:
    """/checkin (the prompt's "something to report"), or `/checkin ok` (its one tap "all
    well"): the open check-ins of everyone the user answers for, each begun afresh."""
    turn = chat.turn
    due = await due_for(turn.session, turn.user.id, turn.now)
    if not due:
        return [
            Send(turn.tr("There is no check-in to answer now. We will ask you at the next one."))
        ]
    for key in (*KEYS, CURRENT):
        turn.answers.pop(key, None)
    if chat.args.strip() == ALL_WELL_ARG:
        turn.answers[ALL_WELL] = True
    replies = await _next(turn, [c.id for c in due])
    if turn.goto is None:
        if chat.step in CHECKIN.by_name:  # a check-in left open is over
            chat.save(None)
        return replies
    step, turn.goto = turn.goto, None
    return [*replies, *await chat.begin(step)]


# ----- /time: the resident's own daily check-in times -----

TIME_OF_DAY = re.compile(r"(\d{1,2})(?:\s*[:：.]\s*(\d{2})|\s*点(?:\s*(半))?)")


def own_times_of(turn: Turn) -> tuple[time, ...]:
    return own_times(turn.user.checkin_times, turn.checkin_times)


def times_text(times: Sequence[time]) -> str:
    return ", ".join(t.strftime("%H:%M") for t in times)


async def the_times(turn: Turn) -> dict[str, str]:
    first, last = turn.policy.checkin_window
    return {
        "times": times_text(own_times_of(turn)),
        "first": first.strftime("%H:%M"),
        "last": last.strftime("%H:%M"),
    }


def parse_own_times(text: str, turn: forms.Turn) -> list[str]:
    """New daily times: all of them, or one, which moves the nearest of the current times;
    within the policy's window and at least an hour apart."""
    t = cast(Turn, turn)
    first, last = t.policy.checkin_window
    current = list(own_times_of(t))
    example = turn.tr(
        "Please type a time between {first} and {last}, e.g. 10:00.",
        first=first.strftime("%H:%M"),
        last=last.strftime("%H:%M"),
    )
    found: list[time] = []
    for hour, minute, half in TIME_OF_DAY.findall(text):
        try:
            found.append(time(int(hour), int(minute or (30 if half else 0))))
        except ValueError:
            raise Invalid(example) from None
    if not found or len(found) not in (1, len(current)):
        raise Invalid(example)
    if any(not first <= t_ <= last for t_ in found):
        raise Invalid(example)
    if len(found) == 1 and len(current) > 1:

        def minutes(x: time) -> int:
            return x.hour * 60 + x.minute

        nearest = min(current, key=lambda c: abs(minutes(c) - minutes(found[0])))
        found = [found[0] if c == nearest else c for c in current]
    chosen = sorted(found)
    gaps = [(b.hour * 60 + b.minute) - (a.hour * 60 + a.minute) for a, b in pairwise(chosen)]
    if any(gap < 60 for gap in gaps):
        raise Invalid(turn.tr("Your check-ins must be at least an hour apart."))
    return [c.strftime("%H:%M") for c in chosen]


async def times_chosen(turn: Turn) -> list[Reply]:
    chosen: list[str] | None = turn.answers.pop("own_times", None)
    if not chosen:
        return [Send(turn.tr("All right, your check-in times stay as they are."))]
    await set_own_times(turn.session, turn.user.id, [time.fromisoformat(t) for t in chosen])
    return [
        Send(
            turn.tr(
                "Done: from the next check-in on, we will ask you each day at {times}.",
                times=", ".join(chosen),
            )
        )
    ]


OWN_TIMES = Flow(
    "own_times",
    (
        Step(
            "ask_own_times",
            Naming(
                Text(
                    "own_times",
                    N_(
                        "We ask you each day at {times}. Type the new time of the check-in to move (the nearest one moves), or all the times, between {first} and {last}."
                    ),
                    N_("e.g. 10:00"),
                    parse_own_times,
                    40,
                    skip=N_("Keep my times"),
                    quick=("07:00", "09:00", "10:00", "12:00", "18:00", "21:00"),
                ),
                the_times,
            ),
        ),
    ),
    finish=times_chosen,
)


async def own_time(chat: Chat) -> list[Reply]:
    """/time: move one's daily check-ins within the policy's window."""
    turn = chat.turn
    if not await answers_for_someone(turn.session, turn.user.id):
        return [Send(turn.tr("You have no daily check-ins to move."))]
    turn.answers.pop("own_times", None)
    return await chat.begin("ask_own_times")


async def record_test(chat: Chat) -> list[Reply]:
    """/test PLAN DAY RESULT, from the test-day question's buttons."""
    turn = chat.turn
    saved = await save_test_result(
        turn.session, user_id=turn.user.id, args=chat.args, now=turn.now, zone=turn.zone
    )
    if saved is None:
        return [Send(turn.tr("That question is closed."))]
    if saved.repeated:
        return [Send(turn.tr("Already recorded: negative."))]
    if saved.result == "positive":
        return [
            Send(
                turn.tr(
                    "Recorded: positive. Your grid worker has been told and will contact you at once; please stay where you are and wear a mask."
                )
            )
        ]
    if saved.result == "pending":
        return [Send(turn.tr("All right. Press the button again when the result comes."))]
    return [Send(turn.tr("Recorded: negative. Thank you."))]


__all__ = ["CHECKIN", "OWN_TIMES", "CheckinAnswers", "checkin", "own_time", "record_test"]
