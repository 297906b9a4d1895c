"""What a mainland resident identity card number (居民身份证号码, GB 11643) says of its holder:
the date of birth (digits 7-14) and the sex (the 17th digit: odd for men, even for women).
Pure; anything that is not an 18-character number of that shape says nothing."""

from __future__ import annotations

import re
from datetime import date

_ID = re.compile(r"^\d{17}[\dXx]$")


def birth_and_sex(id_number: str | None) -> tuple[date | None, str | None]:
    """(date of birth, "male" | "female"), or (None, None) for a number not of that shape
    (a passport, a Hong Kong or Macao permit, a typing error)."""
    if not id_number or not _ID.match(id_number.strip()):
        return None, None
    digits = id_number.strip()
    try:
        born = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return None, None
    return born, "male" if int(digits[16]) % 2 else "female"


def age_on(born: date, day: date) -> int:
    """Whole years of age on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
