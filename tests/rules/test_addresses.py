"""A grid's rule of buildings and compounds, against addresses as residents type them."""

from __future__ import annotations

import pytest

from rules.addresses import building_number, grid_of, rule_matches


@pytest.mark.parametrize(
    ("address", "number"),
    [
        ("3栋2单元501", 3),
        ("13栋2单元501", 13),
        ("建设路12号楼3单元", 12),
        ("7幢101", 7),
        ("阳光小区 B座", None),
        ("新华南路88号院3号楼201", 3),
        ("新华南路12号", 12),
        ("新华南路88号院", None),
        ("３栋２单元", 3),  # full-width digits
        ("平房", None),
    ],
)
def test_the_building_number_of_an_address(address: str, number: int | None) -> None:
    assert building_number(address) == number


@pytest.mark.parametrize(
    ("rule", "address", "taken"),
    [
        ("1-10", "3栋2单元501", True),
        ("1-10", "13栋2单元501", False),
        ("11-20", "13栋2单元501", True),
        ("7|9", "9栋1单元", True),
        ("7|9", "8栋1单元", False),
        ("阳光小区", "阳光小区3栋", True),
        ("阳光小区|1-3", "月光小区5栋", False),
        ("1～5", "5号楼", True),
    ],
)
def test_a_rule_takes_the_addresses_it_names(rule: str, address: str, taken: bool) -> None:
    assert rule_matches(rule, address) is taken


def test_the_grid_is_the_one_rule_that_takes_the_address() -> None:
    rules = {"g1": "1-10", "g2": "11-20", "g3": None}
    assert grid_of("3栋2单元501", rules) == "g1"
    assert grid_of("15栋", rules) == "g2"
    assert grid_of("30栋", rules) is None  # nobody's: a worker decides
    assert grid_of("5栋", {"g1": "1-10", "g2": "5"}) is None  # two take it: a worker decides
    assert grid_of("anything", {"only": None}) == "only"  # one grid needs no rule
