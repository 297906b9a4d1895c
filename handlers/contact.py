"""Two-way contact in the chat: a worker writes to one resident (/write NUMBER, or the
"💬 Write" button of an alert or a record), the resident answers with "↩️ Reply". Each side
types one message; services/contact.py keeps it with the person's record and sends it on."""

from __future__ import annotations

import html

from chat.contract import Reply, Send
from chat.forms import RESUME, Text
from chat.i18n import N_
from handlers.answers import parse_free_text
from handlers.context import Chat, Flow, Step, Turn
from handlers.staff import staff_only
from models.staff import active_staff, audit, covers
from services.contact import (
    message_to_me,
    open_request,
    reply_to_worker,
    write_to_resident,
)
from services.records import Scope, parse_id, record_of, scope_of

WRITE_TO = "_write_to"
REPLY_TO = "_reply_to"


@staff_only
async def write(chat: Chat, scope: Scope) -> list[Reply]:
    """/write NUMBER: the next message the worker types goes to that person's household."""
    turn, tr = chat.turn, chat.turn.tr
    wanted = parse_id(chat.args.split()[0]) if chat.args.split() else None
    if wanted is None:
        return [Send(tr("Send /write and the record number, e.g. /write 12 (see /find)."))]
    record = await record_of(turn.session, scope, wanted)
    if record is None or record.person.purged_at is not None:
        await audit(turn.session, turn.user.id, "write_refused", f"resident:{wanted}", turn.now)
        return [Send(tr("No such person in your area."))]
    if chat.asking and chat.step not in ("ask_message_text", "ask_reply_text"):
        turn.answers[RESUME] = chat.step
    turn.answers[WRITE_TO] = wanted
    heading = tr(
        "To {name} (#{number}): they will read it as a message from their community.",
        name=html.escape(record.person.name or "?"),
        number=wanted,
    )
    return [Send(heading), *await chat.begin("ask_message_text")]


async def send_message(turn: Turn) -> list[Reply]:
    wanted = turn.answers.pop(WRITE_TO, None)
    text = turn.answers.pop("message_text", None)
    scope = await scope_of(turn.session, turn.user.id)
    record = (
        await record_of(turn.session, scope, wanted)
        if scope is not None and isinstance(wanted, int)
        else None
    )
    if record is None or not text:
        return [Send(turn.tr("That question is closed."))]
    post = next(
        (
            p
            for p, area in await active_staff(turn.session, turn.user.id)
            if covers(area, record.grid)
        ),
        None,
    )
    if post is None:
        return [Send(turn.tr("No such person in your area."))]
    request = await open_request(turn.session, record.person)
    await write_to_resident(turn.session, post, record.person, text, turn.now, request)
    return [
        Send(
            turn.tr(
                "Sent to {name}. Their reply will come here.",
                name=html.escape(record.person.name or "?"),
            )
        )
    ]


WRITE_FLOW = Flow(
    "write",
    (
        Step(
            "ask_message_text",
            Text(
                "message_text",
                N_("Type your message (one message)."),
                N_("e.g. I will bring the medicine at 15:00; call me if you need anything"),
                parse_free_text,
                1000,
            ),
        ),
    ),
    finish=send_message,
)


async def reply(chat: Chat) -> list[Reply]:
    """/reply MESSAGE (the "↩️ Reply" button of a worker's message)."""
    turn, tr = chat.turn, chat.turn.tr
    number = parse_id(chat.args)
    message = (
        await message_to_me(turn.session, turn.user.id, number) if number is not None else None
    )
    if message is None:
        return [Send(tr("That message is not one you can reply to."))]
    if chat.asking and chat.step not in ("ask_message_text", "ask_reply_text"):
        turn.answers[RESUME] = chat.step
    turn.answers[REPLY_TO] = message.id
    return await chat.begin("ask_reply_text")


async def send_reply(turn: Turn) -> list[Reply]:
    number = turn.answers.pop(REPLY_TO, None)
    text = turn.answers.pop("reply_text", None)
    message = (
        await message_to_me(turn.session, turn.user.id, number) if isinstance(number, int) else None
    )
    if message is None or not text:
        return [Send(turn.tr("That question is closed."))]
    await reply_to_worker(turn.session, turn.user.id, message, text, turn.now)
    return [Send(turn.tr("Sent to your community. They will answer you here."))]


REPLY_FLOW = Flow(
    "reply",
    (
        Step(
            "ask_reply_text",
            Text(
                "reply_text",
                N_("Type your reply (one message)."),
                N_("e.g. Thank you, 15:00 is fine"),
                parse_free_text,
                1000,
            ),
        ),
    ),
    finish=send_reply,
)

__all__ = ["REPLY_FLOW", "WRITE_FLOW", "reply", "write"]
