"""/export: the register (登记表) of the worker's areas as a workbook (services/export.py
builds it), or with /export csv as one CSV file; the export goes in the audit log. ID numbers
are in full only for the roles the EXPORT_FULL_ID_ROLES setting names."""

from __future__ import annotations

from datetime import time

from chat.contract import File, Reply, Send
from handlers.context import Chat
from handlers.register import where
from handlers.staff import staff_only
from models.staff import active_staff, audit
from services.drawing import drawn
from services.export import csv_register, export_sheets, workbook
from services.options import FULL_ID_ROLES, REPORT_AT
from services.records import Scope


@staff_only
async def export(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    allowed = turn.facts.get(FULL_ID_ROLES) or frozenset()
    roles = {post.role for post, _ in await active_staff(turn.session, turn.user.id)}
    full_id = bool(roles & set(allowed))
    at = turn.facts.get(REPORT_AT)
    sheets, people = await export_sheets(
        turn.session,
        scope,
        turn.now,
        turn.zone,
        tr,
        full_id=full_id,
        at=at if isinstance(at, time) else time(20, 0),
    )
    as_csv = chat.args.strip().lower() == "csv"
    await audit(
        turn.session,
        turn.user.id,
        "export",
        "register",
        turn.now,
        areas=[a.code for a in scope.areas],
        people=people,
        full_id=full_id,
        format="csv" if as_csv else "xlsx",
    )
    local = turn.now.astimezone(turn.zone)
    code = scope.areas[0].code if len(scope.areas) == 1 else "areas"
    stem = f"register-{code}-{local.strftime('%Y%m%d-%H%M')}"
    caption = tr(
        "<b>Register</b>: {areas}; people listed: {people}; as of {when}.",
        areas=where(scope),
        people=people,
        when=local.strftime("%Y-%m-%d %H:%M"),
    )
    if as_csv:
        return [Send(caption, file=File(f"{stem}.csv", csv_register(sheets, tr)))]
    return [Send(caption, file=File(f"{stem}.xlsx", await drawn(workbook, sheets)))]
