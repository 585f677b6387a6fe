"""Precomputed figures: one fact row per solved case, and additive daily sums per segment.

Everything here can be rebuilt from the other domains' tables (`manage.py
insights_refresh --full`); nothing here is the record of anything. The
dashboard reads only DailySegmentStat (a few thousand rows for a quarter), so
it answers in the same time with a thousand cases or a million (ADR 0045).
"""

from __future__ import annotations

from django.db import models

from caseloop.cases.models import Case
from caseloop.insights.choices import Dimension


class CaseFact(models.Model):
    """One solved case as the dashboard counts it: its segments, process facts, outcome and what followed.

    Ids are copied, not linked: a fact never blocks deleting a team or a user,
    and the next refresh brings it up to date. `case_types` is "|a|b|" so one
    type is found with a LIKE. `repeat_at` is when the first case on the same
    topic came in within 7 days of the solve; `next_order_at` when the
    customer next bought (a refresh keeps both current as new cases and orders arrive).
    """

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE, related_name="+")
    solved_at = models.DateTimeField()
    solved_on = models.DateField()
    customer_id = models.BigIntegerField()
    organization_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    assignee_id = models.BigIntegerField(null=True)
    partner_id = models.BigIntegerField(null=True)
    asset_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10)
    case_types = models.CharField(max_length=500, default="|")
    # the process view (None: not measured for this case)
    sla_met = models.BooleanField(null=True)
    promises_due = models.PositiveIntegerField(default=0)
    promises_kept = models.PositiveIntegerField(default=0)
    # the customer's view
    expectations = models.CharField(max_length=10, null=True)
    ces = models.PositiveSmallIntegerField(null=True)
    csat = models.PositiveSmallIntegerField(null=True)
    nps = models.PositiveSmallIntegerField(null=True)
    repeat_at = models.DateTimeField(null=True)
    prior_order = models.BooleanField(default=False)
    next_order_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["solved_on"], name="fact_solved_on"),
            # the cases behind an alarm: poor outcomes in a date range
            models.Index(fields=["expectations", "solved_on"], name="fact_outcome_day"),
            models.Index(fields=["customer_id", "solved_at"], name="fact_customer_solved"),
            models.Index(fields=["organization_id", "solved_at"], name="fact_org_solved"),
        ]

    def __str__(self) -> str:
        return f"fact of case {self.case_id}"


class DailySegmentStat(models.Model):
    """Sums over the cases solved on one day in one segment; any date range is the sum of its days.

    Counters only (counts, sums, sums of squares), never rates: rates and
    intervals are computed from the sums of the range asked for, so a week of
    Mondays does not average averages. A `_base` counts the cases whose window
    (7 days for repeats, 30/90/180 for retention) had passed when the row was made.
    """

    day = models.DateField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    key = models.CharField(max_length=64)
    cases = models.PositiveIntegerField(default=0)
    sla_n = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)
    promises_due = models.PositiveIntegerField(default=0)
    promises_kept = models.PositiveIntegerField(default=0)
    exp_n = models.PositiveIntegerField(default=0)
    exp_failed = models.PositiveIntegerField(default=0)
    exp_met = models.PositiveIntegerField(default=0)
    exp_exceeded = models.PositiveIntegerField(default=0)
    ces_n = models.PositiveIntegerField(default=0)
    ces_sum = models.PositiveIntegerField(default=0)
    ces_sumsq = models.PositiveBigIntegerField(default=0)
    csat_n = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    csat_good = models.PositiveIntegerField(default=0)
    nps_n = models.PositiveIntegerField(default=0)
    nps_promoters = models.PositiveIntegerField(default=0)
    nps_detractors = models.PositiveIntegerField(default=0)
    repeat_base = models.PositiveIntegerField(default=0)
    repeat_yes = models.PositiveIntegerField(default=0)
    ret30_base = models.PositiveIntegerField(default=0)
    ret30_yes = models.PositiveIntegerField(default=0)
    ret90_base = models.PositiveIntegerField(default=0)
    ret90_yes = models.PositiveIntegerField(default=0)
    ret180_base = models.PositiveIntegerField(default=0)
    ret180_yes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dimension", "day", "key"], name="daily_stat_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.key} on {self.day}"


class RefreshState(models.Model):
    """How fresh the figures are, and where the next incremental refresh starts (one row, id 1)."""

    refreshed_at = models.DateTimeField(null=True)  # the figures are as of this moment
    case_watermark = models.DateTimeField(null=True)  # cases updated since are looked at again
    answer_watermark = models.DateTimeField(null=True)
    order_watermark = models.BigIntegerField(default=0)  # orders with a higher id are new
    next_refresh_at = models.DateTimeField(null=True)  # a refresh task is queued for then
    last_duration_ms = models.PositiveIntegerField(default=0)
    last_cases = models.PositiveIntegerField(default=0)  # facts written by the last refresh
    last_full_at = models.DateTimeField(null=True)
    # a refresh in progress since then (one at a time; a stale mark is taken over after an hour)
    running_since = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"figures as of {self.refreshed_at}"
