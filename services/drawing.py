"""Charts, workbooks and papers are drawn in a child process, so the bot never carries the
libraries that draw them: matplotlib with numpy (about 50 MB once a chart is drawn), openpyxl
with its optional numpy and Pillow (about 20 MB), reportlab (a few MB). The bot's memory stays
what it needs to converse (docs/benchmarks.md, "Memory").

`await drawn(function, *args)` runs a pure function of this project (`services.chart.
render_chart`, `services.digest.chart_png`, `services.export.workbook`, `services.papers.
render_pdf`, and `services.pushed.read_table`, which reads a workbook sent in) in the child
and returns what it returns; an exception it raises is raised again here; the function and its
arguments travel pickled (a `Translator` travels as its language). One child draws one thing
at a time for the whole process; it starts on the first drawing (a second or two: a fresh
interpreter that imports the function's module) and ends after `IDLE_SECONDS` without work, so
a day's reports are drawn by one child and the bot is small the rest of the day. A child that
dies or hangs is replaced and the drawing tried once more (the functions are pure); a child
that cannot be started at all is said in one warning and the drawing is made in the process.
The child gets the bot's environment without its secrets (token, data key, database URL).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

IDLE_SECONDS = 60.0
# Longer than any drawing takes (a city's workbook: well under a second); then the child is
# taken as hung, ended, and the drawing tried once more.
TIMEOUT_SECONDS = 120.0
_HEADER = struct.Struct(">Q")
# What the child is not given of the bot's environment: it draws what it is sent and needs
# no token, key or database (docs/security.md).
_SECRET = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|DATABASE_URL", re.IGNORECASE)


class DrawingFailed(RuntimeError):
    """The child died or hung twice on the same drawing."""


async def drawn(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, computed in the drawing child (see the module's docstring). Waits
    in a thread of its own, never in the event loop's default pool (which resolves host
    names for the Bot API calls): drawings queue behind each other, nothing else does."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_WAITER, _child.call, function, args)


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


class _Child:
    """The one drawing child of this process, started when needed and ended when idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._idle: threading.Timer | None = None
        self._unavailable = False

    def call(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        request = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            try:
                for attempt in (1, 2):
                    answer = self._ask(request)
                    if answer is not None:
                        break
                    if self._unavailable:
                        return function(*args)
                    log.warning("the drawing process ended mid-drawing (try %d of 2)", attempt)
                else:
                    raise DrawingFailed(f"drawing {function.__qualname__} failed twice")
            finally:
                self._idle = threading.Timer(IDLE_SECONDS, self._end_if_idle)
                self._idle.daemon = True
                self._idle.start()
        ok, value = pickle.loads(answer)
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def _ask(self, request: bytes) -> bytes | None:
        """The pickled answer, or None when the child died, hung or could not start."""
        process = self._started()
        if process is None:
            return None
        assert process.stdin is not None and process.stdout is not None
        watchdog = threading.Timer(TIMEOUT_SECONDS, process.kill)
        watchdog.daemon = True
        watchdog.start()
        try:
            _send(process.stdin, request)
            answer = _receive(process.stdout)
        except (BrokenPipeError, OSError):
            answer = None
        finally:
            watchdog.cancel()
        if answer is None:
            self._stop()
        return answer

    def _started(self) -> subprocess.Popen[bytes] | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._unavailable:
            return None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "services.drawing"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # Ctrl-C in the bot's terminal is the bot's to handle: the child ends when
                # its input closes (the bot stopped or went idle).
                start_new_session=True,
                env={k: v for k, v in os.environ.items() if not _SECRET.search(k)},
            )
        except OSError as exc:
            self._unavailable = True
            log.warning("no drawing process (%s): drawing in the bot's process", exc)
            return None
        return self._process

    def _end_if_idle(self) -> None:
        with self._lock:
            self._idle = None
            self._stop()

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        # Its input closed, the child ends its loop and exits.
        if process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def close(self) -> None:
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            self._stop()


_child = _Child()
_WAITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drawing")
atexit.register(_child.close)


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The child: a drawing per request until its input ends."""
    while (request := _receive(requests)) is not None:
        try:
            function, args = pickle.loads(request)
            answer = pickle.dumps((True, function(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            try:
                answer = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                failure = RuntimeError(f"{type(exc).__name__}: {exc}")
                answer = pickle.dumps((False, failure), protocol=pickle.HIGHEST_PROTOCOL)
        _send(answers, answer)


if __name__ == "__main__":
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    # The answers' channel is stdout: whatever a library prints goes to stderr instead.
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _serve(requests, answers)
