"""What each typed answer must look like, and the reason given when it does not: names, ID
numbers, addresses, train/flight/plate numbers, temperatures, seats, ports, places gone to.
Shared by the report, the check-in and the corrections after submitting."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from chat.forms import Invalid, plain_text
from chat.i18n import N_
from handlers.context import Turn

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# Passports and permits: letters and digits, at least one letter (an ID has none but X).
PASSPORT_SHAPE = re.compile(r"^(?=.*[A-Z])[A-Z0-9]{6,20}$")

# ----- answers: what each typed answer must look like -----


# Middle dots as they are typed in names such as 买买提·艾力 (one form is kept).
MIDDLE_DOTS = str.maketrans({"・": "·", "•": "·", "‧": "·", "･": "·", "．": "·"})
NAME_MARKS = frozenset(" ·-'’")


def parse_name(text: str, turn: Any) -> str:
    """A person's name: letters of any script, with spaces, middle dots, hyphens and
    apostrophes between them; no digits, markup or emoji."""
    name = plain_text(text).translate(MIDDLE_DOTS)
    letters = [ch for ch in name if unicodedata.category(ch)[0] in "LM"]
    others = {ch for ch in name if unicodedata.category(ch)[0] not in "LM"}
    if others - NAME_MARKS:
        raise Invalid(
            turn.tr(
                "Please type the full name as on the ID: letters, with spaces, · or - "
                "between them; no digits, signs or emoji (e.g. 张伟, 买买提·艾力 or Li Na)."
            )
        )
    if len(letters) < 2 or not name[0].isalpha():
        raise Invalid(turn.tr("Please type the full name as on the ID, e.g. 张伟 or Li Na."))
    return name


def parse_id_number(text: str, turn: Turn) -> str:
    """A mainland resident ID (checked by its check digit) or a passport / permit number."""
    value = re.sub(r"[\s-]", "", text).upper()
    if re.fullmatch(r"\d{17}.", value):
        total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
        if ID_CHECK[total % 11] == value[17]:
            return value
        raise Invalid(
            turn.tr(
                "That ID number has a typo: its last character does not match. Please check it (e.g. 11010519491231002X)."
            )
        )
    if PASSPORT_SHAPE.fullmatch(value) and not re.search(r"\d{13}", value):
        return value
    raise Invalid(
        turn.tr(
            "Please type an 18-character ID number (e.g. 11010519491231002X) "
            "or a passport or permit number (e.g. E12345678)."
        )
    )


def parse_address(text: str, turn: Turn) -> str:
    address = plain_text(text)
    if len(address) < 4:
        raise Invalid(turn.tr("Please type the building, unit and room, e.g. 3栋2单元501."))
    return address


TRANSPORT_NUMBERS: dict[str, tuple[re.Pattern[str], str]] = {
    # Passenger trains: G/D/C high speed, Z/T/K express, S/Y/L… or plain digits.
    "train": (
        re.compile(r"^[GDCZTKSYLP]?\d{1,4}$"),
        N_("Please type the train number, e.g. G1234, D301 or K1074."),
    ),
    # IATA: a two-character airline code, then 1-4 digits (and an optional letter).
    "flight": (
        re.compile(r"^(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{1,4}[A-Z]?$"),
        N_("Please type the flight number, e.g. CA1234 or MU5101."),
    ),
    # A mainland plate: province character, letter, then 5 (6 for new-energy) characters.
    "car": (
        re.compile(
            r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]$"
        ),
        N_("Please type the plate number, e.g. 粤B12345."),
    ),
    "coach": (re.compile(r"^.{1,32}$"), N_("Please type the coach's number or plate.")),
    "ship": (re.compile(r"^.{1,32}$"), N_("Please type the ship's name or voyage number.")),
    "other": (re.compile(r"^.{1,32}$"), N_("Please say briefly how you travelled.")),
}


def parse_transport_number(text: str, turn: Turn) -> str:
    kind = turn.answers.get("transport", "other")
    value = (
        re.sub(r"[\s·•.-]", "", text).upper()
        if kind in ("train", "flight", "car")
        else plain_text(text)
    )
    shape, example = TRANSPORT_NUMBERS.get(kind, TRANSPORT_NUMBERS["other"])
    if not shape.match(value):
        raise Invalid(turn.tr(example))
    return value


# The number at the start of what was typed; the rest (after a space, or 次) is the seat.
NUMBER_THEN_SEAT = {
    "train": re.compile(r"^\s*([GDCZTKSYLP]?\d{1,4})\s*次?(?:\s+|$)(.*)$", re.IGNORECASE),
    "flight": re.compile(
        r"^\s*((?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\s?\d{1,4}[A-Z]?)(?:\s+|$)(.*)$", re.IGNORECASE
    ),
}


def parse_number_and_seat(text: str, turn: Any) -> list[str | None]:
    """[number, seat]: "G1234 5车12F" → ["G1234", "5车12F"]; a seat is for trains and
    flights only, and optional."""
    kind = turn.answers.get("transport", "other")
    split = NUMBER_THEN_SEAT.get(kind)
    found = split.match(text) if split else None
    if found is None:
        return [parse_transport_number(text, turn), None]
    number = parse_transport_number(found[1], turn)
    seat = plain_text(found[2])[:32] or None
    return [number, seat]


TEMPERATURE = re.compile(r"^(\d{2}(?:[.,]\d{1,2})?)\s*(?:°\s*C?|℃|度|c)?$", re.IGNORECASE)


def parse_temperature(text: str, turn: Turn) -> float:
    found = TEMPERATURE.match(text.strip())
    value = float(found[1].replace(",", ".")) if found else None
    if value is None or not 34.0 <= value <= 42.5:
        raise Invalid(
            turn.tr("Please type the temperature in °C between 34.0 and 42.5, e.g. 36.8.")
        )
    return round(value, 1)


def parse_seat(text: str, turn: Turn) -> str:
    return plain_text(text)[:32]


def parse_port(text: str, turn: Turn) -> str:
    port = plain_text(text)
    if len(port) < 2:
        raise Invalid(turn.tr("Please type the port of entry, e.g. 上海浦东机场 or 深圳湾口岸."))
    return port


def parse_free_text(text: str, turn: Any) -> str:
    """A note, a request, where someone went: any text, on one line."""
    return plain_text(text)
