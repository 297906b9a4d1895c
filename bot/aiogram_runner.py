"""Runs the core on aiogram 3: long polling, or a webhook with the secret token checked."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import AsyncGenerator, Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher, __version__, loggers, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.dispatcher import DEFAULT_BACKOFF_CONFIG
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiohttp import ClientConnectorError

from bot import lean_http
from bot.delivery import Rejected, RetryAfter, Transient, Uncertain, Unreachable
from bot.service import Service
from bot.settings import Settings
from chat.contract import Buttons, File, Keys

if TYPE_CHECKING:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

log = logging.getLogger(__name__)
# aiogram reads each Bot API answer as `Response[<the method's result type>]`, a generic
# pydantic model that pydantic caches only weakly: once the garbage collector had taken it,
# the next call built it again (16 ms of CPU each; 8 of 53 s in a profile of 1,500 check-in
# answers). Kept here, built once, for the calls the bot makes.
KEPT_RESPONSES = [
    methods.base.Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        methods.SendMessage,
        methods.SendPhoto,
        methods.SendDocument,
        methods.EditMessageText,
        methods.EditMessageReplyMarkup,
        methods.AnswerCallbackQuery,
        methods.SetMyCommands,
        methods.GetUpdates,
        methods.GetFile,
        methods.GetMe,
        methods.DeleteWebhook,
        methods.SetWebhook,
    )
]
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def markup(buttons: Buttons, keyboard: Keys = (), remove_keyboard: bool = False) -> Markup:
    if buttons:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=b.text, callback_data=b.data) for b in row]
                for row in buttons
            ]
        )
    if keyboard:
        return ReplyKeyboardMarkup(
            keyboard=[
                [
                    KeyboardButton(text=k.text, request_contact=k.request_contact or None)
                    for k in row
                ]
                for row in keyboard
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    return ReplyKeyboardRemove() if remove_keyboard else None


def markup_json(
    buttons: Buttons, keyboard: Keys = (), remove_keyboard: bool = False
) -> dict[str, Any] | None:
    """`markup`'s reply_markup as the JSON object aiogram would send (None: no field)."""
    if buttons:
        rows: list[list[dict[str, Any]]] = [
            [{"text": b.text, "callback_data": b.data} for b in row] for row in buttons
        ]
        return {"inline_keyboard": rows}
    if keyboard:
        keys = [
            [
                {"text": k.text, "request_contact": True} if k.request_contact else {"text": k.text}
                for k in row
            ]
            for row in keyboard
        ]
        return {"keyboard": keys, "resize_keyboard": True, "one_time_keyboard": True}
    return {"remove_keyboard": True} if remove_keyboard else None


def _inline(buttons: Buttons) -> InlineKeyboardMarkup | None:
    inline = markup(buttons)
    return inline if isinstance(inline, InlineKeyboardMarkup) else None


class LeanSession(AiohttpSession):
    """aiogram's session with our lean HTTP client beside it (`bot/lean_http.py`): the calls
    of every answer and the long poll go through the client (`post_json`); uploads, downloads
    and the calls made once go through aiohttp's, as aiogram makes them."""

    def __init__(self, api: TelegramAPIServer, limit: int = 100) -> None:
        super().__init__(api=api, limit=limit)
        ssl_context = self._connector_init["ssl"]  # aiogram's: certifi's authorities
        self.lean = lean_http.LeanClient(limit, f"aiogram/{__version__}", lambda: ssl_context)

    async def close(self) -> None:
        self.lean.close()
        await super().close()


def make_session(bot_api_url: str, limit: int = 100) -> LeanSession:
    """The session for a Bot API at `bot_api_url` (Telegram's, or the emulator's)."""
    return LeanSession(api=TelegramAPIServer.from_base(bot_api_url), limit=limit)


