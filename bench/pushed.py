"""A pushed list taken in (issue 20): a generated city (bench/city.py), then a list of N rows
(a tenth of them residents of the city, found by ID number or phone and re-screened; the rest
unknown people at addresses in the city's communities, who become door-to-door tasks, and a
few bad rows) imported and matched by `services.pushed.import_list` in one transaction, as
`returnee admin pushed import` does. The aim (issue 20): 100,000 rows in under 60 s on
PostgreSQL.

    python -m bench --only pushed --db postgresql --runs 1          # 10,000 rows
    python -m bench --only pushed --db postgresql --runs 1 --long   # 100,000 rows"""

from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from bench.city import SHORT, ZONE, CitySize, generate
from bench.common import Figure, database_name
from chat.clock import SystemClock
from models.alerts import Alert
from models.areas import Area
from models.db import make_engine, make_sessions
from models.people import Resident
from models.pushed import PushedList, PushedRow
from rules.policy import load_policy
from services.pushed import import_list

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number(n: int, *, valid: bool = True) -> str:
    """A mainland ID number of the right shape (Beijing Chaoyang, born 1960-1999)."""
    body = f"110105{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    check = _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + (check if valid else _CHECK[(_CHECK.index(check) + 1) % 11])


SHORT_ROWS, FULL_ROWS = 10_000, 100_000
# The city the list is matched against: the short city's size (20,000 residents).
CITY = SHORT
HEADER = ["姓名", "身份证号", "手机号", "来源地/旅居地", "时间", "事由", "现住址"]


@dataclass(frozen=True)
class PushedRun:
    url: str
    rows: int
    city: CitySize


async def prepare(url: str, rows: int) -> PushedRun:
    await generate(url, CITY)
    return PushedRun(url, rows, CITY)


async def _list(run: PushedRun, rng: random.Random) -> bytes:
    engine = make_engine(run.url)
    try:
        async with make_sessions(engine)() as session:
            # A tenth of the list: residents with a phone (the generated ID numbers have no
            # right check digits, so they are listed by phone, the slower way to match).
            residents = list(
                await session.scalars(
                    select(Resident)
                    .where(Resident.phone.is_not(None))
                    .order_by(Resident.id)
                    .limit(max(run.rows // 10, 1))
                )
            )
            communities = [
                a.name for a in await session.scalars(select(Area).where(Area.level == "community"))
            ]
    finally:
        await engine.dispose()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    reasons = ("密接", "次密接", "中高风险地区来返")
    for n in range(run.rows):
        place, day = ("上海市浦东新区", "2026-06-25") if n % 2 else ("湖北省武汉市", "2026-06-26")
        if n < len(residents):
            person = residents[n]
            writer.writerow(
                [
                    person.name,
                    "",
                    (person.phone or "").removeprefix("+86"),
                    place,
                    day,
                    reasons[n % 3],
                    "",
                ]
            )
            continue
        number = id_number(1_000 + n, valid=n % 500 != 0)  # a few bad check digits
        writer.writerow(
            [
                f"王{n}",
                number,
                f"139{n % 10**8:08d}",
                place,
                day,
                reasons[n % 3],
                f"{rng.choice(communities)} {rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元",
            ]
        )
    return out.getvalue().encode("utf-8")


async def measure(run: PushedRun) -> list[Figure]:
    data = await _list(run, random.Random(0))
    engine = make_engine(run.url)
    try:
        sessions = make_sessions(engine)
        async with sessions.begin() as session:
            # A fresh list each run (the same file twice would change nothing). Its tasks go
            # too: SQLite gives the next list's rows the deleted rows' ids again, and a task's
            # alert is keyed by its row.
            await session.execute(delete(PushedRow))
            await session.execute(delete(PushedList))
            await session.execute(
                delete(Alert).where(
                    Alert.dedupe_key.like("pushed-task:%") | Alert.dedupe_key.like("pushed-match:%")
                )
            )
            city = await session.scalar(select(Area).where(Area.level == "city"))
            assert city is not None
            started = time.perf_counter()
            result = await import_list(
                session,
                data,
                "bench.csv",
                source=f"bench {time.time()}",
                deadline=timedelta(hours=24),
                area=city,
                imported_by=None,
                now=SystemClock().now(),
                zone=ZONE,
                policy=load_policy("jiayuguan"),
            )
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    tag = f"{run.rows:,} rows vs {run.city.residents:,} residents, {database_name(run.url)}"
    return [
        Figure(
            f"pushed-import-{run.rows}",
            f"pushed list imported and matched ({tag})",
            seconds,
            "s",
            "< 60 s for 100,000 rows (PostgreSQL)",
            (lambda s: s < 60 * run.rows / FULL_ROWS) if run.rows else None,
            1,
        ),
        Figure(
            f"pushed-matched-{run.rows}",
            f"of which found among residents (200 re-screened in the import, the rest by the job) ({tag})",
            result.matched,
        ),
        Figure(f"pushed-tasks-{run.rows}", f"door-to-door tasks ({tag})", result.tasks),
        Figure(f"pushed-bad-{run.rows}", f"bad rows reported by line ({tag})", len(result.bad)),
    ]
