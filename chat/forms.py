"""The form engine: a conversation is a table of steps, each asking one question with a widget.

A widget splits what it needs (`load`, the getter), what it shows (`prompt`, pure) and what
it does with an answer (`take`, returning Accept, Retry, Redraw or Jump). The engine does the
rest the same way for every step: stale or forged buttons, stickers where text is expected,
re-asking with the reason, editing the button message in place to show the answer, and moving
to the step the table names next.

Flows are registered explicitly (`Flows((WELCOME, REPORT, …))`, as aiogram's
`SceneRegistry.add`): nothing is registered by importing a module. A loop is a child flow
(aiogram_dialog's sub-dialog): a step's `next` returns `Call(CHILD)`, the child's finish hands
its item back with `turn.done(item)`, and the calling step's `on_result` takes it.

The engine knows nothing of the domain and nothing of Telegram: a `Turn` carries the event,
the reader's translator, the answers, the time; an application subclasses it with what its
own steps need (its database session, its user, its rules).
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from chat.buttons import answer_button, read_answer
from chat.contract import Buttons, Edit, Incoming, Keys, Kind, Reply, Send, Toast, rows
from chat.i18n import Translator

Answers = dict[str, Any]
# Keys the engine itself keeps among the answers start with "_" and are never shown.
# Among the answers: the question to come back to after /cancel or /language.
RESUME = "_resume"
# Editing a section from a summary: {"back": the summary's step, "section": the section}.
EDITING = "_editing"
# The steps that called child flows and wait for their result, innermost last.
CALLS = "_calls"
# The step of a conversation with no question open (after /cancel, or between flows).
PAUSED = "paused"
# A step whose `next` is END finishes its flow; with next None the table's next row follows.
END = "__end__"
# The value of the "not this one?" button: back to the step named after it.
UNDO = "undo:"


@dataclass
class Turn:
    """What a step can see while it handles one event."""

    event: Incoming
    tr: Translator
    answers: Answers
    now: datetime
    zone: ZoneInfo
    # Values every text may use, e.g. {retention_days} in the privacy notice.
    facts: dict[str, Any] = field(default_factory=dict)
    # Set by a flow's finish to carry on with another flow's step (welcome → report).
    goto: str | None = None
    # What a widget's getter loaded for this turn (e.g. the areas to choose from, or the
    # name of the person a question is about); texts may use its values too.
    view: dict[str, Any] = field(default_factory=dict)
    # What a child flow hands back to the step that called it (see `done`).
    result: Any = None

    def say(self, msgid: str, **values: Any) -> str:
        return self.tr(msgid, **{**self.facts, **self.view, **values})

    def done(self, result: Any) -> None:
        """A child flow's finish: this is its item, for the calling step's `on_result`."""
        self.result = result


T = TypeVar("T", bound=Turn)
T_contra = TypeVar("T_contra", bound=Turn, contravariant=True)


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
    # Taken without asking (a place typed that matched exactly one): the next question
    # carries a button to come back and answer this one again.
    undo: bool = False


@dataclass(frozen=True)
class Retry:
    problem: str


@dataclass(frozen=True)
class Redraw:
    """Stay on this step and redraw its live message (a multi-select toggled)."""


@dataclass(frozen=True)
class Jump:
    """Go to another step now and come back here once its section is answered (edit from a
    summary). Sections nest by name: editing "origin" also asks "origin.abroad"."""

    step: str


Outcome = Accept | Retry | Redraw | Jump


class Invalid(Exception):
    """Raised by a parser with a translated explanation of what is wrong."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class Widget(ABC, Generic[T_contra]):
    key: str
    # True for widgets that show a reply keyboard, which must be removed once answered.
    keyboard_after_answer = False

    async def load(self, turn: T_contra, step: str) -> None:
        """The getter: fetch what `prompt` and `take` need (into turn.view) before either runs."""

    @abstractmethod
    def prompt(self, turn: T_contra, step: str) -> Prompt: ...

    @abstractmethod
    def take(self, turn: T_contra, pressed: str | None) -> Outcome:
        """`pressed` is the value of an inline button of this step, else None (text/contact)."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # a msgid, translated when shown


def option_buttons(turn: Turn, step: str, options: tuple[Option, ...], width: int) -> Buttons:
    return rows(*(answer_button(turn.tr(o.label), step, o.value) for o in options), width=width)


def label_of(options: Iterable[Option], value: object, tr: Translator) -> str:
    """The translated label of `value` among `options` (the value itself if unknown)."""
    return next((tr(o.label) for o in options if o.value == value), str(value or ""))


@dataclass(frozen=True)
class Choice(Widget[Turn]):
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


Parser = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Text(Widget[Turn]):
    """A typed answer, checked by `parse(text, turn)`, which raises Invalid with the reason."""

    key: str
    question: str
    example: str
    parse: Parser
    max_length: int = 200
    skip: str | None = None  # a msgid for an optional question's "skip" button
    # Common answers offered as buttons; pressing one is the same as typing it.
    quick: tuple[str, ...] = ()

    def prompt(self, turn: Turn, step: str) -> Prompt:
        buttons: Buttons = rows(*(answer_button(q, step, f"={q}") for q in self.quick), width=4)
        if self.skip:
            buttons = (*buttons, (answer_button(turn.tr(self.skip), step, "skip"),))
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


def plain_text(text: str, turn: object = None) -> str:
    """Typed text with its runs of spaces and line breaks made single spaces."""
    return " ".join(text.split())


@dataclass(frozen=True)
class MultiSelect(Widget[Turn]):
    """Several answers from a list, toggled on one live message, closed with "done".

    Choosing `none_value` ("none of these") answers at once, whatever was toggled before.
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
            answer_button(("✅ " if o.value in chosen else "▫️ ") + turn.tr(o.label), step, o.value)
            for o in self.options
        ]
        done = answer_button(turn.tr("Done"), step, "done")
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
        if pressed == self.none_value:
            # "None of these" is a whole answer: it ends the question.
            turn.answers.pop(self.draft, None)
            none = next(o for o in self.options if o.value == pressed)
            return Accept([pressed], shown=turn.tr(none.label))
        if pressed in chosen:
            chosen.remove(pressed)
        else:
            chosen = [v for v in chosen if v != self.none_value] + [pressed]
        turn.answers[self.draft] = chosen
        return Redraw()


