"""/export: the register of the worker's areas as a workbook (services/export.py builds it),
with the export in the audit log."""

from __future__ import annotations

from chat.contract import File, Reply, Send
from handlers.context import Chat
from handlers.register import where
from handlers.staff import staff_only
from models.staff import audit
from services.export import export_workbook
from services.records import Scope


@staff_only
async def export(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    content, people = await export_workbook(turn.session, scope, turn.now, turn.zone, tr)
    await audit(
        turn.session,
        turn.user.id,
        "export",
        "register",
        turn.now,
        areas=[a.code for a in scope.areas],
        people=people,
    )
    local = turn.now.astimezone(turn.zone)
    code = scope.areas[0].code if len(scope.areas) == 1 else "areas"
    filename = f"register-{code}-{local.strftime('%Y%m%d-%H%M')}.xlsx"
    caption = tr(
        "<b>Register</b>: {areas}; people listed: {people}; as of {when}.",
        areas=where(scope),
        people=people,
        when=local.strftime("%Y-%m-%d %H:%M"),
    )
    return [Send(caption, file=File(filename, content))]
