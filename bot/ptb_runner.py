"""Runs the core on python-telegram-bot 22: long polling, or a webhook with the secret token
checked — the same behaviour as the aiogram runner, through PTB's Application."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import warnings
from collections.abc import Awaitable, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

import httpx
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.error import RetryAfter as PtbRetryAfter
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.delivery import Rejected, RetryAfter, Transient, Uncertain, Unreachable
from bot.ptb_http import LeanRequest, PollRequest
from bot.service import Service
from bot.settings import Settings
from chat.contract import Buttons, File, Keys

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)
T = TypeVar("T")
Markup: TypeAlias = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
PtbApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Set by the webhook endpoint while PTB handles its update: the error handler puts a failure
# here, so the endpoint answers 500 and Telegram delivers the update again (as with aiogram).
_failures: ContextVar[list[BaseException] | None] = ContextVar("ptb_update_failures", default=None)


def markup(buttons: Buttons, keyboard: Keys = (), remove_keyboard: bool = False) -> Markup:
    if buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in buttons]
        )
    if keyboard:
        return ReplyKeyboardMarkup(
            [
                [KeyboardButton(k.text, request_contact=k.request_contact or None) for k in row]
                for row in keyboard
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    return ReplyKeyboardRemove() if remove_keyboard else None


def markup_json(
    buttons: Buttons, keyboard: Keys = (), remove_keyboard: bool = False
) -> dict[str, Any] | None:
    """`markup(...).to_dict()` without the PTB objects: the Bot API's JSON (a test holds the
    two equal)."""
    if buttons:
        return {
            "inline_keyboard": [
                [{"text": b.text, "callback_data": b.data} for b in row] for row in buttons
            ]
        }
    if keyboard:
        return {
            "keyboard": [
                [
                    {"text": k.text, "request_contact": True}
                    if k.request_contact
                    else {"text": k.text}
                    for k in row
                ]
                for row in keyboard
            ],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    return {"remove_keyboard": True} if remove_keyboard else None


def plain_data(parameters: dict[str, Any]) -> RequestData:
    """A request's parameters as PTB's Bot would give them to its request (the unset ones left
    out; PTB's RequestParameter makes each value JSON unless it is a string), from plain values
    instead of PTB's objects. RequestParameter is PTB's internal class: tests/bot holds the
    parameters sent equal to those of PTB's Bot for each of our calls."""
    return RequestData(
        [RequestParameter(k, v, None) for k, v in parameters.items() if v is not None]
    )


def retry_seconds(exc: PtbRetryAfter) -> float:
    """`retry_after` is an int in PTB 22 unless PTB_TIMEDELTA is set, then a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's notice that it becomes a timedelta one day
        value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def telegram_text(exc: TelegramError) -> str:
    """The error as Telegram worded it. PTB drops "Bad Request: " and capitalises what is left
    ("Message is not modified…"); ours reads Telegram's lower-case wording."""
    text = exc.message
    if isinstance(exc, BadRequest):
        return f"Bad Request: {text[:1].lower()}{text[1:]}"
    return text


class PtbTransport:
    """One Bot API call at a time through python-telegram-bot, with its errors made ours."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _call(self, request: Awaitable[T]) -> T:
        try:
            return await request
        except PtbRetryAfter as exc:
            raise RetryAfter(retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise Unreachable(telegram_text(exc)) from exc
        # BadRequest (and TimedOut) are NetworkErrors in PTB: the order of these matters.
        except BadRequest as exc:
            text = telegram_text(exc)
            if "chat not found" in text.lower():
                raise Unreachable(text) from exc
            raise Rejected(text) from exc
        except NetworkError as exc:
            # Time-outs, dropped connections and 5xx answers (PTB makes those NetworkErrors).
            # A request that went out and got no answer may have been carried out.
            cause = exc.__cause__
            if isinstance(cause, httpx.TransportError) and not isinstance(
                cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
            ):
                raise Uncertain(telegram_text(exc)) from exc
            raise Transient(telegram_text(exc)) from exc
        except TimeoutError as exc:
            raise Transient(str(exc) or "timed out") from exc
        except TelegramError as exc:
            # InvalidToken, Conflict, ChatMigrated…: the same request cannot succeed.
            raise Rejected(telegram_text(exc)) from exc

    async def download(self, file_id: str) -> bytes:
        """A file a user sent (a pushed list), by its file_id."""
        found = await self._call(self.bot.get_file(file_id))
        return bytes(await self._call(found.download_as_bytearray()))

    async def _post(self, method: str, parameters: dict[str, Any]) -> Any:
        """A Bot API call as plain parameters through PTB's request: no PTB objects built for
        the request or its answer (a Message read from JSON and thrown away), and PTB's own
        mapping of statuses to errors, made ours by `_call`."""
        url = f"{self.bot.base_url}/{method}"
        return await self._call(self.bot.request.post(url, request_data=plain_data(parameters)))

    async def send_message(
        self, chat_id: int, text: str, buttons: Buttons, keyboard: Keys, remove_keyboard: bool
    ) -> int:
        sent = await self._post(
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": text,
                "parse_mode": "HTML",
                "reply_markup": markup_json(buttons, keyboard, remove_keyboard),
            },
        )
        return int(sent["message_id"])

    async def send_file(self, chat_id: int, file: File, caption: str, buttons: Buttons) -> int:
        upload = InputFile(file.content, filename=file.filename)
        reply_markup = markup(buttons)
        if file.kind == "photo":
            request = self.bot.send_photo(
                chat_id,
                upload,
                caption=caption or None,
                parse_mode="HTML",
                reply_markup=reply_markup,
            )
        else:
            request = self.bot.send_document(
                chat_id,
                upload,
                caption=caption or None,
                parse_mode="HTML",
                reply_markup=reply_markup,
            )
        message = await self._call(request)
        return int(message.message_id)

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, buttons: Buttons
    ) -> None:
        await self._post(
            "editMessageText",
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "text": text,
                "parse_mode": "HTML",
                "reply_markup": markup_json(buttons) if buttons else None,
            },
        )

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Buttons) -> None:
        await self._post(
            "editMessageReplyMarkup",
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "reply_markup": markup_json(buttons) if buttons else None,
            },
        )

    async def answer_button(self, callback_id: str, text: str, alert: bool) -> None:
        await self._post(
            "answerCallbackQuery",
            {"callback_query_id": callback_id, "text": text or None, "show_alert": alert},
        )

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
        await self._call(
            self.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], language_code=language
            )
        )

    async def close(self) -> None:
        await self.bot.shutdown()


def make_application(settings: Settings, service: Service, *, polling: bool) -> PtbApplication:
    """PTB's Application on our settings, every update handed to the service as Bot API JSON.

    No AIORateLimiter and no PTB retries: the Sender keeps Telegram's limits and retries. No
    JobQueue either: our scheduler does the periodic work. A webhook has no Updater (the
    endpoint is ours, see `webhook_app`)."""
    polling_request = PollRequest()
    builder = (
        Application.builder()
        .token(settings.token())
        .base_url(f"{settings.bot_api_url}/bot")
        .base_file_url(f"{settings.bot_api_url}/file/bot")
        .concurrent_updates(settings.concurrency)
        .job_queue(None)
        # PTB's own pool sizes (256, and 1 for the long poll) on the lean request layer.
        .request(LeanRequest(connection_pool_size=256))
        .get_updates_request(polling_request)
    )
    if not polling:
        builder = builder.updater(None)
    application: PtbApplication = builder.build()

    async def on_update(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        # The core reads updates as Bot API JSON, the same whichever library received them:
        # the long poll's JSON as it came, or (a webhook's) PTB's Update as JSON again.
        raw = polling_request.received.pop(update.update_id, None)
        await service.handle_update(raw if raw is not None else update.to_dict())

    async def on_error(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        failures = _failures.get()
        if failures is not None and context.error is not None:
            failures.append(context.error)
        log.error("an update could not be handled", exc_info=context.error)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


async def run(settings: Settings, service: Service) -> None:
    application = make_application(settings, service, polling=not settings.webhook_url)
    service.attach(PtbTransport(application.bot))
    with _stop_on_signals() as stop:
        if not settings.webhook_url:
            # One poller per token: stand by (until SIGTERM) while another instance polls.
            taking = asyncio.ensure_future(service.take_polling())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({taking, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not taking.done():
                taking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await taking
                return
            taking.result()
        async with application:  # getMe first; the HTTP connections are closed at the end
            try:
                # The command menu, the outbox worker and the scheduler, before any update.
                await service.started()
                await application.start()
                try:
                    if settings.webhook_url:
                        await _serve_webhook(settings, application, stop)
                    else:
                        await _poll(settings, application, stop)
                finally:
                    # Handles what was taken but not yet handled, and waits for it.
                    await application.stop()
            finally:
                # Updates still in flight finish; then the background work stops.
                await service.drain()


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[asyncio.Event]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


class _StoppingIsExpected(logging.Filter):
    """A long poll that returns while we stop makes PTB log "Updater stopped unexpectedly" as
    CRITICAL. It is our SIGTERM, and those updates are not confirmed, so Telegram sends them
    again at the next start: nothing is lost. Say so, at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.CRITICAL and record.getMessage().startswith(
            "Updater stopped unexpectedly"
        ):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = "updates fetched while stopping are left for the next start"
            record.args = None
        return True


async def _poll(settings: Settings, application: PtbApplication, stop: asyncio.Event) -> None:
    updater = application.updater
    assert updater is not None
    updater_log = logging.getLogger("telegram.ext.Updater")
    stopping = _StoppingIsExpected()

    def on_poll_error(exc: TelegramError) -> None:
        # PTB retries polling with a growing pause; one line, not a traceback each time.
        log.warning("failed to fetch updates (%s: %s); trying again", type(exc).__name__, exc)

    # Deletes any webhook first, then long-polls in the background into the update queue.
    await updater.start_polling(
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,
        error_callback=on_poll_error,
    )
    log.info("polling for updates (python-telegram-bot)")
    try:
        await stop.wait()
    finally:
        # Stops taking updates and confirms to Telegram the ones already taken.
        updater_log.addFilter(stopping)
        try:
            await updater.stop()
        finally:
            updater_log.removeFilter(stopping)


def webhook_path(settings: Settings) -> str:
    return urlsplit(settings.webhook_url or "").path or "/"


def webhook_app(settings: Settings, application: PtbApplication) -> web.Application:
    """The webhook endpoint; a request without the right secret gets 401 and changes nothing.

    PTB's own webhook server (tornado) answers 403 and acknowledges an update before handling
    it; this one answers as Telegram documents and only once the update is handled (500 if it
    failed, so Telegram delivers it again), like the aiogram runner."""
    # aiohttp (the webhook server) is loaded only by a bot that serves a webhook: PTB itself
    # does not need it, and a polling bot is ~9 MB smaller without it.
    from aiohttp import web

    from bot.webhook import guarded_app

    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value().encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            return web.Response(status=401, text="Unauthorized")
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400, text="not a Telegram update")
        failures: list[BaseException] = []
        token = _failures.set(failures)
        try:
            # Through PTB's update processor, so `concurrency` bounds webhook updates too.
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        finally:
            _failures.reset(token)
        if failures:
            return web.Response(status=500, text="the update could not be handled")
        return web.Response(text="ok")

    app = guarded_app()
    app.router.add_post(webhook_path(settings), receive)
    return app


async def _serve_webhook(
    settings: Settings, application: PtbApplication, stop: asyncio.Event
) -> None:
    from bot.webhook import serve

    assert settings.webhook_url and settings.webhook_secret
    host, port = settings.listen_host_port
    runner = await serve(webhook_app(settings, application), host, port)
    try:
        await application.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info("webhook listening on %s:%s for %s", host, port, settings.webhook_url)
        await stop.wait()
    finally:
        # Stops accepting, and lets the requests in flight (their updates) finish.
        await runner.cleanup()
