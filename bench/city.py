"""A generated city, loaded in bulk: areas, residents in households, arrivals, monitoring
plans, daily check-ins with their alerts, test results and one worker per area.

The full city is the issue's: 200,000 residents, 1,000 grids and 1,000,000 check-ins, over
the seed's five weeks (seed 000: 190,000 arrivals, 21,457 in home isolation). A grid holds
200 residents whatever the size, so one grid's figures mean the same in the short version.
Everything comes from one seeded random generator: the same size gives the same city.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from bench.bulk import Loader, Row
from bench.common import sealed
from models.base import Base

ZONE = ZoneInfo("Asia/Shanghai")
# The last of the five weeks, 21:00: the evening check-in slot (20:00) is open.
TODAY = date(2026, 7, 1)
NOW = datetime.combine(TODAY, time(21, 0), tzinfo=ZONE).astimezone(UTC)
SLOTS = (time(8, 0), time(20, 0))
# Telegram user ids: residents' reporters from here, workers from STAFF_USERS.
FIRST_USER = 10_000_000
STAFF_USERS = 9_000_000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫宇浩然子涵欣怡梓轩雨晨"
)
ORIGINS = (
    ("440100", "广东省广州市"),
    ("310100", "上海市"),
    ("110100", "北京市"),
    ("420100", "湖北省武汉市"),
    ("370200", "山东省青岛市"),
    ("510100", "四川省成都市"),
    ("330100", "浙江省杭州市"),
    ("620100", "甘肃省兰州市"),
)
TRANSPORTS = ("train", "plane", "coach", "car", "ship")


def table(name: str) -> Table:
    return Base.metadata.tables[name]


@dataclass(frozen=True)
class CitySize:
    residents: int = 200_000
    grids: int = 1_000
    checkins: int = 1_000_000
    days: int = 35

    def scaled(self, factor: float) -> CitySize:
        return CitySize(
            residents=int(self.residents * factor),
            grids=max(1, int(self.grids * factor)),
            checkins=int(self.checkins * factor),
            days=self.days,
        )


FULL = CitySize()
SHORT = FULL.scaled(0.1)


@dataclass
class Areas:
    """The area tree: ids by level, each grid's path of codes, and who covers what."""

    rows: list[Row] = field(default_factory=list)
    grids: list[int] = field(default_factory=list)
    grid_codes: dict[int, str] = field(default_factory=dict)
    by_level: dict[str, list[int]] = field(default_factory=dict)


