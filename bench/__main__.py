"""`python -m bench`: the short version of every benchmark, one table with each aim.

    python -m bench                      # short versions, median of 3 runs (make bench)
    python -m bench --long               # the issue's sizes (an hour or more; see the doc)
    python -m bench --only round --db postgresql --runs 1

The bot's log (INFO, as in production) goes to a file, named at the start. Figures and how
to read them are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import answers, citydata, latency, pushed, sender, slot
from bench import round as check_in_round
from bench.common import ROOT, Databases, Emulator, Figure, Summary, summarise, table
from bot.logs import configure

SCENARIOS = ("sender", "latency", "round", "slot", "answers", "city", "pushed")
KINDS = ("sqlite", "postgresql")


def machine() -> str:
    """The machine the figures were taken on, in one line."""
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "? GB"
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB RAM"
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at start {load}; "
        f"commit {commit or '?'}"
    )


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def repeat(
    name: str, runs: int, once: Callable[[int], Awaitable[list[Figure]]]
) -> list[Summary]:
    results = []
    for n in range(1, runs + 1):
        say(f"{name}: run {n} of {runs}")
        try:
            results.append(await once(n))
        except Exception as exc:
            # One scenario's failure leaves the others' figures standing; its traceback is in
            # the log, and its runs so far are not shown (a median of fewer runs would mislead).
            logging.getLogger("bench").exception("%s: run %d failed", name, n)
            say(f"{name}: run {n} FAILED ({type(exc).__name__}: {exc}); see the log")
            return []
    return summarise(results)


async def main(args: argparse.Namespace) -> list[Summary]:
    only = [s for s in SCENARIOS if s in args.only.split(",")]
    kinds = [k for k in KINDS if k in args.db.split(",")]
    if "postgresql" in kinds and not await Databases.postgres_available():
        say("PostgreSQL is not reachable (BENCH_POSTGRES): its figures are left out")
        kinds.remove("postgresql")
    summaries: list[Summary] = []
    async with Databases() as databases:
        if "sender" in only:
            async with Emulator() as emulator:
                summaries += await repeat(
                    "sender top rate", args.runs, lambda _: sender.measure(emulator)
                )
        if "latency" in only:
            reply_size = latency.FULL if args.long else latency.SHORT
            async with Emulator() as emulator:
                summaries += await repeat(
                    "reply latency during a round",
                    args.runs,
                    lambda _: latency.measure(reply_size, emulator),
                )
        if "round" in only:
            size = check_in_round.sized(check_in_round.FULL if args.long else check_in_round.SHORT)
            for kind in kinds:

                async def one_round(_: int, kind: str = kind) -> list[Figure]:
                    async with Emulator() as emulator:
                        url = await databases.fresh(kind)
                        return await check_in_round.measure(size, url, emulator)

                summaries += await repeat(f"check-in round on {kind}", args.runs, one_round)
        if "slot" in only:
            for kind in kinds:

                async def one_slot(_: int, kind: str = kind) -> list[Figure]:
                    async with Emulator() as emulator:
                        return await slot.measure(await databases.fresh(kind), emulator)

                summaries += await repeat(f"test-day slot on {kind}", args.runs, one_slot)
        if "answers" in only:
            count = 5_000 if args.long else answers.SHORT
            frameworks = ["aiogram", "ptb"]

            async def one_answers(_: int) -> list[Figure]:
                async with Emulator() as emulator:
                    return await answers.measure(count, emulator, databases, kinds, frameworks)

            summaries += await repeat("answers coming in", args.runs, one_answers)
        if "city" in only:
            city_size = citydata.FULL if args.long else citydata.SHORT
            for kind in kinds:
                say(f"city: generating {city_size.residents:,} residents on {kind}")
                city = await citydata.prepare(await databases.fresh(kind), city_size)

                async def one_city(_: int, city: citydata.CityRun = city) -> list[Figure]:
                    return await citydata.measure(city)

                summaries += await repeat(f"city on {kind}", args.runs, one_city)
        if "pushed" in only:
            rows = pushed.FULL_ROWS if args.long else pushed.SHORT_ROWS
            for kind in kinds:
                say(f"pushed: a city of {pushed.CITY.residents:,} residents on {kind}")
                listed = await pushed.prepare(await databases.fresh(kind), rows)

                async def one_list(_: int, listed: pushed.PushedRun = listed) -> list[Figure]:
                    return await pushed.measure(listed)

                summaries += await repeat(f"pushed list on {kind}", args.runs, one_list)
    return summaries


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="the full sizes (slow)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median shown)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="e.g. round,answers")
    parser.add_argument("--db", default=",".join(KINDS), help="sqlite, postgresql or both")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> None:
    args = parse(argv)
    log_path = Path(tempfile.gettempdir()) / f"returnee-bench-{os.getpid()}.log"
    configure("INFO")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(log_path.open("w", encoding="utf-8"))
    say(f"{'long' if args.long else 'short'} versions, {args.runs} run(s) each; log: {log_path}")
    header = machine()
    started = time.perf_counter()
    summaries = asyncio.run(main(args))
    minutes = (time.perf_counter() - started) / 60
    print(f"machine: {header}")
    print(f"{'long' if args.long else 'short'} versions, median of {args.runs} run(s), "
          f"{minutes:.1f} min in all")  # fmt: skip
    print(table(summaries))


if __name__ == "__main__":
    run()
