"""Scenario 2, answers coming in: a crowd presses the last button of their check-in at once.

Each person is at the check-in's last question ("did you go out today?") with the prompt in
their chat; all press "Stayed home" before the bot starts, so the updates are queued at once.
The bot then runs as it does in production (the runner polling the emulator, the Service,
the core with one transaction per update, the scheduler and outbox worker beside it) until
every update is handled: the check-in recorded, the button answered, the question edited to
show the answer and "Recorded, thank you." sent — three Bot API calls per update.

Beside it, on the same emulator in the same run, a bare aiogram bot (no database) that only
answers the button, and one that makes our three calls: the ratio of ours to the latter is
how much of the framework's own speed our work keeps (aim ≥ 0.5 on PostgreSQL, issue 21);
the ratio to the former is shown too. The emulator's limits are
off: this measures the bot, not Telegram. No "database is locked" may appear, ever.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from sqlalchemy import func, select

from bench import people
from bench.common import TOKEN, Databases, Emulator, Figure, database_name, engine_for
from bot import aiogram_runner, ptb_runner
from bot.delivery import Limits
from bot.service import Service
from bot.settings import load_settings
from chat.clock import SystemClock
from handlers.app import Core
from models.checkins import CheckIn
from models.db import make_sessions
from rules.policy import load_policy
from services.checkins import slots_of
from services.options import Options

ALLOWED = ["message", "edited_message", "callback_query"]
# The short version's crowd. 300 were handled in about a second on a fast machine: what a bot
# does once (its pool's connections opened, each statement prepared on each of them) weighed
# as much as the answers, and the ratio of one run to the next moved by half.
SHORT = 1_000


class LogCounter(logging.Handler):
    """Counts what the bot logged at WARNING and above, and any "database is locked"."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.problems = 0
        self.locked = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]}"
        if "database is locked" in text:
            self.locked += 1
        if record.levelno >= logging.ERROR:
            self.problems += 1
            self.first = self.first or text[:300]


class Progress:
    """When the first update came in and when the last one was done, and the CPU this process
    spent between them (the bot's: the emulator and PostgreSQL run in processes of their own)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.first: float | None = None
        self.last = 0.0
        self.cpu_first = 0.0
        self.cpu_last = 0.0
        self.done = 0
        self.finished = asyncio.Event()

    def started(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()
            self.cpu_first = time.process_time()

    def ended(self) -> None:
        self.done += 1
        self.last = time.perf_counter()
        self.cpu_last = time.process_time()
        if self.done >= self.expected:
            self.finished.set()

    @property
    def cpu_ms(self) -> float:
        """The bot's CPU per update, in ms. Where the emulator cannot keep up with the bare
        bot (a slow machine), the rates' ratio is squeezed towards 1 and this tells more."""
        return (self.cpu_last - self.cpu_first) * 1000 / self.done if self.done else 0.0

    @property
    def per_second(self) -> float:
        if self.first is None or self.done == 0 or self.last <= self.first:
            return 0.0
        return self.done / (self.last - self.first)


# The Sender keeps Telegram's 30 messages/s for replies too: with two messages per update that
# alone would hold the bot to 15 updates/s. Like the emulator's, its limits are off here.
NO_LIMITS = Limits(overall_per_second=1e9, per_chat_per_second=1e9, per_chat_burst=1_000_000)


class TimedService(Service):
    """The service, its updates held until the scheduler's first runs are over: every job
    comes due at the start (a round, reminders, reports, …), and in the 300 answers the short
    version had then, that start-up work was a fifth of the time measured. A crowd pressing at
    once meets a bot that has been running; the bare bots have no jobs to run."""

    def __init__(self, core: Core, progress: Progress) -> None:
        super().__init__(core, NO_LIMITS)
        self.progress = progress
        self.warm = asyncio.Event()

    def start_background(self) -> None:
        super().start_background()
        assert self._scheduler is not None
        started_up = self._scheduler.started_up

        async def warmed() -> None:
            await started_up.wait()
            self.warm.set()

        self._warming = asyncio.create_task(warmed())

    async def handle_update(self, update: dict[str, Any]) -> None:
        await self.warm.wait()
        self.progress.started()
        try:
            await super().handle_update(update)
        finally:
            self.progress.ended()


