"""Starts `returnee …` processes for the end-to-end tests without paying for Python's imports
each time: importing aiogram alone builds ~600 pydantic models, some 6 s of CPU, and a test
run starts dozens of bots and CLI commands on a 2-core machine.

Run as `python -m tests.e2e.launcher`: it imports the CLI and both runners once, then reads one
JSON request a line on stdin — {"argv": [...], "env": {...}, "cwd": ..., "log": ..., "exit":
...} — and for each forks a child that becomes `returnee ARGV` exactly as `python -m bot.cli
ARGV` would run it (the environment replaced by `env`, stdout and stderr appended to `log`),
and answers the child's pid on stdout. When a child ends, its exit code (negative: the
signal that ended it, as subprocess reports it) is written to the file `exit`. The launcher
starts no thread, so forking it is safe; it ends when its stdin closes, leaving its children
be (the tests stop them)."""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

_exits: dict[int, str] = {}


def _reap(_signum: int = 0, _frame: object = None) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        path = _exits.pop(pid, None)
        if path is not None:
            Path(path + ".tmp").write_text(str(os.waitstatus_to_exitcode(status)))
            os.replace(path + ".tmp", path)


def _child(request: dict[str, Any]) -> None:
    code: int = 1
    try:
        # As in a fresh interpreter: SIGINT raises KeyboardInterrupt, SIGTERM and SIGCHLD are
        # the system's.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["returnee", *request["argv"]]
        from bot.cli import main

        try:
            main(args=request["argv"], prog_name="returnee")
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def main() -> None:
    # What `returnee run`, `db upgrade` and `admin …` import, imported once.
    import bot.aiogram_runner
    import bot.cli
    import bot.ptb_runner
    import bot.runtime  # noqa: F401
    import models.areas  # noqa: F401

    signal.signal(signal.SIGCHLD, _reap)
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        # SIGCHLD waits until the child is registered: one that ends at once is reaped too.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        pid = os.fork()
        if pid == 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            _child(request)
        _exits[pid] = request["exit"]
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        print(pid, flush=True)


if __name__ == "__main__":
    main()
