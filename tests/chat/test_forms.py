"""The engine on its own, with a made-up flow and no database: loops as child flows that hand
their item back, sections edited from a summary, stale buttons, and tables checked when built."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chat.buttons import answer_data
from chat.contract import Edit, Incoming, Kind, Reply, Send, Toast
from chat.forms import (
    CALLS,
    END,
    Accept,
    Branch,
    Call,
    Choice,
    Flow,
    Flows,
    Jump,
    Option,
    Outcome,
    Prompt,
    Step,
    Text,
    Turn,
    Widget,
    answer,
    plain_text,
)
from chat.i18n import Translator

MORE = (Option("add", "Add"), Option("done", "Done adding"))


def after_more(answers: dict[str, Any]) -> str | Call:
    return Call("item") if answers.get("more") == "add" else "ask_colour"


class Summary(Widget[Turn]):
    key = "summary"

    def prompt(self, turn: Turn, step: str) -> Prompt:
        return Prompt(f"name={turn.answers.get('name')} items={turn.answers.get('items')}")

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "ok":
            return Accept("ok")
        return Jump(pressed or "")


finished: list[dict[str, Any]] = []


async def item_done(turn: Turn) -> list[Reply]:
    turn.done({"item": turn.answers.pop("item_name"), "size": turn.answers.pop("item_size")})
    return []


async def form_done(turn: Turn) -> list[Reply]:
    finished.append(dict(turn.answers))
    return [Send("thanks")]


ITEM = Flow(
    "item",
    (
        Step("ask_item_name", Text("item_name", "Item?", "", plain_text)),
        Step("ask_item_size", Choice("item_size", "Size?", (Option("s", "S"), Option("l", "L")))),
    ),
    finish=item_done,
)
FORM = Flow(
    "form",
    (
        Step("ask_name", Text("name", "Name?", "", plain_text), section="who"),
        Step("ask_nick", Text("nick", "Nickname?", "", plain_text), section="who"),
        Step(
            "ask_more",
            Choice("more", "More items?", MORE),
            next=Branch(after_more, (Call("item"), "ask_colour")),
            on_result=lambda turn, item: turn.answers.setdefault("items", []).append(item),
        ),
        Step("ask_colour", Text("colour", "Colour?", "", plain_text)),
        Step("ask_summary", Summary(), next=END),
    ),
    finish=form_done,
)
FLOWS = Flows((FORM, ITEM))


class Person:
    """One user's side of the engine: the step they are on and the answers so far."""

    def __init__(self) -> None:
        self.step = "ask_name"
        self.answers: dict[str, Any] = {}
        self.replies: list[Reply] = []

    async def _event(self, kind: Kind, **fields: Any) -> list[Reply]:
        event = Incoming(user_id=1, chat_id=1, kind=kind, message_id=10, **fields)
        turn = Turn(
            event=event,
            tr=Translator("en"),
            answers=self.answers,
            now=datetime(2026, 7, 1, tzinfo=UTC),
            zone=ZoneInfo("Asia/Shanghai"),
        )
        advance = await answer(turn, FLOWS, self.step)
        self.answers = turn.answers
        self.step = advance.step or ""
        self.replies = advance.replies
        return advance.replies

    async def say(self, text: str) -> list[Reply]:
        return await self._event(Kind.TEXT, text=text)

    async def press(self, value: str, step: str | None = None) -> list[Reply]:
        return await self._event(
            Kind.BUTTON, button=answer_data(step or self.step, value), callback_id="c"
        )

    def asked(self) -> str:
        return next(r.text for r in reversed(self.replies) if isinstance(r, Send))


async def test_a_loop_is_a_child_flow_whose_items_come_back_to_the_question_that_called_it() -> (
    None
):
    person = Person()
    await person.say("Li Na")
    await person.say("Nana")
    assert person.asked() == "More items?"
    await person.press("add")
    assert person.step == "ask_item_name" and person.answers[CALLS] == ["ask_more"]
    await person.say("umbrella")
    await person.press("l")
    # Back at the question that called the child, with the item handed over.
    assert person.step == "ask_more"
    assert person.answers["items"] == [{"item": "umbrella", "size": "l"}]
    assert CALLS not in person.answers and "item_name" not in person.answers
    await person.press("add")
    await person.say("hat")
    await person.press("s")
    await person.press("done")
    assert person.step == "ask_colour"
    assert [i["item"] for i in person.answers["items"]] == ["umbrella", "hat"]


async def test_editing_a_section_from_the_summary_asks_the_whole_section_then_returns() -> None:
    person = Person()
    for text in ("Li Na", "Nana"):
        await person.say(text)
    await person.press("done")
    await person.say("blue")
    assert person.step == "ask_summary"
    await person.press("ask_name")
    assert person.step == "ask_name"
    await person.say("Wang Fang")
    # The nickname is in the same section, so it is asked too; then back to the summary.
    assert person.step == "ask_nick"
    await person.say("Fang")
    assert person.step == "ask_summary"
    assert "name=Wang Fang" in person.asked()
    await person.press("ok")
    assert person.step == ""
    assert finished[-1]["name"] == "Wang Fang" and finished[-1]["nick"] == "Fang"


async def test_a_button_of_another_question_changes_nothing() -> None:
    person = Person()
    await person.say("Li Na")
    replies = await person.press("add", step="ask_more")
    assert person.step == "ask_nick"
    assert isinstance(replies[0], Toast) and replies[0].text == "That question is closed."
    assert person.answers == {"name": "Li Na"}


async def test_an_accepted_button_answer_is_shown_under_its_question() -> None:
    person = Person()
    await person.say("Li Na")
    await person.say("Nana")
    replies = await person.press("done")
    edit = next(r for r in replies if isinstance(r, Edit))
    assert edit.message_id == 10 and edit.text.endswith("✅ Done adding")


def test_the_table_is_checked_when_the_flows_are_registered() -> None:
    async def nothing(turn: Turn) -> list[Reply]:
        return []

    lost = Flow("lost", (Step("ask_x", Text("x", "X?", "", plain_text), next="ask_y"),), nothing)
    with pytest.raises(ValueError, match="unknown step ask_y"):
        Flows((lost,))
    calls = Flow("calls", (Step("ask_z", Choice("z", "Z?", MORE), next=Call("nowhere")),), nothing)
    with pytest.raises(ValueError, match="unknown flow nowhere"):
        Flows((calls,))
    with pytest.raises(ValueError, match="is in flows form and again"):
        Flows((FORM, Flow("again", (FORM.steps[0],), nothing)))


def test_a_branch_may_only_lead_where_it_says() -> None:
    branch = Branch(lambda answers: "ask_elsewhere", ("ask_colour",))
    with pytest.raises(ValueError, match="not one of its targets"):
        branch({})