async def post_json(
    bot: Bot,
    name: str,
    url: str,
    fields: dict[str, Any],
    timeout: float,
    method: Callable[[], TelegramMethod[Any]],
) -> Any:
    """A Bot API call posted with `fields` as a JSON body (one of the Bot API's ways; aiogram
    form-encodes each field) within `timeout` seconds for each stage; its result, read as JSON.
    A failure is handed to aiogram's `check_response` with `method` (aiogram's method, built
    only then), so it raises aiogram's own error, as aiogram's call would have; one without an
    answer is aiogram's `TelegramNetworkError`, caused by our client's `NotSent` when the
    request never left."""
    session = bot.session
    assert isinstance(session, LeanSession), "make_session's session"
    stages = lean_http.Timeouts(connect=timeout, write=timeout, read=timeout, pool=timeout)
    body = json.dumps(fields).encode()
    try:
        status, raw = await session.lean.request("POST", url, body, "application/json", stages)
    except lean_http.HttpFailure as exc:
        # aiogram's words for a time-out (its aiohttp session's), the failure's for the rest.
        timed_out = isinstance(exc, lean_http.ReadTimedOut | lean_http.WriteTimedOut)
        text = "Request timeout error" if timed_out else f"{type(exc).__name__}: {exc}"
        raise TelegramNetworkError(method(), text) from exc
    content = raw.decode("utf-8", "replace")
    try:
        answer = json.loads(content)
    except ValueError:
        answer = None
    if (
        200 <= status <= 226
        and isinstance(answer, dict)
        and answer.get("ok") is True
        and "result" in answer
    ):
        return answer["result"]
    # Not a success: aiogram reads it and raises its own error, as it would have.
    session.check_response(bot, method(), status, content)
    raise TelegramAPIError(method(), f"unexpected answer to {name} (HTTP {status})")


class AiogramTransport:
    """One Bot API call at a time through aiogram, with its errors made ours.

    The calls of every answer (send a message, edit one, answer a button) are posted on our
    lean HTTP client (`post_json`) with the fields aiogram would send, as a JSON body (one of
    the Bot API's ways; aiogram's form URL-encodes each field), and a successful answer is read
    as JSON: building and validating aiogram's pydantic models for the request and for the
    message Telegram sends back was most of a call's CPU. A call that fails is handed to
    aiogram's own `check_response` with its method built then, so each error is aiogram's
    exception as before (and `_call` makes it ours)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._urls: dict[str, str] = {}

    async def _post(
        self, name: str, fields: dict[str, Any], method: Callable[[], TelegramMethod[Any]]
    ) -> Any:
        """The call `name` with `fields` (what aiogram would send, as JSON); its result.
        `method` builds aiogram's method, only for an error."""
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = self.bot.session.api.api_url(token=self.bot.token, method=name)
        return await post_json(self.bot, name, url, fields, self.bot.session.timeout, method)

    async def _call(self, request: Any) -> Any:
        try:
            return await request
        except TelegramRetryAfter as exc:
            raise RetryAfter(exc.retry_after) from exc
        except TelegramForbiddenError as exc:
            raise Unreachable(exc.message) from exc
        except (TelegramBadRequest, TelegramNotFound) as exc:
            if "chat not found" in exc.message:
                raise Unreachable(exc.message) from exc
            raise Rejected(exc.message) from exc
        except TelegramNetworkError as exc:
            # Could not connect: nothing was sent. Otherwise the request may have been carried
            # out with its answer lost (a dropped connection, a read time-out).
            if isinstance(exc.__cause__, ClientConnectorError | lean_http.NotSent):
                raise Transient(str(exc)) from exc
            raise Uncertain(str(exc)) from exc
        except (TelegramServerError, TimeoutError) as exc:
            raise Transient(str(exc)) from exc
        except TelegramAPIError as exc:
            raise Rejected(exc.message) from exc

    async def send_message(
        self, chat_id: int, text: str, buttons: Buttons, keyboard: Keys, remove_keyboard: bool
    ) -> int:
        fields: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        reply_markup = markup_json(buttons, keyboard, remove_keyboard)
        if reply_markup is not None:
            fields["reply_markup"] = reply_markup
        message = await self._call(
            self._post(
                "sendMessage",
                fields,
                lambda: methods.SendMessage(
                    chat_id=chat_id,
                    text=text,
                    parse_mode="HTML",
                    reply_markup=markup(buttons, keyboard, remove_keyboard),
                ),
            )
        )
        return int(message["message_id"])

    async def send_file(self, chat_id: int, file: File, caption: str, buttons: Buttons) -> int:
        upload = BufferedInputFile(file.content, filename=file.filename)
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
        fields: dict[str, Any] = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": text,
            "parse_mode": "HTML",
        }
        inline = markup_json(buttons)
        if inline is not None:
            fields["reply_markup"] = inline
        await self._call(
            self._post(
                "editMessageText",
                fields,
                lambda: methods.EditMessageText(
                    text=text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode="HTML",
                    reply_markup=_inline(buttons),
                ),
            )
        )

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Buttons) -> None:
        fields: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
        inline = markup_json(buttons)
        if inline is not None:
            fields["reply_markup"] = inline
        await self._call(
            self._post(
                "editMessageReplyMarkup",
                fields,
                lambda: methods.EditMessageReplyMarkup(
                    chat_id=chat_id, message_id=message_id, reply_markup=_inline(buttons)
                ),
            )
        )

    async def answer_button(self, callback_id: str, text: str, alert: bool) -> None:
        fields: dict[str, Any] = {"callback_query_id": callback_id, "show_alert": alert}
        if text:
            fields["text"] = text
        await self._call(
            self._post(
                "answerCallbackQuery",
                fields,
                lambda: methods.AnswerCallbackQuery(
                    callback_query_id=callback_id, text=text or None, show_alert=alert
                ),
            )
        )

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
        await self._call(
            self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in commands], language_code=language
            )
        )

    async def download(self, file_id: str) -> bytes:
        """A file a user sent (a pushed list), by its file_id."""
        found = await self._call(self.bot.get_file(file_id))
        data = await self._call(self.bot.download_file(found.file_path or ""))
        return bytes(data.read()) if data is not None else b""

    async def close(self) -> None:
        await self.bot.session.close()


