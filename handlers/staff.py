"""Grid workers in the chat: joining with a one-time code, and the alerts they act on.

An alert reaches the workers of its grid with three buttons: acknowledge, record what was
done (called, visited, referred, sent to quarantine; then an optional note) and escalate to
the staff of the level above. Nobody acknowledging in time gets it sent again, then escalated
by the periodic jobs here. Every button checks that the alert lies in the presser's areas."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.contract import Button, Buttons, Reply, Send, rows
from chat.i18n import N_, Translator
from handlers.chat import Chat
from handlers.forms import RESUME, STEPS, Flow, Step, Text, Turn, plain_text
from models.alerts import ACKNOWLEDGED, ACTIONS, LEVELS, OPEN, Alert, AlertAction
from models.areas import Area, lineage
from models.chat import ChatUser
from models.help import HelpRequest
from models.outbox import enqueue
from models.people import Resident
from models.staff import Invite, Staff, active_staff, covers, staff_for_grid

ROLE_NAMES = {
    "grid": N_("grid worker"),
    "community": N_("community worker"),
    "street": N_("street/town worker"),
    "district": N_("district worker"),
}

ALERT_TITLES = {
    "refer_clinic": N_("🚨 Symptoms or red code at arrival: refer to the fever clinic"),
    "high_risk_arrival": N_("⚠️ Arrival from a high-risk area"),
    "abroad_arrival": N_("✈️ Arrival from abroad"),
    "pre_arrival": N_("🕒 Expected within 3 days"),
    "confirm_match": N_("❓ Please confirm: the place may be a listed risk area"),
    "rescreen": N_("🔁 Re-screening: people in your grid who were in a newly listed area"),
    "help_request": N_("🙋 Request for help"),
    "missed_checkin": N_("📵 Missed check-in"),
    "positive_test": N_("🚨 Positive test reported"),
    "released": N_("✅ Released at the end of the plan"),
    "release_held": N_("⏸ Plan ended without the negatives it needs: held open, please follow up"),
    "fever": N_("🌡 Fever reported at check-in"),
    "symptoms": N_("🤒 Symptoms reported at check-in"),
    "unreachable": N_(
        "📵 Resident unreachable: they blocked the bot or deleted the chat. Please contact them another way."
    ),
    "health_code": N_("🟨 Yellow or red health code reported: check their travel and test papers"),
}


async def join(chat: Chat) -> list[Reply]:
    turn = chat.turn
    code = turn.event.args.strip().upper()
    invite = await turn.session.scalar(select(Invite).where(Invite.code == code)) if code else None
    if invite is None or invite.used_at is not None or invite.expires_at <= turn.now:
        return [
            Send(
                turn.tr(
                    "That code is not valid or has expired. Ask your administrator for a new one, then send /join CODE."
                )
            )
        ]
    invite.used_at, invite.used_by = turn.now, turn.user.id
    # Alerts are written in the worker's language: take Telegram's until they choose one.
    turn.user.language = turn.user.language or turn.tr.language
    turn.session.add(
        Staff(
            user_id=turn.user.id,
            chat_id=turn.user.chat_id,
            area_id=invite.area_id,
            role=invite.role,
            name=turn.event.first_name[:64],
            joined_at=turn.now,
        )
    )
    area = await turn.session.get(Area, invite.area_id)
    where = " › ".join(a.name for a in await lineage(turn.session, area)) if area else ""
    return [
        Send(
            turn.tr(
                "Welcome, {role} of {area}. Alerts for your area will come here; /alerts lists the open ones.",
                role=turn.tr(ROLE_NAMES.get(invite.role, invite.role)),
                area=html.escape(where),
            )
        )
    ]


ACTION_LABELS = {
    "called": N_("📞 Called"),
    "visited": N_("🏠 Visited"),
    "referred": N_("🏥 Referred"),
    "quarantine": N_("🚐 Sent to quarantine"),
}
# What was done, as a line in an alert or the daily report says it.
DONE_TEXTS = {
    "acknowledged": N_("acknowledged"),
    "called": N_("called"),
    "visited": N_("visited"),
    "referred": N_("referred"),
    "quarantine": N_("sent to quarantine"),
    "escalated": N_("escalated"),
}
LEVEL_NAMES = {
    "grid": N_("grid"),
    "community": N_("community"),
    "street": N_("street/town"),
    "district": N_("district"),
}
NOT_YOURS = N_("No such alert in your area.")


async def acknowledge(chat: Chat) -> list[Reply]:
    """/ack ALERT (the alert's first button)."""
    turn = chat.turn
    found = await _alert_and_post(turn.session, turn.user.id, chat.args)
    if found is None:
        return [Send(turn.tr(NOT_YOURS))]
    alert, post = found
    if alert.acknowledged_at is not None:
        return [Send(turn.tr("Alert {number} was already acknowledged.", number=alert.id))]
    _acknowledge(alert, turn.user.id, turn.now)
    turn.session.add(
        AlertAction(
            alert_id=alert.id,
            kind="acknowledged",
            actor_user_id=turn.user.id,
            actor_name=post.name,
            at=turn.now,
        )
    )
    await _tell_requester(turn.session, alert, post, turn.now)
    return [Send(turn.tr("Alert {number} acknowledged. Thank you.", number=alert.id))]


def _acknowledge(alert: Alert, user_id: int, now: datetime) -> None:
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, user_id
        alert.status = ACKNOWLEDGED


async def record_action(chat: Chat) -> list[Reply]:
    """/act ALERT: which action? /act ALERT KIND: record it, then ask for an optional note."""
    turn = chat.turn
    found = await _alert_and_post(turn.session, turn.user.id, chat.args.split(" ", 1)[0])
    if found is None:
        return [Send(turn.tr(NOT_YOURS))]
    alert, post = found
    parts = chat.args.split()
    if len(parts) == 1:
        buttons = rows(
            *(Button(turn.tr(label), f"/act {alert.id} {k}") for k, label in ACTION_LABELS.items())
        )
        return [Send(turn.tr("What was done about alert {number}?", number=alert.id), buttons)]
    if len(parts) != 2 or parts[1] not in ACTIONS:
        return [Send(turn.tr("Please choose with the buttons."))]
    kind = parts[1]
    _acknowledge(alert, turn.user.id, turn.now)
    action = AlertAction(
        alert_id=alert.id,
        kind=kind,
        actor_user_id=turn.user.id,
        actor_name=post.name,
        at=turn.now,
    )
    turn.session.add(action)
    await turn.session.flush()
    await _tell_requester(turn.session, alert, post, turn.now, action)
    recorded = Send(
        turn.tr(
            "Recorded for alert {number}: {action}.",
            number=alert.id,
            action=turn.tr(DONE_TEXTS[kind]),
        )
    )
    if chat.step in STEPS and chat.step != "ask_action_note":
        # Someone mid-way through a question of their own gets back to it with /start.
        turn.answers[RESUME] = chat.step
    turn.answers[ACTION] = action.id
    return [recorded, *await chat.begin("ask_action_note")]


ACTION = "_alert_action"


def parse_note(text: str, turn: Turn) -> str:
    return plain_text(text, turn)


async def save_note(turn: Turn) -> list[Reply]:
    action_id = turn.answers.pop(ACTION, None)
    note = turn.answers.pop("action_note", None)
    action = await turn.session.get(AlertAction, action_id) if action_id else None
    if action is None or action.actor_user_id != turn.user.id:
        return [Send(turn.tr("That question is closed."))]
    if not note:
        return [Send(turn.tr("All right, no note."))]
    action.note = note
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
                parse_note,
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
    found = await _alert_and_post(turn.session, turn.user.id, chat.args)
    if found is None:
        return [Send(turn.tr(NOT_YOURS))]
    alert, post = found
    if alert.level == LEVELS[-1]:
        return [Send(turn.tr("Alert {number} is with the district already.", number=alert.id))]
    grid = await turn.session.get(Area, alert.grid_id)
    assert grid is not None  # _alert_and_post found it
    moved = await escalate(turn.session, alert, grid, turn.now, by=post)
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


async def escalate(
    session: AsyncSession,
    alert: Alert,
    grid: Area,
    now: datetime,
    *,
    by: Staff | None = None,
    late: timedelta | None = None,
) -> tuple[str, int] | None:
    """Hand the alert to the nearest level above with staff, and send it to them (once each).

    By hand (`by`) with no one above: None, nothing changes. By the bot (`late`, how long
    nobody acknowledged) with no one above: it goes to the top, so that it is not tried every
    minute; /alerts shows it to whoever joins there."""
    above = LEVELS[LEVELS.index(alert.level) + 1 :] if alert.level in LEVELS else LEVELS[1:]
    level, workers = None, []
    for candidate in above:
        workers = await staff_for_grid(session, grid, candidate)
        if workers:
            level = candidate
            break
    if level is None:
        if by is not None or not above:
            return None
        level = above[-1]
    below = alert.level
    alert.level, alert.notified_at, alert.resent_at = level, now, None
    session.add(
        AlertAction(
            alert_id=alert.id,
            kind="escalated",
            actor_user_id=by.user_id if by else None,
            actor_name=by.name if by else "",
            level=level,
            at=now,
        )
    )

    def heading(tr: Translator) -> str:
        if by is not None:
            return tr("⬆️ Escalated to you by {name}", name=html.escape(by.name or "?"))
        hours = round((late or timedelta()).total_seconds() / 3600, 1)
        return tr(
            "⬆️ Escalated to you: not acknowledged at the {level} level in {hours} h",
            level=tr(LEVEL_NAMES.get(below, below)),
            hours=f"{hours:g}",
        )

    told = 0
    for worker in workers:
        told += await _send_alert(
            session, alert, worker, now, f"alert-escalated:{alert.id}:{level}", heading
        )
    return level, told


async def open_alerts(chat: Chat) -> list[Reply]:
    turn = chat.turn
    posts = await active_staff(turn.session, turn.user.id)
    if not posts:
        return [Send(turn.tr("This command is for grid workers. Join with /join CODE."))]
    grids = [
        a for a in await turn.session.scalars(select(Area)) if any(covers(p, a) for _, p in posts)
    ]
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
        text, buttons = await render_alert(turn.session, alert, turn.tr)
        replies.append(Send(text, buttons=buttons))
    return replies


async def _alert_for_staff(session: AsyncSession, user_id: int, args: str) -> Alert | None:
    """The alert named in `args`, only if it lies in one of the user's areas."""
    found = await _alert_and_post(session, user_id, args)
    return found[0] if found else None


async def _alert_and_post(
    session: AsyncSession, user_id: int, args: str
) -> tuple[Alert, Staff] | None:
    """The alert named in `args` and the user's post that covers it; None for an alert that
    does not exist or lies outside all of the user's areas (forged button data)."""
    if not args.strip().isdigit() or len(args.strip()) > 12:
        return None
    alert = await session.get(Alert, int(args.strip()))
    if alert is None:
        return None
    grid = await session.get(Area, alert.grid_id)
    if grid is None:
        return None
    for post, area in await active_staff(session, user_id):
        if covers(area, grid):
            return alert, post
    return None


async def _tell_requester(
    session: AsyncSession,
    alert: Alert,
    post: Staff,
    now: datetime,
    action: AlertAction | None = None,
) -> None:
    """The resident who asked for help hears that someone has it in hand (once on
    acknowledging, once per action recorded)."""
    if alert.kind != "help_request":
        return
    request_id = (alert.details or {}).get("request")
    request = await session.get(HelpRequest, request_id) if isinstance(request_id, int) else None
    if request is None:
        return
    request.status = "answered"
    user = await session.get(ChatUser, request.user_id)
    if user is None:
        return
    tr = Translator(user.language)
    name = html.escape(post.name) if post.name else tr("Your grid worker")
    if action is None:
        text = tr(
            "🙋 {name} from your grid has seen your request (no. {number}) and will contact you.",
            name=name,
            number=request.id,
        )
        key = f"help-seen:{request.id}"
    else:
        text = tr(
            "🙋 {name} from your grid is on your request (no. {number}): {action}.",
            name=name,
            number=request.id,
            action=tr(DONE_TEXTS.get(action.kind, action.kind)),
        )
        key = f"help-action:{action.id}"
    await enqueue(
        session, chat_id=user.chat_id, text=text, purpose="help_answer", dedupe_key=key, now=now
    )


def alert_buttons(alert: Alert, tr: Translator) -> Buttons:
    return (
        (
            Button(tr("✅ Acknowledge"), f"/ack {alert.id}"),
            Button(tr("📝 Record action"), f"/act {alert.id}"),
        ),
        (Button(tr("⬆️ Escalate"), f"/escalate {alert.id}"),),
    )


async def render_alert(session: AsyncSession, alert: Alert, tr: Translator) -> tuple[str, Buttons]:
    lines = [f"<b>{html.escape(tr(ALERT_TITLES.get(alert.kind, alert.kind)))}</b> #{alert.id}"]
    resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
    if resident is not None:
        who = " · ".join(x for x in (resident.name or "", resident.phone or "") if x)
        lines.append(html.escape(who))
    grid = await session.get(Area, alert.grid_id)
    if grid is not None:
        lines.append(html.escape(grid.name))
    details = alert.details or {}
    for key in ("origin", "plan", "code", "text", "slot"):
        if details.get(key):
            lines.append(f"{html.escape(key)}: {html.escape(str(details[key]))}")
    if details.get("names"):
        lines.append(html.escape(", ".join(details["names"])))
    if details.get("to_confirm"):
        lines.append(html.escape("; ".join(details["to_confirm"])))
    return "\n".join(lines), alert_buttons(alert, tr)


def _no_heading(tr: Translator) -> str:
    return ""


async def _send_alert(
    session: AsyncSession,
    alert: Alert,
    worker: Staff,
    now: datetime,
    key: str,
    heading: Callable[[Translator], str] = _no_heading,
) -> int:
    """Queue the alert for one worker, in their language, under `key`:WORKER (once)."""
    user = await session.get(ChatUser, worker.user_id)
    tr = Translator(user.language if user else None)
    text, buttons = await render_alert(session, alert, tr)
    top = heading(tr)
    return int(
        await enqueue(
            session,
            chat_id=worker.chat_id,
            text=f"{top}\n{text}" if top else text,
            buttons=[[[b.text, b.data] for b in row] for row in buttons],
            purpose="alert",
            dedupe_key=f"{key}:{worker.id}",
            now=now,
        )
    )


async def deliver_alerts(session: AsyncSession, now: datetime, zone: object) -> int:
    """Send each new alert to its grid's workers (once each). A grid with no worker (not yet
    joined, or revoked) hands it to the nearest level above that has someone: an alert no one
    receives is the silence a worker must never mistake for "all is well". With nobody at any
    level, it waits."""
    query = (
        select(Alert)
        .where(Alert.notified_at.is_(None), Alert.status == OPEN)
        .order_by(Alert.id)
        .limit(500)
    )
    queued = 0
    for alert in await session.scalars(query):
        grid = await session.get(Area, alert.grid_id)
        if grid is None:
            continue
        for level in LEVELS:
            workers = await staff_for_grid(session, grid, level)
            if workers:
                break
        else:
            continue
        alert.level = level
        for worker in workers:
            queued += await _send_alert(session, alert, worker, now, f"alert:{alert.id}")
        alert.notified_at = now
    return queued


def _reminder(tr: Translator) -> str:
    return tr("⏰ Reminder: nobody has acknowledged this alert yet.")


async def resend_alerts(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, after: timedelta
) -> int:
    """An alert nobody acknowledged within `after` of reaching its level is sent to that
    level's staff once more (once per alert and level)."""
    query = (
        select(Alert)
        .where(
            Alert.status == OPEN,
            Alert.notified_at <= now - after,
            Alert.resent_at.is_(None),
        )
        .order_by(Alert.notified_at, Alert.id)
        .limit(500)
    )
    queued = 0
    for alert in list(await session.scalars(query)):
        alert.resent_at = now
        grid = await session.get(Area, alert.grid_id)
        if grid is None:
            continue
        for worker in await staff_for_grid(session, grid, alert.level):
            queued += await _send_alert(
                session, alert, worker, now, f"alert-resend:{alert.id}:{alert.level}", _reminder
            )
    return queued


async def escalate_alerts(
    session: AsyncSession, now: datetime, zone: ZoneInfo, *, after: timedelta
) -> int:
    """An alert nobody acknowledged within `after` of reaching its level goes up a level."""
    query = (
        select(Alert)
        .where(
            Alert.status == OPEN,
            Alert.notified_at <= now - after,
            Alert.level != LEVELS[-1],
        )
        .order_by(Alert.notified_at, Alert.id)
        .limit(500)
    )
    escalated = 0
    for alert in list(await session.scalars(query)):
        grid = await session.get(Area, alert.grid_id)
        if grid is None:
            continue
        if await escalate(session, alert, grid, now, late=after) is not None:
            escalated += 1
    return escalated
