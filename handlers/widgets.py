"""Reusable question widgets beyond the basic ones: areas, dates, times and places.

Each keeps its in-between state (the district chosen before the street, the day chosen
before the hour) among the answers under a "_draft_" key, and redraws one live message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from chat.contract import Button, Buttons, rows
from chat.i18n import Translator
from handlers.forms import (
    SEPARATOR,
    Accept,
    Outcome,
    Prompt,
    Redraw,
    Retry,
    Turn,
    Widget,
)
from models.areas import Area, Level, children_of, lineage
from rules import places


def _data(step: str, value: str) -> str:
    return f"{step}{SEPARATOR}{value}"


# ----- areas: district → street/town → community → grid, one live message -----


@dataclass(frozen=True)
class AreaPicker(Widget):
    """Where the person will stay, drilled down by buttons from the imported hierarchy.

    The answer is {"grid_id", "grid_code", "path"} with path the names from the district down.
    """

    key: str
    question: str

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
        buttons = rows(*(Button(a.name, _data(step, str(a.id))) for a in options), width=2)
        if trail:
            buttons = (*buttons, (Button(turn.tr("⬅ Back"), _data(step, "back")),))
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
        if chosen is None:
            return Retry(turn.tr("Please choose with the buttons."))
        if chosen.level != Level.GRID:
            turn.answers[self.draft] = chosen.id
            return Redraw()
        turn.answers.pop(self.draft, None)
        names = [a.name for a in turn.view["trail"] if a.level != Level.CITY] + [chosen.name]
        return Accept(
            {"grid_id": chosen.id, "grid_code": chosen.code, "path": names},
            shown=" › ".join(names),
        )


# ----- dates and times -----

DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?$"),
    re.compile(r"^(?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?$"),
)


def parse_date(text: str, today: date) -> date | None:
    cleaned = text.strip().replace(" ", "")
    for form in DATE_FORMS:
        found = form.match(cleaned)
        if found:
            parts = found.groupdict()
            year = int(parts.get("y") or today.year)
            try:
                day = date(year, int(parts["m"]), int(parts["d"]))
            except ValueError:
                return None
            if "y" not in parts or parts.get("y") is None:
                # "12-30" typed on 2 January means last year's.
                if day - today > timedelta(days=180):
                    day = day.replace(year=year - 1)
                elif today - day > timedelta(days=180):
                    day = day.replace(year=year + 1)
            return day
    return None


def day_label(day: date, today: date, tr: Translator) -> str:
    named = {
        today: tr("Today"),
        today - timedelta(days=1): tr("Yesterday"),
        today + timedelta(days=1): tr("Tomorrow"),
    }
    short = f"{day.month}/{day.day}"
    return f"{named[day]} {short}" if day in named else short


def show_date(day: date) -> str:
    return day.isoformat()


Window = Callable[[Turn], tuple[date, date]]


@dataclass(frozen=True)
class DatePicker(Widget):
    """A date within a window that depends on the answers (e.g. the last 14 days)."""

    key: str
    question: str
    window: Window
    optional: str | None = None  # msgid of a "no date" button

    def prompt(self, turn: Turn, step: str) -> Prompt:
        first, last = self.window(turn)
        today = turn.now.astimezone(turn.zone).date()
        span = (last - first).days
        # At most 8 buttons: the days nearest today, oldest first; other days are typed.
        days = [first + timedelta(days=i) for i in range(span + 1)]
        days.sort(key=lambda d: abs((d - today).days))
        shown = sorted(days[:8])
        buttons: Buttons = rows(
            *(Button(day_label(d, today, turn.tr), _data(step, d.isoformat())) for d in shown),
            width=4,
        )
        if self.optional:
            buttons = (*buttons, (Button(turn.tr(self.optional), _data(step, "none")),))
        hint = turn.tr(
            "Press a day, or type a date between {first} and {last}.",
            first=show_date(first),
            last=show_date(last),
        )
        return Prompt(f"{turn.say(self.question)}\n<i>{hint}</i>", buttons)

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        if pressed == "none" and self.optional:
            return Accept(None, shown=turn.tr(self.optional))
        first, last = self.window(turn)
        today = turn.now.astimezone(turn.zone).date()
        if pressed is not None:
            try:
                day: date | None = date.fromisoformat(pressed)
            except ValueError:
                day = None
        else:
            day = parse_date(turn.event.text or "", today)
        if day is None:
            return Retry(
                turn.tr(
                    "Please type a date like {example}, or press a day.", example=show_date(last)
                )
            )
        if not first <= day <= last:
            return Retry(
                turn.tr(
                    "The date must be between {first} and {last}.",
                    first=show_date(first),
                    last=show_date(last),
                )
            )
        return Accept(day.isoformat(), shown=show_date(day))


TIME_FORM = re.compile(r"^(?P<h>\d{1,2})(?:[:：.点時时](?P<m>\d{2})?分?)?$")
HOURS = tuple(range(0, 24))


def parse_time(text: str) -> time | None:
    found = TIME_FORM.match(text.strip().replace(" ", ""))
    if not found:
        return None
    hour, minute = int(found["h"]), int(found["m"] or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


DateTimeWindow = Callable[[Turn], tuple[datetime, datetime]]


@dataclass(frozen=True)
class DateTimePicker(Widget):
    """A day, then an hour, on one live message; typed "2026-07-01 14:30" also works.

    The answer is an aware UTC datetime in ISO form.
    """

    key: str
    question: str
    window: DateTimeWindow
    now_button: Callable[[Turn], bool] = lambda turn: False

    @property
    def draft(self) -> str:
        return f"_draft_{self.key}"

    def _days(self, turn: Turn) -> tuple[date, date]:
        first, last = self.window(turn)
        return first.astimezone(turn.zone).date(), last.astimezone(turn.zone).date()

    def prompt(self, turn: Turn, step: str) -> Prompt:
        chosen = turn.answers.get(self.draft)
        first, last = self.window(turn)
        hint = turn.tr(
            "Between {first} and {last}.",
            first=_show(first, turn),
            last=_show(last, turn),
        )
        text = f"{turn.say(self.question)}\n<i>{hint}</i>"
        if chosen is None:
            date_picker = DatePicker(self.key, self.question, lambda t: self._days(t))
            buttons = date_picker.prompt(turn, step).buttons
            if self.now_button(turn):
                buttons = ((Button(turn.tr("Just now"), _data(step, "now")),), *buttons)
            return Prompt(text, buttons)
        day = date.fromisoformat(chosen)
        hours = [
            Button(f"{h:02d}:00", _data(step, f"h{h}"))
            for h in HOURS
            if first <= _at(day, time(h), turn) + timedelta(minutes=59)
            and _at(day, time(h), turn) <= last
        ]
        text += "\n" + turn.tr(
            "Day: {day}. What time (about)? Press an hour or type e.g. 14:30.", day=day.isoformat()
        )
        return Prompt(
            text, (*rows(*hours, width=6), (Button(turn.tr("⬅ Another day"), _data(step, "back")),))
        )

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        first, last = self.window(turn)
        chosen = turn.answers.get(self.draft)
        today = turn.now.astimezone(turn.zone).date()
        when: datetime | None = None
        if pressed == "now" and self.now_button(turn):
            when = turn.now
        elif pressed == "back":
            turn.answers.pop(self.draft, None)
            return Redraw()
        elif pressed is not None and pressed.startswith("h") and chosen:
            if not pressed[1:].isdigit() or int(pressed[1:]) > 23:
                return Retry(turn.tr("Please choose with the buttons."))
            when = _at(date.fromisoformat(chosen), time(int(pressed[1:])), turn)
            when = min(max(when, first), last)  # "14:00" on today, now 14:20: fine
        elif pressed is not None:
            try:
                day = date.fromisoformat(pressed)
            except ValueError:
                return Retry(turn.tr("Please choose with the buttons."))
            if not self._days(turn)[0] <= day <= self._days(turn)[1]:
                return Retry(turn.tr("Please choose with the buttons."))
            turn.answers[self.draft] = day.isoformat()
            return Redraw()
        else:
            typed = (turn.event.text or "").strip()
            day_only = parse_date(typed, today)
            first_day, last_day = self._days(turn)
            if day_only is not None and first_day <= day_only <= last_day:
                turn.answers[self.draft] = day_only.isoformat()
                return Redraw()
            when = self._typed(turn, chosen, today)
            if when is None:
                return Retry(
                    turn.tr(
                        "Please type a date and time like {example}, or use the buttons.",
                        example=_show(last, turn),
                    )
                )
        if not first <= when <= last:
            return Retry(
                turn.tr(
                    "The time must be between {first} and {last}.",
                    first=_show(first, turn),
                    last=_show(last, turn),
                )
            )
        turn.answers.pop(self.draft, None)
        return Accept(when.isoformat(), shown=_show(when, turn))

    def _typed(self, turn: Turn, chosen: str | None, today: date) -> datetime | None:
        text = (turn.event.text or "").strip()
        head, _, tail = text.rpartition(" ")
        if head:
            day = parse_date(head, today)
            at = parse_time(tail)
            return _at(day, at, turn) if day and at else None
        at = parse_time(text)
        if at is not None and chosen:
            return _at(date.fromisoformat(chosen), at, turn)
        return None


def _at(day: date, at: time, turn: Turn) -> datetime:
    return datetime.combine(day, at, tzinfo=turn.zone)


def _show(moment: datetime, turn: Turn) -> str:
    return moment.astimezone(turn.zone).strftime("%Y-%m-%d %H:%M")


# ----- places: typed, matched to known places, confirmed -----


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
            buttons = [Button(p.display(turn.tr.language), _data(step, p.code)) for p in candidates]
        else:
            text = turn.tr("I do not know the place “{typed}”.", typed=typed)
            buttons = []
        buttons.append(
            Button(turn.tr("Keep “{typed}” as I typed it", typed=typed[:30]), _data(step, "keep"))
        )
        buttons.append(Button(turn.tr("Type again"), _data(step, "again")))
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
            chosen = places.place(pressed)
            shown = chosen.display(turn.tr.language)
            return Accept({"code": chosen.code, "text": shown}, shown=shown)
        return Retry(turn.tr("Please choose with the buttons."))


__all__ = ["AreaPicker", "DatePicker", "DateTimePicker", "PlacePicker", "parse_date", "parse_time"]
