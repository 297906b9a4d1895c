"""What a person typed is kept, less what cannot be seen: control characters, direction
overrides and isolates, zero-width characters."""

from __future__ import annotations

import pytest

from chat.contract import Contact, Incoming, Kind, cleaned


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Li\x00 Na\x07", "Li Na"),
        ("Wang\u202eFang", "WangFang"),  # right-to-left override
        ("\u202aa\u202bb\u202cc\u202dd\u202e", "abcd"),
        ("\u2066x\u2067y\u2068z\u2069", "xyz"),  # isolates
        ("张\u200b伟\u200c\u200d\u2060\ufeff", "张伟"),  # zero-width
        ("a\u200eb\u200fc\u061c", "abc"),  # direction marks
        ("第一行\n\t第二行 · 买买提·艾力 😀", "第一行\n\t第二行 · 买买提·艾力 😀"),
    ],
)
def test_invisible_characters_are_dropped(typed: str, kept: str) -> None:
    event = cleaned(
        Incoming(
            user_id=1,
            chat_id=1,
            kind=Kind.TEXT,
            first_name=typed,
            text=typed,
            args=typed,
            contact=Contact(phone_number="+86\u202e138", first_name=typed),
        )
    )
    assert event.text == event.first_name == event.args == kept
    assert event.contact is not None and event.contact.first_name == kept
    assert event.contact.phone_number == "+86138"
