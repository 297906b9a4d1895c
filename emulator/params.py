"""Request parameters as the Bot API receives them, and its error type.

Clients disagree on encoding: aiogram posts form data with JSON strings for objects, python-
telegram-bot does the same through httpx, and hand-written bots post JSON. Typed accessors that
accept both shapes keep the method code free of those differences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, hdrs

__all__ = ["MAX_BODY", "ApiError", "Params", "UploadedFile", "bad_request", "read_multipart"]

#: Telegram accepts uploads up to 50 MB; a little slack covers the multipart framing.
MAX_BODY = 52 * 1024 * 1024


class ApiError(Exception):
    """A Telegram-shaped failure: becomes ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class Params:
    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None or name in self.files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Integer')

    def require_int(self, name: str, missing: str | None = None) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def get_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Float')
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Float')

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.strip().lower() in _TRUE:
            return True
        if isinstance(value, str) and value.strip().lower() in _FALSE:
            return False
        raise bad_request(f'field "{name}" must be of type Boolean')

    def get_json(self, name: str, error: str | None = None) -> Any:
        """Objects arrive decoded in JSON bodies but as JSON text in forms and query strings."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error or f"can't parse {name} JSON object") from None
        return value

    def get_file(self, name: str) -> UploadedFile | str | None:
        """An upload under ``name``, one referenced as ``attach://x``, or a file_id/URL string."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise bad_request(f'field "{name}" must be of type InputFile or String')
        if value.startswith("attach://"):
            attached = self.files.get(value[len("attach://") :])
            if attached is None:
                raise bad_request(f"wrong HTTP URL specified: {name} attachment not found")
            return attached
        return value

    def loggable(self) -> dict[str, Any]:
        """Parameters for the request log, with uploads described rather than included."""
        logged: dict[str, Any] = {}
        for key, value in self.values.items():
            logged[key] = _maybe_json(key, value)
        for key, upload in self.files.items():
            logged[key] = {
                "upload": True,
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
            }
        return logged


_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
        "media",
    }
)


def _maybe_json(name: str, value: Any) -> Any:
    """Form values that hold JSON objects are decoded so the log reads like the call made."""
    if name in _JSON_FIELDS and isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def read_multipart(
    reader: MultipartReader, limit: int = MAX_BODY
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Reads form fields and uploads; a field that is not valid text is kept as an upload."""
    values: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    total = 0
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise bad_request("nested multipart bodies are not supported")
        name = part.name
        chunks: list[bytes] = []
        while chunk := await part.read_chunk():
            total += len(chunk)
            if total > limit:
                raise ApiError(413, "Request Entity Too Large")
            chunks.append(chunk)
        data = part.decode(b"".join(chunks))
        if not name:
            continue
        content_type = part.headers.get(hdrs.CONTENT_TYPE)
        if part.filename is not None:
            files[name] = UploadedFile(part.filename, content_type, bytes(data))
            continue
        try:
            values[name] = bytes(data).decode(part.get_charset("utf-8"))
        except (UnicodeDecodeError, LookupError):
            files[name] = UploadedFile(None, content_type, bytes(data))
    return values, files
