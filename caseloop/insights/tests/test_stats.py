"""Every formula of insights.stats on numbers worked out by hand (docs/insights.md has them written out)."""

from __future__ import annotations

import math

import pytest

from caseloop.insights.stats import SMALL_SAMPLE, mean, nps, two_proportion_change, wilson


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-4)


# --- Wilson score interval for proportions ------------------------------------------------------
def test_wilson_eight_of_ten():
    # p = 0.8; z² = 3.8415; centre = (0.8 + 0.19207) / 1.38415 = 0.71679; half = 0.22658
    result = wilson(8, 10)
    assert result is not None
    assert result.value == 0.8 and result.n == 10
    assert (result.low, result.high) == (approx(0.4902), approx(0.9433))


def test_wilson_stays_inside_zero_and_one_at_the_extremes():
    none_of = wilson(0, 10)
    all_of = wilson(10, 10)
    assert none_of is not None and all_of is not None
    assert (none_of.value, none_of.low, none_of.high) == (0.0, 0.0, approx(0.2775))
    assert (all_of.value, all_of.low, all_of.high) == (1.0, approx(0.7225), approx(1.0))


def test_wilson_of_one_observation_is_wide_and_small():
    result = wilson(1, 1)
    assert result is not None
    assert (result.low, result.high) == (approx(0.2065), approx(1.0))
    assert result.small


def test_wilson_of_nothing_is_none():
    assert wilson(0, 0) is None


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson(11, 10)


def test_small_sample_flag_is_below_thirty():
    below, at = wilson(10, SMALL_SAMPLE - 1), wilson(10, SMALL_SAMPLE)
    assert below is not None and at is not None
    assert below.small and not at.small


# --- NPS ------------------------------------------------------------------------------------------
def test_nps_with_its_variance_based_interval():
    # 5 promoters, 2 passives, 3 detractors: NPS = 0.5 - 0.3 = 0.2
    # var = (0.5 + 0.3) - 0.2² = 0.76; half = 1.96 · √(0.76/10) = 0.5403
    result = nps(5, 3, 10)
    assert result is not None
    assert result.value == approx(0.2)
    assert (result.low, result.high) == (approx(-0.3403), approx(0.7403))


def test_nps_all_promoters_is_plus_hundred_with_a_collapsed_interval():
    result = nps(40, 0, 40)
    assert result is not None
    assert (result.value, result.low, result.high, result.small) == (1.0, 1.0, 1.0, False)


def test_nps_all_detractors_is_minus_hundred():
    result = nps(0, 12, 12)
    assert result is not None
    assert (result.value, result.low, result.high, result.small) == (-1.0, -1.0, -1.0, True)


def test_nps_all_passives_is_zero():
    result = nps(0, 0, 7)
    assert result is not None
    assert (result.value, result.low, result.high) == (0.0, 0.0, 0.0)


def test_nps_of_one_answer_and_of_none():
    one = nps(1, 0, 1)
    assert one is not None and (one.value, one.n, one.small) == (1.0, 1, True)
    assert nps(0, 0, 0) is None


def test_nps_interval_is_clipped_to_its_range():
    # 1 promoter and 1 detractor out of 2: var = 1 - 0 = 1, half = 1.96·√0.5 = 1.386 > 1
    result = nps(1, 1, 2)
    assert result is not None
    assert (result.value, result.low, result.high) == (0.0, -1.0, 1.0)


def test_nps_refuses_more_promoters_and_detractors_than_answers():
    with pytest.raises(ValueError, match="exceed"):
        nps(6, 5, 10)


# --- means (CES) --------------------------------------------------------------------------------------
def test_mean_of_one_to_five():
    # Σx = 15, Σx² = 55, n = 5: mean 3, s² = (55 - 45)/4 = 2.5, half = 1.96·√(2.5/5) = 1.3859
    result = mean(15, 55, 5)
    assert result is not None
    assert result.value == 3.0
    assert (result.low, result.high) == (approx(1.6141), approx(4.3859))


def test_mean_of_identical_scores_has_no_spread():
    result = mean(6 * 35, 36 * 35, 35)
    assert result is not None
    assert (result.value, result.low, result.high, result.small) == (6.0, 6.0, 6.0, False)


def test_mean_of_one_score_and_of_none():
    one = mean(7, 49, 1)
    assert one is not None and (one.value, one.low, one.high) == (7.0, 7.0, 7.0)
    assert mean(0, 0, 0) is None


# --- falling: the two-proportion z-test ------------------------------------------------------------------
def test_two_proportion_change_pooled():
    # 60/100 against 80/100: pooled 0.7; se = √(0.7·0.3·0.02) = 0.06481; z = -0.2/0.06481 = -3.086
    change = two_proportion_change(60, 100, 80, 100)
    assert change is not None
    assert change.difference == approx(-0.2)
    assert change.z == approx(-3.0861)
    assert change.significant()


def test_small_change_is_not_significant():
    change = two_proportion_change(75, 100, 80, 100)
    assert change is not None
    assert change.z == approx((0.75 - 0.8) / math.sqrt(0.775 * 0.225 * 0.02))
    assert not change.significant()


def test_no_change_when_both_periods_are_all_successes():
    change = two_proportion_change(10, 10, 20, 20)
    assert change is not None and change.z == 0.0 and not change.significant()


def test_change_needs_both_periods():
    assert two_proportion_change(3, 5, 0, 0) is None
    assert two_proportion_change(0, 0, 3, 5) is None
