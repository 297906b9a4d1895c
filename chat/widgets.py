"""Reusable question widgets beyond the basic ones: a phone number, dates and times.

Each keeps its in-between state (the day chosen before the hour) among the answers under a
"_draft_" key, and redraws one live message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import phonenumbers

from chat.buttons import answer_data
from chat.contract import Button, Buttons, KeyButton, rows
from chat.forms import Accept, Invalid, Outcome, Prompt, Redraw, Retry, Turn, Widget
from chat.i18n import Translator

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
class DatePicker(Widget[Turn]):
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
            *(
                Button(day_label(d, today, turn.tr), answer_data(step, d.isoformat()))
                for d in shown
            ),
            width=4,
        )
        if self.optional:
            buttons = (*buttons, (Button(turn.tr(self.optional), answer_data(step, "none")),))
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
class DateTimePicker(Widget[Turn]):
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
                buttons = ((Button(turn.tr("Just now"), answer_data(step, "now")),), *buttons)
            return Prompt(text, buttons)
        day = date.fromisoformat(chosen)
        hours = [
            Button(f"{h:02d}:00", answer_data(step, f"h{h}"))
            for h in HOURS
            if first <= _at(day, time(h), turn) + timedelta(minutes=59)
            and _at(day, time(h), turn) <= last
        ]
        text += "\n" + turn.tr(
            "Day: {day}. What time (about)? Press an hour or type e.g. 14:30.", day=day.isoformat()
        )
        return Prompt(
            text,
            (
                *rows(*hours, width=6),
                (Button(turn.tr("⬅ Another day"), answer_data(step, "back")),),
            ),
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


@dataclass(frozen=True)
class Phone(Widget[Turn]):
    """A phone number by Telegram's share-contact button, or typed."""

    key: str
    question: str
    region: str = "CN"
    # An answer that, once set, means the number asked for is someone else's (a worker
    # filing for a resident): the question is `typed_question` with no share button, which
    # would send the asker's own number.
    typed_only_when: str | None = None
    typed_question: str | None = None
    keyboard_after_answer = True

    def prompt(self, turn: Turn, step: str) -> Prompt:
        if self.typed_only_when and turn.answers.get(self.typed_only_when):
            return Prompt(turn.say(self.typed_question or self.question))
        share = KeyButton(turn.tr("📱 Share my phone number"), request_contact=True)
        return Prompt(turn.say(self.question), keyboard=((share,),))

    def take(self, turn: Turn, pressed: str | None) -> Outcome:
        contact = turn.event.contact
        raw = contact.phone_number if contact else (turn.event.text or "")
        try:
            return Accept(parse_phone(raw, turn.tr, self.region, international=contact is not None))
        except Invalid as bad:
            return Retry(bad.problem)


def parse_phone(
    raw: str, tr: Translator, region: str = "CN", *, international: bool = False
) -> str:
    """A phone number in E.164, or Invalid with an example. Mainland numbers may be typed as
    they are dialled at home; any other (Hong Kong, Macau, Taiwan, abroad) with its country
    code, with or without the plus. `international`: the number comes with its country code
    (Telegram's shared contact, which often lacks the plus)."""
    cleaned = raw.strip()
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    candidates: list[str] = []
    if international and not cleaned.startswith("+"):
        candidates.append("+" + digits)
    candidates.append(cleaned)
    if not cleaned.startswith(("+", "0")) and digits:
        candidates.append("+" + digits)  # a country code typed without the plus
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise Invalid(
        tr(
            "That does not look like a phone number. Examples: 13812345678, "
            "or with the country code +852 9123 4567."
        )
    )


__all__ = ["DatePicker", "DateTimePicker", "Phone", "parse_date", "parse_phone", "parse_time"]
