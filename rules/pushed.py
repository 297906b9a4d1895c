"""A pushed list's rows as the rules read them (协查名单, 推送信息): which column is which (by
its header, in Chinese or English; unknown columns are kept as they came), whether a row is
good (a name; a mainland ID number with a right check digit; a phone that is a phone), and
what its reason (事由) means. Pure: no storage, no chat."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers

from rules import places
from rules.identity import birth_and_sex

# field → the header names it goes by (compared lower-case, without spaces or punctuation).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "name", "fullname"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "证件号码",
        "证件号",
        "idnumber",
        "id",
        "idcard",
        "idno",
    ),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "phone", "mobile", "tel"),
    "place": (
        "来源地旅居地",
        "来源地",
        "旅居地",
        "途经地",
        "来自",
        "origin",
        "place",
        "from",
        "travelhistory",
    ),
    "date": ("时间", "日期", "旅居时间", "接触时间", "离开时间", "date", "time", "when"),
    "reason": ("事由", "类别", "人员类别", "人员类型", "推送事由", "reason", "category", "type"),
    "address": ("现住址", "住址", "居住地址", "现居住地址", "地址", "address", "currentaddress"),
    "area": ("所属社区", "社区", "网格", "所属网格", "area", "community", "grid"),
    "expected": (
        "预计抵达时间",
        "预计到达时间",
        "预计抵达",
        "预计到达",
        "expectedarrival",
        "arrival",
        "eta",
    ),
}

# The reasons a list gives (事由), by code; the words each goes by.
CLOSE_CONTACT = "close_contact"
CONTACT_OF_CONTACT = "contact_of_contact"
RELEASED = "released_from_quarantine"
RISK_AREA = "risk_area_arrival"
OTHER = "other"
REASON_WORDS: dict[str, tuple[str, ...]] = {
    # Longest first where one contains another: 次密接 before 密接.
    CONTACT_OF_CONTACT: ("次密接", "次密切接触", "密接的密接", "contactofcontact", "secondary"),
    CLOSE_CONTACT: ("密接", "密切接触", "closecontact"),
    RELEASED: ("入境解除集中隔离", "入境解除隔离", "解除集中隔离", "解除隔离", "released"),
    RISK_AREA: ("中高风险地区来返", "中高风险", "高风险", "中风险", "风险地区", "riskarea"),
}
REASONS = (CLOSE_CONTACT, CONTACT_OF_CONTACT, RELEASED, RISK_AREA, OTHER)
# What each reason tells the policy about the person (rules/policy.py Facts).
REASON_FACTS: dict[str, dict[str, bool]] = {
    CLOSE_CONTACT: {"close_contact": True},
    CONTACT_OF_CONTACT: {"contact_of_contact": True},
    RELEASED: {"released_elsewhere": True},
}

_PUNCTUATION = re.compile(r"[\s/\\_\-—.·:：()（）\[\]【】]+")
_MAINLAND_ID = re.compile(r"^\d{17}[\dX]$")
_OLD_ID = re.compile(r"^\d{15}$")
_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _key(text: str) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text)).lower()


_BY_HEADER = {_key(name): name_field for name_field, names in HEADERS.items() for name in names}


@dataclass(frozen=True)
class Columns:
    """Which column holds which field (by position), and the headers no field took."""

    fields: Mapping[str, int]
    unknown: tuple[str, ...]
    headers: tuple[str, ...]


def map_headers(headers: Sequence[str]) -> Columns:
    """The fields the headers name (the first column for each field wins); the rest kept."""
    fields: dict[str, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        found = _BY_HEADER.get(_key(header or ""))
        if found is not None and found not in fields:
            fields[found] = index
        elif (header or "").strip():
            unknown.append(header.strip())
    return Columns(fields, tuple(unknown), tuple((h or "").strip() for h in headers))


def id_checksum_ok(number: str) -> bool:
    """GB 11643: the 18th character is the check digit of the first 17 (mod 11)."""
    if not _MAINLAND_ID.match(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17]


def normal_id_number(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).replace("-", "").upper()


def check_id_number(text: str) -> str | None:
    """What is wrong with an ID number as written, or None when it is good: a mainland number
    needs its date of birth and its check digit right; a passport or permit number is taken
    as it is."""
    number = normal_id_number(text)
    if _MAINLAND_ID.match(number) or (len(number) == 18 and number[:17].isdigit()):
        if birth_and_sex(number)[0] is None:
            return "the ID number's date of birth is not a date"
        if not id_checksum_ok(number):
            return "the ID number's check digit is wrong"
        return None
    if number.isdigit() and not _OLD_ID.match(number):
        return "the ID number does not have 18 digits"
    if _OLD_ID.match(number) or _OTHER_ID.match(number):
        return None
    return "the ID number is not a number"


def normal_phone(text: str, region: str = "CN") -> str | None:
    """The phone in E.164 (as residents' phones are stored), or None when it is no phone."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    if cleaned.startswith("86") and len(digits) == 13:
        cleaned = "+" + digits
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def reason_of(text: str) -> str:
    """The reason's code (OTHER when the words are none we know)."""
    typed = _key(text)
    if not typed:
        return OTHER
    for code, words in REASON_WORDS.items():
        if any(_key(word) in typed for word in words):
            return code
    return OTHER


_DATE = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_TIME = re.compile(r"(\d{1,2})\s*[:：时点]\s*(\d{2})?")


def parse_date(value: object, today: date) -> date | None:
    """A day as lists write it (2026-11-28, 2026/11/28, 2026年11月28日, 11月28日, a
    spreadsheet's date); a day without a year is the last such day up to today."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DATE.search(unicodedata.normalize("NFKC", str(value or "")))
    if found is None:
        return None
    year = int(found[1]) if found[1] else today.year
    try:
        day = date(year, int(found[2]), int(found[3]))
    except ValueError:
        return None
    if not found[1] and day > today:
        day = day.replace(year=year - 1)
    return day


def parse_moment(value: object, today: date, zone: ZoneInfo) -> datetime | None:
    """A day and time (2026-12-03 15:30, 12-03 15:30); a day alone is noon of it. Aware, in
    UTC."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    text = unicodedata.normalize("NFKC", str(value or ""))
    # A day without a year is this year's, or next year's when this year's is long past (an
    # arrival on 1月3 written in December).
    day = parse_date(text, date(today.year, 12, 31))
    if day is None:
        return None
    if day < today - timedelta(days=180) and not re.search(r"\d{4}", text):
        day = day.replace(year=day.year + 1)
    rest = text[_DATE.search(text).end() :] if _DATE.search(text) else ""  # type: ignore[union-attr]
    clock = _TIME.search(rest)
    at = time(12, 0)
    if clock is not None and int(clock[1]) < 24:
        at = time(int(clock[1]), int(clock[2] or 0) % 60)
    return datetime.combine(day, at, zone).astimezone(UTC)


@dataclass(frozen=True)
class Row:
    """One good row, its fields read."""

    line: int
    name: str
    id_number: str | None
    phone: str | None
    reason: str
    reason_text: str
    place_text: str
    place_code: str | None
    place_date: date | None
    address: str
    area: str
    expected: datetime | None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


@lru_cache(maxsize=4096)
def _place_code(text: str) -> str | None:
    """The gazetteer's code for a place as a list writes it (lists repeat a few places)."""
    found = places.resolve(text) or next(iter(places.match(text, limit=1)), None)
    return found.code if found is not None else None


def read_row(
    columns: Columns, values: Sequence[object], line: int, today: date, zone: ZoneInfo
) -> Row | BadRow | None:
    """A row read through the columns: good, bad (with the problem, no personal numbers in
    it), or None for an empty row."""
    cells = list(values) + [None] * (len(columns.headers) - len(values))
    raw = {
        h or f"#{i + 1}": _text(c)
        for i, (h, c) in enumerate(zip(columns.headers, cells, strict=False))
    }
    if not any(raw.values()):
        return None

    def get(name: str) -> object:
        index = columns.fields.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    name = _text(get("name"))
    if not name:
        return BadRow(line, "no name")
    if len(name) > 60:
        return BadRow(line, "the name is longer than 60 characters")
    id_text, phone_text = _text(get("id_number")), _text(get("phone"))
    id_number = normal_id_number(id_text) or None
    if id_number is not None:
        problem = check_id_number(id_number)
        if problem is not None:
            return BadRow(line, problem)
    phone = None
    if phone_text:
        phone = normal_phone(phone_text)
        if phone is None:
            return BadRow(line, "the phone is not a phone number")
    if id_number is None and phone is None:
        return BadRow(line, "neither an ID number nor a phone")
    place_text = _text(get("place"))[:100]
    place_code = _place_code(place_text) if place_text else None
    date_value = get("date")
    place_date = parse_date(date_value, today) if _text(date_value) else None
    if _text(date_value) and place_date is None:
        return BadRow(line, "the date is not a date")
    expected_value = get("expected")
    expected = parse_moment(expected_value, today, zone) if _text(expected_value) else None
    reason_text = _text(get("reason"))[:100]
    return Row(
        line=line,
        name=name,
        id_number=id_number,
        phone=phone,
        reason=reason_of(reason_text),
        reason_text=reason_text,
        place_text=place_text,
        place_code=place_code,
        place_date=place_date,
        address=_text(get("address"))[:200],
        area=_text(get("area"))[:100],
        expected=expected,
        raw=raw,
    )


__all__ = [
    "HEADERS",
    "REASONS",
    "REASON_FACTS",
    "BadRow",
    "Columns",
    "Row",
    "check_id_number",
    "id_checksum_ok",
    "map_headers",
    "normal_phone",
    "parse_date",
    "parse_moment",
    "read_row",
    "reason_of",
]
