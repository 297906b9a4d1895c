"""How risky a place someone came from or passed through was, against the published list.

A listing names a place of the gazetteer (rules.places: a country, province, city or
county), a part of one that the gazetteer does not hold (a street, town, village or
compound below a county-level place: "青海省/西宁市/城东区/东关大街街道", see
``places.resolve_area``), or something unknown.  Matching what a resident reported:

1. Both known, the listing a whole place: a listing *contains* the person's place
   (listed 上海市 or 城东区, came from 上海市浦东新区 or 城东区) → that level, for certain.
2. The person's place contains the listing (came from 上海市, listed 浦东新区; came from
   西宁市, listed 城东区): the person may or may not have been there → a *possible*
   level, which the grid worker confirms instead of us guessing.
3. A listing of a part of a known place (a street of 城东区): never certain.  People
   whose place overlaps it (came from 城东区, or from 西宁市) → possible.
4. A person whose place is only text (kept as typed): possible when the text names the
   listed place, an ancestor or a descendant of it (by the gazetteer's ``match``), or
   the listed part below it (东关大街, with or without 街道).
5. A listing the gazetteer does not know is matched by its last name appearing in what
   the person typed → possible, for the worker to confirm.
Names are compared after the gazetteer's own normalisation (suffixes such as 市/区/县/省,
simplified and traditional forms, English names), because resolve() does that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

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

    @property
    def area(self) -> places.Area | None:
        """The listed place and the part of it below the gazetteer, if any; None if unknown."""
        return listed_area(self.place, self.place_code)


@lru_cache(maxsize=4096)
def listed_area(text: str, code: str | None) -> places.Area | None:
    """What a listing stored as ``text`` with gazetteer ``code`` names (None: unknown).

    The code decides the place; the text tells whether the listing is only a part of it.
    """
    place = _known(code)
    if place is None:
        return None
    area = places.resolve_area(text)
    if area is None or area.place != place:
        return places.Area(place)  # the gazetteer changed since the import: the whole place
    return area


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
    """The risk of a place someone was in on the days [first, last] (see the module doc)."""
    place = _known(place_code)
    level: str | None = None
    possible: str | None = None
    matched: list[Listing] = []
    named: list[places.Place] | None = None  # what the text may name, when only text
    for listing in listings:
        if not listing.in_force(first, last):
            continue
        area = listing.area
        if area is None:
            if _name_in(listing.place, typed):
                possible = highest(possible, listing.level)
                matched.append(listing)
            continue
        listed = area.place
        if place is not None:
            if not area.within and places.contains(listed, place):
                level = highest(level, listing.level)
            elif places.overlaps(listed, place):
                possible = highest(possible, listing.level)
            else:
                continue
        else:
            if named is None:
                named = places.match(typed) if isinstance(typed, str) else []
            if not (area.mentioned_in(typed) or any(places.overlaps(listed, p) for p in named)):
                continue
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
