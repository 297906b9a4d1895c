"""What every step and command of the bot's conversations can see: the engine's `Turn` with
the unit of work's database session, the user writing, and the local rules in force."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from chat import forms, state
from models.chat import ChatUser
from rules.policy import Policy


@dataclass
class Turn(forms.Turn):
    session: AsyncSession = field(kw_only=True)
    user: ChatUser = field(kw_only=True)
    # The local rules that turn a report into a plan.
    policy: Policy = field(kw_only=True)
    # The bot's daily check-in times (CHECKIN_TIMES); a user may move theirs (/time).
    checkin_times: tuple[time, ...] = field(kw_only=True, default=(time(8, 0), time(20, 0)))
    # The bot's @username, for the links it gives out (None: not known).
    bot_username: str | None = field(kw_only=True, default=None)
    # Rows read for this turn and kept by it: the session's identity map holds its objects
    # weakly, so without a reference here a second `session.get` would read them again.
    kept: dict[object, object] = field(kw_only=True, default_factory=dict)


Chat = state.Chat[Turn]
Widget = forms.Widget[Turn]
Step = forms.Step[Turn]
Flow = forms.Flow[Turn]

__all__ = ["Chat", "Flow", "Step", "Turn", "Widget"]
