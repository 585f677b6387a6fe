"""Background work of the SMS channel: each task loads an id and calls one action; both idempotent."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def send_text(sms_id: int) -> str:
    from caseloop.channels.sms.actions import send_sms

    return str(send_sms(sms_id=sms_id).state)


def enqueue_sending(sms_id: int, run_after: dt.datetime | None = None) -> None:
    """Queue a send; a retry waits until `run_after` where the backend can defer (the sweep
    `send_due_sms` catches the rest)."""
    if run_after is None:
        send_text.enqueue(sms_id)
    elif send_text.get_backend().supports_defer:
        send_text.using(run_after=run_after).enqueue(sms_id)
