"""Every dashboard table as flat rows: the CSV export writes them, and they name the figures the page shows.

Each estimate becomes four columns: the value (a share as a fraction, NPS as
-100..100, CES as a mean), the low and high ends of its 95% interval, and n;
plus `small` (n < 30). An empty cell means "no observation".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from caseloop.insights.counting import Figures
from caseloop.insights.models import CaseFact
from caseloop.insights.selectors import Flagged, Segment, Week
from caseloop.insights.stats import Estimate

Row = list[str | int | float]

FIGURES: list[tuple[str, Callable[[Figures], Estimate | None], float]] = [
    ("sla_compliance", lambda f: f.sla, 1.0),
    ("promises_kept", lambda f: f.promises_kept, 1.0),
    ("met_or_exceeded", lambda f: f.met_or_exceeded, 1.0),
    ("exceeded", lambda f: f.exceeded, 1.0),
    ("failed", lambda f: f.failed, 1.0),
    ("ces", lambda f: f.ces, 1.0),
    ("csat_satisfied", lambda f: f.csat, 1.0),
    ("nps", lambda f: f.nps, 100.0),
    ("repeat_contact_7d", lambda f: f.repeat, 1.0),
    ("came_back_30d", lambda f: f.retention_30, 1.0),
    ("came_back_90d", lambda f: f.retention_90, 1.0),
    ("came_back_180d", lambda f: f.retention_180, 1.0),
]


def _figure_header() -> list[str]:
    header = []
    for name, _, _ in FIGURES:
        header += [name, f"{name}_low", f"{name}_high", f"{name}_n", f"{name}_small"]
    return header


def _figure_cells(figures: Figures) -> Row:
    cells: Row = []
    for _, read, scale in FIGURES:
        estimate = read(figures)
        if estimate is None:
            cells += ["", "", "", 0, ""]
        else:
            cells += [round(estimate.value * scale, 4), round(estimate.low * scale, 4),
                      round(estimate.high * scale, 4), estimate.n, int(estimate.small)]  # fmt: skip
    return cells


def segment_rows(overall: Segment, table: Sequence[Segment]) -> tuple[list[str], list[Row]]:
    header = ["dimension", "key", "segment", "cases", *_figure_header()]
    rows = [[s.dimension, s.key, s.label, s.figures.cases, *_figure_cells(s.figures)] for s in (overall, *table)]
    return header, rows


def trend_rows(weeks: Sequence[Week]) -> tuple[list[str], list[Row]]:
    header = ["week_starting", "cases", *_figure_header()]
    return header, [[w.start.isoformat(), w.figures.cases, *_figure_cells(w.figures)] for w in weeks]


def alarm_rows(flagged: Sequence[Flagged]) -> tuple[list[str], list[Row]]:
    header = ["dimension", "key", "segment", "reasons", "cases_behind", *_figure_header()]
    rows = [[f.segment.dimension, f.segment.key, f.segment.label, "; ".join(f.alarm.reasons),
             " ".join(fact.case.number for fact in f.cases), *_figure_cells(f.segment.figures)]
            for f in flagged]  # fmt: skip
    return header, rows


CASES_HEADER = ["case_id", "number", "subject", "solved_at", "expectations", "nps", "ces", "csat",
                "sla_met", "promises_due", "promises_kept", "repeat_contact_at"]  # fmt: skip


def cases_rows(facts: Sequence[CaseFact]) -> tuple[list[str], list[Row]]:
    """The cases behind a segment, as the cases page lists them (an empty cell: not answered, not measured)."""

    def cell(value: object) -> str | int | float:
        if value is None:
            return ""
        if isinstance(value, bool):
            return int(value)
        return value if isinstance(value, int | float | str) else str(value)

    rows: list[Row] = [
        [f.case_id, f.case.number, f.case.subject, f.solved_at.isoformat(), cell(f.expectations), cell(f.nps),
         cell(f.ces), cell(f.csat), cell(f.sla_met), f.promises_due, f.promises_kept,
         f.repeat_at.isoformat() if f.repeat_at else ""]
        for f in facts
    ]  # fmt: skip
    return list(CASES_HEADER), rows


def to_csv(header: Sequence[str], rows: Sequence[Row]) -> str:
    """RFC 4180 CSV; a cell starting with = + - @ gets a leading quote so a spreadsheet never runs it as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(cell) for cell in row])
    return out.getvalue()


def _safe(cell: str | int | float) -> str | int | float:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell
