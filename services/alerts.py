"""Alerts on their way to the workers who must act: delivered to a grid's workers (or the
nearest level above with someone), sent again when nobody acknowledged, escalated a level
after that; acknowledged and acted on by a worker whose areas cover the alert; the resident
who asked for help told someone has it in hand. Run by the periodic jobs and by the staff's
buttons (handlers/staff.py) alike."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.contract import Buttons, rows
from chat.i18n import Translator
from models.alerts import ACKNOWLEDGED, LEVELS, OPEN, Alert, AlertAction
from models.areas import Area
from models.chat import ChatUser
from models.help import HelpRequest
from models.outbox import enqueue
from models.people import Household, Resident
from models.plans import MonitoringPlan
from models.staff import Staff, active_staff, covers, staff_for_grid
from services.buttons import (
    ACKNOWLEDGE,
    APPLY_STRICTER,
    ASSIGN_GRID,
    ESCALATE,
    NOT_THERE,
    RECORD_ACTION,
)
from services.placement import ASSIGN_KIND, grids_to_choose
from services.vocabulary import ALERT_TITLES, DONE_TEXTS, LEVEL_NAMES
from services.wording import describe_plan, whose

# A place someone reported may be a listed risk area: the worker confirms or clears it.
CONFIRM_KIND = "confirm_match"


def acknowledge(alert: Alert, user_id: int, now: datetime) -> None:
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, user_id
        alert.status = ACKNOWLEDGED


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
    return (
        (
            ACKNOWLEDGE.button(tr("✅ Acknowledge"), alert.id),
            RECORD_ACTION.button(tr("📝 Record action"), alert.id),
        ),
        (ESCALATE.button(tr("⬆️ Escalate"), alert.id),),
    )


async def buttons_for(session: AsyncSession, alert: Alert, tr: Translator) -> Buttons:
    """An alert's buttons: a household to place gets one per grid of its community."""
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
    if alert.kind == ASSIGN_KIND and resident is not None:
        household = await session.get(Household, resident.household_id)
        if household is not None and household.address:
            lines.append(html.escape(household.address))
    return "\n".join(lines), await buttons_for(session, alert, tr)


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
            buttons=buttons,
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
