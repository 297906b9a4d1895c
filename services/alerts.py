"""Alerts on their way to the workers who must act: delivered to a grid's workers (or the
nearest level above with someone), sent again when nobody acknowledged, escalated a level
after that; acknowledged and acted on by a worker whose areas cover the alert; the resident
who asked for help told someone has it in hand. Run by the periodic jobs and by the staff's
buttons (handlers/staff.py) alike."""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.contract import Button, Buttons, rows
from chat.i18n import N_, Translator
from models.alerts import ACKNOWLEDGED, LEVELS, OPEN, Alert, AlertAction
from models.areas import Area
from models.chat import ChatUser
from models.help import HelpRequest
from models.outbox import PENDING, SENT, Outgoing, enqueue
from models.people import Arrival, Household, Resident
from models.plans import MonitoringPlan
from models.staff import Staff, active_staff, covers, staff_for_grid
from services.buttons import (
    ACKNOWLEDGE,
    APPLY_STRICTER,
    ASSIGN_GRID,
    ESCALATE,
    NOT_THERE,
    RECORD_ACTION,
    WRITE,
)
from services.placement import ASSIGN_KIND, grids_to_choose
from services.pushed_view import TASK_KINDS, match_lines, task_buttons, task_lines
from services.records import symptom_names
from services.vocabulary import (
    ALERT_TITLES,
    DONE_TEXTS,
    HEALTH_CODES,
    HELP_KINDS,
    LEVEL_NAMES,
    PLAN_STATES,
    TRANSPORTS,
)
from services.wording import (
    day_text,
    describe_plan,
    listing_text,
    moment_text,
    option_name,
    phone_link,
    place_name,
    plan_name,
    slot_text,
    temperature_text,
    whose,
)

# The zone alerts tell time in when none is given (the TIMEZONE setting's default).
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
# A place someone reported may be a listed risk area: the worker confirms or clears it.
CONFIRM_KIND = "confirm_match"


def acknowledge(alert: Alert, user_id: int, now: datetime) -> None:
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, user_id
        alert.status = ACKNOWLEDGED


async def record_action(
    session: AsyncSession,
    alert: Alert,
    by: Staff,
    kind: str,
    now: datetime,
    *,
    note: str | None = None,
) -> AlertAction:
    """What a worker did about an alert (acknowledging it, a call, a visit, a placement …):
    the alert is acknowledged by them if it was not yet, and the action is written with its
    id (the note question that follows refers to it)."""
    acknowledge(alert, by.user_id, now)
    action = AlertAction(
        alert_id=alert.id,
        kind=kind,
        actor_user_id=by.user_id,
        actor_name=by.name,
        note=note,
        at=now,
    )
    session.add(action)
    await session.flush()
    return action


async def escalate(
    session: AsyncSession,
    alert: Alert,
    grid: Area,
    now: datetime,
    *,
    by: Staff | None = None,
    late: timedelta | None = None,
    zone: ZoneInfo = DEFAULT_ZONE,
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
            session, alert, worker, now, f"alert-escalated:{alert.id}:{level}", heading, zone
        )
    return level, told