async def prepare_chats(emulator: Emulator, users: list[int]) -> None:
    """Fresh chats, each with the check-in's last question from the bot, and every user
    pressing "Stayed home" on it: the updates wait in the emulator's queue."""
    await emulator.client.reset()
    await emulator.limit(None)
    await emulator.create_users(users)
    markup = json.dumps(
        {"inline_keyboard": [[{"text": "Stayed home", "callback_data": people.STAYED_HOME}]]}
    )
    pending = iter(users)

    async def worker(http: aiohttp.ClientSession) -> None:
        for user in pending:
            async with http.post(
                f"{emulator.url}/bot{TOKEN}/sendMessage",
                json={
                    "chat_id": user,
                    "text": "Did you go out today?",
                    "reply_markup": markup,
                },
            ) as response:
                message = (await response.json())["result"]
            await emulator.client.press(user, message["message_id"], data=people.STAYED_HOME)

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(worker(http) for _ in range(32)))


async def bare_aiogram(
    emulator: Emulator, users: list[int], *, like_ours: bool = False
) -> Progress:
    """A bot of a few lines on aiogram's defaults: it answers the button, and `like_ours` also
    edits the question and sends "Recorded" as ours does (the same three calls, no database)."""
    await prepare_chats(emulator, users)
    progress = Progress(len(users))
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.url)))
    dispatcher = Dispatcher()

    @dispatcher.callback_query()
    async def answer(query: CallbackQuery) -> None:
        progress.started()
        try:
            await query.answer()
            if like_ours and isinstance(query.message, Message):
                await query.message.edit_text("Did you go out today?\n\n✅ Stayed home")
                await query.message.answer("Recorded, thank you.")
        finally:
            progress.ended()

    async def poll() -> None:
        await dispatcher.start_polling(bot, handle_signals=False, allowed_updates=ALLOWED)

    task = asyncio.create_task(poll())
    try:
        await asyncio.wait_for(progress.finished.wait(), timeout=600)
    finally:
        await dispatcher.stop_polling()
        await asyncio.gather(task, return_exceptions=True)
        await bot.session.close()
    return progress


async def our_bot(
    emulator: Emulator, users: list[int], url: str, framework: str
) -> tuple[Progress, int]:
    """Our bot on `framework` until every update is handled; returns the progress and how
    many check-ins the database has answered."""
    settings = load_settings(
        bot_token=TOKEN,
        bot_api_url=emulator.url,
        database_url=url,
        bot_framework=framework,
        webhook_url=None,
        webhook_secret=None,
    )
    now = datetime.now(UTC)
    today = now.astimezone(settings.zone).date()
    # The check-ins being answered are those of the slot open now (CHECKIN_TIMES), already
    # reminded: the scheduler running beside the bot then has no round or reminders to add.
    current = [
        (start, end)
        for start, end in slots_of(today, settings.checkin_slots, settings.zone)
        if start <= now < end
    ]
    slot = current[0] if current else (now - timedelta(minutes=5), now + timedelta(hours=3))
    await people.seed(url, len(users), today, now, open_at=slot)
    await prepare_chats(emulator, users)
    progress = Progress(len(users))
    async with engine_for(url) as engine:
        options = Options(
            zone=settings.zone,
            retention_days=settings.retention_days,
            policy=load_policy(settings.policy),
            checkin_times=settings.checkin_slots,
            reminder_after=timedelta(minutes=settings.reminder_after_minutes),
        )
        service = TimedService(Core(make_sessions(engine), SystemClock(), options), progress)
        if framework == "aiogram":
            bot = aiogram_runner.make_bot(settings)
            service.attach(aiogram_runner.AiogramTransport(bot))
            dispatcher = aiogram_runner.make_dispatcher(service)
            task = asyncio.create_task(
                dispatcher.start_polling(
                    bot,
                    handle_signals=False,
                    tasks_concurrency_limit=settings.concurrency,
                    allowed_updates=ALLOWED,
                )
            )
            try:
                await asyncio.wait_for(progress.finished.wait(), timeout=1200)
            finally:
                await dispatcher.stop_polling()
                await asyncio.gather(task, return_exceptions=True)
        else:
            application = ptb_runner.make_application(settings, service, polling=True)
            service.attach(ptb_runner.PtbTransport(application.bot))
            async with application:
                await service.started()
                await application.start()
                updater = application.updater
                assert updater is not None
                await updater.start_polling(allowed_updates=ALLOWED, drop_pending_updates=False)
                try:
                    await asyncio.wait_for(progress.finished.wait(), timeout=1200)
                finally:
                    await updater.stop()
                    await application.stop()
                    await service.drain()
        async with make_sessions(engine)() as session:
            answered = await session.scalar(
                select(func.count()).select_from(CheckIn).where(CheckIn.answered_at.is_not(None))
            )
    return progress, answered or 0


