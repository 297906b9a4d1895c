"""Grid workers in the chat: joining with a one-time code, and the alerts they act on.

An alert reaches the workers of its grid with three buttons: acknowledge, record what was
done (called, visited, referred, sent to quarantine; then an optional note) and escalate to
the staff of the level above (services/alerts.py delivers, re-sends and escalates). Every
button checks that the alert lies in the presser's areas. Commands for staff only are
wrapped in `staff_only`, which finds the worker's scope once or says the command is theirs.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from functools import wraps

from sqlalchemy import select

from chat.contract import Edit, Kind, Reply, Send, rows
from chat.forms import RESUME, Text
from chat.i18n import N_
from handlers.answers import parse_free_text
from handlers.context import Chat, Flow, Step, Turn
from models.alerts import ACTIONS, LEVELS, OPEN, Alert, AlertAction
from models.areas import Area
from models.people import Household
from models.staff import Staff
from services.alerts import (
    CONFIRM_KIND,
    alert_and_post,
    escalate,
    render_alert,
    settle_copies,
    tell_new_plan,
    tell_requester,
)
from services.alerts import record_action as write_action
from services.buttons import RECORD_ACTION
from services.filing import PROXY
from services.placement import ASSIGN_KIND, assign, grids_to_choose
from services.plans import apply_stricter, clear_confirmation
from services.records import Scope, scope_of
from services.staff import join_attempts_left, join_with_code
from services.vocabulary import ACTION_LABELS, DONE_TEXTS, LEVEL_NAMES, ROLE_NAMES
from services.wording import describe_plan

NOT_STAFF = N_("This command is for grid workers. Join with /join CODE.")
NOT_YOURS = N_("No such alert in your area.")

StaffCommand = Callable[[Chat, Scope], Awaitable[list[Reply]]]


def staff_only(command: StaffCommand) -> Callable[[Chat], Awaitable[list[Reply]]]:
    """The command for active staff, given their scope; anyone else is told it is not theirs."""

    @wraps(command)
    async def checked(chat: Chat) -> list[Reply]:
        scope = await scope_of(chat.turn.session, chat.turn.user.id)
        if scope is None:
            return [Send(chat.turn.tr(NOT_STAFF))]
        return await command(chat, scope)

    return checked


async def join(chat: Chat) -> list[Reply]:
    turn = chat.turn
    if await join_attempts_left(turn.session, turn.user.id, turn.now) == 0:
        return [
            Send(
                turn.tr(
                    "Too many codes tried. Please try again in an hour, or ask your administrator for a new code."
                )
            )
        ]
    joined = await join_with_code(
        turn.session, turn.event.args, turn.user, turn.event.first_name, turn.now
    )
    if joined is None:
        return [
            Send(
                turn.tr(
                    "That code is not valid or has expired. Ask your administrator for a new one, then send /join CODE."
                )
            )
        ]
    staff, path = joined
    # Alerts are written in the worker's language: take Telegram's until they choose one.
    turn.user.language = turn.user.language or turn.tr.language
    return [
        Send(
            turn.tr(
                "Welcome, {role} of {area}. Alerts for your area will come here; /alerts lists the open ones.",
                role=turn.tr(ROLE_NAMES.get(staff.role, staff.role)),
                area=html.escape(" › ".join(a.name for a in path)),
            )
        )
    ]


async def acknowledge(chat: Chat) -> list[Reply]:
    """/ack ALERT (the alert's first button)."""
    turn = chat.turn
    found = await alert_and_post(turn.session, turn.user.id, chat.args)
    if found is None:
        return [Send(turn.tr(NOT_YOURS))]
    alert, post = found
    if alert.acknowledged_at is not None:
        return [Send(turn.tr("Alert {number} was already acknowledged.", number=alert.id))]
    await write_action(turn.session, alert, post, "acknowledged", turn.now)
    await tell_requester(turn.session, alert, post, turn.now)
    await settle_copies(turn.session, alert, turn.now, turn.zone, actor_chat=turn.user.chat_id)
    return [Send(turn.tr("Alert {number} acknowledged. Thank you.", number=alert.id))]


ACTION = "_alert_action"


async def record_action(chat: Chat) -> list[Reply]:
    """/act ALERT: which action? /act ALERT KIND: record it, then ask for an optional note."""
    turn = chat.turn
    found = await alert_and_post(turn.session, turn.user.id, chat.args.split(" ", 1)[0])
    if found is None:
        return [Send(turn.tr(NOT_YOURS))]
    alert, post = found
    parts = chat.args.split()
    if len(parts) == 1:
        buttons = rows(
            *(
                RECORD_ACTION.button(turn.tr(label), alert.id, kind)
                for kind, label in ACTION_LABELS.items()
            )
        )
        return [Send(turn.tr("What was done about alert {number}?", number=alert.id), buttons)]
    if len(parts) != 2 or parts[1] not in ACTIONS:
        return [Send(turn.tr("Please choose with the buttons."))]
    kind = parts[1]
    action = await write_action(turn.session, alert, post, kind, turn.now)
    await tell_requester(turn.session, alert, post, turn.now, action)
    await settle_copies(turn.session, alert, turn.now, turn.zone, actor_chat=turn.user.chat_id)
    recorded = Send(
        turn.tr(
            "Recorded for alert {number}: {action}.",
            number=alert.id,
            action=turn.tr(DONE_TEXTS[kind]),
        )
    )
    if chat.asking and chat.step != "ask_action_note":
        # Someone mid-way through a question of their own gets back to it with /start.
        turn.answers[RESUME] = chat.step
    turn.answers[ACTION] = action.id
    return [recorded, *await chat.begin("ask_action_note")]


async def save_note(turn: Turn) -> list[Reply]:
    action_id = turn.answers.pop(ACTION, None)
    note = turn.answers.pop("action_note", None)
    action = await turn.session.get(AlertAction, action_id) if action_id else None
    if action is None or action.actor_user_id != turn.user.id:
        return [Send(turn.tr("That question is closed."))]
    if not note:
        return [Send(turn.tr("All right, no note."))]
    action.note = note
    alert = await turn.session.get(Alert, action.alert_id)
    if alert is not None:
        await settle_copies(turn.session, alert, turn.now, turn.zone, actor_chat=turn.user.chat_id)
    return [Send(turn.tr("Note saved with alert {number}.", number=action.alert_id))]


ACTION_NOTE = Flow(
    "alert_action",
    (
        Step(
            "ask_action_note",
            Text(
                "action_note",
                N_("Add a note on what was done (one message), or press No note."),
                N_("e.g. called at 14:00, no fever now, will call again tomorrow"),
                parse_free_text,
                500,
                skip=N_("No note"),
            ),
        ),
    ),
    finish=save_note,
)


async def escalate_by_hand(chat: Chat) -> list[Reply]:
    """/escalate ALERT: to the staff of the level above the alert's present one."""
    turn = chat.turn
    found = await alert_and_post(turn.session, turn.user.id, chat.args)
    if found is None:
        return [Send(turn.tr(NOT_YOURS))]
    alert, post = found
    if alert.level == LEVELS[-1]:
        return [Send(turn.tr("Alert {number} is with the district already.", number=alert.id))]
    grid = await turn.session.get(Area, alert.grid_id)
    assert grid is not None  # alert_and_post found it
    moved = await escalate(turn.session, alert, grid, turn.now, by=post, zone=turn.zone)
    if moved is None:
        return [
            Send(
                turn.tr(
                    "No one above has joined yet to take alert {number}; it stays with you.",
                    number=alert.id,
                )
            )
        ]
    level, told = moved
    return [
        Send(
            turn.tr(
                "Alert {number} escalated to the {level} level ({count} told).",
                number=alert.id,
                level=turn.tr(LEVEL_NAMES[level]),
                count=told,
            )
        )
    ]


async def place_in_grid(chat: Chat) -> list[Reply]:
    """/grid ALERT GRID: a community worker places a household (the assign-grid alert's
    buttons); the alert is edited to say where, and loses its buttons."""
    turn = chat.turn
    alert_id, _, grid_id = chat.args.strip().partition(" ")
    found = await alert_and_post(turn.session, turn.user.id, alert_id)
    if found is None or found[0].kind != ASSIGN_KIND:
        return [Send(turn.tr(NOT_YOURS))]
    alert, post = found
    household_id = (alert.details or {}).get("household")
    household = (
        await turn.session.get(Household, household_id) if isinstance(household_id, int) else None
    )
    grid = next(
        (g for g in await grids_to_choose(turn.session, alert) if str(g.id) == grid_id), None
    )
    if household is None or grid is None:
        return [Send(turn.tr("Please choose with the buttons."))]
    if alert.acknowledged_at is not None:
        return [Send(turn.tr("Alert {number} was already acknowledged.", number=alert.id))]
    moved = await assign(turn.session, household, grid, turn.now)
    if not moved:
        return [Send(turn.tr("Please choose with the buttons."))]
    await write_action(turn.session, alert, post, "assigned", turn.now, note=grid.name)
    await settle_copies(turn.session, alert, turn.now, turn.zone, actor_chat=turn.user.chat_id)
    done = turn.tr(
        "Placed in {grid}: {names}.",
        grid=html.escape(grid.name),
        names=html.escape(turn.tr.join(p.name or "?" for p in moved)),
    )
    event = turn.event
    if event.message_id is not None and event.kind is Kind.BUTTON:
        text, _ = await render_alert(turn.session, alert, turn.tr, turn.zone, turn.now)
        return [Edit(event.message_id, f"{text}\n\n✅ {done}")]
    return [Send(done)]


async def _confirmation(chat: Chat) -> tuple[Alert, Staff] | list[Reply]:
    """The confirm-match alert named in the command, still open, in the worker's areas."""
    turn = chat.turn
    found = await alert_and_post(turn.session, turn.user.id, chat.args)
    if found is None or found[0].kind != CONFIRM_KIND or found[0].resident_id is None:
        return [Send(turn.tr(NOT_YOURS))]
    if found[0].acknowledged_at is not None:
        return [Send(turn.tr("Alert {number} was already acknowledged.", number=found[0].id))]
    return found


async def _settled(chat: Chat, alert: Alert, post: Staff, kind: str, note: str) -> list[Reply]:
    """Record what the worker decided, and show it on the alert they pressed (no buttons)."""
    turn = chat.turn
    action = await write_action(turn.session, alert, post, kind, turn.now)
    await settle_copies(turn.session, alert, turn.now, turn.zone, actor_chat=turn.user.chat_id)
    done = f"✅ {html.escape(turn.tr(DONE_TEXTS[kind]))}"
    if note:
        done += "\n" + note
    replies: list[Reply] = []
    if turn.event.kind is Kind.BUTTON and turn.event.message_id is not None:
        text, _ = await render_alert(turn.session, alert, turn.tr, turn.zone, turn.now)
        replies.append(Edit(turn.event.message_id, f"{text}\n\n{done}"))
    else:
        replies.append(Send(done))
    if kind == "cleared":
        # Why they were not there goes with the alert: the same note question as an action.
        if chat.asking and chat.step != "ask_action_note":
            turn.answers[RESUME] = chat.step
        turn.answers[ACTION] = action.id
        replies += await chat.begin("ask_action_note")
    return replies


async def apply_stricter_plan(chat: Chat) -> list[Reply]:
    """/confirm ALERT: the person was in the listed area; the plan for it applies at once."""
    found = await _confirmation(chat)
    if isinstance(found, list):
        return found
    alert, post = found
    turn = chat.turn
    assert alert.resident_id is not None
    plan = await apply_stricter(turn.session, alert.resident_id, turn.policy, turn.now, turn.zone)
    if plan is None:
        return [Send(turn.tr("That record cannot be changed any more."))]
    await tell_new_plan(turn.session, plan, turn.now)
    return await _settled(chat, alert, post, "applied", describe_plan(plan, turn.tr))


async def not_there(chat: Chat) -> list[Reply]:
    """/clear ALERT: the person was not in the listed area; the plan stands, with a note why."""
    found = await _confirmation(chat)
    if isinstance(found, list):
        return found
    alert, post = found
    assert alert.resident_id is not None
    await clear_confirmation(chat.turn.session, alert.resident_id)
    return await _settled(chat, alert, post, "cleared", "")


@staff_only
async def report_for_someone(chat: Chat, scope: Scope) -> list[Reply]:
    """/reportfor: the arrival report, filed by the worker for someone without Telegram
    (代报: an elderly resident, a child's guardian reached by phone). The person's check-ins
    are then asked of the worker, who records what they were told (代打卡)."""
    turn = chat.turn
    intro = turn.tr(
        "Reporting for someone without Telegram (代报). Answer each question for them, as "
        "they tell you: their name, their phone (type it), their ID number and so on. Their "
        "check-ins will then be asked of you; record what they tell you by phone or at the door."
    )
    return [Send(intro), *await chat.begin("ask_name", answers={PROXY: True})]


@staff_only
async def open_alerts(chat: Chat, scope: Scope) -> list[Reply]:
    turn = chat.turn
    grids = [a for a in await turn.session.scalars(select(Area)) if scope.covers(a)]
    query = (
        select(Alert)
        .where(Alert.grid_id.in_([g.id for g in grids]), Alert.status == OPEN)
        .order_by(Alert.id)
        .limit(30)
    )
    alerts = list(await turn.session.scalars(query))
    if not alerts:
        return [Send(turn.tr("No open alerts in your area."))]
    replies: list[Reply] = []
    for alert in alerts:
        text, buttons = await render_alert(turn.session, alert, turn.tr, turn.zone, turn.now)
        replies.append(Send(text, buttons=buttons))
    return replies


__all__ = [
    "ACTION_NOTE",
    "acknowledge",
    "apply_stricter_plan",
    "escalate_by_hand",
    "join",
    "not_there",
    "open_alerts",
    "place_in_grid",
    "record_action",
    "report_for_someone",
    "staff_only",
]
