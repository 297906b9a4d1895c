"""The daily check-in, as the resident meets it: /checkin (or the prompt's button) asks the
temperature, symptoms and whether they went out — for each person the user answers for, in
turn — and the test-day result question's buttons (/test). The rounds that open, remind and
miss check-ins are in services/checkins.py.
"""

from __future__ import annotations

from typing import Final, TypedDict, cast

from chat.contract import Reply, Send
from chat.forms import END, Branch, Choice, Option, Text, label_of
from chat.i18n import N_
from handlers.answers import parse_free_text, parse_temperature
from handlers.context import Chat, Flow, Step, Turn, Widget
from handlers.report import symptoms_widget
from handlers.widgets import Naming
from models.checkins import CheckIn
from models.people import Resident
from services.checkins import due_for, record_answer
from services.release import save_test_result
from services.vocabulary import SYMPTOMS

# The ids still to answer, the one being answered first.
CURRENT: Final = "_checkins"


class CheckinAnswers(TypedDict, total=False):
    _checkins: list[int]
    checkin_temperature: float
    checkin_symptoms: list[str]
    checkin_out: str  # yes | no
    checkin_where: str


async def the_person(turn: Turn) -> dict[str, str]:
    """The name of the person the check-in being answered is about (a household answers
    for several)."""
    ids: list[int] = turn.answers.get(CURRENT) or []
    checkin = await turn.session.get(CheckIn, ids[0]) if ids else None
    resident = await turn.session.get(Resident, checkin.resident_id) if checkin else None
    return {"person": resident.name or "" if resident else ""}


def _for(widget: Widget) -> Naming:
    return Naming(widget, the_person)


WENT_OUT = (Option("no", N_("Stayed home")), Option("yes", N_("Went out")))


def after_out(answers: dict[str, object]) -> str:
    return "ask_checkin_where" if answers.get("checkin_out") == "yes" else END


async def record_checkin(turn: Turn) -> list[Reply]:
    a, tr = cast(CheckinAnswers, turn.answers), turn.tr
    ids: list[int] = a.get(CURRENT) or []
    went_out = a.pop("checkin_out", "no") == "yes"
    where = a.pop("checkin_where", None)
    recorded = await record_answer(
        turn.session,
        ids[0] if ids else None,
        user_id=turn.user.id,
        now=turn.now,
        temperature=a.pop("checkin_temperature", None),
        symptoms=a.pop("checkin_symptoms", []),
        went_out=went_out,
        where=where if went_out else None,
        symptom_label=lambda code: label_of(SYMPTOMS, code, tr),
    )
    if recorded is None:
        a.pop(CURRENT, None)
        return [Send(tr("That check-in is closed already."))]
    if recorded.abnormal:
        reply = tr(
            "Recorded. Your grid worker has been told and will contact you; please stay at home and wear a mask."
        )
    else:
        reply = tr("Recorded, thank you.") + (" " + tr("(late)") if recorded.late else "")
    a[CURRENT] = ids[1:]
    if a[CURRENT]:
        turn.goto = "ask_checkin_temperature"
    else:
        a.pop(CURRENT)
    return [Send(reply)]


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
            "ask_checkin_symptoms",
            _for(
                symptoms_widget(
                    "checkin_symptoms",
                    N_("{person}: any of these today? Choose all that apply, then Done."),
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
    turn = chat.turn
    due = await due_for(turn.session, turn.user.id, turn.now)
    if not due:
        return [
            Send(turn.tr("There is no check-in to answer now. We will ask you at the next one."))
        ]
    turn.answers[CURRENT] = [c.id for c in due]
    return await chat.begin("ask_checkin_temperature")


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


__all__ = ["CHECKIN", "CheckinAnswers", "checkin", "record_test"]
