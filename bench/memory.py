"""`python -m bench.memory`: the bot process's memory after its imports, runner by runner
(issue 21's memory aims; docs/benchmarks.md, "Memory").

    python -m bench.memory               # median of 3 fresh interpreters per figure
    python -m bench.memory --who         # and who costs what beyond the framework

It also shows the same process once its engine has run a statement on SQLite and on
PostgreSQL (`BENCH_POSTGRES`, as `python -m bench`; left out without a server): the dialect
and driver the engine loads for its database, which the imports alone leave out.

Each figure is the resident memory (VmRSS) of a fresh interpreter: after importing the
runner's framework alone (`aiogram`, `telegram.ext`), then after what `returnee run` imports
to start the bot on it (`bot.cli`, `bot.runtime`, the runner). "Beyond the framework" is the
difference: our code and the libraries it brings. The drawing process (services/drawing.py) is
measured apart: its peak after drawing a chart, a workbook and a paper.

The interpreters read compiled bytecode, as a deployed bot does (pip compiles what it
installs): a scratch `PYTHONPYCACHEPREFIX`, filled by one run first. Without it (an editable
install under `PYTHONDONTWRITEBYTECODE=1`, as in the developers' workspace) every start
compiles our ~90 modules again, and the compiler's memory adds 2–3 MB to "beyond"; `--no-cache`
measures that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from typing import Any

from bench.common import POSTGRES_SERVER

FRAMEWORKS = {"aiogram": "aiogram", "ptb": "telegram.ext"}
RUNNERS = {"aiogram": "bot.aiogram_runner", "ptb": "bot.ptb_runner"}

_MEASURE = """
import importlib, json, sys
def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
base = rss()
importlib.import_module(sys.argv[1])
framework = rss()
for name in ("bot.cli", "bot.runtime", sys.argv[2]):
    importlib.import_module(name)
runner = rss()
engines = {}
if len(sys.argv) > 3:
    # Then what the engine loads when the bot starts (the dialect and its driver) and a
    # first statement: the database's own code, in the bot's process too.
    import asyncio
    from sqlalchemy import text
    from models.db import make_engine
    async def connect(url):
        engine = make_engine(url)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        await engine.dispose()
    for url in sys.argv[3:]:
        try:
            asyncio.run(connect(url))
        except Exception:  # no such server here: left out of the table
            continue
        engines[url] = rss()
print(json.dumps({"python": base, "framework": framework, "runner": runner, "engines": engines}))
"""

# Who costs what: each module's own growth of RSS while it is executed, less the modules it
# imports, summed by top-level package (by two levels for ours).
_WHO = """
import importlib, importlib.abc, json, sys
OURS = {"bot", "handlers", "services", "models", "rules", "chat", "api", "emulator", "locales"}
def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
stack, totals = [], {}
class Timed(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner
    def create_module(self, spec):
        return self.inner.create_module(spec)
    def exec_module(self, module):
        before = rss()
        stack.append(0.0)
        try:
            self.inner.exec_module(module)
        finally:
            inner, grown = stack.pop(), rss() - before
            parts = module.__name__.split(".")
            group = ".".join(parts[:2]) if parts[0] in OURS else parts[0]
            totals[group] = totals.get(group, 0.0) + grown - inner
            if stack:
                stack[-1] += grown
class Finder(importlib.abc.MetaPathFinder):
    busy = False
    def find_spec(self, name, path, target=None):
        if Finder.busy:
            return None
        Finder.busy = True
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = Timed(spec.loader)
                    return spec
            return None
        finally:
            Finder.busy = False
importlib.import_module(sys.argv[1])
sys.meta_path.insert(0, Finder())
for name in ("bot.cli", "bot.runtime", sys.argv[2]):
    importlib.import_module(name)
print(json.dumps(sorted(totals.items(), key=lambda kv: -kv[1])[:15]))
"""

_DRAWING = """
import asyncio, json
from datetime import date, timedelta
from chat.i18n import Translator
from services import drawing
from services.digest import chart_png
from services.drawing import drawn
from services.export import Sheet, workbook
from services.figures import DayPoint
from services.papers import PaperText, render_pdf
async def main():
    points = [DayPoint(date(2026, 7, 1) + timedelta(days=i), i, 2 * i, i % 3) for i in range(14)]
    await drawn(chart_png, points, "新华南路社区第一网格", Translator("zh_Hans"))
    rows = [["王小明", "13800001234", date(2026, 7, 1)]] * 200
    await drawn(workbook, [Sheet("网格", ["姓名", "电话", "到达"], rows)])
    await drawn(render_pdf, PaperText("居家隔离告知书", (("姓名", "王小明"),), ("注意",), "x"), "zh_Hans")
    pid = drawing._child._process.pid
    with open(f"/proc/{pid}/status") as status:
        peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    drawing._child.close()
    return peak
print(json.dumps({"drawing": asyncio.run(main())}))
"""


ENVIRONMENT = dict(os.environ)
SQLITE = "sqlite+aiosqlite://"


def run(code: str, *args: str) -> Any:  # the child's JSON line
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        check=True,
        env=ENVIRONMENT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--who", action="store_true", help="who costs what, beyond the framework")
    parser.add_argument(
        "--no-cache", action="store_true", help="compile every module at each start, no bytecode"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="returnee-pyc-") as cache:
        if args.no_cache:
            # The libraries' bytecode as pip wrote it; ours compiled at each start.
            ENVIRONMENT["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            ENVIRONMENT.pop("PYTHONDONTWRITEBYTECODE", None)
            ENVIRONMENT["PYTHONPYCACHEPREFIX"] = cache
            for name, framework in FRAMEWORKS.items():
                run(_MEASURE, framework, RUNNERS[name])
        measure(args)


def _beyond(runs: list[Any], url: str) -> str:
    """Beyond the framework once the engine on `url` has run a statement (median), or — ."""
    if not all(url in r["engines"] for r in runs):
        return "—"
    return f"{statistics.median(r['engines'][url] - r['framework'] for r in runs):.1f} MB"


def measure(args: argparse.Namespace) -> None:
    print(
        "| runner | Python | framework | runner's process | beyond the framework "
        "| … with its engine started: SQLite | … PostgreSQL |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, framework in FRAMEWORKS.items():
        # Each database in its own interpreter: the other's dialect and driver not loaded.
        runs = [run(_MEASURE, framework, RUNNERS[name]) for _ in range(args.runs)]
        engines = {
            label: (url, [run(_MEASURE, framework, RUNNERS[name], url) for _ in range(args.runs)])
            for label, url in (("sqlite", SQLITE), ("postgresql", POSTGRES_SERVER))
        }
        median = {k: statistics.median(r[k] for r in runs) for k in ("python", "framework")}
        runner = statistics.median(r["runner"] for r in runs)
        beyond = statistics.median(r["runner"] - r["framework"] for r in runs)
        started = {label: _beyond(measured, url) for label, (url, measured) in engines.items()}
        print(
            f"| {name} | {median['python']:.0f} MB | {median['framework']:.0f} MB "
            f"| {runner:.0f} MB | {beyond:.1f} MB | {started['sqlite']} | {started['postgresql']} |"
        )
    drawing = statistics.median(run(_DRAWING)["drawing"] for _ in range(args.runs))
    print(f"\ndrawing process, peak after a chart, a workbook and a paper: {drawing:.0f} MB")
    if args.who:
        for name, framework in FRAMEWORKS.items():
            print(f"\n{name}: beyond {framework}")
            for group, size in run(_WHO, framework, RUNNERS[name]):
                print(f"  {group:28s} {size:5.1f} MB")


if __name__ == "__main__":
    main()
