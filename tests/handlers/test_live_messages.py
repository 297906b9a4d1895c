"""Only the newest question can be pressed: a question asked again (after a typo) is answered
on the message tapped, and older copies lose their buttons, so nobody taps a dead message."""

from __future__ import annotations

import pytest

from chat.buttons import read_answer
from tests.handlers.test_report import consent
from tests.support import Person, Shown

pytestmark = pytest.mark.usefixtures("areas")


def live(person: Person) -> list[Shown]:
    """The resident's messages that still carry buttons answering a question."""
    return [
        m for m in person.shown if any(read_answer(b.data)[0] for row in m.buttons for b in row)
    ]


async def test_a_picker_asked_again_after_a_typo_is_answered_on_the_message_tapped(
    resident: Person,
) -> None:
    await consent(resident)
    await resident.send("Li Na")
    await resident.send("13812345678")
    await resident.send("E12345678")
    first = resident.last
    await resident.send("somewhere")  # no community is called that: asked again
    again = resident.last
    assert again is not first and "name of your community" in again.text
    assert first.buttons == () and live(resident) == [again]
    await resident.press("雄关区")
    # The tapped message shows the streets now; the older copy stays as it was.
    assert again.edits == 1 and "新华街道" in again.labels
    assert first.edits == 0 and first.buttons == ()


async def test_through_a_whole_report_only_the_newest_question_has_buttons(
    resident: Person,
) -> None:
    await consent(resident)
    steps: list[tuple[str, str]] = [
        ("send", "Li Na"),
        ("send", "13812345678"),
        ("send", "E12345678"),
        ("send", "新华南路"),
        ("send", "3栋2单元501"),
        ("send", "maybe"),  # typed at a button question: asked again
        ("press", "I have just arrived"),
        ("send", "武汉"),
        ("send", "plane"),  # again
        ("press", "Train"),
        ("send", "G1234"),
        ("press", "No more places"),
        ("press", "No one more"),
        ("send", "fine"),  # again
        ("press", "All well"),
        ("press", "No test"),
    ]
    for how, value in steps:
        await (resident.send(value) if how == "send" else resident.press(value))
        older = [m.text[:40] for m in live(resident) if m is not resident.last]
        assert older == [], value
    assert "Please check your report" in resident.last.text


async def test_a_button_of_an_old_copy_pressed_anyway_changes_nothing_else(
    resident: Person,
) -> None:
    await consent(resident)
    await resident.send("Li Na")
    await resident.send("13812345678")
    await resident.send("E12345678")
    first = resident.last
    district = first.buttons[0][0]
    await resident.send("somewhere")
    again = resident.last
    # A client that still shows the old buttons (Telegram took the edit late) sends the press.
    before = [(m.message_id, m.text, m.buttons) for m in resident.shown]
    await resident.press_data(district.data, first.message_id)
    after = [(m.message_id, m.text, m.buttons) for m in resident.shown[: len(before)]]
    changed = [b[0] for b, a in zip(before, after, strict=True) if b != a]
    # At most the message pressed shows the answer; the newest copy is not redrawn elsewhere.
    assert set(changed) <= {first.message_id}
    assert again.edits == 0
