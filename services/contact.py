"""Two-way contact between a community and one resident: a worker writes (answering a help
request, or about an alert, or from /person), the resident sees it as from their community and
can reply, and the reply reaches the worker who wrote. Both ways are kept with the person's
record (models/contact.py) and in the audit log. And the public phone number residents may
call: the nearest area above their grid that has one."""

from __future__ import annotations

import html
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import Translator
from models.areas import Area, lineage
from models.chat import ChatUser
from models.contact import FROM_RESIDENT, TO_RESIDENT, ContactMessage
from models.help import HelpRequest
from models.outbox import enqueue
from models.people import Resident
from models.staff import Staff, audit, staff_for_grid
from services.buttons import REPLY, WRITE


async def public_phone(session: AsyncSession, grid_id: int) -> tuple[str, str] | None:
    """(area name, phone) of the nearest area at or above the grid with a public phone."""
    grid = await session.get(Area, grid_id)
    if grid is None:
        return None
    for area in reversed(await lineage(session, grid)):
        if area.phone:
            return area.name, area.phone
    return None


async def phone_line(session: AsyncSession, grid_ids: list[int], tr: Translator) -> str:
    """ "📞 新华南路社区：0937-6221234" for the residents' areas, or nothing."""
    lines: list[str] = []
    for grid_id in dict.fromkeys(grid_ids):
        found = await public_phone(session, grid_id)
        if found is not None:
            line = "📞 " + tr(
                "Your community's phone ({area}): {phone}",
                area=html.escape(found[0]),
                phone=html.escape(found[1]),
            )
            if line not in lines:
                lines.append(line)
    return "\n".join(lines)


async def open_request(session: AsyncSession, resident: Resident) -> HelpRequest | None:
    """The person's household's newest request for help not answered in words yet."""
    query = (
        select(HelpRequest)
        .where(HelpRequest.resident_id == resident.id, HelpRequest.answer.is_(None))
        .order_by(HelpRequest.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def write_to_resident(
    session: AsyncSession,
    post: Staff,
    resident: Resident,
    text: str,
    now: datetime,
    request: HelpRequest | None = None,
) -> ContactMessage:
    """A worker's message to the person's household, from their community; an open request
    for help it answers is marked answered with it. The caller checked the worker's scope."""
    message = ContactMessage(
        resident_id=resident.id,
        grid_id=resident.grid_id,
        direction=TO_RESIDENT,
        staff_user_id=post.user_id,
        staff_name=post.name,
        user_id=resident.reporter_user_id,
        text=text,
        help_request_id=request.id if request else None,
        at=now,
    )
    session.add(message)
    await session.flush()
    if request is not None:
        request.status, request.answer = "answered", text
        request.answered_at, request.answered_by = now, post.user_id
    await audit(
        session,
        post.user_id,
        "message_resident",
        f"resident:{resident.id}",
        now,
        message=message.id,
    )
    user = await session.get(ChatUser, resident.reporter_user_id)
    if user is not None:
        tr = Translator(user.language)
        grid = await session.get(Area, resident.grid_id)
        community = await _community_name(session, grid)
        lines = [
            "💬 "
            + tr(
                "A message from your community ({area}), from {name}:",
                area=html.escape(community),
                name=html.escape(post.name or tr("your grid worker")),
            )
        ]
        if request is not None:
            lines[0] += " " + tr("(about your request no. {number})", number=request.id)
        if resident.user_id != resident.reporter_user_id and resident.name:
            lines.append(tr("About {name}.", name=html.escape(resident.name)))
        lines += [html.escape(text), "", tr("Press Reply to answer them.")]
        await enqueue(
            session,
            chat_id=user.chat_id,
            text="\n".join(lines),
            buttons=((REPLY.button(tr("↩️ Reply"), message.id),),),
            purpose="contact",
            dedupe_key=f"contact:{message.id}",
            now=now,
        )
    return message


async def _community_name(session: AsyncSession, grid: Area | None) -> str:
    if grid is None:
        return ""
    path = await lineage(session, grid)
    community = next((a for a in path if a.level == "community"), None)
    return (community or grid).name


async def message_to_me(
    session: AsyncSession, user_id: int, message_id: int
) -> ContactMessage | None:
    """A worker's message the user received (theirs to reply to); None for any other."""
    message = await session.get(ContactMessage, message_id)
    if message is None or message.direction != TO_RESIDENT or message.user_id != user_id:
        return None
    return message


async def reply_to_worker(
    session: AsyncSession, user_id: int, message: ContactMessage, text: str, now: datetime
) -> ContactMessage:
    """The resident's reply, kept with the person's record and sent to the worker who wrote
    (or, if they have left, to the grid's workers now)."""
    reply = ContactMessage(
        resident_id=message.resident_id,
        grid_id=message.grid_id,
        direction=FROM_RESIDENT,
        staff_user_id=message.staff_user_id,
        staff_name=message.staff_name,
        user_id=user_id,
        text=text,
        help_request_id=message.help_request_id,
        reply_to=message.id,
        at=now,
    )
    session.add(reply)
    await session.flush()
    await audit(
        session,
        user_id,
        "resident_reply",
        f"resident:{message.resident_id}",
        now,
        message=reply.id,
    )
    resident = await session.get(Resident, message.resident_id)
    grid = await session.get(Area, message.grid_id)
    workers: list[Staff] = []
    if message.staff_user_id is not None:
        workers = list(
            await session.scalars(
                select(Staff).where(
                    Staff.user_id == message.staff_user_id, Staff.revoked_at.is_(None)
                )
            )
        )[:1]
    if not workers and grid is not None:
        workers = await staff_for_grid(session, grid, "grid")
    for worker in workers:
        user = await session.get(ChatUser, worker.user_id)
        tr = Translator(user.language if user else None)
        name = resident.name if resident is not None and resident.name else "?"
        await enqueue(
            session,
            chat_id=worker.chat_id,
            text="↩️ "
            + tr(
                "{name} (#{number}) replied:",
                name=html.escape(name),
                number=message.resident_id,
            )
            + "\n"
            + html.escape(text),
            buttons=((WRITE.button(tr("💬 Write back"), message.resident_id),),),
            purpose="contact_reply",
            dedupe_key=f"contact-reply:{reply.id}:{worker.id}",
            now=now,
        )
    return reply
