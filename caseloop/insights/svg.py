"""Weekly trend charts as server-rendered SVG: no chart library, no script (the CSP allows none inline).

A chart is lines of weekly estimates over a fixed scale, each line with its
95% interval as a shaded band, and the number of observations per week as
bars underneath. A week resting on fewer than 30 observations is drawn as a
hollow point (a small sample); a week with none leaves a gap in the line.
Colours come from classes in insights.css; everything written into the SVG
is a number or escaped text.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from caseloop.insights.stats import Estimate

WIDTH, HEIGHT = 720, 254
LEFT, RIGHT, TOP = 48, 16, 14
PLOT_BOTTOM = 164  # the lines above, the week labels and sample-size bars below
BARS_TOP, BARS_BOTTOM = 202, 234


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: Sequence[Estimate | None]  # one per week
    css: str  # line-outcome, line-sla, line-promises …
    band: bool = True


def _x_at(index: int, count: int, width: int) -> float:
    if count <= 1:
        return (LEFT + width - RIGHT) / 2
    return LEFT + index * (width - LEFT - RIGHT) / (count - 1)


def _y(value: float, low: float, high: float) -> float:
    value = min(max(value, low), high)
    return PLOT_BOTTOM - (value - low) / (high - low) * (PLOT_BOTTOM - TOP)


def _f(number: float) -> str:
    return f"{number:.1f}"


def _runs(present: dict[int, Estimate]) -> list[list[int]]:
    """Indexes of consecutive weeks that have an estimate (a gap breaks the line)."""
    runs: list[list[int]] = []
    for i in sorted(present):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def trend_chart(*, title: str, weeks: Sequence[dt.date], series: Sequence[Series], low: float, high: float,
                ticks: Sequence[float], label: Callable[[float], str], counts: Sequence[int],
                counts_label: str, chart_width: int = WIDTH) -> str:  # fmt: skip
    """One SVG: the series over the weeks, their intervals, the weekly counts as bars, and a legend.

    `chart_width` is the drawing's own width in SVG units: a chart shown wider is
    drawn wider, so its text stays the size of the page's.
    """
    n = len(weeks)
    right = chart_width - RIGHT

    def _x(index: int, count: int) -> float:
        return _x_at(index, count, chart_width)

    parts = [
        f'<svg class="chart" viewBox="0 0 {chart_width} {HEIGHT}" role="img" aria-labelledby="{_id(title)}-t" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{html.escape(title)}</title>',
    ]
    for tick in ticks:
        y = _y(tick, low, high)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{_f(y)}" y2="{_f(y)}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end">{html.escape(label(tick))}'
                     "</text>")  # fmt: skip
    for s in series:
        present = {i: point for i, point in enumerate(s.points) if point is not None}
        for run in _runs(present):
            if s.band:
                upper = [f"{_f(_x(i, n))},{_f(_y(present[i].high, low, high))}" for i in run]
                lower = [f"{_f(_x(i, n))},{_f(_y(present[i].low, low, high))}" for i in reversed(run)]
                parts.append(f'<polygon class="band {s.css}" points="{" ".join(upper + lower)}"/>')
            line = " ".join(f"{_f(_x(i, n))},{_f(_y(present[i].value, low, high))}" for i in run)
            parts.append(f'<polyline class="line {s.css}" points="{line}"/>')
        for i, point in present.items():
            kind = "point small" if point.small else "point"
            parts.append(f'<circle class="{kind} {s.css}" cx="{_f(_x(i, n))}" cy="{_f(_y(point.value, low, high))}" '
                         f'r="3.2"><title>{html.escape(s.name)}, week of {weeks[i]:%d %b}: '
                         f"{html.escape(label(point.value))} (n={point.n})</title></circle>")  # fmt: skip
    top = max(counts, default=0) or 1
    bar = max(2.0, min(24.0, (right - LEFT) / max(n, 1) * 0.6))
    for i, count in enumerate(counts):
        height = (BARS_BOTTOM - BARS_TOP) * count / top
        parts.append(f'<rect class="bar" x="{_f(_x(i, n) - bar / 2)}" y="{_f(BARS_BOTTOM - height)}" '
                     f'width="{_f(bar)}" height="{_f(height)}"><title>{counts_label}, week of {weeks[i]:%d %b}: '
                     f"{count}</title></rect>")  # fmt: skip
    step = max(1, n // 8)
    for i in range(0, n, step):
        parts.append(f'<text class="tick" x="{_f(_x(i, n))}" y="{PLOT_BOTTOM + 16}" text-anchor="middle">'
                     f"{weeks[i]:%d %b}</text>")  # fmt: skip
    parts.append(f'<text class="tick" x="{LEFT}" y="{BARS_TOP - 4}">{html.escape(counts_label)} per week</text>')
    legend_x = LEFT
    for s in series:
        parts.append(f'<line class="line {s.css}" x1="{legend_x}" x2="{legend_x + 18}" y1="{HEIGHT - 6}" '
                     f'y2="{HEIGHT - 6}"/><text class="legend" x="{legend_x + 23}" y="{HEIGHT - 2}">'
                     f"{html.escape(s.name)}</text>")  # fmt: skip
        legend_x += 30 + 7 * len(s.name)
    parts.append("</svg>")
    return "".join(parts)


def _id(title: str) -> str:
    return "chart-" + "".join(c if c.isalnum() else "-" for c in title.lower())[:40]


def percent(value: float) -> str:
    return f"{round(value * 100)}%"


def score(value: float) -> str:
    return f"{round(value * 100):+d}" if value else "0"


def mean_label(value: float) -> str:
    return f"{value:.1f}"
