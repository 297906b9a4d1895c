"""Messages between a community's workers and one resident, both ways, kept with the person's
record: a worker answering a help request or writing about an alert, and the resident's
replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

TO_RESIDENT, FROM_RESIDENT = "to_resident", "from_resident"


class ContactMessage(Base):
    __tablename__ = "contact_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    # to_resident (a worker wrote) | from_resident (the resident replied)
    direction: Mapped[str] = mapped_column(String(16))
    # The worker who wrote, or whom the reply is for; and their name as shown.
    staff_user_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_name: Mapped[str] = mapped_column(String(64), default="")
    # The resident's side: the Telegram user who answers for the person.
    user_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    help_request_id: Mapped[int | None] = mapped_column(ForeignKey("help_requests.id"))
    reply_to: Mapped[int | None] = mapped_column(ForeignKey("contact_messages.id"))
    at: Mapped[datetime]


async def messages_of(
    session: AsyncSession, resident_id: int, last: int = 10
) -> list[ContactMessage]:
    """The newest messages with a person, oldest first."""
    query = (
        select(ContactMessage)
        .where(ContactMessage.resident_id == resident_id)
        .order_by(ContactMessage.at.desc(), ContactMessage.id.desc())
        .limit(last)
    )
    return list(reversed(list(await session.scalars(query))))