def make_bot(settings: Settings) -> Bot:
    return Bot(settings.token(), session=make_session(settings.bot_api_url))


class PolledDispatcher(Dispatcher):
    """aiogram's dispatcher whose long poll hands each update to the service as received.

    aiogram reads a getUpdates answer into pydantic `Update`s (about 70 µs an update), passes
    each through its middlewares and routers (about 40 µs, and again at every resume of the
    handler's coroutines), and the service wanted Bot API JSON, dumped back from the model
    (13 µs): together some 5 % of a check-in answer's CPU, for nothing the bot uses. Here the
    poll's answer is read as JSON and `_polling`, aiogram's own loop, gives each update to
    the service: its concurrency limit, the tasks it tracks, its stop and its back-off after
    a failed poll are aiogram's as before. A webhook's updates still take aiogram's routers
    (`on_update`)."""

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service

    @classmethod
    async def _listen_updates(  # type: ignore[override]
        cls,
        bot: Bot,
        polling_timeout: int = 30,
        backoff_config: BackoffConfig = DEFAULT_BACKOFF_CONFIG,
        allowed_updates: list[str] | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """aiogram's `_listen_updates` (the same request, logs and back-off), its updates left
        as the JSON they came in."""
        backoff = Backoff(config=backoff_config)
        fields: dict[str, Any] = {"timeout": polling_timeout}
        if allowed_updates is not None:
            fields["allowed_updates"] = allowed_updates
        url = bot.session.api.api_url(token=bot.token, method="getUpdates")
        # As aiogram: the request waits longer than the poll, or a quiet poll would time out.
        timeout = bot.session.timeout + polling_timeout
        failed = False
        while True:
            try:
                updates = await post_json(
                    bot, "getUpdates", url, fields, timeout, lambda: methods.GetUpdates(**fields)
                )
                if not isinstance(updates, list):
                    raise TelegramAPIError(methods.GetUpdates(**fields), "not a list of updates")
            except Exception as e:  # as aiogram: the polling never stops on its own
                failed = True
                loggers.dispatcher.error("Failed to fetch updates - %s: %s", type(e).__name__, e)
                loggers.dispatcher.warning(
                    "Sleep for %f seconds and try again... (tryings = %d, bot id = %d)",
                    backoff.next_delay,
                    backoff.counter,
                    bot.id,
                )
                await backoff.asleep()
                continue
            if failed:
                loggers.dispatcher.info(
                    "Connection established (tryings = %d, bot id = %d)", backoff.counter, bot.id
                )
                backoff.reset()
                failed = False
            for update in updates:
                if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                    log.warning("getUpdates gave something that is not an update: skipped")
                    continue
                yield update
                # Confirmed with the next poll, as aiogram does.
                fields["offset"] = update["update_id"] + 1

    async def _process_update(
        self, bot: Bot, update: dict[str, Any] | Update, call_answer: bool = True, **kwargs: Any
    ) -> bool:
        if isinstance(update, Update):  # fed by aiogram itself (`feed_update`'s callers)
            return await super()._process_update(bot, update, call_answer, **kwargs)
        try:
            await self.service.handle_update(update)
        except Exception as e:  # as aiogram: logged, and the polling goes on
            loggers.event.exception(
                "Cause exception while process update id=%d by bot id=%d\n%s: %s",
                update["update_id"],
                bot.id,
                type(e).__name__,
                e,
            )
        return True


def make_dispatcher(service: Service) -> Dispatcher:
    dispatcher = PolledDispatcher(service)

    async def on_update(_event: object, event_update: Update) -> None:
        # The core reads updates as Bot API JSON, the same whichever library received them
        # (a webhook's; the long poll's come as they were received, `PolledDispatcher`).
        await service.handle_update(
            event_update.model_dump(mode="json", exclude_none=True, by_alias=True)
        )

    for observer in (dispatcher.message, dispatcher.edited_message, dispatcher.callback_query):
        observer.register(on_update)

    async def on_startup() -> None:
        await service.started()

    async def on_shutdown() -> None:
        # aiogram does not wait for updates still being handled; we do.
        await service.drain()

    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)
    return dispatcher


