"""Background work of the policies domain; idempotent.

Run `check_approvals` every minute (`caseloop tick --every 60`, or cron with
`manage.py approvals_check`): it reminds approvers and escalates missed requests.
"""

from __future__ import annotations

from django_tasks import task


@task()
def check_approvals() -> dict[str, int]:
    from caseloop.policies.actions import check_approvals as check

    result = check()
    return {"reminded": result.reminded, "escalated": result.escalated, "exhausted": result.exhausted}