# ----- the table -----


@dataclass(frozen=True)
class Call:
    """Where a step leads: into a child flow, whose item comes back to this step."""

    flow: str


Target = str | Call


@dataclass(frozen=True)
class Branch:
    """A way on that depends on the answers, with every place it can lead declared, so the
    table can be checked and drawn (docs/flows.md) without running it."""

    decide: Callable[[Answers], Target]
    targets: tuple[Target, ...]

    def __call__(self, answers: Answers) -> Target:
        target = self.decide(answers)
        if target not in self.targets:
            raise ValueError(f"{self.decide.__name__} led to {target!r}, not one of its targets")
        return target


Next = str | Call | Branch | None


@dataclass(frozen=True)
class Step(Generic[T]):
    name: str
    widget: Widget[T]
    next: Next = None
    # What taking the answer changes beyond the answers themselves (e.g. the language).
    effect: Callable[[T], None] | None = None
    # Steps asked together when the person edits from a summary (a transport, its number and
    # the seat); a step without one is a section of its own. "a.b" lies inside "a".
    section: str | None = None
    # For a step that calls a child flow: what to do with the item it hands back.
    on_result: Callable[[T, Any], None] | None = None

    @property
    def in_section(self) -> str:
        return self.section or self.name


Finish = Callable[[T], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Flow(Generic[T]):
    name: str
    steps: tuple[Step[T], ...]
    finish: Callable[[T], Awaitable[list[Reply]]]
    by_name: Mapping[str, Step[T]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {s.name: s for s in self.steps})
        if len(self.by_name) != len(self.steps):
            raise ValueError(f"flow {self.name} names a step twice")

    @property
    def first(self) -> Step[T]:
        return self.steps[0]

    def following(self, step: Step[T], answers: Answers) -> Target | None:
        """The next step's name, a child flow to call, or None when the flow is done."""
        if step.next is None:
            index = self.steps.index(step)
            return self.steps[index + 1].name if index + 1 < len(self.steps) else None
        following = step.next(answers) if isinstance(step.next, Branch) else step.next
        return None if following == END else following

    def targets(self, step: Step[T]) -> tuple[Target, ...]:
        """Everywhere `step` can lead (END included), for checks and the drawing."""
        if step.next is None:
            index = self.steps.index(step)
            return (self.steps[index + 1].name,) if index + 1 < len(self.steps) else (END,)
        if isinstance(step.next, Branch):
            return step.next.targets
        return (step.next,)


class Flows(Generic[T]):
    """Every flow the bot runs, by name, and every step by its name (the conversation row
    stores only the step's name, so names are unique across flows)."""

    def __init__(self, flows: Iterable[Flow[T]]) -> None:
        self.flows: dict[str, Flow[T]] = {}
        self.steps: dict[str, tuple[Flow[T], Step[T]]] = {}
        for flow in flows:
            if flow.name in self.flows:
                raise ValueError(f"two flows are called {flow.name}")
            self.flows[flow.name] = flow
            for step in flow.steps:
                if step.name in self.steps:
                    known = self.steps[step.name][0].name
                    raise ValueError(f"step {step.name!r} is in flows {known} and {flow.name}")
                self.steps[step.name] = (flow, step)
        for flow in self.flows.values():
            for step in flow.steps:
                for target in flow.targets(step):
                    if isinstance(target, Call) and target.flow not in self.flows:
                        raise ValueError(f"{step.name} calls an unknown flow {target.flow}")
                    if isinstance(target, str) and target != END and target not in self.steps:
                        raise ValueError(f"{step.name} leads to an unknown step {target}")

    def __contains__(self, step: object) -> bool:
        return step in self.steps

    def step(self, name: str) -> Step[T]:
        return self.steps[name][1]

    def flow_of(self, name: str) -> Flow[T]:
        return self.steps[name][0]


async def ask(turn: T, step: Step[T]) -> list[Reply]:
    turn.view = {}
    await step.widget.load(turn, step.name)
    prompt = step.widget.prompt(turn, step.name)
    return [Send(prompt.text, buttons=prompt.buttons, keyboard=prompt.keyboard)]


@dataclass
class Advance:
    """What the engine decided: the replies, and the step to be on now (None: flow finished)."""

    replies: list[Reply]
    step: str | None


def editing(answers: Answers) -> bool:
    """The person is correcting a section from a summary."""
    return bool(answers.get(EDITING))


def _inside(section: str, editing_section: str) -> bool:
    return section == editing_section or section.startswith(editing_section + ".")


async def answer(turn: T, flows: Flows[T], name: str) -> Advance:
    """Handle the event as the answer to the open question `name`."""
    flow, step = flows.steps[name]
    event, tr = turn.event, turn.tr
    turn.view = {}
    await step.widget.load(turn, step.name)
    pressed: str | None = None
    if event.kind is Kind.BUTTON:
        owner, pressed = read_answer(event.button or "")
        if owner != step.name:
            # A button from an earlier question (or made up): nothing changes, ask again.
            return Advance(
                [Toast(tr("That question is closed.")), *await ask(turn, step)], step.name
            )
    elif event.kind in (Kind.OTHER, Kind.DOCUMENT):
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

    if pressed is not None and pressed.startswith(UNDO):
        # "Not this one?": the answer taken without asking is asked again, then on as before
        # (from a child flow just begun, back to the step that called it).
        back = pressed[len(UNDO) :]
        calls: list[str] = turn.answers.get(CALLS) or []
        if back in flow.by_name or (calls and calls[-1] == back):
            if back not in flow.by_name:
                turn.answers[CALLS] = calls[:-1]
                if not turn.answers[CALLS]:
                    turn.answers.pop(CALLS)
            return Advance([Toast(""), *await ask(turn, flows.step(back))], back)
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
        target = flows.step(outcome.step)
        turn.answers[EDITING] = {"back": step.name, "section": target.in_section}
        replies = [Toast("")] if event.kind is Kind.BUTTON else []
        return Advance([*replies, *await ask(turn, target)], target.name)

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
    following = await _go_on(turn, flows, flow, step)
    if outcome.undo and turn.goto is not None and following:
        following = _with_undo(turn, following, step, shown)
    return Advance([*replies, *following], turn.goto)


def _with_undo(turn: Turn, replies: list[Reply], step: Step[Any], shown: str) -> list[Reply]:
    """The next question, with a button to come back to the one answered without asking."""
    *before, asked = replies
    if not isinstance(asked, Send) or asked.keyboard or turn.goto is None:
        return replies
    quoted = "“" + shown + "”"
    undo = answer_button(
        turn.tr("✏️ Not {answer}? Change it", answer=quoted), turn.goto, UNDO + step.name
    )
    return [*before, Send(asked.text, buttons=(*asked.buttons, (undo,)), chat_id=asked.chat_id)]


async def _go_on(turn: T, flows: Flows[T], flow: Flow[T], step: Step[T]) -> list[Reply]:
    """After an accepted answer: the next step, a child flow, back to the calling step or to
    the summary, or the flow's finish. Sets `turn.goto` to the step now open (None: none)."""
    following = flow.following(step, turn.answers)
    calls: list[str] = turn.answers.get(CALLS) or []
    if isinstance(following, Call):
        turn.answers[CALLS] = [*calls, step.name]
        child = flows.flows[following.flow].first
        turn.goto = child.name
        return await ask(turn, child)
    edit = turn.answers.get(EDITING)
    if edit and not calls:
        # Correcting from the summary: back to it once the way on leaves the section.
        if following is None or not _inside(flows.step(following).in_section, edit["section"]):
            turn.answers.pop(EDITING)
            following = edit["back"]
    if following is not None:
        turn.goto = following
        return await ask(turn, flows.step(following))
    turn.goto = None
    turn.result = None
    replies = await flow.finish(turn)
    if calls:
        # A child flow is done: its item goes to the step that called it, asked again.
        caller_name = calls[-1]
        turn.answers[CALLS] = calls[:-1]
        if not turn.answers[CALLS]:
            turn.answers.pop(CALLS)
        caller = flows.step(caller_name)
        if caller.on_result is not None and turn.result is not None:
            caller.on_result(turn, turn.result)
        turn.goto = caller_name
        return [*replies, *await ask(turn, caller)]
    if turn.goto is not None:
        replies += await ask(turn, flows.step(turn.goto))
    return replies


__all__ = [
    "END",
    "Accept",
    "Answers",
    "Branch",
    "Call",
    "Choice",
    "Flow",
    "Flows",
    "Invalid",
    "Jump",
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
    "editing",
    "label_of",
]
