"""Which grid an address lies in, by the rules a community keeps: each grid lists its
buildings ("1-10" or "7") and named compounds ("阳光小区") — see the `buildings` column of
the areas file. An address gives a building number where it says 3栋, 3号楼, 3幢, 3座 or
3号院; a compound matches where its name appears in the address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# A building's own number first (3栋, 3号楼); a bare number (12号) only where none is given;
# a courtyard's number (88号院) is the compound's, not a building's.
BUILDING = re.compile(r"(\d{1,4})\s*(?:栋|棟|号楼|號樓|幢|座)")
NUMBER = re.compile(r"(\d{1,4})\s*(?:号|號)(?!院)")
RANGE = re.compile(r"^(\d{1,4})\s*[-–~～至到]\s*(\d{1,4})$")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "")


def building_number(address: str) -> int | None:
    """The building number an address names (3栋2单元501 → 3), if it names one."""
    text = _normal(address)
    found = BUILDING.search(text) or NUMBER.search(text)
    return int(found[1]) if found else None


def rule_matches(rule: str, address: str) -> bool:
    """Whether a grid's rule ("1-10|15|阳光小区") takes the address."""
    address = _normal(address)
    number = building_number(address)
    for item in (part.strip() for part in _normal(rule).split("|")):
        if not item:
            continue
        span = RANGE.match(item)
        if span is not None:
            if number is not None and int(span[1]) <= number <= int(span[2]):
                return True
        elif item.isdigit():
            if number is not None and number == int(item):
                return True
        elif item in address:
            return True
    return False


def grid_of(address: str, rules: Mapping[str, str | None]) -> str | None:
    """The one grid (a key of `rules`) whose rule takes the address; None when none does or
    several do (a person decides then). A community with a single grid needs no rule."""
    if len(rules) == 1:
        return next(iter(rules))
    taking = [grid for grid, rule in rules.items() if rule and rule_matches(rule, address)]
    return taking[0] if len(taking) == 1 else None


__all__ = ["building_number", "grid_of", "rule_matches"]
