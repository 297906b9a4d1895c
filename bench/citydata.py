"""Scenario 3, a city's data: how long what the workers read takes on a generated city.

The city (bench/city.py) is generated once per database; each run then measures in a fresh
child process, which imports what the bot process imports, so its peak memory (ru_maxrss)
stands for the bot's (VmHWM,
the high-water mark of its resident memory). Everything goes through the code the bot runs:

- one grid's daily report: `services.digest.report_for` for a grid (services.figures.daily_figures
  and the rendering), the median over 50 grids (aim < 3 ms on PostgreSQL, < 5 ms on SQLite);
- the roll-up over all grids: `report_for` at the city (services.counts.rollup_figures, per
  district, counted in SQL) (aim < 300 ms);
- every grid's report (aim < 3 s) as the report job makes them: `services.digest.daily_reports`
  run over and over in one session until every worker's report is queued (a worker per grid
  and one district worker: 200 reports a run, each grid's figures read a chunk of grids at a
  time, written to the outbox), then rolled back so the city stays as generated; the job's
  commits between runs are left out;
- one grid's export: `/export` from a grid worker through the core, the .xlsx built and the
  audit written (aim < 1 s);
- `/find` through the core: a grid worker searching part of a name or phone, the median of
  40 searches (aim < 5 ms); and the same from a district worker (100 grids), for reference;
- the process's peak memory (aim < 200 MB), once with the aiogram runner loaded and once
  with PTB's (the second child does the same but for the loop over every grid).

Each is timed after one warm-up call (SQLAlchemy compiles and caches each query once).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench import city as generator
from bench.city import FULL, NOW, SHORT, STAFF_USERS, TODAY, ZONE, CitySize
from bench.common import ROOT, Figure, database_name

__all__ = ["FULL", "SHORT", "CityRun", "measure", "prepare"]


@dataclass(frozen=True)
class CityRun:
    url: str
    size: CitySize
    counts: dict[str, int]
    seconds: float


async def prepare(url: str, size: CitySize) -> CityRun:
    started = time.perf_counter()
    made = await generator.generate(url, size)
    return CityRun(url, size, made.counts, time.perf_counter() - started)


async def in_child(url: str, runner: str, timed: bool = True) -> dict[str, float]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.citydata",
        url,
        runner,
        "timed" if timed else "memory",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the city measurement failed:\n{err.decode()[-3000:]}")
    got: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return got


async def measure(run: CityRun) -> list[Figure]:
    got = await in_child(run.url, "aiogram")
    ptb = await in_child(run.url, "ptb", timed=False)
    db = database_name(run.url)
    size = run.size
    tag = f"{size.residents:,} residents, {size.grids:,} grids, {db}"
    ms = "ms"
    # Issue 21's aims: one grid's report < 3 ms on PostgreSQL, < 5 ms on SQLite.
    grid_aim = 3.0 if db == "PostgreSQL" else 5.0
    return [
        Figure(
            f"city.generate.{db}",
            f"city ({tag}): generating {run.counts.get('checkins', 0):,} check-ins and the rest",
            run.seconds,
            "s",
        ),
        Figure(
            f"city.grid_report.{db}",
            f"city ({tag}): one grid's daily report (median)",
            got["grid_report"] * 1000,
            ms,
            aim=f"< {grid_aim:.0f} ms",
            meets=lambda v: v < grid_aim,
            digits=1,
        ),
        Figure(
            f"city.grid_report_p95.{db}",
            f"city ({tag}): one grid's daily report (95th percentile)",
            got["grid_report_p95"] * 1000,
            ms,
            digits=1,
        ),
        Figure(
            f"city.rollup.{db}",
            f"city ({tag}): roll-up over all grids",
            got["rollup"] * 1000,
            ms,
            aim="< 300 ms",
            meets=lambda v: v < 300,
        ),
        Figure(
            f"city.every_grid.{db}",
            f"city ({tag}): every grid's report (the report job)",
            got["every_grid"],
            "s",
            aim="< 3 s",
            meets=lambda v: v < 3,
            digits=2,
        ),
        Figure(
            f"city.export.{db}",
            f"city ({tag}): one grid's /export",
            got["export"] * 1000,
            ms,
            aim="< 1,000 ms",
            meets=lambda v: v < 1000,
        ),
        Figure(
            f"city.find.{db}",
            f"city ({tag}): /find by a grid worker (median)",
            got["find"] * 1000,
            ms,
            aim="< 5 ms",
            meets=lambda v: v < 5,
            digits=1,
        ),
        Figure(
            f"city.find_district.{db}",
            f"city ({tag}): /find by a district worker (median)",
            got["find_district"] * 1000,
            ms,
            digits=1,
        ),
        Figure(
            f"city.api_figures.{db}",
            f"city ({tag}): API, the whole city's figures over 14 days (with each district)",
            got["api_figures"] * 1000,
            ms,
            aim="< 200 ms",
            meets=lambda v: v < 200,
        ),
        Figure(
            f"city.api_figures_live.{db}",
            f"city ({tag}): the same with today counted live (no recent count of the job)",
            got["api_figures_live"] * 1000,
            ms,
        ),
        Figure(
            f"city.store_today.{db}",
            f"city ({tag}): the job counting today for every grid (every minute)",
            got["store_today"] * 1000,
            ms,
        ),
        Figure(
            f"city.store_fill.{db}",
            f"city ({tag}): the job storing the figures of the 14 last days over (first run)",
            got["store_fill"] * 1000,
            ms,
        ),
        Figure(
            f"city.store_check.{db}",
            f"city ({tag}): the job's next run, nothing changed (every 5 minutes)",
            got["store_check"] * 1000,
            ms,
            digits=1,
        ),
        Figure(
            f"city.api_people.{db}",
            f"city ({tag}): API, one page of 100 people of the city (median, pages anywhere)",
            got["api_people"] * 1000,
            ms,
            aim="< 50 ms",
            meets=lambda v: v < 50,
            digits=1,
        ),
        Figure(
            f"city.api_people_first.{db}",
            f"city ({tag}): API, the first page of 100 people",
            got["api_people_first"] * 1000,
            ms,
            digits=1,
        ),
        Figure(
            f"city.memory.{db}",
            f"city ({tag}): peak memory, aiogram runner's process",
            got["peak_mb"],
            "MB",
            aim="< 200 MB",
            meets=lambda v: v < 200,
        ),
        Figure(
            f"city.memory_base.{db}",
            f"city ({tag}):   of which the aiogram runner's imports",
            got["base_mb"],
            "MB",
        ),
        Figure(
            f"city.memory_ptb.{db}",
            f"city ({tag}): peak memory, PTB runner's process",
            ptb["peak_mb"],
            "MB",
            aim="< 200 MB",
            meets=lambda v: v < 200,
        ),
        Figure(
            f"city.memory_ptb_base.{db}",
            f"city ({tag}):   of which the PTB runner's imports",
            ptb["base_mb"],
            "MB",
        ),
    ]


# ----- the child process ----------------------------------------------------------------------


def _peak_mb() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries the
    parent's size at fork into it, so a child of a big parent would look as big."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _child(url: str, runner: str, timed: bool) -> dict[str, float]:
    """The measurements, in this (child) process; `timed` False leaves out the long loop
    over every grid, which only times and adds no memory."""
    # What the bot process has loaded, so its memory is comparable: the runner, the core.
    importlib.import_module(f"bot.{runner}_runner")
    from sqlalchemy import select

    from bot.service import settle_memory
    from chat.clock import FixedClock
    from chat.contract import Incoming, Kind, Reply, Send
    from chat.i18n import Translator
    from handlers.app import Core
    from models.areas import Area, Level
    from models.db import make_engine, make_sessions
    from models.people import Resident
    from services.digest import daily_reports, report_for
    from services.options import Options

    engine = make_engine(url)
    sessions = make_sessions(engine)
    tr = Translator("zh_Hans")
    core = Core(sessions, FixedClock(NOW), Options(zone=ZONE))
    rng = random.Random(1)
    results: dict[str, float] = {"base_mb": _peak_mb()}
    # As the bot does once started (bot/service.py): the imports' objects kept out of the
    # garbage collector's full passes. Without it each full pass walked them all: 0.7 s of the
    # report job's 1.7 s of CPU on the long city, a cost the bot does not pay.
    settle_memory()
    try:
        async with sessions() as session:
            areas = list(await session.scalars(select(Area).order_by(Area.id)))
            grids = [a for a in areas if a.level == Level.GRID]
            top = next(a for a in areas if a.parent_id is None)
            district = next(a for a in areas if a.level == Level.DISTRICT)
            some = rng.sample(range(1, 1 + len(grids) * 200), 40)
            people = list(await session.scalars(select(Resident).where(Resident.id.in_(some))))

        async def report(area: Area) -> float:
            async with sessions() as session:
                started = time.perf_counter()
                text = await report_for(session, area, TODAY, ZONE, tr)
                took = time.perf_counter() - started
            assert text
            return took

        async def command(user: int, name: str, args: str = "") -> tuple[float, list[Reply]]:
            event = Incoming(
                user_id=user,
                chat_id=user,
                kind=Kind.COMMAND,
                language="zh",
                text=f"/{name} {args}".strip(),
                command=name,
                args=args,
            )
            started = time.perf_counter()
            replies = await core.handle(event)
            return time.perf_counter() - started, replies

        sample = rng.sample(grids, min(50, len(grids)))
        await report(sample[0])
        times = [await report(g) for g in sample]
        results["grid_report"] = statistics.median(times)
        results["grid_report_p95"] = sorted(times)[int(0.95 * (len(times) - 1))]
        await report(top)
        results["rollup"] = await report(top)
        if timed:
            # What the report job does at DAILY_REPORT_AT (bot/scheduler.py runs it every
            # minute, 200 workers a run), not one report per session: rolled back after.
            async with sessions() as session:
                started = time.perf_counter()
                queued = 0
                while made := await daily_reports(session, NOW, ZONE):
                    queued += made
                results["every_grid"] = time.perf_counter() - started
                await session.rollback()
            assert queued > len(grids), queued

        worker = STAFF_USERS + sample[0].id
        await command(worker, "export")
        took, replies = await command(worker, "export")
        assert any(isinstance(r, Send) and r.file for r in replies), replies
        results["export"] = took

        def queries(person: Resident) -> list[str]:
            name = person.name or "王"
            return [name[:2], (person.phone or "13800001234")[-6:]]

        async def finds(user_of: Any) -> float:
            times = []
            await command(user_of(people[0]), "find", queries(people[0])[0])
            for person in people[:20]:
                for query in queries(person):
                    took, replies = await command(user_of(person), "find", query)
                    assert replies
                    times.append(took)
            return statistics.median(times)

        results["find"] = await finds(lambda p: STAFF_USERS + p.grid_id)
        results["find_district"] = await finds(lambda p: STAFF_USERS + district.id)
        # The bot's memory, before the API (a process of its own) is loaded here too.
        results["peak_mb"] = _peak_mb()
        results.update(await _api(sessions, top, len(grids) * 200))
    finally:
        await engine.dispose()
    return results


async def _api(sessions: Any, city: Any, residents: int) -> dict[str, float]:
    """`returnee api` called over HTTP (in process, through its ASGI app, so the figures are
    the app's and not the network's): the whole city's figures over 14 days, with each
    district; and one page of 100 people of the city, the median of 10 pages anywhere in it."""
    from datetime import timedelta

    import httpx

    from api.app import ApiConfig, create_app
    from chat.clock import FixedClock
    from services.access import create_token

    async with sessions.begin() as session:
        tokens = {
            scope: (
                await create_token(
                    session,
                    area_code=city.code,
                    scope=scope,
                    expires=timedelta(days=1),
                    now=NOW,
                    label="bench",
                )
            ).secret
            for scope in ("figures", "people")
        }
    from sqlalchemy import delete

    from models.counts import AreaDayCounts, CountedDay
    from services.stored import CHUNK_DAYS, FRESH, KEEP_DAYS, store_figures, store_today

    config = ApiConfig(zone=ZONE, clock=FixedClock(NOW), rate_per_minute=10**5)
    found: dict[str, float] = {}
    # The days that are over stored as the scheduler's job does (from nothing, as after a
    # deployment), then its next run with nothing changed.
    async with sessions.begin() as session:
        await session.execute(delete(AreaDayCounts))
        await session.execute(delete(CountedDay))
    for name in ("store_fill", "", "store_check"):
        started = time.perf_counter()
        async with sessions.begin() as session:
            # Between the two timed runs, the older days (up to KEEP_DAYS) in one go.
            chunk = CHUNK_DAYS if name else KEEP_DAYS
            await store_figures(session, NOW, ZONE, overdue_after=config.overdue_after, chunk=chunk)
        if name:
            found[name] = time.perf_counter() - started
    # Today's snapshot, as the job does every minute (the API reads it while recent).
    started = time.perf_counter()
    async with sessions.begin() as session:
        await store_today(session, NOW, ZONE, overdue_after=config.overdue_after)
    found["store_today"] = time.perf_counter() - started
    app = create_app(sessions, config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

        async def call(path: str, scope: str, **params: Any) -> float:
            headers = {"Authorization": f"Bearer {tokens[scope]}"}
            started = time.perf_counter()
            answer = await http.get(path, params=params, headers=headers)
            took = time.perf_counter() - started
            assert answer.status_code == 200, answer.text
            return took

        figures = f"/api/v1/areas/{city.code}/figures"
        span = {"from": (TODAY - timedelta(days=13)).isoformat(), "to": TODAY.isoformat()}
        await call(figures, "figures", below="true", **span)
        found["api_figures"] = statistics.median(
            [await call(figures, "figures", below="true", **span) for _ in range(3)]
        )
        people = f"/api/v1/areas/{city.code}/people"
        await call(people, "people", per_page=100)
        rng = random.Random(2)
        found["api_people"] = statistics.median(
            [
                await call(people, "people", per_page=100, after=rng.randint(0, residents))
                for _ in range(10)
            ]
        )
        found["api_people_first"] = await call(people, "people", per_page=100)
    # Today counted live: the API as it answers when the job has not counted today lately.
    later = dataclasses.replace(config, clock=FixedClock(NOW + FRESH + timedelta(seconds=1)))
    transport = httpx.ASGITransport(app=create_app(sessions, later))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        headers = {"Authorization": f"Bearer {tokens['figures']}"}
        params = {"below": "true", **span}
        await http.get(figures, params=params, headers=headers)
        started = time.perf_counter()
        answer = await http.get(figures, params=params, headers=headers)
        found["api_figures_live"] = time.perf_counter() - started
        assert answer.status_code == 200, answer.text
    return found


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_child(sys.argv[1], sys.argv[2], sys.argv[3] == "timed"))))
