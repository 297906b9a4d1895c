"""What held the event loop, for finding a stall's cause (`BENCH_TRACE=1`; off by default,
as it costs a little on every callback).

Three sources, each with when it ended, so the stall meter's longest stalls can be matched:

- every garbage collection, timed by `gc.callbacks`, with its generation and what it freed;
- every loop callback (a task's step, a timer) that ran longer than `slow` seconds, by
  wrapping `asyncio.Handle._run` (what asyncio's debug mode times, without its other costs);
- for those, the main thread's stack as a watchdog thread saw it while the callback ran
  (`sys._current_frames()`): the line the loop was held at, not only the task's name.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import gc
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Slow:
    ended: float
    seconds: float
    what: str
    # Where the main thread was seen while it ran (innermost frames of ours and libraries').
    stacks: Counter[str] = field(default_factory=Counter)
    gc_seconds: float = 0.0


class LoopTrace:
    def __init__(
        self, slow: float = 0.02, sample_every: float = 0.004, census: bool = False
    ) -> None:
        self.slow = slow
        # What the heap holds, counted before a few full collections mid-round: this holds the
        # loop itself (~20 ms), so it is asked for apart (BENCH_TRACE=census).
        self.census = census
        self.sample_every = sample_every
        # ended, seconds, generation, freed, CPU seconds of this thread (less than the seconds:
        # the process waited for a CPU meanwhile)
        self.collections: list[tuple[float, float, int, int, float]] = []
        self.slows: list[Slow] = []
        self._gc_started = 0.0
        self._gc_sampled = 0
        self.censuses: list[tuple[int, Counter[str]]] = []
        self._gc_cpu_started = 0.0
        self._gc_total = 0.0
        self._running: tuple[float, Any] | None = None  # (started, handle)
        self._seen: Counter[str] = Counter()
        self._main = threading.get_ident()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._original: Callable[[asyncio.Handle], None] | None = None

    # ----- garbage collections ---------------------------------------------------------------

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        cpu = time.thread_time()
        if phase == "start":
            if (
                self.census
                and info["generation"] == 2
                and len(self.censuses) < 3
                and self._running is not None
            ):
                # What a full collection walks, mid-round (a few samples: this is slow).
                self._gc_sampled += 1
                if self._gc_sampled % 15 == 0:
                    tracked = gc.get_objects()
                    census = Counter(
                        f"{type(o).__module__}.{type(o).__qualname__}" for o in tracked
                    )
                    self.censuses.append((len(tracked), census))
                    del tracked
            now = time.perf_counter()
            cpu = time.thread_time()
            self._gc_started = now
            self._gc_cpu_started = cpu
        else:
            seconds = now - self._gc_started
            self._gc_total += seconds
            self.collections.append(
                (now, seconds, info["generation"], info["collected"], cpu - self._gc_cpu_started)
            )

    # ----- slow callbacks --------------------------------------------------------------------

    def _install(self) -> None:
        original = asyncio.events.Handle._run
        self._original = original
        trace = self

        def _run(handle: asyncio.Handle) -> None:
            started = time.perf_counter()
            gc_before = trace._gc_total
            trace._running = (started, handle)
            trace._seen = Counter()
            try:
                original(handle)
            finally:
                trace._running = None
                ended = time.perf_counter()
                if ended - started >= trace.slow:
                    trace.slows.append(
                        Slow(
                            ended,
                            ended - started,
                            repr(handle)[:300],
                            trace._seen,
                            trace._gc_total - gc_before,
                        )
                    )

        asyncio.events.Handle._run = _run  # type: ignore[method-assign,assignment]

    def _watch(self) -> None:
        while not self._stop.wait(self.sample_every):
            running = self._running
            if running is None or time.perf_counter() - running[0] < self.slow / 2:
                continue
            frame = sys._current_frames().get(self._main)
            if frame is None:
                continue
            frames = traceback.extract_stack(frame)
            # The innermost frames, and the first of the project's own code from the top.
            inner = " < ".join(
                f"{_short(f.filename)}:{f.lineno} {f.name}" for f in frames[-4:][::-1]
            )
            ours = [
                f
                for f in frames
                if "/site-packages/" not in f.filename and "/lib/python" not in f.filename
            ]
            mine = f"{_short(ours[-1].filename)}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
            self._seen[f"{inner}  [ours: {mine}]"] += 1

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._install()
        self._thread = threading.Thread(target=self._watch, name="loop-trace", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign,assignment]
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    # ----- what it found ---------------------------------------------------------------------

    def report(self, start: float, end: float, stalls: list[tuple[float, float]]) -> str:
        """The collections and slow callbacks between start and end; the meter's stalls
        (ended, seconds) ≥ the slow mark, each with what overlapped it."""
        lines = []
        by_gen: dict[int, list[tuple[float, float, int]]] = {}
        for at, seconds, generation, freed, cpu in self.collections:
            if start <= at <= end:
                by_gen.setdefault(generation, []).append((seconds, cpu, freed))
        for generation in sorted(by_gen):
            times = sorted(by_gen[generation])
            cpus = sorted(c for _, c, _ in times)
            lines.append(
                f"gc gen {generation}: {len(times)} collections, longest "
                f"{times[-1][0] * 1000:.1f} ms (CPU {times[-1][1] * 1000:.1f} ms, freed "
                f"{times[-1][2]}), median {times[len(times) // 2][0] * 1000:.1f} ms, total "
                f"{sum(t for t, _, _ in times) * 1000:.0f} ms; CPU longest "
                f"{cpus[-1] * 1000:.1f} ms, median {cpus[len(cpus) // 2] * 1000:.1f} ms, "
                f"total {sum(cpus) * 1000:.0f} ms, freed {sum(f for _, _, f in times)}"
            )
        tracked = gc.get_objects()
        lines.append(
            f"gc counts now {gc.get_count()}, thresholds {gc.get_threshold()}, "
            f"frozen {gc.get_freeze_count()}, tracked {len(tracked)}"
        )
        census = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in tracked)
        del tracked
        cpu = time.thread_time()
        gc.collect()
        lines.append(f"  a full collection now: {(time.thread_time() - cpu) * 1000:.1f} ms CPU")
        lines.append("  most tracked: " + ", ".join(f"{k} {n}" for k, n in census.most_common(15)))
        for count, census in self.censuses:
            lines.append(
                f"  mid-round before a full collection: {count} tracked; "
                + ", ".join(f"{k} {n}" for k, n in census.most_common(25))
            )
        slows = [s for s in self.slows if start <= s.ended <= end]
        lines.append(f"callbacks ≥ {self.slow * 1000:.0f} ms: {len(slows)}")
        for s in sorted(slows, key=lambda s: -s.seconds)[:15]:
            lines.append(
                f"  {s.seconds * 1000:6.1f} ms at +{s.ended - start:7.2f} s "
                f"(gc {s.gc_seconds * 1000:.1f} ms): {s.what}"
            )
            for stack, n in s.stacks.most_common(3):
                lines.append(f"      {n}× {stack}")
        big = sorted(
            (st for st in stalls if st[1] >= self.slow and start <= st[0] <= end),
            key=lambda st: -st[1],
        )[:10]
        lines.append(f"meter's stalls ≥ {self.slow * 1000:.0f} ms: {len(big)} shown")
        for at, late in big:
            gcs = [
                f"gen{g} {s * 1000:.0f}ms"
                for a, s, g, _, _ in self.collections
                if at - late - 0.001 <= a <= at + 0.001
            ]
            cbs = [
                f"{s.seconds * 1000:.0f}ms {s.what[:120]}"
                for s in self.slows
                if at - late - 0.001 <= s.ended <= at + 0.001
            ]
            lines.append(f"  {late * 1000:6.1f} ms at +{at - start:7.2f} s: gc {gcs} cb {cbs}")
        return "\n".join(lines)


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/wt-stall/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path
