"""`python -m bench`: the short version of every benchmark, one table with each aim."""

from __future__ import annotations

import asyncio
import platform
import statistics

from bench import sender


def main() -> None:
    runs = [asyncio.run(sender.measure()) for _ in range(3)]
    rate = statistics.median(r.per_second for r in runs)
    rows = [
        ("sender top rate, limits off (messages/s)", f"{rate:,.0f}", "≥ 1,000", rate >= 1000),
    ]
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, median of 3 runs")
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'measured':>10}  {'aim':>8}  ok")
    for name, value, aim, ok in rows:
        print(f"{name:<{width}}  {value:>10}  {aim:>8}  {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
