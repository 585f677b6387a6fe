"""How the policies domain takes part in other domains' writes.

The cases domain asks `core.guards` before a person changes a case's status;
the guard registered here puts that attempt to the rules (status change, and
reopen when a solved case is opened again) inside the cases domain's
transaction, so a refusal leaves the case as it was.
"""

from __future__ import annotations

from caseloop.core.guards import Attempt, register_guard


@register_guard
def _rules_on_status_change(attempt: Attempt) -> None:
    if attempt.kind != "case.status_change" or attempt.actor is None:
        return
    from caseloop.policies.actions import check_status_change

    check_status_change(
        actor=attempt.actor,
        case_id=attempt.case_id,
        before=str(attempt.details["from"]),
        after=str(attempt.details["to"]),
        override_reason=attempt.override_reason,
    )
