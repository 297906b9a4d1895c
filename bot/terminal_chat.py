"""`returnee chat`: talk to the bot in the emulator from a terminal, as one simulated user.

Type a message and press Enter. Buttons are numbered: `#2` presses the second button of the
newest message that has buttons. `!phone 13812345678` shares a contact, `!sticker` sends one.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys

import click

from emulator import ChatMessage, EmulatorClient

TAG = re.compile(r"<[^>]+>")


def plain(text: str | None) -> str:
    return html.unescape(TAG.sub("", text or ""))


def buttons_of(message: ChatMessage) -> list[tuple[str, str | None]]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [(b["text"], b.get("callback_data")) for row in rows for b in row]


def _asks_contact(message: ChatMessage, label: str) -> bool:
    markup = message.get("reply_markup") or {}
    return any(
        b.get("request_contact") and b["text"] == label
        for row in markup.get("keyboard") or []
        for b in row
    )


def render(message: ChatMessage) -> str:
    lines = [
        ("✎ " if message["edited"] else "") + "🤖 " + plain(message["text"] or message["caption"])
    ]
    for number, (label, _data) in enumerate(buttons_of(message), 1):
        lines.append(f"   [{number}] {label}")
    document = message.get("document")
    if document:
        lines.append(f"   📎 {document.get('file_name')}")
    return "\n".join(lines)


async def chat(base_url: str, user_id: int, language: str) -> None:
    async with EmulatorClient(base_url) as emulator:
        shown: dict[int, int] = {}
        latest: list[ChatMessage] = []

        async def show_new() -> None:
            nonlocal latest
            messages = [m for m in await emulator.messages(user_id) if m["from_bot"]]
            latest = messages
            for message in messages:
                if shown.get(message["message_id"]) != message["edit_count"]:
                    shown[message["message_id"]] = message["edit_count"]
                    click.echo(render(message))

        async def watch() -> None:
            while True:
                await show_new()
                await asyncio.sleep(0.3)

        watcher = asyncio.create_task(watch())
        click.echo(f"You are user {user_id}. Type /start. #N presses button N; Ctrl-D quits.")
        loop = asyncio.get_running_loop()
        try:
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    await asyncio.sleep(2)  # show the answer to the last line before leaving
                    await show_new()
                    break
                text = line.strip()
                if not text:
                    continue
                if text.startswith("#") and text[1:].isdigit():
                    await show_new()
                    with_buttons = [m for m in latest if buttons_of(m)]
                    if not with_buttons:
                        click.echo("(no buttons on screen)")
                        continue
                    message = with_buttons[-1]
                    choices = buttons_of(message)
                    index = int(text[1:]) - 1
                    if not 0 <= index < len(choices):
                        click.echo(f"(choose 1 to {len(choices)})")
                        continue
                    label, data = choices[index]
                    if data is None and _asks_contact(message, label):
                        await emulator.contact(user_id, f"+86138{user_id % 100_000_000:08d}")
                    elif data is None:
                        await emulator.send(user_id, label, language_code=language)
                    else:
                        await emulator.press(user_id, message["message_id"], data=data)
                elif text.startswith("!phone "):
                    await emulator.contact(user_id, text.split(" ", 1)[1])
                elif text == "!sticker":
                    await emulator.other(user_id, "sticker")
                else:
                    await emulator.send(user_id, text, language_code=language)
        finally:
            watcher.cancel()
