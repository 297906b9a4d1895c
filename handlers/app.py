"""The core both runners call: one event in, the replies out, in one unit of work.

Reads top to bottom as an update meets it: who is writing, what they are being asked,
then a command or the answer to the current question.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import Clock
from chat.contract import Incoming, Kind, Reply, Send, Toast, cleaned, compact
from chat.i18n import Translator, language_from_telegram
from handlers.chat import Chat
from handlers.commands import COMMANDS, idle, unknown_command
from handlers.forms import DEFAULT_POLICY, STEPS, Turn, answer
from models.chat import ChatUser, conversation_for_update
from rules.policy import Policy, load_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    """What handlers need to know of the settings."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    retention_days: int = 30
    policy: Policy = field(default_factory=lambda: load_policy(DEFAULT_POLICY))
    checkin_times: tuple[time, ...] = (time(8, 0), time(20, 0))
    reminder_after: timedelta = timedelta(hours=2)
    # An unacknowledged alert is sent again after this, and goes up a level after that
    # (both counted from when it reached its current level); the daily report's time.
    alert_resend_after: timedelta = timedelta(hours=2)
    alert_escalate_after: timedelta = timedelta(hours=6)
    daily_report_at: time = time(20, 0)

    def facts(self) -> dict[str, Any]:
        return {"retention_days": self.retention_days}


class Core:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        options: Options | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.options = options or Options()

    async def handle(self, event: Incoming) -> list[Reply]:
        event = cleaned(event)
        try:
            async with self.sessions() as session, session.begin():
                return compact(await self._handle(session, event))
        except (OperationalError, DBAPIError, OSError) as exc:
            log.error("storage unavailable for an update of user %s: %s", event.user_id, exc)
            tr = Translator(language_from_telegram(event.language))
            return [
                Send(tr("Sorry, we cannot save answers right now. Please try again in a minute."))
            ]
        except Exception:
            log.exception("failed to handle an update of user %s", event.user_id)
            tr = Translator(language_from_telegram(event.language))
            return [
                Send(
                    tr(
                        "Sorry, something went wrong on our side. "
                        "What you answered before is safe; please try again."
                    )
                )
            ]

    async def _handle(self, session: AsyncSession, event: Incoming) -> list[Reply]:
        now = self.clock.now()
        user = await session.get(ChatUser, event.user_id)
        if user is None:
            user = ChatUser(
                id=event.user_id, chat_id=event.chat_id, created_at=now, last_seen_at=now
            )
            session.add(user)
        user.chat_id = event.chat_id
        user.last_seen_at = now
        conversation = await conversation_for_update(session, user.id)
        turn = Turn(
            event=event,
            tr=Translator(user.language or language_from_telegram(event.language)),
            # A deep copy: nested answers are changed in place, and the stored value must not be.
            answers=copy.deepcopy(conversation.answers) if conversation else {},
            now=now,
            zone=self.options.zone,
            session=session,
            user=user,
            facts=self.options.facts(),
            policy=self.options.policy,
        )
        chat = Chat(turn, conversation, args=event.args)
        if event.kind is Kind.COMMAND:
            command = COMMANDS.get(event.command or "", unknown_command)
            return await command(chat)
        if event.kind is Kind.BUTTON and (event.button or "").startswith("/"):
            # A button in a bot-initiated message ("I have arrived") works like its command.
            name, _, chat.args = (event.button or "")[1:].partition(" ")
            if name in COMMANDS:
                return [Toast(""), *await COMMANDS[name](chat)]
        if chat.step in STEPS:
            flow, step = STEPS[chat.step]
            advance = await answer(turn, flow, step)
            chat.save(advance.step)
            return advance.replies
        return await idle(chat)
