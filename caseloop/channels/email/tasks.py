"""Background work of the email channel: each task loads an id and calls one action; all idempotent."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def process_inbound_email(inbound_id: int) -> str:
    from caseloop.channels.email.actions import process_inbound

    return str(process_inbound(inbound_id=inbound_id).state)


@task()
def send_outbound_email(outbound_id: int) -> str:
    from caseloop.channels.email.actions import send_outbound

    return str(send_outbound(outbound_id=outbound_id).state)


def enqueue_processing(inbound_id: int) -> None:
    process_inbound_email.enqueue(inbound_id)


def enqueue_sending(outbound_id: int, run_after: dt.datetime | None = None) -> None:
    """Queue a send; a retry waits until `run_after` where the backend can defer
    (the database backend can; in-process backends send only on the next sweep)."""
    if run_after is None:
        send_outbound_email.enqueue(outbound_id)
    elif send_outbound_email.get_backend().supports_defer:
        send_outbound_email.using(run_after=run_after).enqueue(outbound_id)
