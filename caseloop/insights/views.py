"""The dashboard page, its CSV exports, and the cases behind a segment (service managers and administrators)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from caseloop.identity.access import StaffRequest, manager_page
from caseloop.insights import actions, selectors
from caseloop.insights.choices import SEGMENT_DIMENSIONS, Dimension, Table
from caseloop.insights.errors import InsightsError, InsightsErrorCode
from caseloop.insights.selectors import Period, Segment, Week
from caseloop.insights.svg import Series, mean_label, percent, score, trend_chart
from caseloop.insights.tables import alarm_rows, cases_rows, segment_rows, to_csv, trend_rows


def _charts(weeks: list[Week], *, measured: dict[str, bool], label: str) -> list[str]:
    days = [w.start for w in weeks]
    process = []
    if measured["sla"]:
        process.append(Series(name="SLA compliance", points=[w.figures.sla for w in weeks], css="line-sla",
                              band=False))  # fmt: skip
    if measured["promises"]:
        process.append(Series(name="Promises kept", points=[w.figures.promises_kept for w in weeks],
                              css="line-promises", band=False))  # fmt: skip
    answers = [w.figures.met_or_exceeded.n if w.figures.met_or_exceeded else 0 for w in weeks]
    outcome = trend_chart(
        title=f"{label}: expectations met or exceeded beside compliance, by week", weeks=days,
        series=[Series(name="Met or exceeded expectations", points=[w.figures.met_or_exceeded for w in weeks],
                       css="line-outcome"), *process],
        low=0.0, high=1.0, ticks=[0.0, 0.25, 0.5, 0.75, 1.0], label=percent, counts=answers, counts_label="answers",
        chart_width=1300,  # shown across the page, above the other two
    )  # fmt: skip
    nps_chart = trend_chart(
        title=f"{label}: NPS by week", weeks=days,
        series=[Series(name="NPS", points=[w.figures.nps for w in weeks], css="line-nps")],
        low=-1.0, high=1.0, ticks=[-1.0, -0.5, 0.0, 0.5, 1.0], label=score,
        counts=[w.figures.nps.n if w.figures.nps else 0 for w in weeks], counts_label="answers",
    )  # fmt: skip
    ces_chart = trend_chart(
        title=f"{label}: customer effort by week (7 = very easy)", weeks=days,
        series=[Series(name="CES", points=[w.figures.ces for w in weeks], css="line-ces")],
        low=1.0, high=7.0, ticks=[1.0, 4.0, 7.0], label=mean_label,
        counts=[w.figures.ces.n if w.figures.ces else 0 for w in weeks], counts_label="answers",
    )  # fmt: skip
    # the SVG holds numbers and html.escape'd text only (svg.py)
    return [mark_safe(chart) for chart in (outcome, nps_chart, ces_chart)]


def _query(params: QueryDict) -> tuple[Dimension, str, Period]:
    dimension = selectors.parse_dimension(params.get("dimension"))
    period = selectors.parse_period(params.get("start"), params.get("end"))
    return dimension, params.get("key", ""), period


CSV_CASES = 10_000  # the cases behind one segment in one CSV


def _csv(table: str, name: str, header: list[str], rows: list[Any]) -> HttpResponse:
    response = HttpResponse(to_csv(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="caseloop-{name}.csv"'
    return response


@require_GET
@manager_page
def dashboard(request: StaffRequest) -> HttpResponseBase:
    """Process beside outcome per segment, the alarm on top, weekly trends, coming back; ?format=csv exports a table."""
    actor = request.user
    dimension, key, period = _query(request.GET)
    overall, table = selectors.segments(actor, dimension=dimension, period=period)
    selected = next((s for s in table if s.key == key), None) if key else None
    focus: Segment = selected or overall
    weeks = selectors.trend(actor, dimension=focus.dimension, key=focus.key, period=period)
    flagged = selectors.alarms(actor, dimension=dimension, period=period, table=table)
    by_outcome, by_promise = selectors.retention(actor, period=period)
    span = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if request.GET.get("format") == "csv":
        wanted = request.GET.get("table", Table.SEGMENTS)
        if wanted == Table.SEGMENTS:
            return _csv(wanted, f"{dimension}-{span}", *segment_rows(overall, table))
        if wanted == Table.TREND:
            return _csv(wanted, f"trend-{focus.dimension}-{focus.key or 'all'}-{span}", *trend_rows(weeks))
        if wanted == Table.RETENTION:
            header, rows = segment_rows(overall, [*by_outcome, *by_promise])
            return _csv(wanted, f"retention-{span}", header, rows[1:])
        if wanted == Table.ALARM:
            return _csv(wanted, f"alarm-{dimension}-{span}", *alarm_rows(flagged))
        raise InsightsError(InsightsErrorCode.BAD_SEGMENT, f"No table {wanted!r} to export.", field="table")
    measured = selectors.process_measured()
    return render(request, "insights/dashboard.html", {
        "dimension": dimension, "dimensions": SEGMENT_DIMENSIONS, "key": key, "period": period,
        "overall": overall, "table": table, "focus": focus, "flagged": flagged, "weeks": weeks,
        "charts": _charts(weeks, measured=measured, label=focus.label), "measured": measured,
        "by_outcome": by_outcome, "by_promise": by_promise, "fresh": selectors.freshness(),
        "query": request.GET.urlencode()
    })  # fmt: skip


@require_GET
@manager_page
def cases(request: StaffRequest) -> HttpResponseBase:
    """The cases behind a segment's figures: failed expectations, detractors and repeat contacts, newest first."""
    dimension = request.GET.get("dimension") or Dimension.ALL
    if dimension != Dimension.ALL:
        dimension = selectors.parse_dimension(dimension)
    key = request.GET.get("key", "")
    period = selectors.parse_period(request.GET.get("start"), request.GET.get("end"))
    before = None
    before_id = selectors.id_of(request.GET.get("before_id") or "")
    if request.GET.get("before_day") and before_id is not None:
        try:
            before = (dt.date.fromisoformat(request.GET["before_day"]), before_id)
        except ValueError as exc:
            raise InsightsError(InsightsErrorCode.BAD_RANGE, "That page does not exist.", field="before_day") from exc
    label = selectors.labels_for(dimension, [key])[key] if dimension != Dimension.ALL else "Everything"
    if request.GET.get("format") == "csv":
        # the whole list, not one page of it (up to CSV_CASES; the API pages through more)
        facts = selectors.cases_behind(request.user, dimension=dimension, key=key, period=period, limit=CSV_CASES)
        span = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
        return _csv("cases", f"cases-{dimension}-{key or 'all'}-{span}", *cases_rows(facts))
    rows = selectors.cases_behind(request.user, dimension=dimension, key=key, period=period, limit=51, before=before)
    return render(request, "insights/cases.html", {
        "facts": rows[:50], "more": rows[49] if len(rows) > 50 else None, "label": label, "dimension": dimension,
        "key": key, "period": period,
    })  # fmt: skip


@require_POST
@manager_page
def refresh(request: StaffRequest) -> HttpResponseBase:
    actions.request_refresh(actor=request.user)
    messages.success(request, "Refreshing the figures in the background; reload in a minute.")
    query = request.POST.get("query", "")
    return redirect(reverse("insights:dashboard") + (f"?{query}" if query else ""))
