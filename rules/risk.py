"""How risky a place someone came from or passed through was, against the published list.

Matching (what residents typed → listed places), in order:
1. Both known to the gazetteer (rules.places): a listing *contains* the person's place
   (listed 上海市, came from 上海市浦东新区) → that level, for certain.
2. The person's place contains the listing (came from 上海市, listed 浦东新区): the person
   may or may not have been there → a *possible* level, which the grid worker confirms
   instead of us guessing.
3. A listing the gazetteer does not know (a street, a compound) is matched by its last
   name appearing in what the person typed → possible, for the worker to confirm.
Names are compared after the gazetteer's own normalisation (suffixes such as 市/区/县/省,
simplified and traditional forms, English names), because resolve() does that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rules import places

LEVELS = ("high", "medium", "low")
RANK = {"low": 1, "medium": 2, "high": 3}


@dataclass(frozen=True)
class Listing:
    place: str
    place_code: str | None
    level: str
    valid_from: date
    valid_to: date | None

    def in_force(self, first: date, last: date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or self.valid_to >= first)


@dataclass(frozen=True)
class Finding:
    """The risk of one place: the certain level, and a higher one the worker should confirm."""

    level: str | None = None
    possible: str | None = None
    listings: tuple[Listing, ...] = ()

    @property
    def needs_confirmation(self) -> bool:
        return self.possible is not None and RANK[self.possible] > RANK.get(self.level or "", 0)


def highest(*levels: str | None) -> str | None:
    known = [level for level in levels if level]
    return max(known, key=lambda level: RANK[level]) if known else None


def risk_of(
    place_code: str | None, typed: str, first: date, last: date, listings: list[Listing]
) -> Finding:
    """The risk of a place someone was in on the days [first, last]."""
    place = _known(place_code)
    level: str | None = None
    possible: str | None = None
    matched: list[Listing] = []
    for listing in listings:
        if not listing.in_force(first, last):
            continue
        listed = _known(listing.place_code)
        if place is not None and listed is not None:
            if places.contains(listed, place):
                level = highest(level, listing.level)
                matched.append(listing)
            elif places.contains(place, listed):
                possible = highest(possible, listing.level)
                matched.append(listing)
        elif listed is None and _name_in(listing.place, typed):
            possible = highest(possible, listing.level)
            matched.append(listing)
    return Finding(level, possible, tuple(matched))


def _known(code: str | None) -> places.Place | None:
    if not code:
        return None
    try:
        return places.place(code)
    except KeyError:
        return None


def _name_in(listed: str, typed: str) -> bool:
    name = listed.replace("／", "/").split("/")[-1].strip()
    return len(name) >= 2 and name in typed
