"""Each adult answers for themself: the reporter's /me (and the filed report) offers a
personal link for each adult companion with a phone; the link (`/start TOKEN`) makes her
check-ins her own (services/invites.py)."""

from __future__ import annotations

import html
from datetime import datetime

from chat.contract import Reply, Send
from handlers.context import Chat, Turn
from services.buttons import CHECKIN, INVITE
from services.checkins import ALL_WELL, ALL_WELL_ARG, SOMETHING_TO_REPORT
from services.checkins import PROMPT as CHECKIN_PROMPT
from services.invites import Refused, accept, invitable, invite


def show_time(moment: datetime, turn: Turn) -> str:
    return moment.astimezone(turn.zone).strftime("%Y-%m-%d %H:%M")


async def invite_offer(turn: Turn) -> list[Reply]:
    """For each adult companion with a phone the user still answers for: a button that makes
    her personal link (nothing when there is none)."""
    companions = await invitable(turn.session, turn.user.id)
    if not companions:
        return []
    buttons = tuple(
        (INVITE.button(turn.tr("📨 Invite {name}", name=c.name or "?")[:60], c.id),)
        for c in companions
    )
    return [
        Send(
            turn.tr(
                "Someone with their own phone can answer their own daily check-ins: "
                "invite them with a personal link. Until they open it, you answer for them; "
                "children stay with you."
            ),
            buttons=buttons,
        )
    ]


def invite_link(turn: Turn, token: str) -> str:
    if turn.bot_username:
        return f"https://t.me/{turn.bot_username}?start={token}"
    return f"/start {token}"


async def invite_companion(chat: Chat) -> list[Reply]:
    """The invite button: a new link for one companion, to forward to her or read out."""
    turn, tr = chat.turn, chat.turn.tr
    try:
        resident_id = int(chat.args.strip())
    except ValueError:
        resident_id = 0
    made = await invite(turn.session, turn.user.id, resident_id, turn.now)
    if made is None:
        return [
            Send(tr("There is nobody to invite there: they may answer for themselves already."))
        ]
    resident, invitation = made
    return [
        Send(
            tr(
                "Send this to {name} (forward it, or read the code out). "
                "It works once, until {until}:",
                name=html.escape(resident.name or ""),
                until=show_time(invitation.expires_at, turn),
            )
        ),
        Send(
            html.escape(invite_link(turn, invitation.token))
            + "\n"
            + html.escape(
                tr(
                    "Or, in Telegram, open this bot and send: /start {code}",
                    code=invitation.token,
                )
            )
        ),
    ]


async def accept_invitation(turn: Turn, token: str) -> list[Reply]:
    """Someone opened a companion's link (consented already)."""
    tr = turn.tr
    result = await accept(turn.session, token, turn.user.id, turn.now)
    if result is Refused.EXPIRED:
        return [
            Send(
                tr(
                    "This invitation has expired. Ask whoever reported for you to send a new one from /me."
                )
            )
        ]
    if result is Refused.OWN:
        return [
            Send(
                tr(
                    "This link is for the person you invited: send it to them, to open on their own phone."
                )
            )
        ]
    if isinstance(result, Refused):
        return [
            Send(
                tr(
                    "This invitation is not valid (any more). Ask whoever reported for you to send a new one from /me."
                )
            )
        ]
    text = tr(
        "Welcome, {name}! From now on you answer your own daily health check-ins here.",
        name=html.escape(result.resident.name or ""),
    )
    if not result.checkins:
        return [Send(text)]
    return [
        Send(
            text + "\n" + tr(CHECKIN_PROMPT),
            buttons=(
                (CHECKIN.button(tr(ALL_WELL), ALL_WELL_ARG),),
                (CHECKIN.button(tr(SOMETHING_TO_REPORT)),),
            ),
        )
    ]


__all__ = ["accept_invitation", "invite_companion", "invite_link", "invite_offer"]
