"""The process view of a solved case: was its SLA met, and how many of its promises were kept.

SLA policies and the promise ledger belong to the policies and promises
domains (issue 5). Until they exist this module measures nothing and says so:
every fact carries "not measured" (None, 0, 0), and the dashboard labels the
SLA and promise columns as not measured rather than showing 0% or 100%.
When those domains land, this is the one place that reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import apps

# (sla_met, promises due by now, promises kept) per case id
ProcessFacts = dict[int, tuple[bool | None, int, int]]


def measured() -> dict[str, bool]:
    """Which process figures this installation can measure at all."""
    return {"sla": apps.is_installed("caseloop.policies"), "promises": apps.is_installed("caseloop.promises")}


def process_facts(case_ids: Sequence[int]) -> ProcessFacts:
    """SLA and promise facts for these cases; a case absent from the answer is not measured.

    Neither domain exists in this version, so nothing is measured yet.
    """
    del case_ids  # read once the policies and promises domains provide per-case selectors
    return {}
