"""The form engine: a conversation is a table of steps, each asking one question with a widget.

A widget splits what it shows (`prompt`, pure) from what it does with an answer (`take`,
returning Accept, Retry or Redraw). The engine does the rest the same way for every step:
stale or forged buttons, stickers where text is expected, re-asking with an example, editing
the button message in place to show the answer, and moving to the step the table names next.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from chat.contract import (
    Button,
    Buttons,
    Edit,
    Incoming,
    KeyButton,
    Keys,
    Kind,
    Reply,
    Send,
    Toast,
    rows,
)
from chat.i18n import N_, Translator
from models.chat import ChatUser
from rules.policy import Policy, load_policy

DEFAULT_POLICY = "jiayuguan"

Answers = dict[str, Any]
# Keys the engine itself keeps among the answers start with "_" and are never shown.
RETURN_TO = "_return_to"
# Among the answers: the question to come back to after /cancel or /language.
RESUME = "_resume"
# The step of a conversation with no question open (after /cancel, or between flows).
PAUSED = "paused"
SEPARATOR = "|"


@dataclass
class Turn:
    """What a step can see while it handles one event."""

    event: Incoming
    tr: Translator
    answers: Answers
    now: datetime
    zone: ZoneInfo
    session: AsyncSession
    user: ChatUser
    # Values every text may use, e.g. {retention_days} in the privacy notice.
    facts: dict[str, Any] = field(default_factory=dict)
    # The local rules that turn a report into a plan.
    policy: Policy = field(default_factory=lambda: load_policy(DEFAULT_POLICY))
    # Set by a flow's finish to carry on with another flow's step (welcome → report).
    goto: str | None = None
    # What a widget's getter loaded for this turn (e.g. the areas to choose from).
    view: dict[str, Any] = field(default_factory=dict)

    def say(self, msgid: str, **values: Any) -> str:
        return self.tr(msgid, **{**self.facts, **values})


@dataclass(frozen=True)
class Prompt:
    text: str
    buttons: Buttons = ()
    keyboard: Keys = ()


@dataclass(frozen=True)
class Accept:
    value: Any
    # How the answer is echoed under the question once it is taken (None: the value as text).
    shown: str | None = None


@dataclass(frozen=True)
class Retry:
    problem: str


@dataclass(frozen=True)
class Redraw:
    """Stay on this step and redraw its live message (a multi-select toggled)."""


@dataclass(frozen=True)
class Jump:
    """Go to another step now and come back here after its section (edit from a summary)."""

    step: str


Outcome = Accept | Retry | Redraw | Jump


class Invalid(Exception):
    """Raised by a parser with a translated explanation of what is wrong."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class Widget(ABC):
    key: str
    # True for widgets that show a reply keyboard, which must be removed once answered.
    keyboard_after_answer = False

    async def load(self, turn: Turn, step: str) -> None:  # noqa: B027 (most need nothing)
        """The getter: fetch what `prompt` and `take` need (into turn.view) before either runs."""

    @abstractmethod
    def prompt(self, turn: Turn, step: str) -> Prompt: ...

    @abstractmethod
    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        """`pressed` is the value of an inline button of this step, else None (text/contact)."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # a msgid, translated when shown


def option_buttons(turn: Turn, step: str, options: tuple[Option, ...], width: int) -> Buttons:
    return rows(
        *(Button(turn.tr(o.label), f"{step}{SEPARATOR}{o.value}") for o in options), width=width
    )


@dataclass(frozen=True)
class Choice(Widget):
    """One answer from a fixed list, by button or by typing the label."""

    key: str
    question: str
    options: tuple[Option, ...]
    width: int = 2

    def prompt(self, turn: Turn, step: str) -> Prompt:
        return Prompt(turn.say(self.question), option_buttons(turn, step, self.options, self.width))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        typed = (turn.event.text or "").strip().casefold()
        for option in self.options:
            label = turn.tr(option.label)
            if pressed == option.value or (pressed is None and typed == label.casefold()):
                return Accept(option.value, shown=label)
        return Retry(turn.tr("Please choose one of the buttons."))


Parser = Callable[[str, Turn], Any]


@dataclass(frozen=True)
class Text(Widget):
    """A typed answer, checked by `parse`, which raises Invalid with the reason."""

    key: str
    question: str
    example: str
    parse: Parser
    max_length: int = 200
    skip: str | None = None  # a msgid for an optional question's "skip" button
    # Common answers offered as buttons; pressing one is the same as typing it.
    quick: tuple[str, ...] = ()

    def prompt(self, turn: Turn, step: str) -> Prompt:
        buttons: Buttons = rows(*(Button(q, f"{step}{SEPARATOR}={q}") for q in self.quick), width=4)
        if self.skip:
            buttons = (*buttons, (Button(turn.tr(self.skip), f"{step}{SEPARATOR}skip"),))
        return Prompt(turn.say(self.question), buttons)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "skip" and self.skip:
            return Accept(None, shown=turn.tr(self.skip))
        if pressed is not None and pressed.startswith("=") and pressed[1:] in self.quick:
            text = pressed[1:]
        elif pressed is not None:
            return Retry(turn.tr("Please type your answer."))
        else:
            text = (turn.event.text or "").strip()
        if not text:
            return Retry(turn.tr("Please type your answer."))
        if len(text) > self.max_length:
            return Retry(turn.tr("That is too long: at most {n} characters.", n=self.max_length))
        try:
            value = self.parse(text, turn)
        except Invalid as bad:
            return Retry(bad.problem)
        return Accept(value)


def plain_text(text: str, turn: Turn) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class MultiSelect(Widget):
    """Several answers from a list, toggled on one live message, closed with "done".

    Choosing `none_value` clears the others (and the other way round).
    """

    key: str
    question: str
    options: tuple[Option, ...]
    none_value: str | None = None
    width: int = 2

    @property
    def draft(self) -> str:
        return f"_draft_{self.key}"

    def prompt(self, turn: Turn, step: str) -> Prompt:
        chosen = set(turn.answers.get(self.draft, []))
        buttons = [
            Button(
                ("✅ " if o.value in chosen else "▫️ ") + turn.tr(o.label),
                f"{step}{SEPARATOR}{o.value}",
            )
            for o in self.options
        ]
        done = Button(turn.tr("Done"), f"{step}{SEPARATOR}done")
        return Prompt(turn.say(self.question), (*rows(*buttons, width=self.width), (done,)))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        chosen: list[str] = list(turn.answers.get(self.draft, []))
        values = [o.value for o in self.options]
        if pressed == "done":
            if not chosen:
                return Retry(turn.tr("Choose at least one, then press Done."))
            turn.answers.pop(self.draft, None)
            ordered = [v for v in values if v in chosen]
            labels = {o.value: turn.tr(o.label) for o in self.options}
            return Accept(ordered, shown=", ".join(labels[v] for v in ordered))
        if pressed not in values:
            return Retry(turn.tr("Please use the buttons, then press Done."))
        if pressed in chosen:
            chosen.remove(pressed)
        elif pressed == self.none_value:
            chosen = [pressed]
        else:
            chosen = [v for v in chosen if v != self.none_value] + [pressed]
        turn.answers[self.draft] = chosen
        return Redraw()


# A step whose `next` is END finishes its flow; with next None the table's next row follows.
END = "__end__"
Next = str | Callable[[Answers], str | None] | None


@dataclass(frozen=True)
class Step:
    name: str
    widget: Widget
    next: Next = None
    # What taking the answer changes beyond the answers themselves (e.g. the language).
    effect: Callable[[Turn], None] | None = None
    # Steps that belong to this one's section: when the user edits from the summary, these
    # are still asked before going back to it (a transport's number after the transport).
    inner: tuple[str, ...] = ()


Finish = Callable[[Turn], Awaitable[list[Reply]]]
# Every step of every flow by its name: the conversation row stores only the name.
STEPS: dict[str, tuple[Flow, Step]] = {}


@dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]
    finish: Finish
    by_name: Mapping[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {s.name: s for s in self.steps})
        for step in self.steps:
            known = STEPS.get(step.name)
            if known is not None and known[0].name != self.name:
                raise ValueError(f"step {step.name!r} is in flows {known[0].name} and {self.name}")
            STEPS[step.name] = (self, step)

    @property
    def first(self) -> Step:
        return self.steps[0]

    def following(self, step: Step, answers: Answers) -> str | None:
        if step.next is None:
            index = self.steps.index(step)
            return self.steps[index + 1].name if index + 1 < len(self.steps) else None
        following = step.next(answers) if callable(step.next) else step.next
        return None if following == END else following


async def ask(turn: Turn, step: Step) -> list[Reply]:
    turn.view = {}
    await step.widget.load(turn, step.name)
    prompt = step.widget.prompt(turn, step.name)
    return [Send(prompt.text, buttons=prompt.buttons, keyboard=prompt.keyboard)]


@dataclass
class Advance:
    """What the engine decided: the replies, and the step to be on now (None: flow finished)."""

    replies: list[Reply]
    step: str | None


async def answer(turn: Turn, flow: Flow, step: Step) -> Advance:
    event, tr = turn.event, turn.tr
    turn.view = {}
    await step.widget.load(turn, step.name)
    pressed: str | None = None
    if event.kind is Kind.BUTTON:
        owner, _, pressed = (event.button or "").partition(SEPARATOR)
        if owner != step.name:
            # A button from an earlier question (or made up): nothing changes, ask again.
            return Advance(
                [Toast(tr("That question is closed.")), *await ask(turn, step)], step.name
            )
    elif event.kind is Kind.OTHER:
        return Advance(
            [Send(tr("Please answer with text or the buttons.")), *await ask(turn, step)], step.name
        )
    elif event.kind is Kind.EDITED:
        return Advance(
            [
                Send(tr("I only read new messages. Please send your answer again.")),
                *await ask(turn, step),
            ],
            step.name,
        )

    outcome = step.widget.take(turn, pressed)
    if isinstance(outcome, Retry):
        replies: list[Reply] = [Send(outcome.problem)]
        if event.kind is Kind.BUTTON:
            replies = [Toast(outcome.problem)]
            if event.message_id is not None:
                return Advance(replies, step.name)
        return Advance([*replies, *await ask(turn, step)], step.name)
    if isinstance(outcome, Redraw):
        # The widget's state moved on: it may need fresh data (the next level of areas).
        turn.view = {}
        await step.widget.load(turn, step.name)
        redrawn = step.widget.prompt(turn, step.name)
        if event.kind is Kind.BUTTON and event.message_id is not None:
            return Advance(
                [Toast(""), Edit(event.message_id, redrawn.text, redrawn.buttons)], step.name
            )
        return Advance(
            [Send(redrawn.text, buttons=redrawn.buttons, keyboard=redrawn.keyboard)], step.name
        )

    if isinstance(outcome, Jump):
        turn.answers[RETURN_TO] = step.name
        replies = [Toast("")] if event.kind is Kind.BUTTON else []
        return Advance([*replies, *await ask(turn, flow.by_name[outcome.step])], outcome.step)

    shown = outcome.shown if outcome.shown is not None else str(outcome.value)
    replies = []
    if event.kind is Kind.BUTTON and event.message_id is not None:
        # The question as it was asked (before the answer's effects change what it shows).
        question = step.widget.prompt(turn, step.name).text
        replies += [Toast(""), Edit(event.message_id, f"{question}\n\n✅ {html.escape(shown)}")]
    turn.answers[step.widget.key] = outcome.value
    if step.effect:
        step.effect(turn)
    if step.widget.keyboard_after_answer:
        # The share-contact keyboard has done its job; take it away with a short echo.
        replies.append(Send(f"✅ {html.escape(shown)}", remove_keyboard=True))
    following = flow.following(step, turn.answers)
    if turn.answers.get(RETURN_TO) and following not in step.inner:
        following = turn.answers.pop(RETURN_TO)
    if following is None:
        replies += await flow.finish(turn)
        if turn.goto is not None:
            replies += await ask(turn, STEPS[turn.goto][1])
        return Advance(replies, turn.goto)
    return Advance([*replies, *await ask(turn, flow.by_name[following])], following)


@dataclass(frozen=True)
class Phone(Widget):
    """A phone number by Telegram's share-contact button, or typed."""

    key: str
    question: str
    region: str = "CN"
    keyboard_after_answer = True

    def prompt(self, turn: Turn, step: str) -> Prompt:
        share = KeyButton(turn.tr("📱 Share my phone number"), request_contact=True)
        return Prompt(turn.say(self.question), keyboard=((share,),))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        contact = turn.event.contact
        raw = contact.phone_number if contact else (turn.event.text or "")
        try:
            return Accept(parse_phone(raw, turn.tr, self.region))
        except Invalid as bad:
            return Retry(bad.problem)


def parse_phone(raw: str, tr: Translator, region: str = "CN") -> str:
    """A phone number in E.164, or Invalid with an example."""
    cleaned = raw.strip()
    if cleaned.isdigit() and len(cleaned) > 11 and not cleaned.startswith("0"):
        cleaned = "+" + cleaned  # shared contacts come without the plus
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(tr("That does not look like a phone number. Example: 13812345678"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


__all__ = [
    "N_",
    "Accept",
    "Answers",
    "Choice",
    "Flow",
    "Invalid",
    "MultiSelect",
    "Option",
    "Prompt",
    "Redraw",
    "Retry",
    "Step",
    "Text",
    "Turn",
    "Widget",
    "answer",
    "ask",
]