def area_tree(grids: int, *, first_id: int = 1) -> Areas:
    """One city; a district per 100 grids, a street per 20, a community per 5."""
    areas = Areas()
    next_id = first_id

    def add(code: str, name: str, level: str, parent: tuple[int, str] | None) -> tuple[int, str]:
        nonlocal next_id
        area_id, next_id = next_id, next_id + 1
        path = f"{parent[1]}/{code}" if parent else code
        areas.rows.append((area_id, code, name, level, parent[0] if parent else None, path))
        areas.by_level.setdefault(level, []).append(area_id)
        return area_id, path

    city = add("C", "Bench City", "city", None)
    per = {"district": 100, "street": 20, "community": 5}
    made = 0
    for d in range(math.ceil(grids / per["district"])):
        district = add(f"D{d:02d}", f"District {d}", "district", city)
        for s in range(per["district"] // per["street"]):
            if made >= grids:
                break
            street = add(f"D{d:02d}S{s}", f"Street {d}.{s}", "street", district)
            for c in range(per["street"] // per["community"]):
                if made >= grids:
                    break
                code = f"D{d:02d}S{s}C{c}"
                community = add(code, f"Community {d}.{s}.{c}", "community", street)
                for g in range(per["community"]):
                    if made >= grids:
                        break
                    grid_id, _ = add(f"{code}G{g}", f"Grid {d}.{s}.{c}.{g}", "grid", community)
                    areas.grids.append(grid_id)
                    areas.grid_codes[grid_id] = f"{code}G{g}"
                    made += 1
    return areas


AREA_COLUMNS = ("id", "code", "name", "level", "parent_id", "path")


@dataclass
class City:
    """What was generated, for the measurements to pick from."""

    size: CitySize
    areas: Areas
    # One grid worker's Telegram user per grid, by grid id; the city-level user.
    grid_workers: dict[int, int] = field(default_factory=dict)
    district_worker: int = 0
    # Residents that can be looked up: (name, phone) of a few.
    sample_people: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def with_grid(rows: Iterable[Row], grid_of: list[int], column: int = 1) -> Iterator[Row]:
    """Each row with its resident's grid (the resident's id in `column`) last, as the bot
    keeps it on check-ins, plans and arrivals."""
    for row in rows:
        yield (*row, grid_of[row[column] - 1])


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)


async def generate(url: str, size: CitySize, seed: int = 0) -> City:
    """Generate the city into the (migrated, empty) database at `url`."""
    rng = random.Random(seed)
    areas = area_tree(size.grids)
    city = City(size, areas)
    first_day = TODAY - timedelta(days=size.days - 1)
    created = local(first_day, time(0))
    async with Loader(url) as loader:
        city.counts["areas"] = await loader.load(table("areas"), AREA_COLUMNS, areas.rows)

        # Residents in households of 1 to 4; the first of each reports for the others.
        grid_of: list[int] = []
        household_of: list[int] = []
        reporter_of: list[int] = []
        households: list[Row] = []
        users: list[Row] = []
        while len(grid_of) < size.residents:
            household_id = len(households) + 1
            grid = areas.grids[(len(grid_of) * len(areas.grids)) // size.residents]
            reporter = FIRST_USER + household_id
            members = min(rng.choice((1, 1, 2, 2, 2, 3, 3, 4)), size.residents - len(grid_of))
            households.append((household_id, grid, f"{rng.randint(1, 300)}号", reporter, created))
            language = "en" if rng.random() < 0.1 else "zh_Hans"
            users.append((reporter, reporter, language, created, created, NOW))
            for _ in range(members):
                grid_of.append(grid)
                household_of.append(household_id)
                reporter_of.append(reporter)
        city.counts["households"] = await loader.load(
            table("households"),
            ("id", "grid_id", "address", "reporter_user_id", "created_at"),
            households,
        )

        # Arrival days: most in the five weeks, some expected in the next three days.
        arrival_day = [rng.randrange(size.days + 3) for _ in range(size.residents)]

        def residents() -> Iterator[Row]:
            for i in range(size.residents):
                resident_id = i + 1
                first_member = i == 0 or household_of[i - 1] != household_of[i]
                name = rng.choice(SURNAMES) + "".join(
                    rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
                )
                phone = f"+86138{resident_id:08d}" if first_member or rng.random() < 0.6 else None
                if resident_id % 997 == 0 and phone:
                    city.sample_people.append((name, phone))
                yield (
                    resident_id,
                    household_of[i],
                    grid_of[i],
                    reporter_of[i] if first_member else None,
                    reporter_of[i],
                    "self" if first_member else "family",
                    name,
                    *sealed(phone, f"6201{rng.randrange(10**13):013d}X"),
                    created,
                    created,
                )

        city.counts["residents"] = await loader.load(
            table("residents"),
            (
                "id",
                "household_id",
                "grid_id",
                "user_id",
                "reporter_user_id",
                "relation",
                "name",
                "phone",
                "id_number",
                "phone_tail_hash",
                "id_number_hash",
                "created_at",
                "updated_at",
            ),
            residents(),
        )
        city.counts["chat_users"] = await loader.load(
            table("chat_users"),
            ("id", "chat_id", "language", "consented_at", "created_at", "last_seen_at"),
            users,
        )

        def arrivals() -> Iterator[Row]:
            for i in range(size.residents):
                day = first_day + timedelta(days=arrival_day[i])
                at = local(day, time(rng.randrange(6, 23), rng.randrange(60)))
                expected = day > TODAY
                code, origin = rng.choice(ORIGINS)
                transport = rng.choice(TRANSPORTS)
                yield (
                    i + 1,
                    i + 1,
                    "expected" if expected else "arrived",
                    at if expected else None,
                    None if expected else at,
                    at - timedelta(hours=rng.randrange(1, 48)),
                    code,
                    origin,
                    transport,
                    f"G{rng.randrange(1, 9999)}" if transport in ("train", "plane") else None,
                    None,
                    None if expected else round(rng.uniform(36.1, 37.0), 1),
                    [],
                    "green",
                )

        city.counts["arrivals"] = await loader.load(
            table("arrivals"),
            (
                "id",
                "resident_id",
                "status",
                "expected_at",
                "arrived_at",
                "reported_at",
                "origin_code",
                "origin_text",
                "transport",
                "transport_number",
                "seat",
                "temperature",
                "symptoms",
                "health_code",
                "grid_id",
            ),
            with_grid(arrivals(), grid_of),
        )

        # Plans: home isolation (14 days) or home monitoring (7) from the arrival day, for
        # as many arrivals as it takes to have the check-ins asked for.
        plans: list[Row] = []
        plan_slots: list[tuple[int, int, int, date, date]] = []  # plan, resident, reporter, …
        order = list(range(size.residents))
        rng.shuffle(order)
        wanted = size.checkins
        for i in order:
            if wanted <= 0:
                break
            start = first_day + timedelta(days=arrival_day[i])
            if start > TODAY:
                continue
            kind, days = rng.choice((("home_isolation", 14), ("home_monitoring", 7)))
            end = start + timedelta(days=days - 1)
            asked = 2 * ((min(end, TODAY) - start).days + 1)
            if asked > wanted:
                end = start + timedelta(days=wanted // 2 - 1) if wanted >= 2 else start
            plan_id = len(plans) + 1
            active = end >= TODAY
            tests = [start.isoformat(), end.isoformat()]
            plans.append(
                (
                    plan_id,
                    i + 1,
                    i + 1,
                    "jiayuguan",
                    kind,
                    2,
                    "bench",
                    [{"kind": kind, "first": start.isoformat(), "last": end.isoformat()}],
                    tests,
                    2 if kind == "home_monitoring" else 1,
                    False,
                    False,
                    start,
                    end,
                    "active" if active else "released",
                    local(start, time(9)),
                    None if active else local(end, time(21)),
                )
            )
            plan_slots.append((plan_id, i + 1, reporter_of[i], start, min(end, TODAY)))
            wanted -= 2 * ((min(end, TODAY) - start).days + 1)
        city.counts["plans"] = await loader.load(
            table("plans"),
            (
                "id",
                "resident_id",
                "arrival_id",
                "policy",
                "plan_key",
                "rule",
                "reason",
                "phases",
                "test_days",
                "negatives_needed",
                "refer_to_clinic",
                "needs_confirmation",
                "starts_on",
                "ends_on",
                "status",
                "created_at",
                "ended_at",
                "grid_id",
            ),
            with_grid(plans, grid_of),
        )

        alerts: list[Row] = []

        def checkins() -> Iterator[Row]:
            checkin_id = 0
            for plan_id, resident_id, reporter, start, last in plan_slots:
                day = start
                while day <= last:
                    for s, at in enumerate(SLOTS):
                        checkin_id += 1
                        slot_start = local(day, at)
                        slot_end = (
                            local(day, SLOTS[s + 1])
                            if s + 1 < len(SLOTS)
                            else local(day + timedelta(days=1), time(0))
                        )
                        still_open = slot_end > NOW
                        roll = rng.random()
                        grid = grid_of[resident_id - 1]
                        if still_open and roll < 0.4:
                            yield (
                                checkin_id,
                                plan_id,
                                resident_id,
                                reporter,
                                slot_start,
                                slot_end,
                                None,
                                None,
                                None,
                                False,
                                None,
                                [],
                                None,
                                None,
                                None,
                                {},
                            )
                            continue
                        if roll < 0.065:  # missed
                            alerts.append(
                                (grid, resident_id, "missed_checkin", slot_end, checkin_id)
                            )
                            yield (
                                checkin_id,
                                plan_id,
                                resident_id,
                                reporter,
                                slot_start,
                                slot_end,
                                slot_start + timedelta(hours=2),
                                slot_end,
                                None,
                                False,
                                None,
                                [],
                                None,
                                None,
                                None,
                                {},
                            )
                            continue
                        answered = min(
                            slot_start + timedelta(minutes=rng.randrange(5, 240)),
                            NOW - timedelta(minutes=1),
                        )
                        fever = roll > 0.99
                        temperature = (
                            round(rng.uniform(37.3, 39.0), 1)
                            if fever
                            else round(rng.uniform(36.1, 37.1), 1)
                        )
                        if fever:
                            alerts.append((grid, resident_id, "fever", answered, checkin_id))
                        went_out = rng.random() < 0.05
                        yield (
                            checkin_id,
                            plan_id,
                            resident_id,
                            reporter,
                            slot_start,
                            slot_end,
                            None,
                            None,
                            answered,
                            False,
                            temperature,
                            ["cough"] if fever and rng.random() < 0.5 else [],
                            went_out,
                            "药店" if went_out else None,
                            reporter,
                            {},
                        )
                    day += timedelta(days=1)

        city.counts["checkins"] = await loader.load(
            table("checkins"),
            (
                "id",
                "plan_id",
                "resident_id",
                "reporter_user_id",
                "slot_start",
                "slot_end",
                "reminded_at",
                "missed_at",
                "answered_at",
                "late",
                "temperature",
                "symptoms",
                "went_out",
                "where",
                "answered_by",
                "extra",
                "grid_id",
            ),
            with_grid(checkins(), grid_of, column=2),
        )

        def alert_rows() -> Iterator[Row]:
            for n, (grid, resident_id, kind, at, checkin_id) in enumerate(alerts, 1):
                old = at < NOW - timedelta(hours=6)
                yield (
                    n,
                    grid,
                    resident_id,
                    kind,
                    {},
                    at,
                    "acknowledged" if old else "open",
                    f"{kind}:{checkin_id}",
                    at,
                    at + timedelta(minutes=30) if old else None,
                    STAFF_USERS + grid if old else None,
                    at if kind == "missed_checkin" else None,
                )

        city.counts["alerts"] = await loader.load(
            table("alerts"),
            (
                "id",
                "grid_id",
                "resident_id",
                "kind",
                "details",
                "created_at",
                "status",
                "dedupe_key",
                "notified_at",
                "acknowledged_at",
                "acknowledged_by",
                "checkin_slot_end",
            ),
            alert_rows(),
        )

        def test_results() -> Iterator[Row]:
            n = 0
            for row in plans:
                plan_id, resident_id, tests = row[0], row[1], row[8]
                for day_text in tests:
                    day = date.fromisoformat(day_text)
                    if day <= TODAY:
                        n += 1
                        at = local(day, time(20, 30))
                        yield (n, plan_id, resident_id, day, "negative", at, FIRST_USER)

        city.counts["test_results"] = await loader.load(
            table("test_results"),
            ("id", "plan_id", "resident_id", "day", "result", "reported_at", "reported_by"),
            test_results(),
        )

        # A worker for every grid, and one for the first district.
        staff: list[Row] = []
        staff_users: list[Row] = []
        for grid in areas.grids:
            user = STAFF_USERS + grid
            city.grid_workers[grid] = user
            staff.append((len(staff) + 1, user, user, grid, "grid", f"网格员{grid}", created))
            staff_users.append((user, user, "zh_Hans", created, created, NOW))
        district = areas.by_level["district"][0]
        city.district_worker = STAFF_USERS + district
        staff.append(
            (
                len(staff) + 1,
                city.district_worker,
                city.district_worker,
                district,
                "district",
                "区干部",
                created,
            )
        )
        staff_users.append(
            (city.district_worker, city.district_worker, "zh_Hans", created, created, NOW)
        )
        await loader.load(
            table("chat_users"),
            ("id", "chat_id", "language", "consented_at", "created_at", "last_seen_at"),
            staff_users,
        )
        city.counts["staff"] = await loader.load(
            table("staff"),
            ("id", "user_id", "chat_id", "area_id", "role", "name", "joined_at"),
            staff,
        )
    return city
