"""The process view of a solved case: was its SLA met, and how many of its promises were kept.

SLA clocks and the promise ledger belong to the sla and promises domains
(issue 5). This is the one place that reads them, and only when they
are installed: a domain that is not installed measures nothing, and the
dashboard labels its column "not measured" rather than showing 0% or 100%
(ADR 0048).

- Promises (`caseloop.promises`): per case, the promises settled as kept or
  broken, and of those the kept ones; live and released promises do not count.
- SLA (`caseloop.sla`): whether the case met every target of its SLA policy
  (first response, next responses, resolution); a case with no SLA policy is
  not measured. A solved case's clocks are stopped, so its answer is settled
  by the time it is counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.apps import apps
from django.db.models import Q

# (sla_met, promises settled, promises kept) per case id
ProcessFacts = dict[int, tuple[bool | None, int, int]]
PROMISES_APP = "caseloop.promises"
SLA_APP = "caseloop.sla"
# a promise is marked broken by the promise checker shortly after its due time
CHECKER_LAG = dt.timedelta(days=1)


def measured() -> dict[str, bool]:
    """Which process figures this installation can measure at all."""
    return {"sla": apps.is_installed(SLA_APP), "promises": apps.is_installed(PROMISES_APP)}


def process_facts(case_ids: Sequence[int]) -> ProcessFacts:
    """SLA and promise facts for these cases; a case absent from the answer has neither."""
    if not case_ids:
        return {}
    met: dict[int, bool] = {}
    counts: dict[int, tuple[int, int]] = {}
    if apps.is_installed(SLA_APP):
        from caseloop.sla.selectors import sla_met_by_case

        met = sla_met_by_case(case_ids)
    if apps.is_installed(PROMISES_APP):
        from caseloop.promises.selectors import promise_counts_by_case

        counts = promise_counts_by_case(case_ids)
    return {case_id: (met.get(case_id), *counts.get(case_id, (0, 0))) for case_id in set(met) | set(counts)}


def settled_since(since: dt.datetime) -> set[int]:
    """Cases whose promises were kept, broken or released since `since` (their facts change).

    Read through the promise ledger's (state, due_at) index: a promise settled
    since then was due no earlier than a day before it (kept ones before their
    due time, broken ones by the checker just after it).
    """
    if not apps.is_installed(PROMISES_APP):
        return set()
    from caseloop.promises.choices import PromiseState
    from caseloop.promises.models import Promise

    settled = [PromiseState.KEPT, PromiseState.BROKEN, PromiseState.RELEASED]
    changed = Q(kept_at__gte=since) | Q(broken_at__gte=since) | Q(released_at__gte=since)
    rows = Promise.objects.filter(changed, state__in=settled, due_at__gte=since - CHECKER_LAG)
    return set(rows.values_list("case_id", flat=True))
