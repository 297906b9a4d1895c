"""Figures of the gazetteer: size, first load, match() and resolve() times, memory.

    .venv/bin/python scripts/measure_places.py

A developer's tool (no test asserts these figures).  Times are CPU time of this process
(``time.process_time``), the best of several runs, so that other work on a shared machine
changes them little; wall time is close to it on a quiet machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules import places  # noqa: E402

TYPICAL = [
    "上海",
    "湖北武汉",
    "武汉, 湖北",
    "西宁市城东区",
    "青海西宁城东区",
    "循化县",
    "寿光",
    "北京朝阳区",
    "朝阳",
    "鼓楼区",
    "廣州市",
    "Chengdong, Xining",
    "Wuhan",
    "Hong Kong",
    "美国",
    "Tokyo",
    "我从西宁城东区来的",
    "湖北省武汉市江夏区纸坊街道幸福小区3栋",
]
PATHS = [
    "中国/青海省/西宁市/城东区",
    "青海省/西宁市/城东区/东关大街街道",
    "北京市朝阳区高碑店乡半壁店村",
    "中国/湖北省/武汉市/江厦区",
]
FIRST_LOAD = (
    "import time; t = time.process_time(); from rules import places; "
    "places.match('上海'); print(time.process_time() - t)"
)
CPU = time.process_time


def best_seconds(call: object, text: str, rounds: int = 200) -> float:
    runs = []
    for _ in range(5):
        started = CPU()
        for _ in range(rounds):
            call(text)  # type: ignore[operator]
        runs.append((CPU() - started) / rounds)
    return min(runs)


def main() -> None:
    loads = [
        float(
            subprocess.run(
                [sys.executable, "-c", FIRST_LOAD],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(5)
    ]
    rows = places._read_rows()
    builds = []
    for _ in range(7):
        started = CPU()
        places._Gazetteer(rows)
        builds.append(CPU() - started)
    tracemalloc.start()
    gazetteer = places._Gazetteer(places._read_rows())
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kinds = Counter(p.kind for p in gazetteer.places.values())
    print(f"places: {len(gazetteer.places)} ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    print(f"index keys: {len(gazetteer._keys)}")
    print(f"first load (fresh interpreter, import + first match): {min(loads) * 1000:.0f} ms")
    print(f"building the gazetteer from the rows: {min(builds) * 1000:.0f} ms")
    print(
        f"memory of the gazetteer: {current / 2**20:.1f} MiB (peak while building {peak / 2**20:.1f})"
    )
    places.match("warm up")
    print("\nmatch(), per call:")
    times = []
    for text in TYPICAL:
        seconds = best_seconds(places.match, text)
        times.append(seconds)
        found = ", ".join(p.code for p in places.match(text))
        print(f"  {seconds * 1e6:7.0f} µs  {text}  → {found}")
    print(f"  median {statistics.median(times) * 1e6:.0f} µs, slowest {max(times) * 1e6:.0f} µs")
    print("\nresolve_area(), per call:")
    for text in PATHS:
        seconds = best_seconds(places.resolve_area, text, rounds=50)
        area = places.resolve_area(text)
        shown = f"{area.place.code} {area.within}" if area else "None"
        print(f"  {seconds * 1e6:7.0f} µs  {text}  → {shown}")


if __name__ == "__main__":
    main()
