"""Our own small message contract: an incoming event in, a list of replies out.

The runners translate aiogram's or python-telegram-bot's objects into `Incoming` and carry
out each `Reply`; nothing in handlers/ knows which library (or which Telegram) is behind it.
Texts are Telegram HTML: whatever a user typed is escaped before it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    CONTACT = "contact"
    # A sticker, photo, voice note, location…: something that is not an answer we can read.
    OTHER = "other"
    # The user edited a message they had sent earlier.
    EDITED = "edited"
    # A file sent as a document (a pushed list's workbook); elsewhere it is like OTHER.
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Document:
    """A file the user sent: its name and size as Telegram gives them, and its bytes once the
    runner has fetched them (only for the kinds of file the bot reads; None otherwise)."""

    file_id: str
    file_name: str = ""
    size: int = 0
    content: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Contact:
    phone_number: str
    user_id: int | None = None
    first_name: str = ""


@dataclass(frozen=True, slots=True)
class Incoming:
    user_id: int
    chat_id: int
    kind: Kind
    language: str | None = None
    first_name: str = ""
    text: str | None = None
    command: str | None = None
    args: str = ""
    button: str | None = None
    contact: Contact | None = None
    document: Document | None = None
    # For a button press: the bot message the button sat on (the one to edit in place).
    message_id: int | None = None
    # For a button press: the id Telegram wants answered (the runner does that).
    callback_id: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button; `data` comes back as `Incoming.button` when pressed."""

    text: str
    data: str


@dataclass(frozen=True, slots=True)
class KeyButton:
    """A reply-keyboard button; pressing it sends its text (or the user's phone)."""

    text: str
    request_contact: bool = False


Buttons = tuple[tuple[Button, ...], ...]
Keys = tuple[tuple[KeyButton, ...], ...]


@dataclass(frozen=True, slots=True)
class File:
    filename: str
    content: bytes = field(repr=False)
    kind: str = "document"  # or "photo"


@dataclass(frozen=True, slots=True)
class Send:
    """A new message, to the event's chat unless `chat_id` names another (a grid worker's)."""

    text: str
    buttons: Buttons = ()
    keyboard: Keys = ()
    remove_keyboard: bool = False
    file: File | None = None
    chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    """Change an earlier bot message in place (a button step's one live message)."""

    message_id: int
    text: str
    buttons: Buttons = ()
    chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class EditButtons:
    """Change only the buttons of an earlier bot message (none: take them away), e.g. an
    older copy of a question that a newer one replaces."""

    message_id: int
    buttons: Buttons = ()
    chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class Toast:
    """The short answer to a button press, shown over the chat."""

    text: str
    alert: bool = False


Reply = Send | Edit | EditButtons | Toast


def rows(*buttons: Button, width: int = 2) -> Buttons:
    """Lay buttons out `width` to a row."""
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


def compact(replies: list[Reply]) -> list[Reply]:
    """Fold a plain message into the next message to the same chat ("Thank you." + the next
    question): fewer messages to read, and fewer against Telegram's per-chat limit."""
    out: list[Reply] = []
    for reply in replies:
        previous = out[-1] if out else None
        if (
            isinstance(reply, Send)
            and isinstance(previous, Send)
            and previous.chat_id == reply.chat_id
            and not (previous.buttons or previous.keyboard or previous.file)
            and not previous.remove_keyboard
            and reply.file is None
        ):
            out[-1] = Send(
                f"{previous.text}\n\n{reply.text}",
                buttons=reply.buttons,
                keyboard=reply.keyboard,
                remove_keyboard=reply.remove_keyboard,
                chat_id=reply.chat_id,
            )
            continue
        out.append(reply)
    return out


# C0 control characters other than tab and newline: PostgreSQL refuses NUL in text and JSON
# ("unsupported Unicode escape sequence") and none of them means anything in an answer.
# Nor do the invisible ones that change how text reads: the bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069) and marks (U+200E, U+200F, U+061C),
# with which "Li Na" could be shown to a worker as a different order of letters, and the
# zero-width characters (U+200B-U+200D, U+2060, U+FEFF, U+180E) that make two equal-looking
# names differ.
_INVISIBLE = (
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *(0x200E, 0x200F, 0x061C),
    *range(0x200B, 0x200E),
    *(0x2060, 0xFEFF, 0x180E),
)
_CONTROL = (
    dict.fromkeys(c for c in range(32) if c not in (9, 10))
    | {0x7F: None}
    | dict.fromkeys(_INVISIBLE)
)


def cleaned(event: Incoming) -> Incoming:
    """The event with control and invisible direction or zero-width characters removed from
    everything the person typed."""

    def clean(value: str | None) -> str | None:
        return value.translate(_CONTROL) if value else value

    contact = event.contact
    if contact is not None:
        contact = replace(
            contact,
            phone_number=clean(contact.phone_number) or "",
            first_name=clean(contact.first_name) or "",
        )
    return replace(
        event,
        first_name=clean(event.first_name) or "",
        text=clean(event.text),
        command=clean(event.command),
        args=clean(event.args) or "",
        button=clean(event.button),
        contact=contact,
    )
