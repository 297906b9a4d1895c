"""Risk matching at the level a place is listed: county, street, or unknown to the gazetteer."""

from __future__ import annotations

from datetime import date

import pytest

from rules import places
from rules.risk import Listing, listed_area, risk_of

JUNE = (date(2021, 6, 10), date(2021, 6, 20))


def listing(path: str, level: str = "high", valid_to: date | None = None) -> Listing:
    """A listing as the importer stores it: the published text and the code it resolves to."""
    resolved = places.resolve(path)
    return Listing(path, resolved.code if resolved else None, level, date(2021, 6, 1), valid_to)


def code_of(text: str) -> str:
    return places.match(text)[0].code


# A person: the place they chose (None if they kept their text), and what they typed.
XINING = ("630100", "青海省 西宁市")
CHENGDONG = ("630102", "青海省 西宁市 城东区")
CHENGXI = ("630104", "青海省 西宁市 城西区")
QINGHAI = ("630000", "青海省")
XUNHUA = ("630225", "青海省 海东市 循化撒拉族自治县")
HAIDONG = ("630200", "青海省 海东市")
SHOUGUANG = ("370783", "山东省 潍坊市 寿光市")
BEIJING_CHAOYANG = ("110105", "北京市 朝阳区")
CHANGCHUN_CHAOYANG = ("220104", "吉林省 长春市 朝阳区")
TOKYO = ("C-JP", "日本")


@pytest.mark.parametrize(
    ("listed", "person", "level", "possible"),
    [
        # a county listed: certain inside it, possible for who named only an ancestor
        ("中国/青海省/西宁市/城东区", CHENGDONG, "high", None),
        ("青海省西宁市城东区", CHENGDONG, "high", None),
        ("中国/青海省/西宁市/城东区", XINING, None, "high"),
        ("中国/青海省/西宁市/城东区", QINGHAI, None, "high"),
        ("中国/青海省/西宁市/城东区", CHENGXI, None, None),  # a sibling district
        ("中国/青海省/西宁市/城东区", XUNHUA, None, None),
        ("中国/青海省/海东市/循化撒拉族自治县", XUNHUA, "high", None),
        ("循化县", XUNHUA, "high", None),
        ("循化县", HAIDONG, None, "high"),
        ("山东省潍坊市寿光市", SHOUGUANG, "high", None),
        # a city or province listed: certain for everything under it
        ("中国/青海省/西宁市", CHENGDONG, "high", None),
        ("青海省", XUNHUA, "high", None),
        ("中国/青海省/西宁市", XUNHUA, None, None),
        # the same name in two cities: only the listed one
        ("中国/北京市/朝阳区", BEIJING_CHAOYANG, "high", None),
        ("中国/北京市/朝阳区", CHANGCHUN_CHAOYANG, None, None),
        ("吉林省长春市朝阳区", CHANGCHUN_CHAOYANG, "high", None),
        # abroad
        ("日本", TOKYO, "high", None),
        ("Japan", TOKYO, "high", None),
        # a street of a county: never certain; possible for the county and its ancestors
        ("青海省/西宁市/城东区/东关大街街道", CHENGDONG, None, "high"),
        ("青海省/西宁市/城东区/东关大街街道", XINING, None, "high"),
        ("青海省/西宁市/城东区/东关大街街道", QINGHAI, None, "high"),
        ("青海省/西宁市/城东区/东关大街街道", CHENGXI, None, None),
        ("北京市朝阳区高碑店乡半壁店村", BEIJING_CHAOYANG, None, "high"),
        ("北京市朝阳区高碑店乡半壁店村", CHANGCHUN_CHAOYANG, None, None),
        # kept as typed: the text names the place, an ancestor, a descendant or the street
        ("中国/青海省/西宁市/城东区", (None, "西宁城东区"), None, "high"),
        ("中国/青海省/西宁市/城东区", (None, "西寧市"), None, "high"),
        ("中国/青海省/西宁市", (None, "城东区东关大街"), None, "high"),
        ("中国/青海省/西宁市/城东区", (None, "海东循化"), None, None),
        ("青海省/西宁市/城东区/东关大街街道", (None, "东关大街12号"), None, "high"),
        ("青海省/西宁市/城东区/东关大街街道", (None, "西宁城东区"), None, "high"),
        ("青海省/西宁市/城东区/东关大街街道", (None, "北京东关大街"), None, "high"),
        ("青海省/西宁市/城东区/东关大街街道", (None, "东关"), None, None),
        ("青海省/西宁市/城东区/东关大街街道", (None, "不知道"), None, None),
        # a place the gazetteer does not know: its last name in the typed text
        ("某某国/某某市", (None, "某某市"), None, "high"),
        ("某某国/某某市", XINING, None, None),
        ("某某国/某某市", ("630100", "青海省 西宁市 某某市场"), None, "high"),
    ],
)
def test_risk_at_the_listed_level(
    listed: str, person: tuple[str | None, str], level: str | None, possible: str | None
) -> None:
    found = risk_of(person[0], person[1], *JUNE, [listing(listed)])
    assert (found.level, found.possible) == (level, possible)
    assert found.needs_confirmation is (possible is not None)
    assert len(found.listings) == (level is not None or possible is not None)


