"""Commands a resident can send at any point, and what a message outside any question gets."""

from __future__ import annotations

from chat.contract import Reply, Send
from chat.forms import PAUSED, RESUME, ask
from chat.state import Command
from handlers import (
    checkin,
    contact,
    export,
    invites,
    notify,
    pushed,
    register,
    resident,
    staff,
    web,
)
from handlers.context import Chat, Turn
from handlers.welcome import INVITATION
from models.staff import active_staff
from services import buttons
from services.contact import phone_line
from services.residents import people_of


async def start(chat: Chat) -> list[Reply]:
    turn = chat.turn
    token = chat.args.strip()
    if turn.user.consented_at is None:
        # A companion's invitation (/start TOKEN, from her link) is taken once she consents.
        return await chat.begin("ask_consent", answers={INVITATION: token} if token else {})
    if token:
        from_list = await pushed.open_link(turn, token)
        if from_list is not None:
            if turn.goto is not None:
                begin, turn.goto = turn.goto, None
                return [*from_list, *await chat.begin(begin)]
            return from_list
        return await invites.accept_invitation(turn, token)
    step = chat.step if chat.asking else turn.answers.pop(RESUME, None)
    if isinstance(step, str) and step in chat.flows:
        return [
            Send(turn.tr("Welcome back! Let's continue where you left off.")),
            *await chat.begin(step),
        ]
    return await chat.begin("ask_name")


async def language(chat: Chat) -> list[Reply]:
    if chat.asking and chat.step != "ask_new_language":
        chat.turn.answers[RESUME] = chat.step
    return await chat.begin("ask_new_language")


async def cancel(chat: Chat) -> list[Reply]:
    tr = chat.turn.tr
    if not chat.asking:
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
                "/time: move your daily check-ins to a time that suits you\n"
                "/request: ask for help: supplies, medical, someone to talk to\n"
                "/language: change the language\n"
                "/forget: delete your data (once your monitoring has ended)\n"
                "/cancel: leave the current question (your answers are kept)\n"
                "/help: this list"
            )
        )
    ]
    mine = await people_of(chat.turn.session, chat.turn.user.id)
    phone = await phone_line(chat.turn.session, [p.grid_id for p in mine], tr)
    if phone:
        replies.append(Send(phone))
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
                    "/export: the register as a spreadsheet\n"
                    "/verify CODE: check a resident's plan notice or release certificate\n"
                    "/web: a sign-in link to the dashboard in the browser\n"
                    "/reportfor: report for someone without Telegram (代报), then answer "
                    "their check-ins (代打卡)\n"
                    "/write NUMBER: write to a resident\n"
                    "/pushed: lists pushed from above: what was done, per area"
                )
            )
        )
    return replies


async def unknown_command(chat: Chat) -> list[Reply]:
    replies: list[Reply] = [
        Send(chat.turn.tr("I do not know that command. Send /help for the list."))
    ]
    if chat.step is not None and chat.asking:
        replies += await ask(chat.turn, chat.flows.step(chat.step))
    return replies


async def idle(chat: Chat) -> list[Reply]:
    """A message while no question is open."""
    tr = chat.turn.tr
    if chat.turn.user.consented_at is None:
        return [Send(tr("Hello! Send /start to report your arrival."))]
    if chat.step == PAUSED and chat.turn.answers.get(RESUME):
        return [Send(tr("You have an unfinished report. Send /start to go on with it."))]
    return await help_(chat)


# Every command, typed or sent by a button, by name: the one table that routes them.
COMMANDS: dict[str, Command[Turn]] = {
    "start": start,
    "language": language,
    "cancel": cancel,
    "help": help_,
    "me": resident.me,
    "edit": resident.edit,
    buttons.ARRIVED.name: resident.arrived,
    buttons.NOT_YET.name: resident.not_yet,
    "request": resident.request,
    "forget": resident.forget,
    buttons.CHECKIN.name: checkin.checkin,
    buttons.TEST_RESULT.name: checkin.record_test,
    buttons.INVITE.name: invites.invite_companion,
    "time": checkin.own_time,
    "join": staff.join,
    buttons.ACKNOWLEDGE.name: staff.acknowledge,
    buttons.RECORD_ACTION.name: staff.record_action,
    buttons.ESCALATE.name: staff.escalate_by_hand,
    buttons.ASSIGN_GRID.name: staff.place_in_grid,
    buttons.APPLY_STRICTER.name: staff.apply_stricter_plan,
    buttons.NOT_THERE.name: staff.not_there,
    "alerts": staff.open_alerts,
    "reportfor": staff.report_for_someone,
    "today": register.today,
    "arrivals": register.arrivals,
    "monitoring": register.monitoring,
    "missed": register.missed_checkins,
    "find": register.find,
    register.PERSON.name: register.person,
    "stats": register.stats,
    "notify": notify.notify,
    notify.SEND.name: notify.notify_send,
    notify.CANCEL.name: notify.notify_cancel,
    "export": export.export,
    "verify": register.verify,
    buttons.WRITE.name: contact.write,
    buttons.REPLY.name: contact.reply,
    "web": web.web,
    buttons.OUTCOME.name: pushed.outcome,
    buttons.PUSHED_LINK.name: pushed.personal_link,
    buttons.TRANSFER.name: pushed.transfer,
    buttons.PUSHED.name: pushed.feedback,
}
