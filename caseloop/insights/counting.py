"""From case facts to additive daily counters, and from summed counters to figures (no database).

A fact counts in one segment of every dimension (in each of its types for
"case type", where a case may have several). The windows of repeat contact
(7 days) and retention (30/90/180 days) count a case only once its window has
passed at `as_of`, so a case solved yesterday does not yet count as "did not
come back". docs/insights.md writes every rule out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from caseloop.insights.choices import NO_ANSWER, NO_SEGMENT, PROMISE_BROKEN, PROMISE_KEPT, PROMISE_NONE, Dimension
from caseloop.insights.stats import Estimate, mean, nps, wilson

# the counter columns of DailySegmentStat, in order
COUNTERS = (
    "cases", "sla_n", "sla_met", "promises_due", "promises_kept",
    "exp_n", "exp_failed", "exp_met", "exp_exceeded",
    "ces_n", "ces_sum", "ces_sumsq", "csat_n", "csat_sum", "csat_good", "nps_n", "nps_promoters", "nps_detractors",
    "repeat_base", "repeat_yes", "ret30_base", "ret30_yes", "ret90_base", "ret90_yes", "ret180_base", "ret180_yes",
)  # fmt: skip
REPEAT_DAYS = 7
RETENTION_DAYS = (30, 90, 180)
CSAT_GOOD = 4  # 4 or 5 out of 5 is "satisfied"
PROMOTER, DETRACTOR = 9, 6  # NPS: 9-10 promoters, 0-6 detractors


@dataclass(frozen=True, slots=True)
class Fact:
    """What counting needs of one solved case (a CaseFact row, or a hand-made one in tests)."""

    solved_at: dt.datetime
    team_id: int | None = None
    channel: str = ""
    case_types: tuple[str, ...] = ()
    assignee_id: int | None = None
    partner_id: int | None = None
    sla_met: bool | None = None
    promises_due: int = 0
    promises_kept: int = 0
    expectations: str | None = None
    ces: int | None = None
    csat: int | None = None
    nps: int | None = None
    repeat_at: dt.datetime | None = None
    prior_order: bool = False
    next_order_at: dt.datetime | None = None


def _key(value: int | None) -> str:
    return str(value) if value is not None else NO_SEGMENT


def promise_key(fact: Fact) -> str:
    if fact.promises_due == 0:
        return PROMISE_NONE
    return PROMISE_BROKEN if fact.promises_kept < fact.promises_due else PROMISE_KEPT


def segments_of(fact: Fact) -> list[tuple[str, str]]:
    """Every (dimension, key) a fact counts in."""
    keys = [
        (Dimension.ALL.value, ""),
        (Dimension.TEAM.value, _key(fact.team_id)),
        (Dimension.CHANNEL.value, fact.channel or NO_SEGMENT),
        (Dimension.PERSON.value, _key(fact.assignee_id)),
        (Dimension.PARTNER.value, _key(fact.partner_id)),
        (Dimension.EXPECTATIONS.value, fact.expectations or NO_ANSWER),
        (Dimension.PROMISE.value, promise_key(fact)),
    ]
    keys += [(Dimension.CASE_TYPE.value, t) for t in (fact.case_types or (NO_SEGMENT,))]
    return keys


INDEX = {name: i for i, name in enumerate(COUNTERS)}
_I = INDEX


def contributions(fact: Fact, *, as_of: dt.datetime) -> list[tuple[int, int]]:
    """(counter index, value) for every counter the fact adds to, in COUNTERS order of meaning (no zeros)."""
    out = [(_I["cases"], 1)]
    if fact.sla_met is not None:
        out.append((_I["sla_n"], 1))
        if fact.sla_met:
            out.append((_I["sla_met"], 1))
    if fact.promises_due:
        out.append((_I["promises_due"], fact.promises_due))
    if fact.promises_kept:
        out.append((_I["promises_kept"], fact.promises_kept))
    if fact.expectations:
        out += [(_I["exp_n"], 1), (_I[f"exp_{fact.expectations}"], 1)]
    if fact.ces is not None:
        out += [(_I["ces_n"], 1), (_I["ces_sum"], fact.ces), (_I["ces_sumsq"], fact.ces * fact.ces)]
    if fact.csat is not None:
        out += [(_I["csat_n"], 1), (_I["csat_sum"], fact.csat)]
        if fact.csat >= CSAT_GOOD:
            out.append((_I["csat_good"], 1))
    if fact.nps is not None:
        out.append((_I["nps_n"], 1))
        if fact.nps >= PROMOTER:
            out.append((_I["nps_promoters"], 1))
        elif fact.nps <= DETRACTOR:
            out.append((_I["nps_detractors"], 1))
    if fact.solved_at + dt.timedelta(days=REPEAT_DAYS) <= as_of:
        out.append((_I["repeat_base"], 1))
        if fact.repeat_at is not None:
            out.append((_I["repeat_yes"], 1))
    if fact.prior_order:
        for days in RETENTION_DAYS:
            window_end = fact.solved_at + dt.timedelta(days=days)
            if window_end <= as_of:
                out.append((_I[f"ret{days}_base"], 1))
                if fact.next_order_at is not None and fact.next_order_at <= window_end:
                    out.append((_I[f"ret{days}_yes"], 1))
    return out


def counters_of(fact: Fact, *, as_of: dt.datetime) -> dict[str, int]:
    """The counters one fact adds to each of its segments, by name (zeros included)."""
    counters = dict.fromkeys(COUNTERS, 0)
    for index, value in contributions(fact, as_of=as_of):
        counters[COUNTERS[index]] += value
    return counters


class DailySums:
    """Counters per (day, dimension, key), kept as lists (a year of a large installation fits in memory)."""

    def __init__(self, *, as_of: dt.datetime) -> None:
        self.as_of = as_of
        self.sums: dict[tuple[dt.date, str, str], list[int]] = {}

    def add(self, day: dt.date, fact: Fact, *, sign: int = 1) -> None:
        """Add the fact's counters to each of its segments that day (sign -1 takes them away)."""
        added = contributions(fact, as_of=self.as_of)
        if sign != 1:
            added = [(index, sign * value) for index, value in added]
        for dimension, key in segments_of(fact):
            row = self.sums.get((day, dimension, key))
            if row is None:
                row = self.sums[(day, dimension, key)] = [0] * len(COUNTERS)
            for index, value in added:
                row[index] += value

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """(day, dimension, key, *counters in COUNTERS order) for each segment-day."""
        for (day, dimension, key), counts in self.sums.items():
            yield (day, dimension, key[:64], *counts)


