"""Formatted-text parsing that mirrors Telegram's server-side checks.

Bots break in production on markup that Telegram refuses (an unescaped ``<`` in a user's name,
a stray ``.`` in MarkdownV2). Parsing here with the same strictness makes those bugs show up in
tests instead. Offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EntityParseError",
    "bot_command_entities",
    "parse_formatted",
    "utf16_len",
]


# The URL schemes a link (<a href>) may have; Telegram refuses a message with any other.
_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton"})


class EntityParseError(ValueError):
    """Raised with the text Telegram puts after "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)

_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_TG_USER_RE = re.compile(r"^tg://user\?id=(\d{1,20})$")


@dataclass
class _OpenTag:
    tag: str
    start: int  # UTF-16 offset in the output
    byte_offset: int
    attrs: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    muted: bool = False


class _Output:
    """Accumulates plain text while tracking its UTF-16 length for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += utf16_len(piece)

    def text(self) -> str:
        return "".join(self.parts)


def _decode_entity(text: str, index: int) -> tuple[str, int] | None:
    match = _ENTITY_RE.match(text, index)
    if match is None:
        return None
    named, decimal, hexadecimal = match.groups()
    if named is not None:
        return _NAMED_ENTITIES[named], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _decode_attr_value(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        decoded = _decode_entity(match.group(0), 0)
        return decoded[0] if decoded else match.group(0)

    return _ENTITY_RE.sub(replace, value)


def _parse_attrs(text: str, index: int, tag: str, begin_byte: int) -> tuple[dict[str, str], int]:
    """Parses attributes up to and including ``>``; returns them and the index after ``>``."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while index < n and text[index].isspace():
            index += 1
        if index >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin_byte}")
        if text[index] == ">":
            return attrs, index + 1
        start = index
        while index < n and (text[index].isalnum() or text[index] in "-_"):
            index += 1
        name = text[start:index].lower()
        if not name:
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {begin_byte}"
            )
        while index < n and text[index].isspace():
            index += 1
        if index < n and text[index] == "=":
            index += 1
            while index < n and text[index].isspace():
                index += 1
            if index >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_byte}")
            quote = text[index]
            if quote in "\"'":
                end = text.find(quote, index + 1)
                if end < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_byte}")
                value = text[index + 1 : end]
                index = end + 1
            else:
                start = index
                while index < n and not text[index].isspace() and text[index] != ">":
                    index += 1
                value = text[start:index]
            attrs[name] = _decode_attr_value(value)
        else:
            attrs[name] = ""


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Output()
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    index = 0
    n = len(text)
    while index < n:
        char = text[index]
        if char == "&":
            decoded = _decode_entity(text, index)
            if decoded is None:
                raise EntityParseError(
                    'Character "&" must be escaped as "&amp;" unless it starts an HTML entity '
                    f"at byte offset {_byte_offset(text, index)}"
                )
            out.add(decoded[0])
            index = decoded[1]
            continue
        if char != "<":
            start = index
            while index < n and text[index] not in "<&":
                index += 1
            out.add(text[start:index])
            continue
        begin = index
        begin_byte = _byte_offset(text, begin)
        index += 1
        if index < n and text[index] == "/":
            end = text.find(">", index)
            if end < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {begin_byte}")
            name = text[index + 1 : end].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin_byte}")
            top = stack[-1]
            if name != top.tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin_byte}, expected "</{top.tag}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            _close_tag(top, out.length, stack, entities)
            index = end + 1
            continue
        start = index
        while index < n and (text[index].isalnum() or text[index] in "-_"):
            index += 1
        name = text[start:index].lower()
        if name not in HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin_byte}')
        attrs, index = _parse_attrs(text, index, name, begin_byte)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError('Tag "tg-emoji" must have a numeric attribute "emoji-id"')
        # Telegram accepts formatting inside code and pre but drops it; so does the emulator.
        muted = any(t.muted or t.tag in ("code", "pre") for t in stack) and not (
            stack[-1].tag == "pre" and name == "code"
        )
        stack.append(
            _OpenTag(tag=name, start=out.length, byte_offset=begin_byte, attrs=attrs, muted=muted)
        )
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def _close_tag(
    tag: _OpenTag, end: int, stack: list[_OpenTag], entities: list[dict[str, Any]]
) -> None:
    length = end - tag.start
    if tag.tag == "code" and stack and stack[-1].tag == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as in Telegram.
        css = tag.attrs.get("class", "")
        if css.startswith("language-") and len(css) > len("language-"):
            stack[-1].language = css[len("language-") :]
        return
    if length <= 0 or tag.muted:
        return
    extra: dict[str, Any] = {}
    if tag.tag == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return
        if href.split(":", 1)[0].lower() not in _LINK_SCHEMES:
            # Telegram takes http(s), tg and ton links only: tel:, mailto:, a bare path… are
            # refused (the whole message), not shown as plain text.
            raise EntityParseError(f'Unsupported URL protocol in "{href}"')
        user = _TG_USER_RE.match(href)
        if user:
            kind = "text_mention"
            extra["user"] = {"id": int(user.group(1)), "is_bot": False, "first_name": ""}
        else:
            kind = "text_link"
            extra["url"] = href
    elif tag.tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.tag == "tg-emoji":
        kind = "custom_emoji"
        extra["custom_emoji_id"] = tag.attrs["emoji-id"]
    else:
        kind = _SIMPLE_TYPES[tag.tag]
        if tag.tag == "pre" and tag.language:
            extra["language"] = tag.language
    entities.append({"type": kind, "offset": tag.start, "length": length, **extra})


