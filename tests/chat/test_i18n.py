"""Every text a user can read is translated into all three languages, placeholders intact."""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest

from chat.i18n import LANGUAGES, Translator, catalog, language_from_telegram

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from i18n import template  # type: ignore[import-not-found]  # noqa: E402

TAGS = re.compile(r"</?[a-z-]+")


def placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)


def key(msgid: object) -> str:
    return str(msgid[0]) if isinstance(msgid, tuple | list) else str(msgid)


def ids_in_code() -> set[str]:
    return {key(m.id) for m in template() if m.id}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_text_in_the_code_is_in_the_catalog(language: str) -> None:
    in_catalog = {key(m.id) for m in catalog(language) if m.id}
    missing = ids_in_code() - in_catalog
    assert not missing, f"run `python scripts/i18n.py extract`; missing in {language}: {missing}"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_text_is_translated_with_its_placeholders_and_tags(language: str) -> None:
    for message in catalog(language):
        if not message.id:
            continue
        msgid = key(message.id)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgstr in (str(form or "") for form in forms):
            assert msgstr, f"{language}: untranslated: {msgid!r}"
            assert placeholders(msgid) == placeholders(msgstr), f"{language}: {msgid!r}"
            assert sorted(TAGS.findall(msgid)) == sorted(TAGS.findall(msgstr)), (
                f"{language}: {msgid!r}"
            )


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_bot_reads_every_text_as_the_catalog_has_it(language: str) -> None:
    """The compiled .mo files (what the bot reads) are up to date with the .po catalogs."""
    tr = Translator(language)
    for message in catalog(language):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            forms = message.string
            assert tr._texts.ngettext(singular, plural, 1) == forms[0], singular
            assert tr._texts.ngettext(singular, plural, 5) == forms[-1], singular
        else:
            assert tr._texts.gettext(str(message.id)) == message.string, message.id


def test_a_text_with_a_number_takes_the_form_the_number_needs() -> None:
    one, many = (
        "You are released after {n} negative test.",
        "You are released after {n} negative tests.",
    )
    assert Translator("en").ngettext(one, many, 1) == "You are released after 1 negative test."
    assert Translator("en").ngettext(one, many, 2) == "You are released after 2 negative tests."
    assert "2次" in Translator("zh_Hans").ngettext(one, many, 2)


def test_the_language_follows_telegram_until_the_user_chooses() -> None:
    assert language_from_telegram("zh-hans") == "zh_Hans"
    assert language_from_telegram("zh-TW") == "zh_Hant"
    assert language_from_telegram("en-GB") == "en"
    assert language_from_telegram("de") == "zh_Hans"
    assert language_from_telegram(None) == "zh_Hans"


def test_a_translator_formats_and_falls_back_to_the_id() -> None:
    assert (
        Translator("en")("Language set: {language}.", language="English")
        == "Language set: English."
    )
    assert "English" in Translator("zh_Hans")("Language set: {language}.", language="English")
    assert Translator("xx")("not a known text") == "not a known text"
