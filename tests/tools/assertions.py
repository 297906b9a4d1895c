"""Counting the suite's assertions, two ways (issue 14: "every assertion kept").

Statically: `python -m tests.tools.assertions` counts the `assert` statements in the test
files by their syntax tree.

Dynamically: `pytest -p tests.tools.assertions -o enable_assertion_pass_hook=true` with
ASSERTION_COUNT_DIR=DIR set records every assert that passed (pytest's assertion-pass hook,
which sees the asserts of test modules and conftests), one JSON file per process (so under
xdist each worker writes its own); `python -m tests.tools.assertions DIR` then sums them:
how many asserts passed in all, and how many distinct assert statements (file:line) passed
at least once, the figure that says no assertion was lost when a test stopped running twice.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parents[1]
_passed: Counter[str] = Counter()


def static_count(root: Path = TESTS) -> tuple[int, int]:
    """(assert statements, files) in the test tree, this tool aside."""
    total = files = 0
    for path in sorted(root.rglob("*.py")):
        if "tools" in path.relative_to(root).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = sum(isinstance(node, ast.Assert) for node in ast.walk(tree))
        total += found
        files += bool(found)
    return total, files


def _where(lineno: int) -> str | None:
    """The assert that just passed, as file:line: the file is the one of the first frame
    below pytest's rewritten-assert helper (the hook is told only the line)."""
    frame = sys._getframe(1)
    while frame is not None and not frame.f_code.co_filename.endswith(
        "_pytest/assertion/rewrite.py"
    ):
        frame = frame.f_back  # type: ignore[assignment]
    caller = frame.f_back if frame is not None else None
    if caller is None:
        return None
    name = Path(caller.f_code.co_filename).resolve()
    if not name.is_relative_to(TESTS):
        return None  # a library's own asserts (pytest rewrites hypothesis's too)
    return f"{name.relative_to(TESTS.parent)}:{lineno}"


def pytest_assertion_pass(item: Any, lineno: int, orig: str, expl: str) -> None:
    where = _where(lineno)
    if where is not None:
        _passed[where] += 1


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    directory = os.environ.get("ASSERTION_COUNT_DIR")
    if not directory or not _passed:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    out = Path(directory) / f"passed-{worker}-{os.getpid()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(_passed), indent=0, sort_keys=True))


def summary(directory: Path) -> tuple[int, Counter[str]]:
    passed: Counter[str] = Counter()
    for path in directory.glob("passed-*.json"):
        passed.update(json.loads(path.read_text()))
    return sum(passed.values()), passed


def by_text(passed: Counter[str], root: Path) -> Counter[str]:
    """The passed asserts keyed by file and the assert's own source (`ast.unparse`) rather
    than its line, so that runs of two versions of the tests compare: `root` is the folder
    holding that version's tests/."""
    keyed: Counter[str] = Counter()
    trees: dict[str, dict[int, str]] = {}
    for where, count in passed.items():
        name, _, line = where.rpartition(":")
        if name not in trees:
            tree = ast.parse((root / name).read_text(encoding="utf-8"))
            trees[name] = {
                node.lineno: ast.unparse(node)
                for node in ast.walk(tree)
                if isinstance(node, ast.Assert)
            }
        keyed[f"{name}::{trees[name].get(int(line), '?' + line)}"] += count
    return keyed


def main() -> None:
    """`python -m tests.tools.assertions [DIR [ROOT] [DIR_BEFORE ROOT_BEFORE]]`: the static
    count; with DIR, what a run recorded; with a run before, what passed then and not now."""
    statements, files = static_count()
    print(f"assert statements in tests/: {statements} (in {files} files)")
    if len(sys.argv) > 1:
        total, passed = summary(Path(sys.argv[1]))
        print(f"asserts passed at run time: {total}")
        print(f"distinct assert statements passed: {len(passed)}")
    if len(sys.argv) > 4:
        now = by_text(passed, Path(sys.argv[2]))
        _, earlier = summary(Path(sys.argv[3]))
        then = by_text(earlier, Path(sys.argv[4]))
        print(f"distinct (by file and text): before {len(then)}, now {len(now)}")
        for key in sorted(set(then) - set(now)):
            print(f"  passed before, not now: {key}")


if __name__ == "__main__":
    main()
