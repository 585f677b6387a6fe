"""The "all is well" alarm: segments where the process looks fine and the customers do not (no database).

A segment is flagged when its compliance is high AND its outcomes are poor or
falling, each judged on enough answers to mean something:

- compliance high: SLA compliance of at least 90% on at least 30 measured
  cases (else the promise-kept rate, on at least 30 settled promises);
- poor: fewer than 75% of at least 30 answers met or exceeded expectations,
  or NPS below 0 on at least 30 answers;
- falling: the met-or-exceeded share of the last 4 weeks is at least 10 points
  below the 4 weeks before, each period with at least 20 answers, and the
  two-proportion z-test says the drop is more than noise (z <= -1.96).

The thresholds may be changed with the CASELOOP_INSIGHTS_ALARM setting, read at call time;
docs/insights.md and ADR 0046 say why these values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from django.conf import settings

from caseloop.insights.stats import Z95, Estimate, two_proportion_change


@dataclass(frozen=True, slots=True)
class Thresholds:
    compliance_at_least: float = 0.90
    met_or_exceeded_below: float = 0.75
    nps_below: float = 0.0
    drop_at_least: float = 0.10
    min_cases: int = 30
    min_answers: int = 30
    min_period_answers: int = 20

    @classmethod
    def from_settings(cls) -> Thresholds:
        """The defaults, with any overrides from the CASELOOP_INSIGHTS_ALARM setting (a dict of these names)."""
        return replace(cls(), **getattr(settings, "CASELOOP_INSIGHTS_ALARM", {}))


@dataclass(frozen=True, slots=True)
class Signal:
    """What the alarm reads of one segment over the dashboard's period and its last 8 weeks."""

    key: str
    compliance: Estimate | None
    met_or_exceeded: Estimate | None
    nps: Estimate | None
    recent: tuple[int, int] = (0, 0)  # met-or-exceeded answers, answers: the last 4 weeks
    earlier: tuple[int, int] = (0, 0)  # the 4 weeks before those
    # what compliance's n counts: cases measured against an SLA, or (no SLA) settled promises, of which some kept
    compliance_counts: Literal["cases", "promises"] = "cases"


@dataclass(frozen=True, slots=True)
class Alarm:
    key: str
    reasons: list[str] = field(default_factory=list)
    gap: float = 0.0  # compliance minus met-or-exceeded: how far the two views disagree (the sort order)


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def judge(signal: Signal, limits: Thresholds) -> Alarm | None:
    """The alarm for one segment, or None when compliance is not high or outcomes are fine."""
    compliance = signal.compliance
    if compliance is None or compliance.n < limits.min_cases or compliance.value < limits.compliance_at_least:
        return None
    reasons = []
    outcome = signal.met_or_exceeded
    if outcome is not None and outcome.n >= limits.min_answers and outcome.value < limits.met_or_exceeded_below:
        reasons.append(f"only {_pct(outcome.value)} of {outcome.n} answers met or exceeded expectations")
    score = signal.nps
    if score is not None and score.n >= limits.min_answers and score.value < limits.nps_below:
        reasons.append(f"NPS {round(score.value * 100)} on {score.n} answers")
    (rk, rn), (ek, en) = signal.recent, signal.earlier
    if rn >= limits.min_period_answers and en >= limits.min_period_answers:
        change = two_proportion_change(rk, rn, ek, en)
        if change is not None and change.difference <= -limits.drop_at_least and change.z <= -Z95:
            reasons.append(f"met or exceeded fell from {_pct(change.earlier)} to {_pct(change.recent)} "
                           f"in the last 4 weeks")  # fmt: skip
    if not reasons:
        return None
    gap = compliance.value - (outcome.value if outcome is not None else 0.0)
    if signal.compliance_counts == "promises":
        reasons.insert(0, f"{_pct(compliance.value)} of {compliance.n} promises kept")
    else:
        reasons.insert(0, f"compliance {_pct(compliance.value)} on {compliance.n} cases")
    return Alarm(key=signal.key, reasons=reasons, gap=gap)


def select(signals: Iterable[Signal], limits: Thresholds | None = None) -> list[Alarm]:
    """Every flagged segment, the widest gap between process and outcome first."""
    limits = limits or Thresholds.from_settings()
    alarms = [alarm for signal in signals if (alarm := judge(signal, limits)) is not None]
    return sorted(alarms, key=lambda a: (-a.gap, a.key))
