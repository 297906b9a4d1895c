"""A user's place in the conversation during one event, as commands and the engine see it.

The application loads the step and answers before the event and stores what `save` recorded
in the same transaction as the data the event changed, so a restart or a second instance
goes on from the last answer.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic

from chat.contract import Reply
from chat.forms import PAUSED, Flows, T, ask


@dataclass(frozen=True)
class Saved:
    """Where the user is (None: no question open) and the answers so far, as of `save`."""

    step: str | None
    answers: dict[str, Any]


@dataclass
class Chat(Generic[T]):
    """One user's conversation during one event: what commands read and change."""

    turn: T
    flows: Flows[T]
    # The question open when the event came (None: none, or the conversation is paused).
    step: str | None = None
    # A command's arguments: what follows "/join", or the rest of a button's "/ack 12".
    args: str = ""
    # What to store once the event is handled (None: nothing changed).
    saved: Saved | None = None

    @property
    def asking(self) -> bool:
        """A question of a flow is open."""
        return self.step in self.flows

    async def begin(self, step: str, answers: dict[str, Any] | None = None) -> list[Reply]:
        """Ask `step`'s question, keeping (or replacing) the answers given so far."""
        if answers is not None:
            self.turn.answers = answers
        self.save(step)
        return await ask(self.turn, self.flows.step(step))

    def save(self, step: str | None) -> None:
        """Remember where the user is; None: no question open (answers are kept all the same).
        A copy: what changes the answers after this is not stored unless saved again."""
        self.step = step or PAUSED
        self.saved = Saved(step, copy.deepcopy(self.turn.answers))


Command = Callable[[Chat[T]], Awaitable[list[Reply]]]