async def measure(
    count: int, emulator: Emulator, databases: Databases, kinds: list[str], frameworks: list[str]
) -> list[Figure]:
    """One run: the bare bot, then ours on each database and framework, on one emulator."""
    users = people.user_ids(count)
    bare = await bare_aiogram(emulator, users)
    same_calls = await bare_aiogram(emulator, users, like_ours=True)
    figures = [
        Figure(
            "answers.bare",
            f"answers ({count:,}): bare aiogram bot (answers the button), updates/s",
            bare.per_second,
            "/s",
        ),
        Figure(
            "answers.bare3",
            f"answers ({count:,}): bare aiogram bot making our three calls, updates/s",
            same_calls.per_second,
            "/s",
        ),
        Figure(
            "answers.bare3.cpu",
            f"answers ({count:,}): bare aiogram bot making our three calls, CPU per update",
            same_calls.cpu_ms,
            "ms",
            digits=2,
        ),
    ]
    log = LogCounter()
    root = logging.getLogger()
    root.addHandler(log)
    try:
        for kind in kinds:
            for framework in frameworks:
                url = await databases.fresh(kind)
                db = database_name(url)
                progress, answered = await our_bot(emulator, users, url, framework)
                tag = f"{framework}, {db}"
                # The aim (issue 21): against the bare bot making the same Bot API calls.
                ratio = (
                    progress.per_second / same_calls.per_second if same_calls.per_second else 0.0
                )
                ratio1 = progress.per_second / bare.per_second if bare.per_second else 0.0
                held = db == "PostgreSQL"
                figures += [
                    Figure(
                        f"answers.rate.{framework}.{db}",
                        f"answers ({count:,}, {tag}): updates/s",
                        progress.per_second,
                        "/s",
                    ),
                    Figure(
                        f"answers.ratio1.{framework}.{db}",
                        f"answers ({count:,}, {tag}): ÷ bare aiogram answering the button",
                        ratio1,
                        digits=2,
                    ),
                    Figure(
                        f"answers.ratio.{framework}.{db}",
                        f"answers ({count:,}, {tag}): ÷ bare aiogram making our three calls",
                        ratio,
                        aim="≥ 0.5" if held else "(≥ 0.5 on PostgreSQL)",
                        meets=(lambda v: v >= 0.5) if held else None,
                        digits=2,
                    ),
                    Figure(
                        f"answers.cpu.{framework}.{db}",
                        f"answers ({count:,}, {tag}): CPU per update (the bot's process)",
                        progress.cpu_ms,
                        "ms",
                        digits=2,
                    ),
                    Figure(
                        f"answers.cpuratio.{framework}.{db}",
                        f"answers ({count:,}, {tag}): bare bot's CPU per update ÷ ours",
                        same_calls.cpu_ms / progress.cpu_ms if progress.cpu_ms else 0.0,
                        digits=2,
                    ),
                    Figure(
                        f"answers.recorded.{framework}.{db}",
                        f"answers ({count:,}, {tag}): check-ins recorded",
                        answered,
                        aim=f"= {count:,}",
                        meets=lambda v: v == count,
                    ),
                ]
    finally:
        root.removeHandler(log)
    figures += [
        Figure(
            "answers.locked",
            f"answers ({count:,}): 'database is locked' logged",
            log.locked,
            aim="0, ever",
            meets=lambda v: v == 0,
        ),
        Figure(
            "answers.errors",
            f"answers ({count:,}): errors logged",
            log.problems,
            aim="0",
            meets=lambda v: v == 0,
        ),
    ]
    if log.first:
        logging.getLogger(__name__).warning("first error logged: %s", log.first)
    return figures
