"""A pushed list as such lists come, for the services' and the end-to-end tests: real-format
mainland ID numbers (with right check digits), real mobile numbers, real places of the
gazetteer and addresses in the demo city (bot/demo_data/areas.csv), and residents filed
before the list arrives."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.areas import Area
from rules.policy import Policy
from services.filing import file_report
from services.pushed import Imported, import_list

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Where the people on the list were born (Beijing Chaoyang, Wuhan Wuchang, Shanghai Pudong,
# Lanzhou Chengguan, Jiayuguan).
REGIONS = ("110105", "420106", "310115", "620102", "620201")
HEADER = ["姓名", "身份证号", "手机号", "来源地/旅居地", "时间", "事由", "现住址", "推送单位"]
GRID_1 = "620201001001001"  # 新华南路社区第一网格 (buildings 1-10)
GRID_2 = "620201001001002"  # 新华南路社区第二网格 (buildings 11-20)
GRID_3 = "620201001002001"  # 建设路社区第一网格
DISTRICT = "620201"  # 雄关区
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def id_number(n: int, *, valid: bool = True) -> str:
    region = REGIONS[n % len(REGIONS)]
    born = (datetime(1960, 1, 1) + timedelta(days=397 * n)).strftime("%Y%m%d")
    body = f"{region}{born}{(100 + n) % 1000:03d}"
    check = _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    if not valid:
        check = _CHECK[(_CHECK.index(check) + 1) % 11]
    return body + check


def phone(n: int) -> str:
    return f"139{37000000 + n:08d}"


def name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)] + GIVEN[(n * 7 + 3) % len(GIVEN)]


@dataclass(frozen=True)
class Person:
    n: int
    name: str
    id_number: str
    phone: str
    address: str
    grid: str  # the area code the row belongs to


def address(n: int) -> tuple[str, str]:
    """An address in the demo city and the grid (or district) it lies in."""
    match n % 3:
        case 0:
            return f"嘉峪关市雄关区新华街道新华南路社区{1 + n % 10}栋2单元{100 + n}", GRID_1
        case 1:
            return f"嘉峪关市雄关区新华街道新华南路社区{11 + n % 10}号楼{100 + n}室", GRID_2
        case _:
            return f"嘉峪关市雄关区新华街道建设路社区{n}号", GRID_3


@dataclass(frozen=True)
class PushedFile:
    data: bytes
    reported: list[Person]  # filed before the list came (matched by ID or phone)
    unreported: list[Person]  # tasks in their grids
    bad_lines: list[int]  # bad ID numbers
    unknown: list[Person]  # addresses no community of ours: the district's queue


def fifty(
    reported: int = 20, unreported: int = 25, bad: int = 3, unknown: int = 2, *, first: int = 1
) -> PushedFile:
    """The list of the issue's test: 20 already reported, 25 not, 3 bad ID numbers, 2 at
    addresses no community of ours (in a district of ours)."""
    rows: list[list[str]] = []
    people: dict[str, list[Person]] = {"reported": [], "unreported": [], "unknown": []}
    bad_lines: list[int] = []
    n = first - 1
    reasons = ("密接", "次密接", "中高风险地区来返", "密接")
    for group, count in (("reported", reported), ("unreported", unreported), ("bad", bad),
                         ("unknown", unknown)):  # fmt: skip
        for _ in range(count):
            n += 1
            where, grid = address(n)
            if group == "unknown":
                where, grid = f"嘉峪关市雄关区幸福路{n}号", DISTRICT
            person = Person(n, name(n), id_number(n, valid=group != "bad"), phone(n), where, grid)
            # A few of those who reported are on the list by phone only.
            listed_id = "" if group == "reported" and n % 4 == 0 else person.id_number
            rows.append(
                [
                    person.name,
                    listed_id,
                    person.phone,
                    "上海市浦东新区" if n % 2 else "湖北省武汉市",
                    "2026-06-25",
                    reasons[n % len(reasons)],
                    person.address,
                    "省疫情防控指挥部",
                ]
            )
            if group == "bad":
                bad_lines.append(len(rows) + 1)
            else:
                people[group].append(person)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return PushedFile(
        out.getvalue().encode("utf-8-sig"),
        people["reported"],
        people["unreported"],
        bad_lines,
        people["unknown"],
    )


async def file_people(
    session: AsyncSession,
    people: list[Person],
    *,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
    first_user: int = 7_100_000,
) -> None:
    """Each person reported themselves (arrived from Nanjing by train) before the list."""
    community = await session.scalar(select(Area).where(Area.code == "620201001001"))
    other = await session.scalar(select(Area).where(Area.code == "620201001002"))
    assert community is not None and other is not None
    for i, person in enumerate(people):
        area = other if person.grid == GRID_3 else community
        answers: dict[str, Any] = {
            "name": person.name,
            "phone": "+86" + person.phone,
            "id_number": person.id_number,
            "stay": {"area_id": area.id},
            "address": person.address,
            "arrival_status": "arrived",
            "arrival_at": (now - timedelta(days=1)).isoformat(),
            "origin": {"code": "320100", "text": "南京"},
            "transport": "train",
            "transport_number": "G7001",
            "history": [],
        }
        await file_report(
            session, answers, user_id=first_user + i, now=now, zone=zone, policy=policy
        )


async def import_for_city(
    session: AsyncSession,
    data: bytes,
    *,
    source: str,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy,
    deadline: timedelta = timedelta(hours=24),
) -> Imported:
    """The list taken in as a city's command post would (no worker: the command line)."""
    city = await session.scalar(select(Area).where(Area.level == "city"))
    assert city is not None
    return await import_list(
        session,
        data,
        "list.csv",
        source=source,
        deadline=deadline,
        area=city,
        imported_by=None,
        now=now,
        zone=zone,
        policy=policy,
    )
