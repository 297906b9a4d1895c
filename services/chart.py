"""The weekly chart of the daily report: 14 days of arrivals, people under monitoring and
abnormal reports, as a PNG drawn headless (matplotlib's Agg backend, no display, no pyplot
state shared between calls)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache

from services.figures import DayPoint

# Fonts that carry Chinese, in order of preference; without one, labels must be ASCII.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)


@cache
def cjk_font() -> str | None:
    """The first font installed that can write Chinese, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def render_chart(
    points: Sequence[DayPoint],
    title: str,
    labels: tuple[str, str, str] = ("Arrivals", "Under monitoring", "Abnormal reports"),
) -> bytes:
    """A PNG: bars for arrivals and abnormal reports, a line for people under monitoring."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font = cjk_font()
    with matplotlib.rc_context(
        {"font.family": ["sans-serif"], "font.sans-serif": [font or "DejaVu Sans"]}
    ):
        figure = Figure(figsize=(8, 4.5), dpi=100)
        axes = figure.subplots()
        days = [p.day.strftime("%m-%d") for p in points]
        where = range(len(points))
        width = 0.38
        axes.bar(
            [x - width / 2 for x in where],
            [p.arrivals for p in points],
            width,
            label=labels[0],
            color="#4C78A8",
        )
        axes.bar(
            [x + width / 2 for x in where],
            [p.abnormal for p in points],
            width,
            label=labels[2],
            color="#E45756",
        )
        axes.plot(
            list(where),
            [p.monitoring for p in points],
            marker="o",
            label=labels[1],
            color="#54A24B",
        )
        axes.set_xticks(list(where), days, rotation=45, ha="right", fontsize=8)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", alpha=0.3)
        axes.set_title(title)
        axes.legend(loc="upper left", fontsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
