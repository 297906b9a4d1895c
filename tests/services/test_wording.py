"""A day in words, as CLDR writes it, without carrying Babel in the bot's memory."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from babel.dates import format_skeleton

from chat.i18n import Translator
from services.wording import day_text

LOCALES = {"zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_HK", "en": "en_GB"}


@pytest.mark.parametrize("language", list(LOCALES))
def test_every_day_of_a_leap_year_reads_as_babel_writes_it(language: str) -> None:
    tr = Translator(language)
    first = date(2028, 1, 1)
    for offset in range(366):
        day = first + timedelta(days=offset)
        assert day_text(day, tr) == format_skeleton("MMMd", day, locale=LOCALES[language])


def test_a_day_in_each_language() -> None:
    assert day_text(date(2026, 7, 1), Translator("zh_Hans")) == "7月1日"
    assert day_text(date(2026, 7, 1), Translator("zh_Hant")) == "7月1日"
    assert day_text(date(2026, 9, 30), Translator("en")) == "30 Sept"
