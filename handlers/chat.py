"""A user's place in the conversation, as commands and the engine see it."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chat.contract import Reply
from handlers.forms import PAUSED, STEPS, Turn, ask
from models.chat import Conversation


@dataclass
class Chat:
    """One user's conversation during one event: what commands read and change."""

    turn: Turn
    conversation: Conversation | None
    # A command's arguments: what follows "/join", or the rest of a button's "/ack 12".
    args: str = ""

    @property
    def step(self) -> str | None:
        return self.conversation.step if self.conversation else None

    async def begin(self, step: str, answers: dict[str, Any] | None = None) -> list[Reply]:
        """Ask `step`'s question, keeping (or replacing) the answers given so far."""
        if answers is not None:
            self.turn.answers = answers
        self.save(step)
        return await ask(self.turn, STEPS[step][1])

    def save(self, step: str | None) -> None:
        """Remember where the user is; None: no question open (answers are kept all the same)."""
        turn = self.turn
        if self.conversation is None:
            if step is None and not turn.answers:
                return
            self.conversation = Conversation(
                user_id=turn.user.id, step=PAUSED, answers={}, updated_at=turn.now
            )
            turn.session.add(self.conversation)
        self.conversation.step = step or PAUSED
        # A new object, so the JSON column sees the change.
        self.conversation.answers = copy.deepcopy(turn.answers)
        self.conversation.updated_at = turn.now


Command = Callable[[Chat], Awaitable[list[Reply]]]
