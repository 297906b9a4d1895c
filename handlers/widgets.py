"""Question widgets that know the bot's data: where the person will stay (the imported areas)
and a place they came from or passed through (the gazetteer). The engine's own widgets are
in chat/widgets.py.

Each keeps its in-between state (the district chosen before the street, the place typed
before it is confirmed) among the answers under a "_draft_" key, and redraws one live message.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chat.buttons import answer_button
from chat.contract import rows
from chat.forms import Accept, Outcome, Prompt, Redraw, Retry
from handlers.context import Turn, Widget
from models.areas import LEVELS, Area, Level, areas_named, children_of, lineage
from rules import places


@dataclass(frozen=True)
class AreaPicker(Widget):
    """Where the person will stay, down to their community (the grid follows from the
    address, services/placement.py): its name typed, or drilled down by buttons from the
    imported hierarchy on one live message.

    The answer is {"area_id", "area_code", "path"} with path the names from the district down.
    """

    key: str
    question: str
    stop_at: str = Level.COMMUNITY

    @property
    def draft(self) -> str:
        return f"_draft_{self.key}"

    async def load(self, turn: Turn, step: str) -> None:
        session = turn.session
        current_id: int | None = turn.answers.get(self.draft)
        current = await session.get(Area, current_id) if current_id else None
        options = await children_of(session, current.id if current else None)
        # A single city (the usual case) is not worth a tap: start at its districts.
        while current is None and len(options) == 1 and options[0].level == Level.CITY:
            current = options[0]
            options = await children_of(session, current.id)
        turn.view["area"] = current
        turn.view["options"] = options
        turn.view["trail"] = await lineage(session, current) if current else []
        typed = " ".join((turn.event.text or "").split())
        named = await areas_named(session, typed, self.stop_at) if 2 <= len(typed) <= 40 else []
        turn.view["named"] = named
        # Each area the answer may be, with the names from the district down to it.
        above = [a.name for a in turn.view["trail"] if a.level != Level.CITY]
        paths = {a.id: [*above, a.name] for a in options}
        for area in named:
            paths[area.id] = [x.name for x in await lineage(session, area) if x.level != Level.CITY]
        turn.view["paths"] = paths

    def prompt(self, turn: Turn, step: str) -> Prompt:
        trail: list[Area] = [a for a in turn.view["trail"] if a.level != Level.CITY]
        options: list[Area] = turn.view["options"]
        text = turn.say(self.question)
        if trail:
            text += "\n" + " › ".join(a.name for a in trail)
        if not options:
            text += "\n\n" + turn.tr(
                "No areas have been set up yet. Please contact your community."
            )
        buttons = rows(*(answer_button(a.name, step, str(a.id)) for a in options), width=2)
        if trail:
            buttons = (*buttons, (answer_button(turn.tr("⬅ Back"), step, "back"),))
        return Prompt(text, buttons)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        current: Area | None = turn.view["area"]
        options: list[Area] = turn.view["options"]
        if pressed == "back":
            parent = current.parent_id if current else None
            trail: list[Area] = turn.view["trail"]
            if len(trail) >= 2 and trail[-2].level == Level.CITY:
                parent = None
            turn.answers[self.draft] = parent
            return Redraw()
        chosen = next((a for a in options if pressed == str(a.id)), None)
        if chosen is None and pressed is None:
            typed = (turn.event.text or "").strip().casefold()
            chosen = next((a for a in options if a.name.casefold() == typed), None)
            named: list[Area] = turn.view["named"]
            if chosen is None and len(named) == 1:
                chosen = named[0]
            elif chosen is None and named:
                return Retry(
                    turn.tr(
                        "Several communities are called that: {names}. Please choose with "
                        "the buttons.",
                        names="、".join(a.name for a in named[:5]),
                    )
                )
        if chosen is None:
            return Retry(
                turn.tr("Please type the name of your community, or choose with the buttons.")
            )
        if LEVELS.index(Level(chosen.level)) < LEVELS.index(Level(self.stop_at)):
            turn.answers[self.draft] = chosen.id
            return Redraw()
        turn.answers.pop(self.draft, None)
        path: list[str] = turn.view["paths"][chosen.id]
        return Accept(
            {"area_id": chosen.id, "area_code": chosen.code, "path": path},
            shown=" › ".join(path),
        )


@dataclass(frozen=True)
class PlacePicker(Widget):
    """A place typed by the person, matched to the gazetteer and confirmed by a button.

    The answer is {"code": gazetteer code or None, "text": what to show}. A place we do not
    know can be kept as typed; the grid worker sees it unmatched.
    """

    key: str
    question: str

    @property
    def draft(self) -> str:
        return f"_draft_{self.key}"

    def prompt(self, turn: Turn, step: str) -> Prompt:
        draft: dict[str, Any] | None = turn.answers.get(self.draft)
        if not draft:
            return Prompt(turn.say(self.question))
        candidates = [places.place(code) for code in draft["candidates"]]
        typed = draft["typed"]
        if candidates:
            text = (
                turn.tr("Which one do you mean?")
                if len(candidates) > 1
                else turn.tr("Did you mean this?")
            )
            buttons = [answer_button(p.display(turn.tr.language), step, p.code) for p in candidates]
        else:
            text = turn.tr("I do not know the place “{typed}”.", typed=typed)
            buttons = []
        buttons.append(
            answer_button(turn.tr("Keep “{typed}” as I typed it", typed=typed[:30]), step, "keep")
        )
        buttons.append(answer_button(turn.tr("Type again"), step, "again"))
        return Prompt(f"{turn.say(self.question)}\n\n{text}", rows(*buttons, width=1))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        draft: dict[str, Any] | None = turn.answers.get(self.draft)
        if pressed is None:
            typed = " ".join((turn.event.text or "").split())
            if not typed:
                return Retry(turn.tr("Please type a place, e.g. 上海 or 湖北武汉."))
            if len(typed) > 60:
                return Retry(turn.tr("That is too long: at most {n} characters.", n=60))
            found = places.match(typed, limit=5)
            if len(found) == 1:
                # One place fits: taken at once; the next question offers "not this one?".
                turn.answers.pop(self.draft, None)
                return self.chosen(turn, found[0], undo=True)
            turn.answers[self.draft] = {"typed": typed, "candidates": [p.code for p in found]}
            return Redraw()
        if draft is None:
            return Retry(turn.tr("Please type a place, e.g. 上海 or 湖北武汉."))
        if pressed == "again":
            turn.answers.pop(self.draft, None)
            return Redraw()
        if pressed == "keep":
            turn.answers.pop(self.draft, None)
            return Accept({"code": None, "text": draft["typed"]}, shown=draft["typed"])
        if pressed in draft["candidates"]:
            turn.answers.pop(self.draft, None)
            return self.chosen(turn, places.place(pressed))
        return Retry(turn.tr("Please choose with the buttons."))

    def chosen(self, turn: Turn, place: places.Place, *, undo: bool = False) -> Outcome:
        shown = place.display(turn.tr.language)
        return Accept({"code": place.code, "text": shown}, shown=shown, undo=undo)


@dataclass(frozen=True)
class Naming(Widget):
    """Another widget whose question names what it is about ({person}, {place}…): the
    getter `fill` finds the names (escaped for HTML) and puts them in the view."""

    inner: Widget
    fill: Callable[[Turn], Awaitable[dict[str, str]]]
    key: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.inner.key)

    @property
    def keyboard_after_answer(self) -> bool:  # type: ignore[override]
        return self.inner.keyboard_after_answer

    async def load(self, turn: Turn, step: str) -> None:
        turn.view.update({k: html.escape(v) for k, v in (await self.fill(turn)).items()})
        await self.inner.load(turn, step)

    def prompt(self, turn: Turn, step: str) -> Prompt:
        return self.inner.prompt(turn, step)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        return self.inner.take(turn, pressed)


__all__ = ["AreaPicker", "Naming", "PlacePicker"]
