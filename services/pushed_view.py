"""A pushed list's door-to-door task as a worker reads it (the alert's body and buttons):
who (name, phone to tap, ID's last four), why (the list's reason, place and day), where
(the address as the list gave it), the list and its deadline, and the buttons for what came
of it. Used by services/alerts.py's rendering, so it imports no other service."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chat.contract import Buttons
from chat.i18n import N_, Translator
from models.alerts import Alert
from models.people import Resident, mask_id
from models.pushed import PushedList, PushedRow
from services.buttons import OUTCOME, PUSHED_LINK, TRANSFER
from services.vocabulary import DONE_TEXTS, PUSHED_REASONS
from services.wording import day_text, moment_text, phone_link, place_name

TASK_KINDS = ("pushed_task", "pushed_transfer")
OUTCOME_LABELS = {
    "reached": N_("📞 Reached by phone"),
    "visited": N_("🚪 Visited"),
    "not_here": N_("🏠 Not living here"),
    "unreachable": N_("📵 Unreachable"),
    "note": N_("📝 Note"),
}


async def row_of(session: AsyncSession, alert: Alert) -> PushedRow | None:
    row_id = (alert.details or {}).get("row")
    return await session.get(PushedRow, row_id) if isinstance(row_id, int) else None


def reason_line(row: PushedRow, tr: Translator) -> str:
    reason = tr(PUSHED_REASONS.get(row.reason or "other", PUSHED_REASONS["other"]))
    if row.reason == "other" and row.reason_text:
        reason = row.reason_text
    parts = [reason]
    if row.place_text:
        parts.append(place_name(row.place_code, row.place_text, tr))
    if row.place_date is not None:
        parts.append(day_text(row.place_date, tr))
    return tr.clauses(parts)


async def task_lines(
    session: AsyncSession, alert: Alert, tr: Translator, zone: ZoneInfo
) -> list[str]:
    """The lines of a task's message after its title (HTML)."""
    e = html.escape
    row = await row_of(session, alert)
    if row is None:
        return []
    pushed = await session.get(PushedList, row.list_id)
    who = f"<b>{e(row.name)}</b>"
    if row.phone:
        who += " · " + phone_link(row.phone)
    if row.id_number:
        who += " · " + e(mask_id(row.id_number))
    lines = [who, e(tr.label(tr("Why"), reason_line(row, tr)))]
    if row.address:
        lines.append(e(tr.label(tr("Address"), row.address)))
    if row.expected_arrival is not None:
        lines.append(e(tr.label(tr("Expected"), moment_text(row.expected_arrival, zone, tr))))
    if pushed is not None:
        lines.append(
            e(
                tr.label(
                    tr("List"),
                    tr.clauses(
                        [
                            pushed.source,
                            tr("line {line}", line=row.line),
                            tr("due {when}", when=moment_text(pushed.deadline_at, zone, tr)),
                        ]
                    ),
                )
            )
        )
    candidate = (alert.details or {}).get("possible")
    if isinstance(candidate, int):
        resident = await session.get(Resident, candidate)
        if resident is not None:
            lines.append(
                "❓ "
                + e(
                    tr(
                        "Possibly already reported: {name} (no. {number}), same name in this "
                        "area. Please check.",
                        name=resident.name or "?",
                        number=resident.id,
                    )
                )
            )
    if row.outcome is not None:
        done = tr(DONE_TEXTS.get(row.outcome, row.outcome))
        if row.outcome_by_name:
            done += tr.paren(row.outcome_by_name)
        lines.append("✅ " + e(done))
    if row.moved_to:
        lines.append(e(tr.label(tr("Moved to"), row.moved_to)))
    if row.transfer_at is not None:
        lines.append(
            "🚐 "
            + e(
                tr.clauses(
                    [
                        moment_text(row.transfer_at, zone, tr),
                        row.transfer_by or "",
                        row.transfer_vehicle or "",
                    ]
                )
            )
        )
    if row.note:
        lines.append(e(tr.label(tr("Note"), row.note)))
    return lines


async def match_lines(
    session: AsyncSession, alert: Alert, tr: Translator, zone: ZoneInfo
) -> list[str]:
    """Residents of the grid found on a list: the list, and that their plans were checked
    again with what the list says (the names follow, as a re-screening's do)."""
    pushed = await session.get(PushedList, (alert.details or {}).get("list") or 0)
    if pushed is None:
        return []
    return [
        html.escape(
            tr.label(
                tr("List"),
                tr.clauses(
                    [
                        pushed.source,
                        tr(
                            "{n} of your residents", n=len((alert.details or {}).get("names") or [])
                        ),
                    ]
                ),
            )
        ),
        html.escape(
            tr("Their plans were checked again with what the list says; /pushed sums it up.")
        ),
    ]


def task_buttons(alert: Alert, tr: Translator) -> Buttons:
    row_id = (alert.details or {}).get("row")
    first: Buttons = (
        (
            OUTCOME.button(tr(OUTCOME_LABELS["reached"]), row_id, "reached"),
            OUTCOME.button(tr(OUTCOME_LABELS["visited"]), row_id, "visited"),
        ),
        (
            OUTCOME.button(tr(OUTCOME_LABELS["not_here"]), row_id, "not_here"),
            OUTCOME.button(tr(OUTCOME_LABELS["unreachable"]), row_id, "unreachable"),
        ),
        (
            PUSHED_LINK.button(tr("🔗 Personal link for them"), row_id),
            OUTCOME.button(tr(OUTCOME_LABELS["note"]), row_id, "note"),
        ),
    )
    if isinstance((alert.details or {}).get("possible"), int):
        first = ((OUTCOME.button(tr("✅ Same person: already reported"), row_id, "same"),), *first)
    if alert.kind == "pushed_transfer":
        first = ((TRANSFER.button(tr("🚐 Record the transfer (点对点接送)"), row_id),), *first)
    return first
