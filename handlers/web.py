"""/web: a worker's way into the dashboard without a password — a link that signs them in
once, within a few minutes, to a browser session that sees their areas as the bot does."""

from __future__ import annotations

from chat.contract import Reply, Send
from handlers.context import Chat
from handlers.staff import staff_only
from services.access import LINK_VALID, sign_in_link
from services.records import Scope

LOGIN_PATH = "/web/login"


@staff_only
async def web(chat: Chat, scope: Scope) -> list[Reply]:
    turn, tr = chat.turn, chat.turn.tr
    base = turn.facts.get("web_url")
    if not base:
        return [
            Send(tr("The dashboard is not set up here yet. Ask your administrator to set it up."))
        ]
    secret = await sign_in_link(turn.session, turn.user.id, turn.now)
    if secret is None:  # staff_only let them in: they are staff
        return []
    minutes = int(LINK_VALID.total_seconds() // 60)
    link = f"{base}{LOGIN_PATH}?token={secret}"
    return [
        Send(
            tr(
                "🖥 Your dashboard: {link}\n"
                "The link signs you in once, within {minutes} minutes; do not pass it on. "
                "Send /web again for a new one.",
                link=link,
                minutes=minutes,
            )
        )
    ]
