"""Commands a resident can send at any point, and what a message outside any question gets."""

from __future__ import annotations

import handlers.report
import handlers.welcome  # noqa: F401  (each flow registers its steps)
from chat.contract import Reply, Send
from handlers import checkins, register, release, resident, retention, staff
from handlers.chat import Chat, Command
from handlers.forms import PAUSED, RESUME, STEPS, ask
from models.staff import active_staff


async def start(chat: Chat) -> list[Reply]:
    turn = chat.turn
    if turn.user.consented_at is None:
        return await chat.begin("ask_language", answers={})
    step = chat.step if chat.step in STEPS else turn.answers.pop(RESUME, None)
    if step in STEPS:
        return [
            Send(turn.tr("Welcome back! Let's continue where you left off.")),
            *await chat.begin(step),
        ]
    return await chat.begin("ask_name")


async def language(chat: Chat) -> list[Reply]:
    if chat.step in STEPS and chat.step != "ask_new_language":
        chat.turn.answers[RESUME] = chat.step
    return await chat.begin("ask_new_language")


async def cancel(chat: Chat) -> list[Reply]:
    tr = chat.turn.tr
    if chat.step not in STEPS:
        return [Send(tr("There is no open question to leave. Send /help to see what you can do."))]
    chat.turn.answers[RESUME] = chat.step
    chat.save(None)
    return [
        Send(
            tr("Stopped. What you answered so far is kept; send /start when you want to go on."),
            remove_keyboard=True,
        )
    ]


async def help_(chat: Chat) -> list[Reply]:
    tr = chat.turn.tr
    replies: list[Reply] = [
        Send(
            tr(
                "<b>What you can do</b>\n"
                "/start: report your arrival, or go on with your report\n"
                "/me: see your record\n"
                "/edit: correct your record\n"
                "/arrived: say you have arrived (after a report before arrival)\n"
                "/request: ask for help: supplies, medical, someone to talk to\n"
                "/language: change the language\n"
                "/forget: delete your data (once your monitoring has ended)\n"
                "/cancel: leave the current question (your answers are kept)\n"
                "/help: this list"
            )
        )
    ]
    if await active_staff(chat.turn.session, chat.turn.user.id):
        replies.append(
            Send(
                tr(
                    "<b>For grid workers</b>\n"
                    "/alerts: open alerts in your area\n"
                    "/today: today's reports, check-ins, abnormal and missed\n"
                    "/arrivals: expected in the next 3 days\n"
                    "/monitoring: who is under which monitoring, day n of N\n"
                    "/missed: missed check-ins\n"
                    "/find NAME or PHONE: find a person in your area\n"
                    "/person NUMBER: a person's record and check-ins\n"
                    "/stats: cumulative figures\n"
                    "/notify TEXT: a notice to every resident of your area\n"
                    "/export: the register as a spreadsheet"
                )
            )
        )
    return replies


async def unknown_command(chat: Chat) -> list[Reply]:
    replies: list[Reply] = [
        Send(chat.turn.tr("I do not know that command. Send /help for the list."))
    ]
    if chat.step in STEPS:
        replies += await ask(chat.turn, STEPS[chat.step][1])
    return replies


async def idle(chat: Chat) -> list[Reply]:
    """A message while no question is open."""
    tr = chat.turn.tr
    if chat.turn.user.consented_at is None:
        return [Send(tr("Hello! Send /start to report your arrival."))]
    if chat.step == PAUSED and chat.turn.answers.get(RESUME):
        return [Send(tr("You have an unfinished report. Send /start to go on with it."))]
    return await help_(chat)


async def not_yet(chat: Chat) -> list[Reply]:
    return [
        Send(chat.turn.tr("All right. Press the button or send /arrived as soon as you are here."))
    ]


COMMANDS: dict[str, Command] = {
    "start": start,
    "language": language,
    "cancel": cancel,
    "help": help_,
    "me": resident.me,
    "edit": resident.edit,
    "arrived": resident.arrived,
    "request": resident.request,
    "forget": retention.forget,
    "notyet": not_yet,
    "checkin": checkins.checkin,
    "test": release.record_test,
    "join": staff.join,
    "ack": staff.acknowledge,
    "act": staff.record_action,
    "escalate": staff.escalate_by_hand,
    "alerts": staff.open_alerts,
    "today": register.today,
    "arrivals": register.arrivals,
    "monitoring": register.monitoring,
    "missed": register.missed_checkins,
    "find": register.find,
    "person": register.person,
    "stats": register.stats,
    "notify": register.notify,
    "notify_send": register.notify_send,
    "notify_cancel": register.notify_cancel,
    "export": register.export,
}
