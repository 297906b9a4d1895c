"""/notify TEXT: a notice to every resident of the worker's areas, shown first with the number
of chats it reaches, sent or cancelled with the preview's buttons (services/notices.py)."""

from __future__ import annotations

import html

from chat.buttons import CommandData
from chat.contract import Edit, Kind, Reply, Send
from handlers.context import Chat
from handlers.register import where
from handlers.staff import staff_only
from services import notices
from services.records import Scope, parse_id

SEND = CommandData("notify_send")
CANCEL = CommandData("notify_cancel")
NOTICE_MAX = 1500


@staff_only
async def notify(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    text = chat.args.strip()
    if not text:
        return [
            Send(
                tr(
                    "Write the notice after the command, e.g. /notify Please avoid gatherings and banquets this week."
                )
            )
        ]
    if len(text) > NOTICE_MAX:
        return [
            Send(
                tr(
                    "That notice is too long ({n} characters); please keep it under {max}.",
                    n=len(text),
                    max=NOTICE_MAX,
                )
            )
        ]
    people, users = await notices.recipients(turn.session, scope)
    if not users:
        return [Send(tr("There is no one in your areas to notify yet."))]
    draft = await notices.draft(turn.session, scope, turn.user.id, text, turn.now)
    preview = tr(
        "<b>Notice to residents</b>: {areas}\n\n{text}\n\nIt goes to {chats} chats ({people} people). Send it?",
        areas=where(scope),
        text=html.escape(text),
        chats=len(users),
        people=people,
    )
    buttons = ((SEND.button(tr("✅ Send"), draft.id), CANCEL.button(tr("✖️ Cancel"), draft.id)),)
    return [Send(preview, buttons=buttons)]


def _answer(chat: Chat, text: str) -> list[Reply]:
    """On the preview's own message when a button was pressed; else a new message."""
    event = chat.turn.event
    if event.kind is Kind.BUTTON and event.message_id is not None:
        return [Edit(event.message_id, text)]
    return [Send(text)]


@staff_only
async def notify_send(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    draft = await notices.open_draft(turn.session, turn.user.id, parse_id(chat.args), turn.now)
    if draft is None:
        return [Send(tr("That notice was sent, cancelled or has expired."))]
    queued = await notices.send(turn.session, scope, draft, turn.user.id, turn.now)
    return _answer(
        chat,
        tr(
            "<b>Notice sent</b> to {chats} chats: {areas}\n\n{text}",
            chats=queued,
            areas=where(scope),
            text=html.escape(str(draft.details.get("text", ""))),
        ),
    )


@staff_only
async def notify_cancel(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    draft = await notices.open_draft(turn.session, turn.user.id, parse_id(chat.args), turn.now)
    if draft is None:
        return [Send(tr("That notice was sent, cancelled or has expired."))]
    await notices.cancel(turn.session, draft, turn.user.id, turn.now)
    return _answer(chat, tr("Cancelled: the notice was not sent."))
