"""Background work of the promise ledger; each task is idempotent.

Run `check_promises` every minute (`caseloop tick --every 60`, cron with
`manage.py promises_check`, or a scheduler enqueueing the task).
"""

from __future__ import annotations

from django_tasks import task


@task()
def check_promises() -> dict[str, int]:
    from caseloop.promises.actions import send_apologies
    from caseloop.promises.checker import check_promises as check

    result = check().as_dict()
    result["apologies"] = send_apologies()
    return result