async def run(settings: Settings, service: Service) -> None:
    bot = make_bot(settings)
    service.attach(AiogramTransport(bot))
    dispatcher = make_dispatcher(service)
    if settings.webhook_url:
        try:
            await _run_webhook(settings, bot, dispatcher)
        finally:
            await bot.session.close()
        return
    try:
        await service.take_polling()
        await bot.delete_webhook(drop_pending_updates=False)
    except BaseException:
        await bot.session.close()  # could not start (the Bot API unreachable, a bad token)
        raise
    await dispatcher.start_polling(
        bot,
        tasks_concurrency_limit=settings.concurrency,
        handle_signals=True,
        close_bot_session=True,
        allowed_updates=["message", "edited_message", "callback_query"],
    )


@cache
def checked_request_handler() -> type[SimpleRequestHandler]:
    """aiogram's handler answers a body that is not an update with a 500 and a traceback (and
    Telegram would post it again): this one answers 400, as the PTB runner does. Made when a
    webhook is served: a polling bot does not load aiohttp's server (~2 MB)."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    class CheckedRequestHandler(SimpleRequestHandler):
        async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
            try:
                body = json.loads(await request.read())
                if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                    raise ValueError("no update_id")
                Update.model_validate(body, context={"bot": bot})
            except ValueError:  # pydantic's ValidationError is one
                return web.Response(status=400, text="not a Telegram update")
            return await super()._handle_request(bot, request)

    return CheckedRequestHandler


def webhook_app(settings: Settings, bot: Bot, dispatcher: Dispatcher) -> web.Application:
    """The webhook endpoint; a request without the right secret gets 401 and changes nothing."""
    from bot.webhook import guarded_app

    assert settings.webhook_secret is not None
    app = guarded_app()
    handler = checked_request_handler()(
        dispatcher,
        bot,
        secret_token=settings.webhook_secret.get_secret_value(),
        # Answer Telegram only once the update is handled, so a crash means a redelivery.
        handle_in_background=False,
    )
    handler.register(app, path=webhook_path(settings))
    return app


def webhook_path(settings: Settings) -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.webhook_url or "").path or "/"


async def _run_webhook(settings: Settings, bot: Bot, dispatcher: Dispatcher) -> None:
    from bot.webhook import serve

    assert settings.webhook_url and settings.webhook_secret
    app = webhook_app(settings, bot, dispatcher)
    host, port = settings.listen_host_port
    runner = await serve(app, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await dispatcher.emit_startup(bot=bot)
    await bot.set_webhook(
        settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=["message", "edited_message", "callback_query"],
    )
    log.info("webhook listening on %s:%s for %s", host, port, settings.webhook_url)
    try:
        await stop.wait()
    finally:
        # Stops accepting, lets requests in flight finish, then runs the shutdown hooks.
        await runner.cleanup()
        await dispatcher.emit_shutdown(bot=bot)
        await bot.session.close()
