"""The statistics behind every figure on the dashboard: plain math, no Django.

Each function takes counts (or sums) and returns the estimate with its 95%
interval, or None where there is nothing to estimate. docs/insights.md writes
every formula out; the tests check them on hand-made numbers.

- Proportions (SLA compliance, promises kept, expectations met or exceeded,
  CSAT satisfied, repeat contact, retention): the Wilson score interval, which
  stays inside [0, 1] and behaves at p = 0, p = 1 and small n, unlike p ± z·√(p(1-p)/n).
- NPS = p_promoters - p_detractors, with var = (p_p + p_d - (p_p - p_d)²) / n
  (the variance of the mean of a score that is +1, 0 or -1 per answer).
- Means (CES, CSAT score): mean ± z·s/√n with the sample standard deviation.
- "Falling": the two-proportion z-test with the pooled proportion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
SMALL_SAMPLE = 30  # below this many answers a figure is shown, flagged as a small sample


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its 95% interval and how many observations it rests on."""

    value: float
    low: float
    high: float
    n: int

    @property
    def small(self) -> bool:
        return self.n < SMALL_SAMPLE


def wilson(successes: int, n: int, *, z: float = Z95) -> Estimate | None:
    """The share successes/n with the Wilson score interval; None when n is 0.

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z · √(p(1-p)/n + z²/4n²) / (1 + z²/n)
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} must lie between 0 and n={n}")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return Estimate(value=p, low=max(0.0, centre - half), high=min(1.0, centre + half), n=n)


def nps(promoters: int, detractors: int, n: int, *, z: float = Z95) -> Estimate | None:
    """Net Promoter Score as a fraction in [-1, 1] (times 100 for the usual -100…100); None when n is 0.

    Each answer scores +1 (9-10), 0 (7-8) or -1 (0-6); NPS is their mean, so
    var = E[x²] - E[x]² = (p_p + p_d) - (p_p - p_d)², and the interval is
    NPS ± z·√(var/n), clipped to [-1, 1]. With every answer alike (all
    promoters, all detractors, or n = 1) the variance is 0 and the interval
    collapses to the point: such a figure always carries the small-sample flag
    below 30 answers, which is where it happens in practice.
    """
    if n <= 0:
        return None
    if promoters < 0 or detractors < 0 or promoters + detractors > n:
        raise ValueError(f"promoters {promoters} + detractors {detractors} exceed n={n}")
    p_p, p_d = promoters / n, detractors / n
    score = p_p - p_d
    variance = max(0.0, (p_p + p_d) - score * score)
    half = z * math.sqrt(variance / n)
    return Estimate(value=score, low=max(-1.0, score - half), high=min(1.0, score + half), n=n)


def mean(total: float, total_of_squares: float, n: int, *, z: float = Z95) -> Estimate | None:
    """The mean of n scores from their sum and sum of squares; None when n is 0.

    s² = (Σx² - (Σx)²/n) / (n - 1); the interval is mean ± z·s/√n. One score
    has no spread to estimate: its interval is the point itself (and it is a
    small sample).
    """
    if n <= 0:
        return None
    average = total / n
    if n == 1:
        return Estimate(value=average, low=average, high=average, n=1)
    variance = max(0.0, (total_of_squares - total * total / n) / (n - 1))
    half = z * math.sqrt(variance / n)
    return Estimate(value=average, low=average - half, high=average + half, n=n)


@dataclass(frozen=True, slots=True)
class Change:
    """The difference between a recent and an earlier share, and whether it is more than noise."""

    recent: float
    earlier: float
    z: float

    @property
    def difference(self) -> float:
        return self.recent - self.earlier

    def significant(self, *, z: float = Z95) -> bool:
        return abs(self.z) >= z


def two_proportion_change(recent_k: int, recent_n: int, earlier_k: int, earlier_n: int) -> Change | None:
    """Compare recent_k/recent_n with earlier_k/earlier_n by the pooled two-proportion z-test.

    p = (k₁ + k₂)/(n₁ + n₂);  z = (p₁ - p₂) / √(p(1-p)(1/n₁ + 1/n₂)).
    None when either period has no observations. When both periods are all
    successes or all failures the pooled variance is 0: nothing changed, z = 0.
    """
    if recent_n <= 0 or earlier_n <= 0:
        return None
    p1, p2 = recent_k / recent_n, earlier_k / earlier_n
    pooled = (recent_k + earlier_k) / (recent_n + earlier_n)
    variance = pooled * (1 - pooled) * (1 / recent_n + 1 / earlier_n)
    if variance <= 0:
        return Change(recent=p1, earlier=p2, z=0.0)
    return Change(recent=p1, earlier=p2, z=(p1 - p2) / math.sqrt(variance))
