"""Background work of the SLA domain; idempotent. Run `check_slas` every minute (`caseloop tick --every 60`)."""

from __future__ import annotations

from django_tasks import task


@task()
def check_slas() -> dict[str, int]:
    from caseloop.sla.actions import check_slas as check

    result = check()
    return {"breached": result.breached, "warned": result.warned}
