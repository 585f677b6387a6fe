"""Percentiles and the summary of one measurement."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct`-th percentile by linear interpolation between closest ranks.

    The same definition as numpy's default ("linear"), so figures can be checked
    by hand: p50 of [1, 2, 3, 4] is 2.5, p99 of 100 values sits between the two largest.
    """
    if not values:
        return math.nan
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, not {pct}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * pct / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return ordered[lower]
    weight = position - lower
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


@dataclass(frozen=True, slots=True)
class Summary:
    """Client-side figures of one measurement (latencies in milliseconds)."""

    requests: int  # completed in the timed phase, errors included
    errors: int
    elapsed_s: float
    throughput: float  # completed requests per second of wall time
    p50_ms: float
    p99_ms: float
    max_ms: float


def summarise(latencies_ms: Sequence[float], *, errors: int, elapsed_s: float) -> Summary:
    count = len(latencies_ms)
    return Summary(
        requests=count,
        errors=errors,
        elapsed_s=elapsed_s,
        throughput=count / elapsed_s if elapsed_s > 0 else math.nan,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
        max_ms=max(latencies_ms) if latencies_ms else math.nan,
    )


def pooled(latency_sets: Sequence[Sequence[float]], *, errors: int, elapsed_s: Sequence[float]) -> Summary:
    """One summary of several measurements of the same thing: all their requests over all their time."""
    return summarise([x for latencies in latency_sets for x in latencies], errors=errors, elapsed_s=sum(elapsed_s))
