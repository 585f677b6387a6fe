"""Reads of the dashboard: segments side by side, weekly trends, coming back, the alarm and the cases behind it.

Every figure is summed from DailySegmentStat over the period asked for (a
handful of queries whatever the number of cases); only the cases behind a
segment read CaseFact, newest first and a page at a time. Service managers and
administrators see the dashboard.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from caseloop.cases.choices import Channel
from caseloop.core import clock
from caseloop.customers.models import Organization
from caseloop.feedback.choices import Expectation
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_role
from caseloop.insights.alarm import Alarm, Signal, Thresholds, select
from caseloop.insights.choices import (
    NO_ANSWER,
    NO_SEGMENT,
    PROMISE_BROKEN,
    PROMISE_KEPT,
    PROMISE_NONE,
    SEGMENT_DIMENSIONS,
    Dimension,
)
from caseloop.insights.counting import COUNTERS, DETRACTOR, Figures
from caseloop.insights.errors import InsightsError, InsightsErrorCode
from caseloop.insights.models import CaseFact, DailySegmentStat, RefreshState
from caseloop.insights.process import measured

DEFAULT_WEEKS = 12
MAX_DAYS = 3 * 366
RECENT_DAYS = 28  # the alarm's "last 4 weeks", compared with the 4 before


def require_insights(actor: User) -> None:
    require_role(actor, Role.MANAGER, Role.ADMIN)


# --- the period -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Period:
    """Days solved, both ends included, in the installation's time zone."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def default_period(today: dt.date | None = None) -> Period:
    """The last 12 weeks, Monday to today: the current week and the 11 before it."""
    end = today or timezone.localtime(clock.now()).date()
    return Period(start=monday(end) - dt.timedelta(weeks=DEFAULT_WEEKS - 1), end=end)


def parse_period(start: str | None, end: str | None) -> Period:
    """A period from ISO dates (either may be left out for the default); refused when backwards or too long."""
    default = default_period()
    try:
        first = dt.date.fromisoformat(start) if start else default.start
        last = dt.date.fromisoformat(end) if end else default.end
    except ValueError as exc:
        raise InsightsError(InsightsErrorCode.BAD_RANGE, "Dates look like 2026-03-31.", field="start") from exc
    if first > last:
        raise InsightsError(InsightsErrorCode.BAD_RANGE, "The period ends before it starts.", field="end")
    if (last - first).days >= MAX_DAYS:
        raise InsightsError(InsightsErrorCode.BAD_RANGE, "A period is at most three years.", field="start")
    return Period(start=first, end=last)


def parse_dimension(raw: str | None) -> Dimension:
    if not raw:
        return Dimension.TEAM
    if raw not in [d.value for d in SEGMENT_DIMENSIONS]:
        names = ", ".join(d.value for d in SEGMENT_DIMENSIONS)
        raise InsightsError(InsightsErrorCode.BAD_SEGMENT, f"Cut the figures by one of {names}.", field="dimension")
    return Dimension(raw)


# --- freshness --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Freshness:
    as_of: dt.datetime | None  # None: never refreshed
    minutes_old: int | None
    interval_minutes: int
    running: bool
    last_duration_ms: int

    @property
    def overdue(self) -> bool:
        return self.minutes_old is None or self.minutes_old > 2 * self.interval_minutes


