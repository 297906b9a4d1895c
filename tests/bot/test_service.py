"""The service between the runners and the core: a user flooding the bot slows only
themself, is told once, and loses nothing; everyone else is answered on time."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Limits, Sender, Transient
from bot.outbox_worker import OutboxWorker
from bot.service import FLOOD_AT, Service
from chat.contract import Buttons, File, Keys
from handlers.app import Core
from models.outbox import PENDING, Outgoing

CONCURRENCY = 8  # the runners' default


@dataclass
class RecordingTransport:
    """Telegram as the service sees it: every message sent, to whom and when."""

    sent: list[tuple[int, str, float]] = field(default_factory=list)
    down: bool = False  # Telegram answering 500 to every call

    async def send_message(
        self, chat_id: int, text: str, buttons: Buttons, keyboard: Keys, remove_keyboard: bool
    ) -> int:
        if self.down:
            raise Transient("500: Internal Server Error")
        self.sent.append((chat_id, text, time.monotonic()))
        return len(self.sent)

    async def send_file(self, chat_id: int, file: File, caption: str, buttons: Buttons) -> int:
        return await self.send_message(chat_id, caption, buttons, (), False)

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, buttons: Buttons
    ) -> None:
        self.sent.append((chat_id, text, time.monotonic()))

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Buttons) -> None:
        pass

    async def answer_button(self, callback_id: str, text: str, alert: bool) -> None:
        pass

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
        pass

    async def close(self) -> None:
        pass

    def to(self, chat_id: int) -> list[tuple[str, float]]:
        return [(text, at) for chat, text, at in self.sent if chat == chat_id]


def message(update_id: int, user_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": user_id, "is_bot": False, "first_name": "Li", "language_code": "en"},
            "chat": {"id": user_id, "type": "private"},
            "date": 0,
            "text": text,
        },
    }


async def test_a_flood_from_one_user_delays_no_one_else_and_loses_nothing(core: Core) -> None:
    transport = RecordingTransport()
    # Telegram's per-chat limit scaled ×10 so the flood drains in seconds, not a minute.
    service = Service(core, Limits(per_chat_per_second=10))
    service.attach(transport)
    slots = asyncio.Semaphore(CONCURRENCY)  # what the runner's concurrency limit does

    async def runner(update: dict[str, object]) -> None:
        async with slots:
            await service.handle_update(update)

    flood = [asyncio.create_task(runner(message(i, 1, "/language"))) for i in range(1, 51)]
    await asyncio.sleep(0.05)
    asked = time.monotonic()
    await runner(message(1000, 2, "/help"))
    (answer,) = transport.to(2)
    await asyncio.gather(*flood)

    flooder = transport.to(1)
    assert answer[1] - asked < 1.0  # on time, while the flood was still being answered
    assert flooder[-1][1] > answer[1]
    notices = [text for text, _ in flooder if "faster than I can answer" in text]
    assert len(notices) == 1
    # Every one of the fifty got its answer: the language question, fifty times.
    assert sum("language" in text.lower() for text, _ in flooder) >= 50
    assert FLOOD_AT < 50


async def test_a_reply_telegram_cannot_take_goes_out_later_and_once(
    core: Core, sessions: async_sessionmaker[AsyncSession]
) -> None:
    transport = RecordingTransport(down=True)
    service = Service(core, Limits(attempts=2, backoff_seconds=0.01))
    service.attach(transport)
    await service.handle_update(message(1, 3, "/help"))
    assert transport.to(3) == []

    worker = OutboxWorker(sessions, Sender(transport, Limits(attempts=1)), core.clock)
    await worker.run_once()  # still down: the row stays, to be tried again
    async with sessions() as session:
        (late,) = await session.scalars(select(Outgoing))
        assert late.status == PENDING and late.attempts == 1 and "/start" in late.text
        late_id = late.id
    transport.down = False
    async with sessions.begin() as session:
        row = await session.get(Outgoing, late_id)
        assert row is not None
        row.due_at = core.clock.now()
    await worker.run_once()
    await worker.run_once()
    (answer,) = transport.to(3)
    assert "/start" in answer[0]
