"""From facts to daily counters to figures, on hand-made facts (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.insights.choices import Dimension
from caseloop.insights.counting import COUNTERS, Fact, Figures, counters_of, daily_counters, segments_of

SOLVED = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
LATER = SOLVED + dt.timedelta(days=200)  # every window has passed


def nonzero(counters):
    return {k: v for k, v in counters.items() if v}


def test_one_fact_counts_every_figure():
    fact = Fact(solved_at=SOLVED, team_id=3, channel="email", case_types=("spring",), assignee_id=7, sla_met=True,
                promises_due=2, promises_kept=1, expectations="met", ces=6, csat=4, nps=9,
                repeat_at=SOLVED + dt.timedelta(days=2), prior_order=True,
                next_order_at=SOLVED + dt.timedelta(days=45))  # fmt: skip
    assert nonzero(counters_of(fact, as_of=LATER)) == {
        "cases": 1, "sla_n": 1, "sla_met": 1, "promises_due": 2, "promises_kept": 1, "exp_n": 1, "exp_met": 1,
        "ces_n": 1, "ces_sum": 6, "ces_sumsq": 36, "csat_n": 1, "csat_sum": 4, "csat_good": 1, "nps_n": 1,
        "nps_promoters": 1, "repeat_base": 1, "repeat_yes": 1, "ret30_base": 1, "ret90_base": 1, "ret90_yes": 1,
        "ret180_base": 1, "ret180_yes": 1,
    }  # fmt: skip


def test_a_fact_with_nothing_measured_is_just_a_case():
    assert nonzero(counters_of(Fact(solved_at=SOLVED), as_of=SOLVED)) == {"cases": 1}


@pytest.mark.parametrize(("nps", "promoter", "detractor"), [(10, 1, 0), (9, 1, 0), (8, 0, 0), (7, 0, 0), (6, 0, 1),
                                                              (0, 0, 1)])  # fmt: skip
def test_nps_bands(nps, promoter, detractor):
    c = counters_of(Fact(solved_at=SOLVED, nps=nps), as_of=SOLVED)
    assert (c["nps_n"], c["nps_promoters"], c["nps_detractors"]) == (1, promoter, detractor)


def test_repeat_window_counts_only_once_seven_days_have_passed():
    fact = Fact(solved_at=SOLVED, repeat_at=SOLVED + dt.timedelta(days=1))
    too_early = counters_of(fact, as_of=SOLVED + dt.timedelta(days=6, hours=23))
    on_time = counters_of(fact, as_of=SOLVED + dt.timedelta(days=7))
    assert (too_early["repeat_base"], too_early["repeat_yes"]) == (0, 0)
    assert (on_time["repeat_base"], on_time["repeat_yes"]) == (1, 1)


def test_retention_windows_edges_and_open_windows():
    bought_on_day_30 = Fact(solved_at=SOLVED, prior_order=True, next_order_at=SOLVED + dt.timedelta(days=30))
    c = counters_of(bought_on_day_30, as_of=SOLVED + dt.timedelta(days=100))
    assert (c["ret30_base"], c["ret30_yes"], c["ret90_base"], c["ret90_yes"], c["ret180_base"]) == (1, 1, 1, 1, 0)
    bought_on_day_31 = Fact(solved_at=SOLVED, prior_order=True, next_order_at=SOLVED + dt.timedelta(days=31))
    c = counters_of(bought_on_day_31, as_of=LATER)
    assert (c["ret30_yes"], c["ret90_yes"], c["ret180_yes"]) == (0, 1, 1)


def test_retention_counts_only_customers_who_had_bought_before():
    c = counters_of(Fact(solved_at=SOLVED, prior_order=False, next_order_at=SOLVED + dt.timedelta(days=3)),
                    as_of=LATER)  # fmt: skip
    assert (c["ret30_base"], c["ret30_yes"]) == (0, 0)


def test_segments_of_a_fact():
    fact = Fact(solved_at=SOLVED, team_id=None, channel="sms", case_types=("billing", "spring"), assignee_id=4,
                partner_id=None, expectations=None, promises_due=1, promises_kept=0)  # fmt: skip
    assert segments_of(fact) == [
        ("all", ""), ("team", "none"), ("channel", "sms"), ("person", "4"), ("partner", "none"),
        ("expectations", "none"), ("promise", "broken"), ("case_type", "billing"), ("case_type", "spring"),
    ]  # fmt: skip
    assert ("case_type", "none") in segments_of(Fact(solved_at=SOLVED))
    assert ("promise", "kept") in segments_of(Fact(solved_at=SOLVED, promises_due=2, promises_kept=2))


def test_daily_counters_sum_per_day_and_segment():
    day = SOLVED.date()
    facts = [
        (day, Fact(solved_at=SOLVED, team_id=1, expectations="met")),
        (day, Fact(solved_at=SOLVED, team_id=1, expectations="failed")),
        (day, Fact(solved_at=SOLVED, team_id=2, expectations="exceeded")),
    ]
    sums = daily_counters(facts, as_of=SOLVED)
    team_1 = sums[(day, Dimension.TEAM, "1")]
    assert (team_1["cases"], team_1["exp_n"], team_1["exp_met"], team_1["exp_failed"]) == (2, 2, 1, 1)
    everything = sums[(day, Dimension.ALL, "")]
    assert (everything["cases"], everything["exp_n"], everything["exp_exceeded"]) == (3, 3, 1)
    assert set(team_1) == set(COUNTERS)


# --- figures from summed counters ---------------------------------------------------------------------------------
def test_figures_of_a_hand_made_segment():
    figures = Figures(counters={
        "cases": 40, "exp_n": 20, "exp_failed": 4, "exp_met": 10, "exp_exceeded": 6, "ces_n": 5, "ces_sum": 15,
        "ces_sumsq": 55, "csat_n": 10, "csat_good": 8, "nps_n": 10, "nps_promoters": 5, "nps_detractors": 3,
        "repeat_base": 10, "repeat_yes": 0, "ret90_base": 10, "ret90_yes": 10, "promises_due": 10,
        "promises_kept": 8,
    })  # fmt: skip
    assert figures.cases == 40
    assert figures.met_or_exceeded is not None and figures.met_or_exceeded.value == 0.8
    assert (round(figures.met_or_exceeded.low, 4), round(figures.met_or_exceeded.high, 4)) == (0.5840, 0.9193)
    assert figures.failed is not None and figures.failed.value == 0.2
    assert figures.ces is not None and figures.ces.value == 3.0 and round(figures.ces.low, 4) == 1.6141
    assert figures.csat is not None and figures.csat.value == 0.8
    assert figures.nps is not None and round(figures.nps.value, 4) == 0.2 and round(figures.nps.low, 4) == -0.3403
    assert figures.repeat is not None and (figures.repeat.value, round(figures.repeat.high, 4)) == (0.0, 0.2775)
    assert figures.retention_90 is not None and figures.retention_90.value == 1.0
    assert figures.retention_30 is None and figures.retention_180 is None
    # no SLA measured: compliance is the promise-kept rate
    assert figures.sla is None
    assert figures.compliance is not None and figures.compliance.value == 0.8


def test_an_empty_segment_has_no_figure_at_all():
    figures = Figures()
    assert figures.cases == 0
    for name in ("sla", "promises_kept", "compliance", "met_or_exceeded", "exceeded", "failed", "ces", "csat", "nps",
                 "repeat", "retention_30", "retention_90", "retention_180"):  # fmt: skip
        assert getattr(figures, name) is None, name


def test_sla_compliance_is_the_process_view_where_measured_and_promises_stand_beside_it():
    figures = Figures(counters={"cases": 10, "sla_n": 10, "sla_met": 9, "promises_due": 4, "promises_kept": 1,
                                "exp_n": 10, "exp_failed": 3, "exp_met": 5, "exp_exceeded": 2})  # fmt: skip
    assert figures.sla is not None and (figures.sla.value, figures.sla.n) == (0.9, 10)
    assert figures.promises_kept is not None and (figures.promises_kept.value, figures.promises_kept.n) == (0.25, 4)
    assert figures.compliance == figures.sla  # SLA wins when measured; promises are shown beside it
    # the three shares of expectations come from the same answers and add up
    assert figures.exceeded is not None and figures.exceeded.value == 0.2
    assert figures.failed is not None and figures.met_or_exceeded is not None
    assert figures.failed.value + figures.met_or_exceeded.value == 1.0
    assert figures.exceeded.n == figures.failed.n == figures.met_or_exceeded.n == 10
    assert figures.sla.small and figures.exceeded.small  # fewer than 30: flagged


def test_csat_counts_four_and_five_as_satisfied():
    satisfied = [counters_of(Fact(solved_at=SOLVED, csat=score), as_of=SOLVED)["csat_good"] for score in range(1, 6)]
    assert satisfied == [0, 0, 0, 1, 1]
