"""Access from outside the chat: API tokens for a city platform, and the dashboard's
single-use sign-in links with the browser sessions they open.

Only a hash of each secret is stored (the secrets are 32 random bytes, so one SHA-256 is
enough): a copy of the database gives no one a way in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# What a token may read: the figures only (never a personal field), or the people too.
FIGURES, PEOPLE = "figures", "people"
SCOPES = (FIGURES, PEOPLE)


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, shown by `list` so an administrator can tell them apart.
    hint: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebLogin(Base):
    """A sign-in link a worker asked for with /web (single use, valid a few minutes), and the
    browser session it opened."""

    __tablename__ = "web_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    session_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    session_expires_at: Mapped[datetime | None]


async def token_by_secret(session: AsyncSession, secret: str) -> ApiToken | None:
    return await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
