"""Runs the core on aiogram 3: long polling, or a webhook with the secret token checked."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from functools import cache
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
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
from aiohttp import ClientConnectorError

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


class AiogramTransport:
    """One Bot API call at a time through aiogram, with its errors made ours."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

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
            if isinstance(exc.__cause__, ClientConnectorError):
                raise Transient(str(exc)) from exc
            raise Uncertain(str(exc)) from exc
        except (TelegramServerError, TimeoutError) as exc:
            raise Transient(str(exc)) from exc
        except TelegramAPIError as exc:
            raise Rejected(exc.message) from exc

    async def send_message(
        self, chat_id: int, text: str, buttons: Buttons, keyboard: Keys, remove_keyboard: bool
    ) -> int:
        message = await self._call(
            self.bot.send_message(
                chat_id,
                text,
                parse_mode="HTML",
                reply_markup=markup(buttons, keyboard, remove_keyboard),
            )
        )
        return int(message.message_id)

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
        inline = markup(buttons)
        await self._call(
            self.bot.edit_message_text(
                text=text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode="HTML",
                reply_markup=inline if isinstance(inline, InlineKeyboardMarkup) else None,
            )
        )

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Buttons) -> None:
        inline = markup(buttons)
        await self._call(
            self.bot.edit_message_reply_markup(
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=inline if isinstance(inline, InlineKeyboardMarkup) else None,
            )
        )

    async def answer_button(self, callback_id: str, text: str, alert: bool) -> None:
        await self._call(
            self.bot.answer_callback_query(callback_id, text=text or None, show_alert=alert)
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
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.bot_api_url))
    return Bot(settings.token(), session=session)


def make_dispatcher(service: Service) -> Dispatcher:
    dispatcher = Dispatcher()

    async def on_update(_event: object, event_update: Update) -> None:
        # The core reads updates as Bot API JSON, the same whichever library received them.
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
