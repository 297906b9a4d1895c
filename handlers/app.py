"""The core both runners call: one event in, the replies out, in one unit of work.

Reads top to bottom as an update meets it: who is writing, what they are being asked,
then a command or the answer to the current question. The flows and commands it runs are
registered here, explicitly (FLOWS, COMMANDS); the conversation's state is stored in the same
transaction as the data the event changed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chat.buttons import read_answer, read_command
from chat.clock import Clock
from chat.contract import Edit, EditButtons, Incoming, Kind, Reply, Send, Toast, cleaned, compact
from chat.forms import PAUSED, Flows, answer
from chat.i18n import Translator, language_from_telegram
from chat.state import Chat, Command
from handlers.checkin import CHECKIN, OWN_TIMES
from handlers.commands import COMMANDS, idle, unknown_command
from handlers.contact import REPLY_FLOW, WRITE_FLOW
from handlers.context import Flow, Turn
from handlers.pushed import PUSHED_NOTE, TRANSFER_FLOW
from handlers.pushed import document as pushed_document
from handlers.report import COMPANION, PLACE_VISITED, REPORT
from handlers.resident import ARRIVED, EDIT, FORGET, HELP
from handlers.staff import ACTION_NOTE
from handlers.welcome import LANGUAGE, WELCOME
from models.chat import ChatUser, Talk, save_talk, set_live_message, take_update
from models.db import ERASED, is_sqlite, scrub_files
from services.options import Options

log = logging.getLogger(__name__)
# When the user was last seen, to this precision: a conversation's taps in a row write it
# once, not one more statement each.
SEEN_EVERY = timedelta(minutes=10)

# Every conversation the bot holds.
FLOWS: tuple[Flow, ...] = (
    WELCOME,
    LANGUAGE,
    REPORT,
    PLACE_VISITED,
    COMPANION,
    EDIT,
    ARRIVED,
    HELP,
    FORGET,
    CHECKIN,
    OWN_TIMES,
    ACTION_NOTE,
    WRITE_FLOW,
    REPLY_FLOW,
    PUSHED_NOTE,
    TRANSFER_FLOW,
)


class Core:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        options: Options | None = None,
        *,
        flows: tuple[Flow, ...] = FLOWS,
        commands: dict[str, Command[Turn]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.options = options or Options()
        self.flows = Flows(flows)
        self.commands = COMMANDS if commands is None else commands

    async def handle(self, event: Incoming, update_id: int | None = None) -> list[Reply]:
        """The replies to `event`. With Telegram's `update_id`, an update handled before (a
        webhook re-post, a second poller) changes nothing and gets no reply: the id is stored
        in the same transaction as what the update changed."""
        event = cleaned(event)
        try:
            try:
                return await self._handle_once(event, update_id)
            except IntegrityError:
                # Another instance took the same new user's first update at the same moment
                # and wrote their row first (a statement cannot wait for a row that does not
                # exist yet): this update's transaction was rolled back whole, and once more
                # it finds the user and waits for them like any other.
                log.info("a new user's row was written meanwhile; the update is taken again")
                return await self._handle_once(event, update_id)
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

    async def _handle_once(self, event: Incoming, update_id: int | None) -> list[Reply]:
        async with self.sessions() as session:
            async with session.begin():
                first, user, conversation = await take_update(
                    session, event.user_id, update_id, self.clock.now()
                )
                if not first:
                    log.info("update %s was handled before: nothing to do", update_id)
                    return []
                replies = compact(await self._handle(session, event, user, conversation))
            if session.info.pop(ERASED, False):
                await self._scrub()
            return replies

    async def _scrub(self) -> None:
        """After /forget: on SQLite the erased rows' old copies leave the files at once
        (PostgreSQL vacuums on the scheduler's time, bot/scheduler.py)."""
        engine = self.sessions.kw.get("bind")
        if isinstance(engine, AsyncEngine) and is_sqlite(engine):
            try:
                await scrub_files(engine)
            except (OperationalError, DBAPIError, OSError) as exc:
                # Erased all the same; the scheduler's hourly scrub takes the copies out.
                log.warning("could not empty the write-ahead log after an erasure: %s", exc)

    async def _handle(
        self,
        session: AsyncSession,
        event: Incoming,
        user: ChatUser | None,
        talk: Talk | None,
    ) -> list[Reply]:
        now = self.clock.now()
        if user is None:
            user = ChatUser(
                id=event.user_id, chat_id=event.chat_id, created_at=now, last_seen_at=now
            )
            session.add(user)
        if user.chat_id != event.chat_id:
            user.chat_id = event.chat_id
        if now - user.last_seen_at >= SEEN_EVERY or now < user.last_seen_at:
            user.last_seen_at = now
        turn = Turn(
            event=event,
            tr=Translator(user.language or language_from_telegram(event.language)),
            # Read for this update alone (no ORM object holds them): changed in place freely.
            answers=talk.answers if talk else {},
            now=now,
            zone=self.options.zone,
            session=session,
            user=user,
            facts=self.options.facts(),
            policy=self.options.policy,
            checkin_times=self.options.checkin_times,
            bot_username=self.options.bot_username,
        )
        asked = talk.step if talk else None
        chat = Chat(turn, self.flows, asked, event.args)
        replies = await self._route(chat)
        live = talk.live_message_id if talk else None
        shown = live
        moved_on = chat.saved is not None and chat.saved.step != asked
        if (
            talk is not None
            and live is not None
            and live != event.message_id
            and (moved_on or any(asks(r) for r in replies))
        ):
            # The question shown before is answered, closed or asked again in a newer copy:
            # its buttons go, so only the newest question can be pressed.
            shown = None
            replies = [EditButtons(live), *replies]
        elif talk is not None and any(
            isinstance(r, Edit) and r.message_id == live and not r.buttons for r in replies
        ):
            shown = None  # answered on it: its buttons are gone already
        if chat.saved is not None:
            await _store(session, user, talk, chat.saved.step, chat.saved.answers, now, shown)
        elif talk is not None and shown != live:
            await set_live_message(session, user.id, shown)
        return replies

    async def remember_live(self, user_id: int, message_id: int) -> None:
        """The message now showing the user's open question (sent by the runner)."""
        async with self.sessions.begin() as session:
            await set_live_message(session, user_id, message_id)

    async def _route(self, chat: Chat[Turn]) -> list[Reply]:
        event = chat.turn.event
        if event.kind is Kind.COMMAND:
            command = self.commands.get(event.command or "", unknown_command)
            return await command(chat)
        pressed = read_command(event.button or "") if event.kind is Kind.BUTTON else None
        if pressed is not None and pressed[0] in self.commands:
            # A button in a bot-initiated message ("I have arrived") works like its command.
            name, chat.args = pressed
            return [Toast(""), *await self.commands[name](chat)]
        if chat.step is not None and chat.asking:
            advance = await answer(chat.turn, self.flows, chat.step)
            chat.save(advance.step)
            return advance.replies
        if event.kind is Kind.DOCUMENT:
            # A district or community worker sends a pushed list to take in.
            return await pushed_document(chat)
        return await idle(chat)


def asks(reply: Reply) -> bool:
    """A message to the user's own chat with answer buttons: a question of a flow."""
    return (
        isinstance(reply, Send)
        and reply.chat_id is None
        and any(read_answer(b.data)[0] for row in reply.buttons for b in row)
    )


async def _store(
    session: AsyncSession,
    user: ChatUser,
    talk: Talk | None,
    step: str | None,
    answers: dict[str, Any],
    now: datetime,
    live: int | None,
) -> None:
    """The conversation's state, in the event's transaction (no row for someone who never
    had a question open and has no answers)."""
    if talk is None and step is None and not answers:
        return
    saved = Talk(step=step or PAUSED, answers=answers, live_message_id=live)
    await save_talk(session, user.id, saved, new=talk is None, now=now)
