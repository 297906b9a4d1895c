"""Every text a user reads comes from the gettext catalogs in locales/ (a data package).

Message ids are the English texts. Code marks them with `tr("…")` (translated now, for the
reader's language) or `N_("…")` (a table entry, translated when shown); `pybabel extract`
with those keywords finds them, and tests/handlers/test_i18n.py fails on any id missing from
a catalog or left untranslated.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parents[1] / "locales"
DOMAIN = "returnee"
LANGUAGES: dict[str, str] = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_Hans"

# Telegram's language_code (IETF) to ours, for the first screen before the user chooses.
_TELEGRAM_CODES = {
    "zh-hant": "zh_Hant",
    "zh-tw": "zh_Hant",
    "zh-hk": "zh_Hant",
    "zh-mo": "zh_Hant",
}


def language_from_telegram(code: str | None) -> str:
    if not code:
        return DEFAULT_LANGUAGE
    code = code.lower().replace("_", "-")
    if code in _TELEGRAM_CODES:
        return _TELEGRAM_CODES[code]
    if code.startswith("zh"):
        return "zh_Hans"
    return "en" if code.startswith("en") else DEFAULT_LANGUAGE


def N_(msgid: str) -> str:
    return msgid


@cache
def catalog(language: str) -> Catalog:
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        return read_po(handle)


@cache
def _table(language: str) -> dict[str, str]:
    return {
        str(message.id): str(message.string)
        for message in catalog(language)
        if message.id and isinstance(message.id, str) and message.string
    }


class Translator:
    """Texts for one reader's language; falls back to the id (English) if a text is missing."""

    def __init__(self, language: str | None) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._texts = _table(self.language)

    def __call__(self, msgid: str, **values: Any) -> str:
        text = self._texts.get(msgid, msgid)
        return text.format(**values) if values else text
