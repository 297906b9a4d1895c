"""docs/flows.md is drawn from the tables the bot runs: it must be the drawing of today's."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from flows import OUT, document  # type: ignore[import-not-found]  # noqa: E402


def test_the_drawing_of_the_conversations_is_up_to_date() -> None:
    assert OUT.read_text(encoding="utf-8") == document(), "run `python scripts/flows.py`"


def test_every_question_of_the_report_is_in_the_drawing_in_chinese() -> None:
    from handlers.report import REPORT

    drawing = OUT.read_text(encoding="utf-8")
    for step in REPORT.steps:
        assert f'{step.name}["<b>{step.name}</b><br/>' in drawing
    assert "您从哪里来" in drawing and "Where are you coming from" not in drawing
