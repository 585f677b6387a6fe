"""The "all is well" alarm's selection, on hand-made segments."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.test import override_settings

from caseloop.insights.alarm import Signal, Thresholds, judge, select
from caseloop.insights.stats import Estimate, nps, wilson

LIMITS = Thresholds()


def share(k: int, n: int) -> Estimate:
    estimate = wilson(k, n)
    assert estimate is not None
    return estimate


def signal(key="1", *, compliance=(95, 100), outcome=(80, 100), score=(0, 0, 0), recent=(0, 0), earlier=(0, 0)):
    return Signal(key=key, compliance=share(*compliance), met_or_exceeded=share(*outcome),
                  nps=nps(*score) if score[2] else None, recent=recent, earlier=earlier)  # fmt: skip


def test_high_compliance_and_poor_outcome_rings():
    alarm = judge(signal(outcome=(30, 50)), LIMITS)
    assert alarm is not None
    assert alarm.reasons == ["compliance 95% on 100 cases", "only 60% of 50 answers met or exceeded expectations"]
    assert alarm.gap == pytest.approx(0.35)


def test_compliance_from_the_promise_kept_rate_is_worded_as_promises():
    # no SLA measured: the 100 counted are settled promises, not cases
    alarm = judge(replace(signal(outcome=(30, 50)), compliance_counts="promises"), LIMITS)
    assert alarm is not None
    assert alarm.reasons == ["95% of 100 promises kept", "only 60% of 50 answers met or exceeded expectations"]


def test_outcomes_at_the_threshold_are_fine():
    assert judge(signal(outcome=(75, 100)), LIMITS) is None  # 75% is not below 75%


def test_compliance_below_ninety_percent_does_not_ring_even_with_poor_outcomes():
    assert judge(signal(compliance=(89, 100), outcome=(10, 100)), LIMITS) is None


def test_poor_outcome_on_a_small_sample_does_not_ring():
    assert judge(signal(outcome=(5, 29)), LIMITS) is None
    assert judge(signal(outcome=(5, 30)), LIMITS) is not None


def test_compliance_on_few_cases_does_not_ring():
    assert judge(signal(compliance=(29, 29), outcome=(10, 100)), LIMITS) is None


def test_no_compliance_measured_never_rings():
    unmeasured = Signal(key="1", compliance=None, met_or_exceeded=share(1, 100), nps=nps(0, 100, 100))
    assert judge(unmeasured, LIMITS) is None


def test_negative_nps_rings():
    alarm = judge(signal(score=(10, 20, 40)), LIMITS)  # NPS = (10 - 20) / 40 = -25
    assert alarm is not None and alarm.reasons[1:] == ["NPS -25 on 40 answers"]


def test_a_significant_fall_in_the_last_four_weeks_rings():
    # 60% of 100 now against 80% of 100 before: z = -3.09
    alarm = judge(signal(recent=(60, 100), earlier=(80, 100)), LIMITS)
    assert alarm is not None
    assert alarm.reasons[1:] == ["met or exceeded fell from 80% to 60% in the last 4 weeks"]


def test_a_fall_that_is_noise_or_small_does_not_ring():
    assert judge(signal(recent=(14, 20), earlier=(19, 20)), LIMITS) is not None  # 70% vs 95%, z = -2.1
    assert judge(signal(recent=(13, 19), earlier=(19, 20)), LIMITS) is None  # too few answers in a period
    assert judge(signal(recent=(72, 100), earlier=(80, 100)), LIMITS) is None  # 8 points: not enough of a drop
    assert judge(signal(recent=(25, 40), earlier=(28, 40)), LIMITS) is None  # 7.5 points, and z = -0.7


def test_every_reason_is_given():
    alarm = judge(signal(outcome=(20, 40), score=(2, 20, 40), recent=(5, 20), earlier=(15, 20)), LIMITS)
    assert alarm is not None and len(alarm.reasons) == 4


def test_selection_puts_the_widest_gap_first_and_leaves_the_fine_out():
    signals = [
        signal("fine", outcome=(90, 100)),
        signal("bad", compliance=(92, 100), outcome=(50, 100)),
        signal("worse", compliance=(99, 100), outcome=(40, 100)),
        signal("lax", compliance=(50, 100), outcome=(10, 100)),
    ]
    assert [a.key for a in select(signals, LIMITS)] == ["worse", "bad"]


@override_settings(CASELOOP_INSIGHTS_ALARM={"met_or_exceeded_below": 0.5, "min_answers": 10})
def test_thresholds_come_from_settings():
    limits = Thresholds.from_settings()
    assert (limits.met_or_exceeded_below, limits.min_answers, limits.compliance_at_least) == (0.5, 10, 0.9)
    assert select([signal(outcome=(6, 10))]) == []
    assert [a.key for a in select([signal(outcome=(4, 10))])] == ["1"]
