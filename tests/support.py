"""A chat as a person sees it, driven against the core with no Telegram library.

Bot messages get ids as Telegram would give them, edits change them in place, and the
person presses buttons by their label, the way a user would."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from chat.buttons import read_answer
from chat.contract import (
    Button,
    Contact,
    Edit,
    EditButtons,
    Incoming,
    Keys,
    Kind,
    Reply,
    Send,
    Toast,
)
from handlers.app import Core

_ids = count(1)


@dataclass
class Shown:
    """A bot message as it stands now."""

    message_id: int
    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    keyboard: Keys = ()
    remove_keyboard: bool = False
    edits: int = 0

    @property
    def labels(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]


@dataclass
class Person:
    core: Core
    user_id: int
    language: str = "zh-hans"
    first_name: str = ""
    shown: list[Shown] = field(default_factory=list)
    toasts: list[str] = field(default_factory=list)
    # Messages the bot sent to other chats (grid workers), by chat id.
    elsewhere: dict[int, list[Shown]] = field(default_factory=dict)
    # Everything the person did: each message typed, button pressed or contact shared.
    actions: int = 0

    @property
    def last(self) -> Shown:
        return self.shown[-1]

    def texts(self) -> list[str]:
        return [m.text for m in self.shown]

    async def send(self, text: str) -> list[Shown]:
        kind, command, args = Kind.TEXT, None, ""
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            kind, command = Kind.COMMAND, head.lower()
        return await self._event(kind, text=text, command=command, args=args.strip())

    async def press(self, label: str, *, on: Shown | None = None) -> list[Shown]:
        """Press the button whose label contains `label` on the newest message that has it."""
        candidates = [on] if on else reversed(self.shown)
        for message in candidates:
            for row in message.buttons:
                for button in row:
                    if label in button.text:
                        return await self.press_data(button.data, message.message_id)
        raise AssertionError(f"no button {label!r}; last buttons: {self.last.labels}")

    async def type_place(self, typed: str, pick: str = "") -> list[Shown]:
        """Type a place; where the bot offers several (or asks to confirm), press the one
        whose label contains `pick`. A place that fits one known place is taken at once."""
        shown = await self.send(typed)
        offered = [b for row in self.last.buttons for b in row if not b.text.startswith("✏️")]
        if pick and any(pick in b.text for b in offered) and "?" in self.last.text.split("\n")[-1]:
            return await self.press(pick)
        return shown

    async def press_data(self, data: str, message_id: int) -> list[Shown]:
        return await self._event(Kind.BUTTON, button=data, message_id=message_id, callback_id="cb")

    async def share_contact(self, phone_number: str) -> list[Shown]:
        contact = Contact(phone_number=phone_number, user_id=self.user_id)
        return await self._event(Kind.CONTACT, contact=contact)

    async def send_sticker(self) -> list[Shown]:
        return await self._event(Kind.OTHER)

    async def _event(self, kind: Kind, **fields: object) -> list[Shown]:
        self.actions += 1
        event = Incoming(
            user_id=self.user_id,
            chat_id=self.user_id,
            kind=kind,
            language=self.language,
            first_name=self.first_name,
            message_id=fields.pop("message_id", next(_ids)),  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )
        replies = await self.core.handle(event)
        new = self.apply(replies)
        # As the runner does: the newest question shown is remembered with its message id.
        questions = [
            m
            for m in new
            if m.chat_id == self.user_id
            and any(read_answer(b.data)[0] for row in m.buttons for b in row)
        ]
        if questions:
            await self.core.remember_live(self.user_id, questions[-1].message_id)
        return new

    def apply(self, replies: list[Reply]) -> list[Shown]:
        new: list[Shown] = []
        for reply in replies:
            if isinstance(reply, Toast):
                if reply.text:
                    self.toasts.append(reply.text)
                continue
            chat_id = reply.chat_id if reply.chat_id is not None else self.user_id
            if isinstance(reply, Edit):
                target = next(m for m in self._chat(chat_id) if m.message_id == reply.message_id)
                target.text, target.buttons = reply.text, reply.buttons
                target.edits += 1
                continue
            if isinstance(reply, EditButtons):
                target = next(m for m in self._chat(chat_id) if m.message_id == reply.message_id)
                target.buttons = reply.buttons
                continue
            assert isinstance(reply, Send)
            message = Shown(
                next(_ids),
                chat_id,
                reply.text,
                reply.buttons,
                reply.keyboard,
                reply.remove_keyboard,
            )
            self._chat(chat_id).append(message)
            new.append(message)
        return new

    def _chat(self, chat_id: int) -> list[Shown]:
        return self.shown if chat_id == self.user_id else self.elsewhere.setdefault(chat_id, [])