def daily_counters(
    facts: Iterable[tuple[dt.date, Fact]], *, as_of: dt.datetime
) -> dict[tuple[dt.date, str, str], dict[str, int]]:
    """Sum the facts' counters per (day, dimension, key)."""
    sums = DailySums(as_of=as_of)
    for day, fact in facts:
        sums.add(day, fact)
    return {key: dict(zip(COUNTERS, counts, strict=True)) for key, counts in sums.sums.items()}


@dataclass(frozen=True, slots=True)
class Figures:
    """A segment's figures over a date range, computed from its summed counters."""

    counters: Mapping[str, int] = field(default_factory=dict)

    def _c(self, name: str) -> int:
        return int(self.counters.get(name, 0))

    @property
    def cases(self) -> int:
        return self._c("cases")

    # the process view
    @property
    def sla(self) -> Estimate | None:
        return wilson(self._c("sla_met"), self._c("sla_n"))

    @property
    def promises_kept(self) -> Estimate | None:
        return wilson(self._c("promises_kept"), self._c("promises_due"))

    @property
    def compliance(self) -> Estimate | None:
        """SLA compliance where measured, else the promise-kept rate: the process view in one number."""
        return self.sla or self.promises_kept

    # the customer's view
    @property
    def met_or_exceeded(self) -> Estimate | None:
        return wilson(self._c("exp_met") + self._c("exp_exceeded"), self._c("exp_n"))

    @property
    def exceeded(self) -> Estimate | None:
        return wilson(self._c("exp_exceeded"), self._c("exp_n"))

    @property
    def failed(self) -> Estimate | None:
        return wilson(self._c("exp_failed"), self._c("exp_n"))

    @property
    def ces(self) -> Estimate | None:
        return mean(self._c("ces_sum"), self._c("ces_sumsq"), self._c("ces_n"))

    @property
    def csat(self) -> Estimate | None:
        """Share of satisfied answers (4 or 5 of 5)."""
        return wilson(self._c("csat_good"), self._c("csat_n"))

    @property
    def nps(self) -> Estimate | None:
        return nps(self._c("nps_promoters"), self._c("nps_detractors"), self._c("nps_n"))

    @property
    def repeat(self) -> Estimate | None:
        return wilson(self._c("repeat_yes"), self._c("repeat_base"))

    def retention(self, days: int) -> Estimate | None:
        return wilson(self._c(f"ret{days}_yes"), self._c(f"ret{days}_base"))

    @property
    def retention_30(self) -> Estimate | None:
        return self.retention(30)

    @property
    def retention_90(self) -> Estimate | None:
        return self.retention(90)

    @property
    def retention_180(self) -> Estimate | None:
        return self.retention(180)


def add(into: dict[str, int], counters: Mapping[str, int]) -> None:
    for name in COUNTERS:
        into[name] = into.get(name, 0) + int(counters.get(name, 0) or 0)
