"""Phone numbers as residents give them — typed, or shared from Telegram (which often drops
the plus) — from the mainland, Hong Kong, Macau, Taiwan and abroad, kept in E.164."""

from __future__ import annotations

import pytest

from chat.forms import Invalid
from chat.i18n import Translator
from chat.widgets import parse_phone

EN = Translator("en")


@pytest.mark.parametrize(
    ("given", "shared", "e164"),
    [
        ("13812345678", False, "+8613812345678"),
        ("138 1234 5678", False, "+8613812345678"),
        ("+86 138-1234-5678", False, "+8613812345678"),
        ("8613812345678", True, "+8613812345678"),
        ("0937-6221234", False, "+869376221234"),  # a Jiayuguan landline
        ("85291234567", True, "+85291234567"),  # Hong Kong, shared without the plus
        ("+852 9123 4567", False, "+85291234567"),
        ("852 9123 4567", False, "+85291234567"),
        ("0085291234567", False, "+85291234567"),
        ("85366123456", True, "+85366123456"),  # Macau
        ("+853 6612 3456", False, "+85366123456"),
        ("886912345678", True, "+886912345678"),  # Taiwan
        ("+886 912 345 678", False, "+886912345678"),
        ("14155552671", True, "+14155552671"),  # the United States
        ("+1 (415) 555-2671", False, "+14155552671"),
        ("447911123456", True, "+447911123456"),  # the United Kingdom
        ("+44 7911 123456", False, "+447911123456"),
    ],
)
def test_a_number_from_anywhere_is_kept_in_e164(given: str, shared: bool, e164: str) -> None:
    assert parse_phone(given, EN, international=shared) == e164


@pytest.mark.parametrize("given", ["12345", "138123456789012", "hello", "+852 12", ""])
def test_what_is_not_a_number_is_re_asked_with_examples(given: str) -> None:
    with pytest.raises(Invalid) as bad:
        parse_phone(given, EN)
    assert "13812345678" in bad.value.problem and "+852" in bad.value.problem