def freshness() -> Freshness:
    state = RefreshState.objects.filter(pk=1).first()
    as_of = state.refreshed_at if state else None
    age = int((clock.now() - as_of).total_seconds() // 60) if as_of else None
    return Freshness(as_of=as_of, minutes_old=age, interval_minutes=settings.CASELOOP_INSIGHTS_REFRESH_MINUTES,
                     running=bool(state and state.running_since), last_duration_ms=state.last_duration_ms if state
                     else 0)  # fmt: skip


# --- labels -----------------------------------------------------------------------------------------------
_NONE_LABELS = {
    Dimension.TEAM: "No team", Dimension.PERSON: "Unassigned", Dimension.PARTNER: "No partner (our own people)",
    Dimension.CASE_TYPE: "No type or tag", Dimension.CHANNEL: "Unknown channel",
}  # fmt: skip
_FIXED_LABELS = {
    Dimension.EXPECTATIONS: {**{e.value: e.label for e in Expectation}, NO_ANSWER: "No answer"},
    Dimension.PROMISE: {PROMISE_BROKEN: "A promise was broken", PROMISE_KEPT: "Every promise kept",
                        PROMISE_NONE: "No promise due"},
    Dimension.CHANNEL: {c.value: c.label for c in Channel},
}  # fmt: skip


# the dimensions whose keys are row ids, and the CaseFact column each is read from
ID_COLUMNS = {Dimension.TEAM: "team_id", Dimension.PERSON: "assignee_id", Dimension.PARTNER: "partner_id"}
MAX_ID_DIGITS = 18  # a bigint has 19 digits; a longer key names no row


def id_of(key: str) -> int | None:
    """The row id a team, person or partner key names, or None.

    ASCII digits only: str.isdigit() is also true of "²" and "٣", which int()
    refuses or reads as another number.
    """
    if key.isascii() and key.isdigit() and len(key) <= MAX_ID_DIGITS:
        return int(key)
    return None


def labels_for(dimension: str, keys: list[str]) -> dict[str, str]:
    """A readable name for each key: team, person and partner names come from their tables (one query).

    Only those dimensions' keys are ids; a case type (a tag) "2024" is named 2024.
    """
    by_id = dimension in ID_COLUMNS
    ids = [i for i in (id_of(k) for k in keys) if i is not None] if by_id else []
    names: dict[str, str] = {}
    if dimension == Dimension.TEAM:
        names = {str(pk): name for pk, name in Team.objects.filter(pk__in=ids).values_list("id", "name")}
    elif dimension == Dimension.PERSON:
        names = {str(u.pk): u.name for u in User.objects.filter(pk__in=ids)}
    elif dimension == Dimension.PARTNER:
        names = {str(pk): name for pk, name in Organization.objects.filter(pk__in=ids).values_list("id", "name")}
    fixed = _FIXED_LABELS.get(Dimension(dimension), {}) if dimension in Dimension.values else {}
    result = {}
    for key in keys:
        if key == "":
            result[key] = "Everything"
        elif key == NO_SEGMENT and dimension in _NONE_LABELS:
            result[key] = _NONE_LABELS[Dimension(dimension)]
        else:
            removed = by_id and id_of(key) is not None
            result[key] = fixed.get(key) or names.get(key) or (f"#{key} (removed)" if removed else key)
    return result


# --- segments side by side --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Segment:
    dimension: str
    key: str
    label: str
    figures: Figures


def _sums(qs: QuerySet[DailySegmentStat], *group: str) -> list[dict[str, Any]]:
    return list(qs.values(*group).annotate(**{f"s_{c}": Sum(c) for c in COUNTERS}).order_by())


def _figures(row: dict[str, Any]) -> Figures:
    return Figures(counters={c: int(row.get(f"s_{c}") or 0) for c in COUNTERS})


def _in_period(period: Period) -> Q:
    return Q(day__gte=period.start, day__lte=period.end)


def segments(actor: User, *, dimension: str, period: Period) -> tuple[Segment, list[Segment]]:
    """Everything, and each segment of the dimension, over the period; the busiest segment first."""
    require_insights(actor)
    rows = _sums(DailySegmentStat.objects.filter(_in_period(period), dimension__in=[Dimension.ALL, dimension]),
                 "dimension", "key")  # fmt: skip
    overall = next((r for r in rows if r["dimension"] == Dimension.ALL), {})
    own = [r for r in rows if r["dimension"] == dimension]
    labels = labels_for(dimension, [str(r["key"]) for r in own])
    result = [Segment(dimension=dimension, key=str(r["key"]), label=labels[str(r["key"])], figures=_figures(r))
              for r in own]  # fmt: skip
    result.sort(key=lambda s: (-s.figures.cases, s.label))
    return Segment(dimension=Dimension.ALL, key="", label="Everything", figures=_figures(overall)), result


# --- weekly trends ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Week:
    start: dt.date  # the Monday
    figures: Figures


def trend(actor: User, *, dimension: str, key: str, period: Period) -> list[Week]:
    """One segment's figures week by week (Monday to Sunday) over the period; weeks with no case are empty."""
    require_insights(actor)
    qs = DailySegmentStat.objects.filter(_in_period(period), dimension=dimension, key=key)
    by_week: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for row in _sums(qs, "day"):
        week = by_week[monday(row["day"])]
        for c in COUNTERS:
            week[c] = week.get(c, 0) + int(row.get(f"s_{c}") or 0)
    weeks = []
    day = monday(period.start)
    while day <= period.end:
        weeks.append(Week(start=day, figures=Figures(counters=by_week.get(day, {}))))
        day += dt.timedelta(weeks=1)
    return weeks


# --- coming back ---------------------------------------------------------------------------------------------------
def retention(actor: User, *, period: Period) -> tuple[list[Segment], list[Segment]]:
    """Bought again within 30/90/180 days, by outcome (failed/met/exceeded/no answer) and by promises."""
    require_insights(actor)
    rows = _sums(DailySegmentStat.objects.filter(_in_period(period), dimension__in=[Dimension.EXPECTATIONS,
                                                                                    Dimension.PROMISE]),
                 "dimension", "key")  # fmt: skip
    found = {(r["dimension"], r["key"]): r for r in rows}
    orders = {
        Dimension.EXPECTATIONS: [Expectation.FAILED.value, Expectation.MET.value, Expectation.EXCEEDED.value,
                                 NO_ANSWER],
        Dimension.PROMISE: [PROMISE_BROKEN, PROMISE_KEPT, PROMISE_NONE],
    }  # fmt: skip
    tables = []
    for dimension, keys in orders.items():
        labels = labels_for(dimension, keys)
        tables.append([Segment(dimension=dimension, key=k, label=labels[k], figures=_figures(found.get(
            (dimension.value, k), {}))) for k in keys])  # fmt: skip
    return tables[0], tables[1]


# --- the alarm -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Flagged:
    segment: Segment
    alarm: Alarm
    cases: list[CaseFact]


def _signals(dimension: str, period: Period, table: list[Segment]) -> list[Signal]:
    recent_from = period.end - dt.timedelta(days=RECENT_DAYS - 1)
    earlier_from = recent_from - dt.timedelta(days=RECENT_DAYS)
    good = F("exp_met") + F("exp_exceeded")
    rows = (
        DailySegmentStat.objects.filter(dimension=dimension, day__gte=earlier_from, day__lte=period.end)
        .values("key").order_by()
        .annotate(rk=Sum(good, filter=Q(day__gte=recent_from)), rn=Sum("exp_n", filter=Q(day__gte=recent_from)),
                  ek=Sum(good, filter=Q(day__lt=recent_from)), en=Sum("exp_n", filter=Q(day__lt=recent_from)))
    )  # fmt: skip
    periods = {r["key"]: ((r["rk"] or 0, r["rn"] or 0), (r["ek"] or 0, r["en"] or 0)) for r in rows}
    signals = []
    for segment in table:
        recent, earlier = periods.get(segment.key, ((0, 0), (0, 0)))
        f = segment.figures
        signals.append(Signal(key=segment.key, compliance=f.compliance, met_or_exceeded=f.met_or_exceeded, nps=f.nps,
                              recent=recent, earlier=earlier,
                              compliance_counts="cases" if f.sla is not None else "promises"))  # fmt: skip
    return signals


def alarms(actor: User, *, dimension: str, period: Period, table: list[Segment] | None = None,
           limits: Thresholds | None = None, cases_each: int = 5) -> list[Flagged]:  # fmt: skip
    """The flagged segments of a dimension, widest gap first, each with its newest poor-outcome cases."""
    require_insights(actor)
    if table is None:
        table = segments(actor, dimension=dimension, period=period)[1]
    by_key = {s.key: s for s in table}
    flagged = select(_signals(dimension, period, table), limits)
    return [Flagged(segment=by_key[a.key], alarm=a, cases=cases_behind(actor, dimension=dimension, key=a.key,
                                                                       period=period, limit=cases_each))
            for a in flagged]  # fmt: skip


def process_measured() -> dict[str, bool]:
    return measured()


# --- the cases behind a figure ---------------------------------------------------------------------------------
def _segment_filter(dimension: str, key: str) -> Q:
    if dimension == Dimension.ALL:
        return Q()
    if dimension in ID_COLUMNS:
        field = ID_COLUMNS[Dimension(dimension)]
        if key == NO_SEGMENT:
            return Q(**{f"{field}__isnull": True})
        ident = id_of(key)
        if ident is None:
            raise InsightsError(InsightsErrorCode.BAD_SEGMENT, f"No {dimension} {key!r}.", field="key")
        return Q(**{field: ident})
    if dimension == Dimension.CHANNEL:
        return Q(channel=key)
    if dimension == Dimension.CASE_TYPE:
        return Q(case_types="|") if key == NO_SEGMENT else Q(case_types__contains=f"|{key}|")
    raise InsightsError(InsightsErrorCode.BAD_SEGMENT, f"Cannot list the cases of {dimension}.", field="dimension")


POOR_OUTCOME = Q(expectations=Expectation.FAILED) | Q(nps__lte=DETRACTOR) | Q(repeat_at__isnull=False)


def cases_behind(actor: User, *, dimension: str, key: str, period: Period, limit: int = 50,
                 before: tuple[dt.date, int] | None = None) -> list[CaseFact]:  # fmt: skip
    """The segment's cases with a poor outcome (failed expectations, a detractor, or a repeat contact), newest first.

    Keyset-paged on (solved_on, case id): `before` is the last row of the previous page.
    """
    require_insights(actor)
    qs = CaseFact.objects.filter(_segment_filter(dimension, key), POOR_OUTCOME, solved_on__gte=period.start,
                                 solved_on__lte=period.end)  # fmt: skip
    if before is not None:
        qs = qs.filter(Q(solved_on__lt=before[0]) | Q(solved_on=before[0], case_id__lt=before[1]))
    return list(qs.select_related("case").order_by("-solved_on", "-case_id")[:limit])
