"""Who may read through the API and the dashboard: API tokens (made, listed and revoked by an
administrator; each for one area and one scope) and the dashboard's sign-in links (a worker
asks for one with /web; it works once, for a few minutes, and opens a browser session scoped
to that worker's areas like the bot)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.access import (
    SCOPES,
    ApiToken,
    WebLogin,
    digest,
    new_secret,
    token_by_secret,
)
from models.areas import Area, area_by_code
from models.staff import active_staff
from services.records import Scope, scope_of

TOKEN_PREFIX = "rtk"
LINK_PREFIX = "rtl"
SESSION_PREFIX = "rts"
# A sign-in link is good for this long, once; the session it opens for this long.
LINK_VALID = timedelta(minutes=10)
SESSION_VALID = timedelta(hours=12)
MAX_EXPIRY = timedelta(days=3650)


class AccessProblem(Exception):
    """An administrator's request that cannot be carried out (said in one line)."""


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m` or `2w` as a time span."""
    found = re.fullmatch(r"\s*(\d{1,5})\s*([mhdw])\s*", text.lower())
    if not found:
        raise AccessProblem(f"expiry {text!r}: write it as a number and m, h, d or w (e.g. 90d)")
    n, unit = int(found[1]), found[2]
    span = {
        "m": timedelta(minutes=n),
        "h": timedelta(hours=n),
        "d": timedelta(days=n),
        "w": timedelta(weeks=n),
    }[unit]
    if not timedelta(0) < span <= MAX_EXPIRY:
        raise AccessProblem(f"expiry {text!r}: between 1 minute and 10 years")
    return span


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    area: Area
    secret: str


async def create_token(
    session: AsyncSession,
    *,
    area_code: str,
    scope: str,
    expires: timedelta,
    now: datetime,
    label: str = "",
) -> IssuedToken:
    """A new token; its secret is returned here and never again (only its hash is kept)."""
    if scope not in SCOPES:
        raise AccessProblem(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    area = await area_by_code(session, area_code)
    if area is None:
        raise AccessProblem(f"area {area_code} is not known (import the areas first)")
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(
        token_hash=digest(secret),
        hint=secret[: len(TOKEN_PREFIX) + 7],
        area_id=area.id,
        scope=scope,
        label=label[:100],
        created_at=now,
        expires_at=now + expires,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token, area, secret)


async def list_tokens(session: AsyncSession) -> list[tuple[ApiToken, Area]]:
    query = select(ApiToken, Area).join(Area, Area.id == ApiToken.area_id).order_by(ApiToken.id)
    return [(token, area) for token, area in (await session.execute(query)).all()]


async def revoke_token(session: AsyncSession, token_id: int, now: datetime) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise AccessProblem(f"no API token #{token_id}")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def token_state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    return "active"


async def authenticate(
    session: AsyncSession, secret: str, now: datetime
) -> tuple[ApiToken, Area] | None:
    """The token and its area, if the secret names an active one (else None)."""
    token = await token_by_secret(session, secret)
    if token is None or token_state(token, now) != "active":
        return None
    area = await session.get(Area, token.area_id)
    if area is None:
        return None
    token.last_used_at = now
    return token, area


# ----- the dashboard's sign-in -----


async def sign_in_link(session: AsyncSession, user_id: int, now: datetime) -> str | None:
    """A single-use sign-in secret for an active worker (None for anyone else)."""
    if not await active_staff(session, user_id):
        return None
    secret = new_secret(LINK_PREFIX)
    session.add(
        WebLogin(
            user_id=user_id,
            link_hash=digest(secret),
            link_expires_at=now + LINK_VALID,
            created_at=now,
        )
    )
    return secret


async def redeem_link(session: AsyncSession, secret: str, now: datetime) -> str | None:
    """The link's browser session secret, once: used, expired or unknown links give None."""
    login = await session.scalar(
        select(WebLogin).where(WebLogin.link_hash == digest(secret)).with_for_update()
    )
    if login is None or login.used_at is not None or login.link_expires_at <= now:
        return None
    if not await active_staff(session, login.user_id):
        return None
    session_secret = new_secret(SESSION_PREFIX)
    login.used_at = now
    login.session_hash = digest(session_secret)
    login.session_expires_at = now + SESSION_VALID
    return session_secret


async def web_scope(session: AsyncSession, secret: str, now: datetime) -> Scope | None:
    """The worker's scope for a browser session, while it lasts and they are still staff."""
    login = await session.scalar(select(WebLogin).where(WebLogin.session_hash == digest(secret)))
    if login is None or login.session_expires_at is None or login.session_expires_at <= now:
        return None
    return await scope_of(session, login.user_id)
