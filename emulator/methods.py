"""Bot API methods, answering with the objects and errors Telegram would.

Each method takes the parsed parameters and returns the ``result`` value or raises ApiError.
Validation is deliberately as strict as Telegram's: the point of the emulator is that a bot
which passes here does not fail in production on the same input.
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.entities import EntityParseError, parse_formatted, utf16_len
from emulator.media import image_size
from emulator.params import ApiError, Params, UploadedFile, bad_request
from emulator.state import (
    DEFAULT_ALLOWED_UPDATES,
    EmulatorState,
    StoredFile,
    StoredMessage,
    UserProfile,
    WebhookConfig,
    bot_user,
)

__all__ = ["METHODS", "CallContext", "MethodSpec", "WebhookControl", "chat_id_of"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


class WebhookControl(Protocol):
    def restart(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class CallContext:
    state: EmulatorState
    bot_id: int
    token: str
    webhooks: WebhookControl


Handler = Callable[[CallContext, Params], Awaitable[Any]]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    handler: Handler


METHODS: dict[str, MethodSpec] = {}


def _method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = MethodSpec(name=name, handler=handler)
        return handler

    return register


# --- shared helpers -----------------------------------------------------------------------------


def chat_id_of(params: Params) -> int | None:
    """The chat a call is about, for the request log and per-chat limits; None if unclear."""
    try:
        return params.get_int("chat_id")
    except ApiError:
        return None


def _chat(ctx: CallContext, params: Params) -> UserProfile:
    if not params.has("chat_id"):
        raise bad_request("chat_id is empty")
    try:
        chat_id = params.get_int("chat_id")
    except ApiError:
        raise bad_request("chat not found") from None
    user = ctx.state.users.get(chat_id) if chat_id is not None else None
    if user is None:
        raise bad_request("chat not found")
    if user.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return user


def _formatted(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Any]]:
    if entities is not None:
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise bad_request("can't parse entities JSON object")
        return text, [_strip_nulls(e) for e in entities]
    try:
        return parse_formatted(text, parse_mode)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    except ValueError:
        raise bad_request("unsupported parse_mode") from None


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


_URL_RE = re.compile(r"^(?:(?:https?|tg|ton)://\S+|[\w-]+(?:\.[\w-]+)+(?:/\S*)?)$")
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _reply_markup(params: Params) -> dict[str, Any] | None:
    error = "can't parse reply keyboard markup JSON object"
    markup = params.get_json("reply_markup", error)
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request(error)
    markup = _strip_nulls(markup)
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    elif markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        pass
    else:
        raise bad_request(error)
    result: dict[str, Any] = markup
    return result


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
    total = 0
    for row in rows:
        for button in row:
            total += 1
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            actions = [name for name in _INLINE_ACTIONS if name in button]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and (
                not isinstance(button["url"], str) or not _URL_RE.match(button["url"])
            ):
                raise bad_request("BUTTON_URL_INVALID")
    if total > 100:
        raise bad_request("reply markup is too long")


def _check_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('can\'t parse keyboard: field "keyboard" must be an Array')
    for row in rows:
        for button in row:
            if isinstance(button, str):
                continue
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )
            if not button["text"]:
                raise bad_request("keyboard button text must be non-empty")


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    if markup is None:
        return None
    if "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _same_inline(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    def rows(markup: dict[str, Any] | None) -> Any:
        if not markup or not markup.get("inline_keyboard"):
            return []
        return markup["inline_keyboard"]

    return bool(rows(a) == rows(b))


def _reply_to(params: Params, chat_id: int, state: EmulatorState) -> int | None:
    reply = params.get_json("reply_parameters", "can't parse reply parameters JSON object")
    message_id: int | None = None
    allow_missing = params.get_bool("allow_sending_without_reply")
    if reply is not None:
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int | str):
            raise bad_request("can't parse reply parameters JSON object")
        try:
            message_id = int(reply["message_id"])
        except ValueError:
            raise bad_request("can't parse reply parameters JSON object") from None
        other_chat = reply.get("chat_id")
        if other_chat is not None and str(other_chat) != str(chat_id):
            raise bad_request("message to be replied not found")
        allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
    else:
        message_id = params.get_int("reply_to_message_id")
    if message_id is None:
        return None
    target = state.messages.get(chat_id, {}).get(message_id)
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return message_id


def _link_preview(params: Params) -> dict[str, Any] | None:
    options = params.get_json(
        "link_preview_options", "can't parse link preview options JSON object"
    )
    if options is not None:
        if not isinstance(options, dict):
            raise bad_request("can't parse link preview options JSON object")
        stripped: dict[str, Any] = _strip_nulls(options)
        return stripped or None
    if params.get_bool("disable_web_page_preview"):
        return {"is_disabled": True}
    return None


def _rate_limit(ctx: CallContext, chat_id: int) -> None:
    retry_after = ctx.state.limiter.acquire(chat_id)
    if retry_after is not None:
        raise ApiError(
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )


def _find_message(
    ctx: CallContext, params: Params, not_found: str
) -> tuple[UserProfile, StoredMessage]:
    if params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    user = _chat(ctx, params)
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = ctx.state.messages.get(user.id, {}).get(message_id)
    if message is None or message.deleted:
        raise bad_request(not_found)
    return user, message


def _caption(params: Params) -> tuple[str | None, str | None, list[Any]]:
    raw = params.get_str("caption")
    if not raw:
        return None, None, []
    parse_mode = params.get_str("parse_mode") or None
    plain, entities = _formatted(raw, parse_mode, params.get_json("caption_entities"))
    if utf16_len(plain) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return raw, plain, entities


def _finish_send(ctx: CallContext, message: StoredMessage) -> dict[str, Any]:
    ctx.state.messages_sent[message.chat_id] += 1
    ctx.state.touch_message(message)
    return ctx.state.message_api(message)


# --- identity and updates ---------------------------------------------------------------------


@_method("getMe")
async def get_me(ctx: CallContext, params: Params) -> Any:
    me = bot_user(ctx.bot_id)
    me.update(
        can_join_groups=True,
        can_read_all_group_messages=False,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )
    return me


def _webhook_conflict() -> ApiError:
    return ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )


@_method("getUpdates")
async def get_updates(ctx: CallContext, params: Params) -> Any:
    state = ctx.state
    if state.webhook is not None:
        raise _webhook_conflict()
    offset = params.get_int("offset")
    limit = params.get_int("limit") or 100
    limit = max(1, min(100, limit))
    timeout = max(0, min(params.get_int("timeout") or 0, 300))
    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            raise bad_request("can't parse allowed_updates JSON object")
        state.allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
    if offset is not None:
        state.confirm_updates(offset)
    state.poll_generation += 1
    generation = state.poll_generation
    state.notify()  # wakes an older long poll so that it answers 409, as Telegram's does
    if timeout:
        await state.wait_for(
            lambda: (
                bool(state.updates)
                or state.poll_generation != generation
                or state.webhook is not None
            ),
            float(timeout),
        )
    if state.poll_generation != generation:
        raise ApiError(
            409,
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        )
    if state.webhook is not None:
        raise _webhook_conflict()
    return list(state.updates)[:limit]


_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@_method("setWebhook")
async def set_webhook(ctx: CallContext, params: Params) -> Any:
    state = ctx.state
    url = params.get_str("url") or ""
    if not url:
        return await delete_webhook(ctx, params)
    if not re.match(r"^https?://[^\s/]+", url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get_str("secret_token") or None
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            raise bad_request("can't parse allowed_updates JSON object")
        state.allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
    if params.get_bool("drop_pending_updates"):
        state.updates.clear()
    max_connections = params.get_int("max_connections") or 40
    state.webhook = WebhookConfig(
        url=url,
        token=ctx.token,
        secret_token=secret,
        max_connections=max(1, min(100, max_connections)),
        allowed_updates=allowed if isinstance(allowed, list) else None,
    )
    ctx.webhooks.restart()
    state.notify()
    return True


@_method("deleteWebhook")
async def delete_webhook(ctx: CallContext, params: Params) -> Any:
    state = ctx.state
    if params.get_bool("drop_pending_updates"):
        state.updates.clear()
    state.webhook = None
    ctx.webhooks.stop()
    state.notify()
    return True


@_method("getWebhookInfo")
async def get_webhook_info(ctx: CallContext, params: Params) -> Any:
    state = ctx.state
    hook = state.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        info["ip_address"] = "127.0.0.1"
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


# --- messages -----------------------------------------------------------------------------------


@_method("sendMessage")
async def send_message(ctx: CallContext, params: Params) -> Any:
    user = _chat(ctx, params)
    raw = params.get_str("text")
    if not raw or not raw.strip():
        raise bad_request("message text is empty")
    parse_mode = params.get_str("parse_mode") or None
    text, entities = _formatted(raw, parse_mode, params.get_json("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    markup = _reply_markup(params)
    link_preview = _link_preview(params)
    reply_to = _reply_to(params, user.id, ctx.state)
    _rate_limit(ctx, user.id)
    message = ctx.state.new_message(user.id, from_bot=True, sender_id=ctx.bot_id)
    message.text = text
    message.raw_text = raw
    message.entities = entities
    message.parse_mode = parse_mode
    message.reply_markup = markup
    message.link_preview_options = link_preview
    message.reply_to_message_id = reply_to
    return _finish_send(ctx, message)


@_method("sendChatAction")
async def send_chat_action(ctx: CallContext, params: Params) -> Any:
    _chat(ctx, params)
    action = params.get_str("action")
    actions = {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
    if action not in actions:
        raise bad_request("wrong parameter action in request")
    return True


@_method("editMessageText")
async def edit_message_text(ctx: CallContext, params: Params) -> Any:
    user, message = _find_message(ctx, params, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    raw = params.get_str("text")
    if not raw or not raw.strip():
        raise bad_request("message text is empty")
    parse_mode = params.get_str("parse_mode") or None
    text, entities = _formatted(raw, parse_mode, params.get_json("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    markup = _inline_only(_reply_markup(params))
    if (
        text == message.text
        and entities == message.entities
        and _same_inline(markup, message.reply_markup)
    ):
        raise bad_request(NOT_MODIFIED)
    link_preview = _link_preview(params)
    _rate_limit(ctx, user.id)
    message.text = text
    message.raw_text = raw
    message.entities = entities
    message.parse_mode = parse_mode
    if link_preview is not None:
        message.link_preview_options = link_preview
    _replace_inline_markup(message, markup)
    return _finish_edit(ctx, message)


@_method("editMessageCaption")
async def edit_message_caption(ctx: CallContext, params: Params) -> Any:
    user, message = _find_message(ctx, params, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    if message.document is None and message.photo is None:
        raise bad_request("there is no caption in the message to edit")
    raw, caption, entities = _caption(params)
    markup = _inline_only(_reply_markup(params))
    if (
        caption == message.caption
        and entities == message.caption_entities
        and _same_inline(markup, message.reply_markup)
    ):
        raise bad_request(NOT_MODIFIED)
    _rate_limit(ctx, user.id)
    message.raw_caption = raw
    message.caption = caption
    message.caption_entities = entities
    _replace_inline_markup(message, markup)
    return _finish_edit(ctx, message)


@_method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: CallContext, params: Params) -> Any:
    user, message = _find_message(ctx, params, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    markup = _inline_only(_reply_markup(params))
    if _same_inline(markup, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    _rate_limit(ctx, user.id)
    _replace_inline_markup(message, markup)
    return _finish_edit(ctx, message)


def _replace_inline_markup(message: StoredMessage, markup: dict[str, Any] | None) -> None:
    """An edit without reply_markup drops the inline keyboard, exactly as Telegram does."""
    if markup is not None or message.reply_markup is None:
        message.reply_markup = markup
    elif "inline_keyboard" in message.reply_markup:
        message.reply_markup = None


def _finish_edit(ctx: CallContext, message: StoredMessage) -> dict[str, Any]:
    message.edit_date = ctx.state.date()
    message.edit_count += 1
    ctx.state.touch_message(message)
    return ctx.state.message_api(message)


@_method("deleteMessage")
async def delete_message(ctx: CallContext, params: Params) -> Any:
    _, message = _find_message(ctx, params, "message to delete not found")
    message.deleted = True
    ctx.state.touch_message(message)
    return True


@_method("answerCallbackQuery")
async def answer_callback_query(ctx: CallContext, params: Params) -> Any:
    state = ctx.state
    query_id = params.get_str("callback_query_id")
    if not query_id:
        raise bad_request("QUERY_ID_INVALID")
    record = state.callback_queries.get(query_id)
    if record is None or record.answered:
        raise bad_request(QUERY_INVALID)
    text = params.get_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    state.callback_answers.append(
        {
            "seq": len(state.callback_answers) + 1,
            "callback_query_id": query_id,
            "text": text,
            "show_alert": params.get_bool("show_alert"),
            "url": params.get_str("url"),
            "cache_time": params.get_int("cache_time") or 0,
            "user_id": record.user_id,
            "chat_id": record.chat_id,
            "message_id": record.message_id,
            "data": record.data,
            "time": time.time(),
        }
    )
    state.notify()
    return True


# --- files --------------------------------------------------------------------------------------


def _resolve_file(
    state: EmulatorState, value: UploadedFile | str | None, kind: str, name: str
) -> StoredFile | UploadedFile:
    if value is None:
        raise bad_request(f"there is no {name} in the request")
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        if len(value.data) > (MAX_PHOTO if kind == "photo" else MAX_UPLOAD):
            raise ApiError(413, "Request Entity Too Large")
        return value
    stored = state.files.get(value.strip())
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request(
            f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
        )
    return stored


@_method("sendDocument")
async def send_document(ctx: CallContext, params: Params) -> Any:
    state = ctx.state
    user = _chat(ctx, params)
    source = _resolve_file(state, params.get_file("document"), "document", "document")
    raw_caption, caption, caption_entities = _caption(params)
    markup = _reply_markup(params)
    reply_to = _reply_to(params, user.id, state)
    _rate_limit(ctx, user.id)
    if isinstance(source, UploadedFile):
        file_name = source.filename or "document"
        guessed = mimetypes.guess_type(file_name)[0]
        mime = guessed or source.content_type or "application/octet-stream"
        extension = mimetypes.guess_extension(mime) or ""
        if "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        stored = state.store_file(
            source.data, kind="document", file_name=file_name, mime_type=mime, extension=extension
        )
    else:
        stored = source
    message = state.new_message(user.id, from_bot=True, sender_id=ctx.bot_id)
    message.document = _document_api(stored)
    message.raw_caption = raw_caption
    message.caption = caption
    message.caption_entities = caption_entities
    message.parse_mode = params.get_str("parse_mode") or None
    message.reply_markup = markup
    message.reply_to_message_id = reply_to
    return _finish_send(ctx, message)


def _document_api(stored: StoredFile) -> dict[str, Any]:
    document: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return document


def photo_sizes(state: EmulatorState, data: bytes, width: int, height: int) -> list[dict[str, Any]]:
    """Telegram answers with several sizes; a small one and the original are enough to test."""
    sizes: list[dict[str, Any]] = []
    scale = min(1.0, 90 / max(width, height, 1))
    dims = [(max(1, round(width * scale)), max(1, round(height * scale)))]
    if dims[0] != (width, height):
        dims.append((width, height))
    for w, h in dims:
        stored = state.store_file(
            data, kind="photo", mime_type="image/jpeg", extension=".jpg", width=w, height=h
        )
        sizes.append(_photo_size_api(stored))
    return sizes


def _photo_size_api(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "width": stored.width or 1,
        "height": stored.height or 1,
    }


@_method("sendPhoto")
async def send_photo(ctx: CallContext, params: Params) -> Any:
    state = ctx.state
    user = _chat(ctx, params)
    source = _resolve_file(state, params.get_file("photo"), "photo", "photo")
    size: tuple[int, int] | None = None
    if isinstance(source, UploadedFile):
        size = image_size(source.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if (
            width <= 0
            or height <= 0
            or width + height > 10000
            or max(width, height) > 20 * min(width, height)
        ):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
    raw_caption, caption, caption_entities = _caption(params)
    markup = _reply_markup(params)
    reply_to = _reply_to(params, user.id, state)
    _rate_limit(ctx, user.id)
    if isinstance(source, UploadedFile):
        assert size is not None
        sizes = photo_sizes(state, source.data, *size)
    else:
        sizes = [_photo_size_api(source)]
    message = state.new_message(user.id, from_bot=True, sender_id=ctx.bot_id)
    message.photo = sizes
    message.raw_caption = raw_caption
    message.caption = caption
    message.caption_entities = caption_entities
    message.parse_mode = params.get_str("parse_mode") or None
    message.reply_markup = markup
    message.reply_to_message_id = reply_to
    return _finish_send(ctx, message)


@_method("getFile")
async def get_file(ctx: CallContext, params: Params) -> Any:
    file_id = params.get_str("file_id")
    if not file_id:
        raise bad_request("file_id is empty")
    stored = ctx.state.files.get(file_id.strip())
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


# --- commands and housekeeping ------------------------------------------------------------------

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def _commands_key(params: Params) -> tuple[str, dict[str, Any], str]:
    scope = params.get_json("scope", "can't parse BotCommandScope JSON object")
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    scope = _strip_nulls(scope)
    language = params.get_str("language_code") or ""
    if language and not re.match(r"^[a-z]{2}$", language):
        raise bad_request("invalid language code specified")
    key = json.dumps({"scope": scope, "language_code": language}, sort_keys=True)
    return key, scope, language


@_method("setMyCommands")
async def set_my_commands(ctx: CallContext, params: Params) -> Any:
    commands = params.get_json("commands", "can't parse commands JSON object")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    cleaned: list[dict[str, str]] = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = command.get("command")
        description = command.get("description")
        if not isinstance(name, str) or not _COMMAND_RE.match(name.lstrip("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name.lstrip("/"), "description": description})
    key, scope, language = _commands_key(params)
    if cleaned:
        ctx.state.commands[key] = {"scope": scope, "language_code": language, "commands": cleaned}
    else:
        ctx.state.commands.pop(key, None)
    ctx.state.notify()
    return True


@_method("deleteMyCommands")
async def delete_my_commands(ctx: CallContext, params: Params) -> Any:
    key, _, _ = _commands_key(params)
    ctx.state.commands.pop(key, None)
    ctx.state.notify()
    return True


@_method("getMyCommands")
async def get_my_commands(ctx: CallContext, params: Params) -> Any:
    key, _, _ = _commands_key(params)
    entry = ctx.state.commands.get(key)
    return list(entry["commands"]) if entry else []


async def _accept(ctx: CallContext, params: Params) -> Any:
    return True


for _name in (
    "close",
    "logOut",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
):
    _method(_name)(_accept)


def new_callback_query_id() -> str:
    """Telegram's ids are large decimal strings; tests must not treat them as ints."""
    return str(secrets.randbits(63))
