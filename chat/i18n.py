"""Every text a user reads comes from the gettext catalogs in locales/ (a data package).

Message ids are the English texts. Code marks them with `tr("…")` (translated now, for the
reader's language), `tr.ngettext("…", "…", n)` (a text with a number, in the form the number
takes) or `N_("…")` (a table entry, translated when shown). `python scripts/i18n.py extract`
finds them, updates the .po catalogs and compiles the .mo files the bot reads;
tests/chat/test_i18n.py fails on any id missing from a catalog, left untranslated, or not
compiled.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog


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
    """The catalog as written (.po), for tests and scripts/i18n.py; the bot reads the compiled
    .mo files through the standard library's gettext, which keeps Babel out of its memory."""
    from babel.messages.pofile import read_po

    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        return read_po(handle)


@cache
def _compiled(language: str) -> gettext.NullTranslations:
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    except FileNotFoundError:
        return gettext.NullTranslations()


class Translator:
    """Texts for one reader's language; falls back to the id (English) if a text is missing."""

    def __init__(self, language: str | None) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._texts = _compiled(self.language)

    def __reduce__(self) -> tuple[type[Translator], tuple[str]]:
        """Pickled as its language (services/drawing.py sends one to its child process)."""
        return (Translator, (self.language,))

    def __call__(self, msgid: str, **values: Any) -> str:
        text = self._texts.gettext(msgid)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The form for `n` in the reader's language ({n} is filled in): "1 negative test",
        "2 negative tests"; Chinese has one form."""
        return self._texts.ngettext(singular, plural, n).format(n=n, **values)

    @property
    def chinese(self) -> bool:
        return self.language.startswith("zh")

    def join(self, items: Iterable[str]) -> str:
        """A list as the reader writes it: 王小明、王小红 / Wang Fang, Li Na."""
        return ("、" if self.chinese else ", ").join(items)

    def clauses(self, items: Iterable[str]) -> str:
        """Parts of a sentence one after another: 38.1 °C，咳嗽 / 38.1 °C, cough."""
        return ("，" if self.chinese else ", ").join(items)

    def items(self, items: Iterable[str]) -> str:
        """Separate statements on one line: 已联系；已上门 / called; visited."""
        return ("；" if self.chinese else "; ").join(items)

    def label(self, label: str, value: str) -> str:
        """A label and its value: 地址：… / Address: …"""
        return f"{label}{'：' if self.chinese else ': '}{value}"

    def paren(self, text: str) -> str:
        """An aside in brackets, after a word: （逾期补报） / " (late)"."""
        return f"（{text}）" if self.chinese else f" ({text})"
