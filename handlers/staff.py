"""Grid workers in the chat: joining with a one-time code, and the alerts they act on."""

from __future__ import annotations

import html
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chat import Chat
from handlers.contract import Button, Buttons, Reply, Send
from handlers.i18n import N_, Translator
from models.alerts import OPEN, Alert
from models.areas import Area, lineage
from models.chat import ChatUser
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


async def acknowledge(chat: Chat) -> list[Reply]:
    turn = chat.turn
    alert = await _alert_for_staff(turn.session, turn.user.id, chat.args)
    if alert is None:
        return [Send(turn.tr("No such alert in your area."))]
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = turn.now, turn.user.id
        alert.status = "acknowledged"
        return [Send(turn.tr("Alert {number} acknowledged. Thank you.", number=alert.id))]
    return [Send(turn.tr("Alert {number} was already acknowledged.", number=alert.id))]


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
    if not args.strip().isdigit():
        return None
    alert = await session.get(Alert, int(args.strip()))
    if alert is None:
        return None
    grid = await session.get(Area, alert.grid_id)
    posts = await active_staff(session, user_id)
    if grid is None or not any(covers(area, grid) for _, area in posts):
        return None
    return alert


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
    for key in ("origin", "plan", "text", "slot"):
        if details.get(key):
            lines.append(f"{html.escape(key)}: {html.escape(str(details[key]))}")
    if details.get("names"):
        lines.append(html.escape(", ".join(details["names"])))
    if details.get("to_confirm"):
        lines.append(html.escape("; ".join(details["to_confirm"])))
    buttons = ((Button(tr("✅ Acknowledge"), f"/ack {alert.id}"),),)
    return "\n".join(lines), buttons


async def deliver_alerts(session: AsyncSession, now: datetime, zone: object) -> int:
    """Send each new alert to its grid's workers (once each); alerts wait for a worker."""
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
        workers = await staff_for_grid(session, grid, "grid")
        if not workers:
            continue
        for worker in workers:
            user = await session.get(ChatUser, worker.user_id)
            text, buttons = await render_alert(
                session, alert, Translator(user.language if user else None)
            )
            queued += await enqueue(
                session,
                chat_id=worker.chat_id,
                text=text,
                buttons=[[[b.text, b.data] for b in row] for row in buttons],
                purpose="alert",
                dedupe_key=f"alert:{alert.id}:{worker.id}",
                now=now,
            )
        alert.notified_at = now
    return queued