async def alert_and_post(
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


async def tell_requester(
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
    last: tuple[Button, ...] = (ESCALATE.button(tr("⬆️ Escalate"), alert.id),)
    if alert.resident_id is not None:
        # Write to them in the chat: a help request is answered this way.
        label = tr("💬 Answer") if alert.kind == "help_request" else tr("💬 Write")
        last = (WRITE.button(label, alert.resident_id), *last)
    return (
        (
            ACKNOWLEDGE.button(tr("✅ Acknowledge"), alert.id),
            RECORD_ACTION.button(tr("📝 Record action"), alert.id),
        ),
        last,
    )


def follow_ups(alert: Alert, tr: Translator) -> Buttons:
    """What the worker who acted on an alert may still do with it: the usual buttons but
    the acknowledgement; nothing for an alert one tap settles (placing, confirming)."""
    if alert.kind in (ASSIGN_KIND, CONFIRM_KIND, *TASK_KINDS):
        return ()
    ack = ACKNOWLEDGE.button("", alert.id).data
    kept = (tuple(b for b in row if b.data != ack) for row in alert_buttons(alert, tr))
    return tuple(row for row in kept if row)


async def buttons_for(session: AsyncSession, alert: Alert, tr: Translator) -> Buttons:
    """An alert's buttons: a household to place gets one per grid of its community."""
    if alert.kind in TASK_KINDS:
        return task_buttons(alert, tr)
    if alert.kind == ASSIGN_KIND:
        grids = await grids_to_choose(session, alert)
        return rows(*(ASSIGN_GRID.button(g.name, alert.id, g.id) for g in grids), width=1)
    if alert.kind == CONFIRM_KIND:
        # A place that may be a listed area: one tap applies the plan for it, one clears it.
        return (
            (APPLY_STRICTER.button(tr("✅ They were there: apply the stricter plan"), alert.id),),
            (NOT_THERE.button(tr("✖️ They were not there: clear, with a note"), alert.id),),
            *alert_buttons(alert, tr)[1:],
        )
    return alert_buttons(alert, tr)


# A listing stored before alerts kept the level apart: "北京市朝阳区 (medium)".
_OLD_LISTING = re.compile(r"^(.*) \((high|medium|low)\)$")


def _old_slot(text: str, zone: ZoneInfo) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    except ValueError:
        return None


async def _plan_of(
    session: AsyncSession, alert: Alert, resident: Resident | None
) -> MonitoringPlan | None:
    plan_id = (alert.details or {}).get("plan_id")
    if isinstance(plan_id, int):
        plan = await session.get(MonitoringPlan, plan_id)
        if plan is not None:
            return plan
    if resident is None:
        return None
    query = (
        select(MonitoringPlan)
        .where(MonitoringPlan.resident_id == resident.id)
        .order_by(MonitoringPlan.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def _arrival_of(session: AsyncSession, resident: Resident) -> Arrival | None:
    query = (
        select(Arrival)
        .where(Arrival.resident_id == resident.id)
        .order_by(Arrival.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


def plan_line(plan: MonitoringPlan, today: date, tr: Translator) -> str:
    """The plan by name, and which day of it today is: 居家隔离14天，第3天/共14天."""
    name = plan_name(plan.phases, tr, plan.refer_to_clinic)
    total = (plan.ends_on - plan.starts_on).days + 1
    n = (today - plan.starts_on).days + 1
    if plan.status == "active" and 1 <= n <= total:
        name = tr.clauses([name, tr("day {n} of {total}", n=n, total=total)])
    elif plan.status != "active":
        name += tr.paren(tr(PLAN_STATES.get(plan.status, N_("replaced by a newer plan"))))
    return name


async def render_alert(
    session: AsyncSession,
    alert: Alert,
    tr: Translator,
    zone: ZoneInfo = DEFAULT_ZONE,
    now: datetime | None = None,
) -> tuple[str, Buttons]:
    """An alert as a worker reads it, in their language, with everything they need to act
    without opening /person: who (name, phone to tap, address), what and when (the reading,
    the slot, arrival, the plan and its day), and what has been done about it."""
    e = html.escape
    details = alert.details or {}
    lines = [f"<b>{e(tr(ALERT_TITLES.get(alert.kind, N_('Alert'))))}</b> #{alert.id}"]
    resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
    grid = await session.get(Area, alert.grid_id)
    today = (now or alert.created_at).astimezone(zone).date()
    if alert.kind in TASK_KINDS:
        lines += await task_lines(session, alert, tr, zone)
        if grid is not None:
            lines.append(e(grid.name))
        return "\n".join(lines), await buttons_for(session, alert, tr)
    if resident is not None:
        who = f"<b>{e(resident.name or '?')}</b>"
        if resident.phone:
            who += " · " + phone_link(resident.phone)
        lines.append(who)
        household = await session.get(Household, resident.household_id)
        place = household.address if household is not None and household.address else ""
        if grid is not None:
            place = f"{place}{tr.paren(grid.name)}" if place else grid.name
        if place:
            lines.append(e(tr.label(tr("Address"), place)))
        if resident.by_proxy:
            lines.append(
                "📝 " + e(tr("No Telegram: reported and checked in for them by a worker (代报)."))
            )
    elif grid is not None:
        lines.append(e(grid.name))
    # What happened, and when.
    reading = ""
    if details.get("temperature") is not None or details.get("symptoms"):
        temperature = details.get("temperature")
        parts = [temperature_text(float(temperature)) if temperature is not None else ""]
        parts.append(symptom_names(details.get("symptoms") or [], tr))
        reading = tr.clauses(p for p in parts if p)
    elif alert.kind in ("fever", "symptoms") and details.get("text"):
        reading = str(details["text"])
    if reading:
        lines.append(e(tr.label(tr("Reading"), reading)))
    slot: datetime | None = None
    if isinstance(details.get("slot_at"), str):
        slot = datetime.fromisoformat(details["slot_at"])
    elif isinstance(details.get("slot"), str):
        slot = _old_slot(details["slot"], zone)
    if slot is not None:
        lines.append(e(tr.label(tr("Check-in"), slot_text(slot, zone, tr))))
    if alert.kind == "help_request":
        kind = option_name(HELP_KINDS, details.get("help_kind"), tr)
        note = details.get("note")
        if note is None and isinstance(details.get("text"), str):
            note = details["text"].partition(": ")[2] or details["text"]
        if kind:
            lines.append(e(tr.label(tr("Needs"), kind)))
        if note:
            lines.append(e(tr.label(tr("In their words"), str(note))))
    if alert.kind == "positive_test":
        day = details.get("day") or details.get("text")
        if isinstance(day, str):
            try:
                lines.append(e(tr.label(tr("Test day"), day_text(date.fromisoformat(day), tr))))
            except ValueError:
                pass
    if alert.kind == "release_held" and "negatives" in details:
        lines.append(
            e(
                tr(
                    "Negative tests: {n} of {needed}",
                    n=details["negatives"],
                    needed=details.get("needed", "?"),
                )
            )
        )
    if details.get("code"):
        lines.append(e(tr.label(tr("Health code"), option_name(HEALTH_CODES, details["code"], tr))))
    if alert.kind == "pushed_match":
        lines += await match_lines(session, alert, tr, zone)
    if details.get("place") and alert.kind == "rescreen":
        lines.append(e(tr.label(tr("Newly listed"), str(details["place"]))))
    # The journey and the plan.
    if resident is not None:
        arrival = await _arrival_of(session, resident)
        if arrival is not None:
            origin = place_name(arrival.origin_code, arrival.origin_text, tr)
            journey = [tr.label(tr("From"), origin)] if origin else []
            how = " ".join(
                x
                for x in (
                    option_name(TRANSPORTS, arrival.transport, tr),
                    arrival.transport_number or "",
                )
                if x
            )
            if how:
                journey.append(how)
            if arrival.arrived_at is not None:
                journey.append(tr.label(tr("Arrived"), moment_text(arrival.arrived_at, zone, tr)))
            elif arrival.expected_at is not None:
                journey.append(tr.label(tr("Expected"), moment_text(arrival.expected_at, zone, tr)))
            if journey:
                lines.append(e(tr.clauses(journey)))
        plan = await _plan_of(session, alert, resident)
        if plan is not None:
            lines.append(e(tr.label(tr("Plan"), plan_line(plan, today, tr))))
    if details.get("names"):
        lines.append(e(tr.join(str(n) for n in details["names"])))
    listings = details.get("listings")
    if isinstance(listings, list):
        lines.append(
            e(
                tr.label(
                    tr("To confirm"),
                    tr.join(listing_text(i["place"], i["level"], tr) for i in listings),
                )
            )
        )
    elif details.get("to_confirm"):
        found = [_OLD_LISTING.match(str(item)) for item in details["to_confirm"]]
        lines.append(
            e(
                tr.label(
                    tr("To confirm"),
                    tr.join(
                        listing_text(m.group(1), m.group(2), tr) if m else str(item)
                        for m, item in zip(found, details["to_confirm"], strict=True)
                    ),
                )
            )
        )
    if alert.kind == ASSIGN_KIND and resident is None and details.get("household"):
        household = await session.get(Household, details["household"])
        if household is not None and household.address:
            lines.append(e(tr.label(tr("Address"), household.address)))
    return "\n".join(lines), await buttons_for(session, alert, tr)


def handled_text(actions: list[AlertAction], tr: Translator, zone: ZoneInfo) -> str:
    """What was done about an alert, by whom and when, as its copies show it."""
    parts = []
    for action in actions:
        what = tr(DONE_TEXTS.get(action.kind, N_("handled")))
        if action.kind == "escalated" and action.level:
            what = tr("escalated to the {level} level", level=tr(LEVEL_NAMES.get(action.level, "")))
        who = action.actor_name or (tr("the bot") if action.actor_user_id is None else "?")
        text = what + tr.paren(tr.clauses([who, moment_text(action.at, zone, tr)]))
        if action.note:
            text = tr.label(text, action.note)
        parts.append("✅ " + html.escape(text))
    return "\n".join(parts)


async def settle_copies(
    session: AsyncSession,
    alert: Alert,
    now: datetime,
    zone: ZoneInfo = DEFAULT_ZONE,
    *,
    actor_chat: int | None = None,
) -> int:
    """Every copy of the alert sent to a worker (the grid's others, a level it was escalated
    to) shows who did what and when, without its buttons: a copy not sent yet is changed
    before it goes, one sent is edited in place through the outbox. The copy of the worker who
    acted (`actor_chat`) says the same but keeps what they may still do (record an action,
    write, escalate): they are the one handling it. Returns the copies changed."""
    await session.flush()
    actions = list(
        await session.scalars(
            select(AlertAction)
            .where(AlertAction.alert_id == alert.id)
            .order_by(AlertAction.at, AlertAction.id)
        )
    )
    if not any(a.kind != "escalated" for a in actions):
        return 0
    prefixes = ("alert", "alert-resend", "alert-escalated")
    copies = await session.scalars(
        select(Outgoing)
        .where(
            Outgoing.purpose == "alert",
            or_(*(Outgoing.dedupe_key.like(f"{p}:{alert.id}:%") for p in prefixes)),
        )
        .order_by(Outgoing.id)
    )
    changed = 0
    for copy in list(copies):
        user = await session.scalar(
            select(ChatUser).where(ChatUser.chat_id == copy.chat_id).limit(1)
        )
        tr = Translator(user.language if user else None)
        text, _ = await render_alert(session, alert, tr, zone, now)
        text = f"{text}\n\n{handled_text(actions, tr, zone)}"
        kept = follow_ups(alert, tr) if copy.chat_id == actor_chat else ()
        if copy.status == PENDING and copy.edit_message_id is None:
            copy.text = text
            copy.buttons = [[[b.text, b.data] for b in row] for row in kept]
            changed += 1
        elif copy.status == SENT and copy.message_id is not None:
            digest = zlib.crc32(text.encode())
            changed += int(
                await enqueue(
                    session,
                    chat_id=copy.chat_id,
                    text=text,
                    purpose="alert_edit",
                    dedupe_key=f"alert-edit:{copy.id}:{digest}",
                    now=now,
                    buttons=kept,
                    edit_message_id=copy.message_id,
                )
            )
    return changed


def _no_heading(tr: Translator) -> str:
    return ""


async def _send_alert(
    session: AsyncSession,
    alert: Alert,
    worker: Staff,
    now: datetime,
    key: str,
    heading: Callable[[Translator], str] = _no_heading,
    zone: ZoneInfo = DEFAULT_ZONE,
) -> int:
    """Queue the alert for one worker, in their language, under `key`:WORKER (once)."""
    user = await session.get(ChatUser, worker.user_id)
    tr = Translator(user.language if user else None)
    text, buttons = await render_alert(session, alert, tr, zone, now)
    top = heading(tr)
    return int(
        await enqueue(
            session,
            chat_id=worker.chat_id,
            text=f"{top}\n{text}" if top else text,
            buttons=buttons,
            purpose="alert",
            dedupe_key=f"{key}:{worker.id}",
            now=now,
        )
    )


async def deliver_alerts(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
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
            queued += await _send_alert(session, alert, worker, now, f"alert:{alert.id}", zone=zone)
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
                session,
                alert,
                worker,
                now,
                f"alert-resend:{alert.id}:{alert.level}",
                _reminder,
                zone,
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
        if await escalate(session, alert, grid, now, late=after, zone=zone) is not None:
            escalated += 1
    return escalated


async def tell_new_plan(session: AsyncSession, plan: MonitoringPlan, now: datetime) -> None:
    """The household's reporter hears that a worker confirmed a listed area, and the plan."""
    resident = await session.get(Resident, plan.resident_id)
    user = await session.get(ChatUser, resident.reporter_user_id) if resident else None
    if resident is None or user is None:
        return
    tr = Translator(user.language)
    heading = tr(
        "Your grid worker has confirmed you were in an area listed at risk. Your plan now:"
    )
    await enqueue(
        session,
        chat_id=user.chat_id,
        text=whose(resident) + heading + "\n\n" + describe_plan(plan, tr),
        purpose="plan_confirmed",
        dedupe_key=f"plan-confirmed:{plan.id}",
        now=now,
    )
