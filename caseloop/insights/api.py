"""The dashboard's figures through the REST API: the same selectors, the same numbers (managers and administrators)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from caseloop.core.cursor import CursorErrorCode, decode_cursor, encode_cursor
from caseloop.core.errors import DomainError
from caseloop.identity.api import actor_of
from caseloop.insights import selectors
from caseloop.insights.choices import SEGMENT_DIMENSIONS, Dimension
from caseloop.insights.counting import Figures
from caseloop.insights.errors import InsightsError, InsightsErrorCode
from caseloop.insights.schemas import (
    AlarmsOut,
    CasesBehindOut,
    CasesQuery,
    FiguresQuery,
    RetentionOut,
    SegmentsOut,
    TrendOut,
    TrendQuery,
)
from caseloop.insights.selectors import Period, Segment
from caseloop.insights.stats import Estimate
from caseloop.insights.tables import FIGURES

router = Router(tags=["insights"])


def _estimate(estimate: Estimate | None) -> dict[str, Any] | None:
    """NPS stays a fraction (-1..1) here like every share; the page and the CSV show it times 100."""
    if estimate is None:
        return None
    return {"value": estimate.value, "low": estimate.low, "high": estimate.high, "n": estimate.n,
            "small": estimate.small}  # fmt: skip


def _figures(figures: Figures) -> dict[str, Any]:
    return {"cases": figures.cases, **{name: _estimate(read(figures)) for name, read, _ in FIGURES}}


def _segment(segment: Segment) -> dict[str, Any]:
    return {"dimension": segment.dimension, "key": segment.key, "label": segment.label,
            "figures": _figures(segment.figures)}  # fmt: skip


def _period(params: FiguresQuery) -> Period:
    return selectors.parse_period(params.start.isoformat() if params.start else None,
                                  params.end.isoformat() if params.end else None)  # fmt: skip


def _dimension(params: FiguresQuery) -> Dimension:
    if params.dimension not in SEGMENT_DIMENSIONS:
        names = ", ".join(d.value for d in SEGMENT_DIMENSIONS)
        raise InsightsError(InsightsErrorCode.BAD_SEGMENT, f"Cut the figures by one of {names}.", field="dimension")
    return params.dimension


def _context(period: Period) -> dict[str, Any]:
    fresh = selectors.freshness()
    return {"period": {"start": period.start, "end": period.end},
            "freshness": {"as_of": fresh.as_of, "minutes_old": fresh.minutes_old,
                          "interval_minutes": fresh.interval_minutes}}  # fmt: skip


@router.get("/insights/segments", response=SegmentsOut,
            description="Every segment of a dimension side by side: the process view and the customer's "
                        "view.")  # fmt: skip
def segments(request: HttpRequest, params: Query[FiguresQuery]) -> dict[str, Any]:
    actor, period, dimension = actor_of(request), _period(params), _dimension(params)
    overall, table = selectors.segments(actor, dimension=dimension, period=period)
    return {**_context(period), "measured": selectors.process_measured(), "dimension": dimension,
            "overall": _segment(overall), "segments": [_segment(s) for s in table]}  # fmt: skip


@router.get("/insights/trend", response=TrendOut, description="One segment (or everything) week by week.")
def trend(request: HttpRequest, params: Query[TrendQuery]) -> dict[str, Any]:
    actor, period, dimension = actor_of(request), _period(params), _dimension(params)
    overall, table = selectors.segments(actor, dimension=dimension, period=period)
    focus = next((s for s in table if s.key == params.key), None) if params.key else overall
    if focus is None:
        raise InsightsError(InsightsErrorCode.BAD_SEGMENT, f"No {dimension} {params.key!r} in this period.",
                            status=404, field="key")  # fmt: skip
    weeks = selectors.trend(actor, dimension=focus.dimension, key=focus.key, period=period)
    return {**_context(period), "segment": _segment(focus),
            "weeks": [{"week_starting": w.start, "figures": _figures(w.figures)} for w in weeks]}  # fmt: skip


@router.get("/insights/retention", response=RetentionOut,
            description="Bought again within 30/90/180 days after a contact, by outcome and by promises.")  # fmt: skip
def retention(request: HttpRequest, params: Query[FiguresQuery]) -> dict[str, Any]:
    actor, period = actor_of(request), _period(params)
    by_outcome, by_promise = selectors.retention(actor, period=period)
    return {**_context(period), "by_outcome": [_segment(s) for s in by_outcome],
            "by_promise": [_segment(s) for s in by_promise]}  # fmt: skip


@router.get("/insights/alarm", response=AlarmsOut,
            description="Segments with high compliance and poor or falling outcomes, with the cases behind "
                        "them.")  # fmt: skip
def alarm(request: HttpRequest, params: Query[FiguresQuery]) -> dict[str, Any]:
    actor, period, dimension = actor_of(request), _period(params), _dimension(params)
    flagged = selectors.alarms(actor, dimension=dimension, period=period)
    return {**_context(period), "measured": selectors.process_measured(), "dimension": dimension, "alarms": [
        {"segment": _segment(f.segment), "reasons": f.alarm.reasons,
         "cases": [{"id": fact.case_id, "number": fact.case.number, "subject": fact.case.subject} for fact in f.cases]}
        for f in flagged]}  # fmt: skip


@router.get("/insights/cases", response=CasesBehindOut,
            description="The cases behind a segment's figures (the page's list, and its CSV): failed "
                        "expectations, detractors and repeat contacts, newest first.")  # fmt: skip
def cases_behind(request: HttpRequest, params: Query[CasesQuery]) -> dict[str, Any]:
    actor = actor_of(request)
    period = selectors.parse_period(params.start.isoformat() if params.start else None,
                                    params.end.isoformat() if params.end else None)  # fmt: skip
    dimension = params.dimension if params.dimension == Dimension.ALL else selectors.parse_dimension(params.dimension)
    before = None
    if params.cursor:
        after = decode_cursor(params.cursor)
        try:
            before = (dt.date.fromisoformat(str(after["day"])), int(after["id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError(CursorErrorCode.BAD_CURSOR, "The cursor is not valid; start again.", status=400) from exc
    facts = selectors.cases_behind(actor, dimension=dimension, key=params.key, period=period,
                                   limit=params.limit + 1, before=before)  # fmt: skip
    page, more = facts[: params.limit], len(facts) > params.limit
    last = page[-1] if page else None
    return {**_context(period), "items": [
        {"case_id": f.case_id, "number": f.case.number, "subject": f.case.subject, "solved_at": f.solved_at,
         "expectations": f.expectations, "nps": f.nps, "ces": f.ces, "csat": f.csat, "sla_met": f.sla_met,
         "promises_due": f.promises_due, "promises_kept": f.promises_kept, "repeat_contact_at": f.repeat_at}
        for f in page],
        "next_cursor": encode_cursor({"day": last.solved_on.isoformat(), "id": last.case_id}) if more and last
        else None}  # fmt: skip
