"""Telegram updates (as Bot API JSON, which both libraries can give) into our Incoming."""

from __future__ import annotations

from typing import Any

from chat.contract import Contact, Document, Incoming, Kind


def incoming_from_update(update: dict[str, Any]) -> Incoming | None:
    """The event a handler sees, or None for updates the bot does not act on (groups, polls…)."""
    if "callback_query" in update:
        query = update["callback_query"]
        message = query.get("message") or {}
        chat = message.get("chat") or {}
        user = query["from"]
        if chat.get("type", "private") != "private":
            return None
        return Incoming(
            user_id=int(user["id"]),
            chat_id=int(chat.get("id", user["id"])),
            kind=Kind.BUTTON,
            language=user.get("language_code"),
            first_name=user.get("first_name", ""),
            button=str(query.get("data") or ""),
            message_id=message.get("message_id"),
            callback_id=str(query["id"]),
        )
    edited = "edited_message" in update
    message = update.get("message") or update.get("edited_message")
    if not message or "from" not in message:
        return None
    chat, user = message["chat"], message["from"]
    if chat.get("type") != "private" or user.get("is_bot"):
        return None
    base: dict[str, Any] = {
        "user_id": int(user["id"]),
        "chat_id": int(chat["id"]),
        "language": user.get("language_code"),
        "first_name": user.get("first_name", ""),
        "message_id": message.get("message_id"),
    }
    text = message.get("text")
    if edited:
        return Incoming(kind=Kind.EDITED, text=text, **base)
    if "contact" in message:
        contact = message["contact"]
        return Incoming(
            kind=Kind.CONTACT,
            contact=Contact(
                phone_number=str(contact.get("phone_number", "")),
                user_id=contact.get("user_id"),
                first_name=contact.get("first_name", ""),
            ),
            **base,
        )
    if "document" in message:
        document = message["document"] or {}
        return Incoming(
            kind=Kind.DOCUMENT,
            text=message.get("caption"),
            document=Document(
                file_id=str(document.get("file_id", "")),
                file_name=str(document.get("file_name") or ""),
                size=int(document.get("file_size") or 0),
            ),
            **base,
        )
    if text is None:
        return Incoming(kind=Kind.OTHER, **base)
    command = _command(text, message.get("entities") or [])
    if command is not None:
        name, args = command
        return Incoming(kind=Kind.COMMAND, text=text, command=name, args=args, **base)
    return Incoming(kind=Kind.TEXT, text=text, **base)


def _command(text: str, entities: list[dict[str, Any]]) -> tuple[str, str] | None:
    starts_command = any(e.get("type") == "bot_command" and e.get("offset") == 0 for e in entities)
    if not starts_command and not (text.startswith("/") and len(text) > 1 and text[1].isalpha()):
        return None
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return name, args.strip()