def test_the_highest_level_wins_and_possible_is_kept_beside_certain() -> None:
    listings = [
        listing("中国/青海省/西宁市", "medium"),
        listing("中国/青海省/西宁市/城东区", "high"),
        listing("青海省/西宁市/城西区/兴海路街道", "high"),
    ]
    inside = risk_of("630102", "城东区", *JUNE, listings)
    assert (inside.level, inside.possible, inside.needs_confirmation) == ("high", None, False)
    west = risk_of("630104", "城西区", *JUNE, listings)
    assert (west.level, west.possible, west.needs_confirmation) == ("medium", "high", True)
    city = risk_of("630100", "西宁", *JUNE, listings)
    assert (city.level, city.possible) == ("medium", "high")
    assert len(city.listings) == 3


def test_listings_out_of_force_are_ignored() -> None:
    ended = listing("中国/青海省/西宁市/城东区", valid_to=date(2021, 6, 5))
    assert risk_of("630102", "城东区", *JUNE, [ended]).level is None
    assert risk_of("630102", "城东区", date(2021, 6, 1), date(2021, 6, 5), [ended]).level == (
        "high"
    )


@pytest.mark.parametrize(
    ("text", "code", "within"),
    [
        ("青海省/西宁市/城东区/东关大街街道", "630102", "东关大街街道"),
        ("中国/青海省/西宁市/城东区", "630102", ""),
        ("中国/上海市/浦东新区/祝桥镇", "310115", "祝桥镇"),
    ],
)
def test_a_listing_knows_its_area(text: str, code: str, within: str) -> None:
    area = listing(text).area
    assert area is not None and (area.place.code, area.within) == (code, within)


def test_a_stored_code_wins_over_a_changed_gazetteer() -> None:
    # Imported as 西宁市 when the gazetteer did not know 城东区: still the whole city.
    area = listed_area("青海省西宁市城东区", "630100")
    assert area is not None and (area.place.code, area.within) == ("630100", "")
    assert listed_area("某某国/某某市", None) is None
    assert listed_area("青海省西宁市", "999999") is None
    old = Listing("青海省西宁市城东区", "630100", "high", date(2021, 6, 1), None)
    assert risk_of("630102", "城东区", *JUNE, [old]).level == "high"


def test_the_seeds_places() -> None:
    # Seed 001: 循化县 and 西宁市城东区 listed; a resident who reported 西宁市城东区 is
    # filed under 城东区 now, and certain; one filed under 西宁市 is to be confirmed.
    listings = [listing("青海省海东市循化县"), listing("青海省西宁市城东区")]
    assert code_of("西宁市城东区") == "630102" and code_of("循化县") == "630225"
    assert risk_of(code_of("西宁市城东区"), "西宁市城东区", *JUNE, listings).level == "high"
    assert risk_of(code_of("循化"), "循化", *JUNE, listings).level == "high"
    filed_before = risk_of("630100", "青海省 西宁市", *JUNE, listings)
    assert (filed_before.level, filed_before.possible) == (None, "high")
    assert risk_of(code_of("寿光"), "寿光", *JUNE, listings).possible is None