# --- MarkdownV2 -------------------------------------------------------------------------------

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
}
_MDV2_TYPES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A faithful-enough MarkdownV2 parser: the reserved-character rule is what bots trip on."""
    out = _Output()
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, int]] = []  # marker, utf16 start, byte offset
    link_starts: list[tuple[int, int]] = []
    index = 0
    n = len(text)
    quote_start: int | None = None
    while index < n:
        char = text[index]
        at_line_start = index == 0 or text[index - 1] == "\n"
        if at_line_start and char == ">":
            if quote_start is None:
                quote_start = out.length
            index += 1
            continue
        if at_line_start and quote_start is not None:
            _close_quote(out, quote_start, entities)
            quote_start = None
        if char == "\\":
            if index + 1 < n and ord(text[index + 1]) < 127:
                out.add(text[index + 1])
                index += 2
                continue
            out.add(char)
            index += 1
            continue
        if char == "`":
            block = text.startswith("```", index)
            marker = "```" if block else "`"
            end = _find_unescaped(text, marker, index + len(marker))
            if end < 0:
                kind = "Pre" if block else "Code"
                raise EntityParseError(
                    f"Can't find end of {kind} entity at byte offset {_byte_offset(text, index)}"
                )
            inner = text[index + len(marker) : end]
            language = None
            if block:
                first, sep, rest = inner.partition("\n")
                if sep and first and " " not in first:
                    language, inner = first, rest
                elif sep and not first:
                    inner = rest
            inner = re.sub(r"\\([`\\])", r"\1", inner)
            start = out.length
            out.add(inner)
            if out.length > start:
                entity: dict[str, Any] = {
                    "type": "pre" if block else "code",
                    "offset": start,
                    "length": out.length - start,
                }
                if language:
                    entity["language"] = language
                entities.append(entity)
            index = end + len(marker)
            continue
        if char == "[":
            link_starts.append((out.length, _byte_offset(text, index)))
            index += 1
            continue
        if char == "]" and link_starts:
            start, byte_offset = link_starts.pop()
            if not text.startswith("(", index + 1):
                raise EntityParseError(f"Can't find end of a url at byte offset {byte_offset}")
            end = _find_unescaped(text, ")", index + 2)
            if end < 0:
                raise EntityParseError(f"Can't find end of a url at byte offset {byte_offset}")
            url = re.sub(r"\\([)\\])", r"\1", text[index + 2 : end])
            if out.length > start:
                user = _TG_USER_RE.match(url)
                if user:
                    entities.append(
                        {
                            "type": "text_mention",
                            "offset": start,
                            "length": out.length - start,
                            "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""},
                        }
                    )
                else:
                    entities.append(
                        {
                            "type": "text_link",
                            "offset": start,
                            "length": out.length - start,
                            "url": url,
                        }
                    )
            index = end + 1
            continue
        marker = ""
        if text.startswith("__", index):
            marker = "__"
        elif text.startswith("||", index):
            marker = "||"
        elif char in "*_~":
            marker = char
        if marker:
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if out.length > start:
                    entities.append(
                        {"type": _MDV2_TYPES[marker], "offset": start, "length": out.length - start}
                    )
            elif any(m == marker for m, _, _ in stack):
                raise EntityParseError(
                    f"Can't find end of {_MDV2_NAMES[stack[-1][0]]} entity at byte offset "
                    f"{stack[-1][2]}"
                )
            else:
                stack.append((marker, out.length, _byte_offset(text, index)))
            index += len(marker)
            continue
        if char in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        index += 1
    if quote_start is not None:
        _close_quote(out, quote_start, entities)
    if stack:
        marker, _, byte_offset = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[marker]} entity at byte offset {byte_offset}"
        )
    if link_starts:
        raise EntityParseError(
            "Character '[' is reserved and must be escaped with the preceding '\\'"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def _close_quote(out: _Output, start: int, entities: list[dict[str, Any]]) -> None:
    """A run of ``>`` lines is one blockquote; the line break ending it stays outside."""
    text = out.text()
    end = out.length - (1 if text.endswith("\n") else 0)
    if end > start:
        entities.append({"type": "blockquote", "offset": start, "length": end - start})


def _find_unescaped(text: str, marker: str, start: int) -> int:
    index = start
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text.startswith(marker, index):
            return index
        index += 1
    return -1


# --- legacy Markdown --------------------------------------------------------------------------

_LEGACY_TYPES = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: no nesting, and an unclosed marker is the usual failure."""
    out = _Output()
    entities: list[dict[str, Any]] = []
    index = 0
    n = len(text)
    while index < n:
        char = text[index]
        if char == "\\" and index + 1 < n and text[index + 1] in "_*`[":
            out.add(text[index + 1])
            index += 2
            continue
        if char in "*_`":
            marker = "```" if text.startswith("```", index) else char
            end = text.find(marker, index + len(marker))
            if end < 0:
                raise EntityParseError(
                    "Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(text, index)}"
                )
            start = out.length
            out.add(text[index + len(marker) : end])
            if out.length > start:
                entities.append(
                    {"type": _LEGACY_TYPES[marker], "offset": start, "length": out.length - start}
                )
            index = end + len(marker)
            continue
        if char == "[":
            close = text.find("](", index)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close < 0 or end < 0:
                raise EntityParseError(
                    "Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(text, index)}"
                )
            start = out.length
            out.add(text[index + 1 : close])
            if out.length > start:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": start,
                        "length": out.length - start,
                        "url": text[close + 2 : end],
                    }
                )
            index = end + 1
            continue
        out.add(char)
        index += 1
    return out.text(), entities


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Returns plain text and entities; raises EntityParseError or ValueError for bad modes."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError("unsupported parse_mode")


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks a leading ``/command`` (optionally ``@botname``) as a bot_command."""
    match = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?", text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
