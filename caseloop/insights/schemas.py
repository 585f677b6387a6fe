"""What the insights API gives: the dashboard's figures, each with its interval and sample size."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from caseloop.core.schemas import OutSchema
from caseloop.insights.choices import Dimension


class EstimateOut(OutSchema):
    value: float = Field(description="a share as a fraction 0..1, NPS as -1..1, CES as a mean 1..7")
    low: float = Field(description="lower end of the 95% interval")
    high: float = Field(description="upper end of the 95% interval")
    n: int = Field(description="observations the figure rests on")
    small: bool = Field(description="fewer than 30 observations")


class FiguresOut(OutSchema):
    cases: int
    sla_compliance: EstimateOut | None
    promises_kept: EstimateOut | None
    met_or_exceeded: EstimateOut | None
    exceeded: EstimateOut | None
    failed: EstimateOut | None
    ces: EstimateOut | None
    csat_satisfied: EstimateOut | None
    nps: EstimateOut | None
    repeat_contact_7d: EstimateOut | None
    came_back_30d: EstimateOut | None
    came_back_90d: EstimateOut | None
    came_back_180d: EstimateOut | None


class SegmentOut(OutSchema):
    dimension: str
    key: str
    label: str
    figures: FiguresOut


class PeriodOut(OutSchema):
    start: dt.date
    end: dt.date


class FreshnessOut(OutSchema):
    as_of: dt.datetime | None = Field(description="the figures are as of this moment; null: never computed")
    minutes_old: int | None
    interval_minutes: int


class MeasuredOut(OutSchema):
    sla: bool = Field(description="false: SLA compliance is not measured in this installation")
    promises: bool = Field(description="false: promises are not measured in this installation")


class SegmentsOut(OutSchema):
    period: PeriodOut
    freshness: FreshnessOut
    measured: MeasuredOut
    dimension: Dimension
    overall: SegmentOut
    segments: list[SegmentOut]


class WeekOut(OutSchema):
    week_starting: dt.date
    figures: FiguresOut


class TrendOut(OutSchema):
    period: PeriodOut
    freshness: FreshnessOut
    segment: SegmentOut
    weeks: list[WeekOut]


class RetentionOut(OutSchema):
    period: PeriodOut
    freshness: FreshnessOut
    by_outcome: list[SegmentOut]
    by_promise: list[SegmentOut]


class CaseRef(OutSchema):
    id: int
    number: str
    subject: str


class AlarmOut(OutSchema):
    segment: SegmentOut
    reasons: list[str]
    cases: list[CaseRef] = Field(description="the newest cases with a poor outcome behind it")


class AlarmsOut(OutSchema):
    period: PeriodOut
    freshness: FreshnessOut
    measured: MeasuredOut
    dimension: Dimension
    alarms: list[AlarmOut]


class FiguresQuery(Schema):
    dimension: Dimension = Field(Dimension.TEAM, description="team, channel, case_type, person or partner")
    start: dt.date | None = Field(None, description="first day solved (default: 12 weeks ago, a Monday)")
    end: dt.date | None = Field(None, description="last day solved (default: today)")


class TrendQuery(FiguresQuery):
    key: str = Field("", max_length=64, description="the segment (a team id, a channel …); empty: everything")


class CasesQuery(Schema):
    dimension: str = Field("all", description="team, channel, case_type, person, partner, or all")
    key: str = Field("", max_length=64, description="the segment (a team id, a channel …); empty with `all`")
    start: dt.date | None = Field(None, description="first day solved (default: 12 weeks ago, a Monday)")
    end: dt.date | None = Field(None, description="last day solved (default: today)")
    limit: int = Field(50, ge=1, le=200, description="How many cases, 1 to 200.")
    cursor: str | None = Field(None, description="The `next_cursor` of the previous page.")


class CaseBehindOut(OutSchema):
    case_id: int
    number: str
    subject: str
    solved_at: dt.datetime
    expectations: str | None
    nps: int | None
    ces: int | None
    csat: int | None
    sla_met: bool | None
    promises_due: int
    promises_kept: int
    repeat_contact_at: dt.datetime | None


class CasesBehindOut(OutSchema):
    period: PeriodOut
    freshness: FreshnessOut
    items: list[CaseBehindOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
