"""Background work of the portal: the sign-in link, made and mailed by the worker (ADR 0076)."""

from __future__ import annotations

from django_tasks import task


@task()
def send_sign_in_link(address: str, ip_address: str | None) -> str:
    """Only the address and the asker's IP wait in the task table: the token is made here, by the
    worker, and goes straight into the email (its hash into the database)."""
    from caseloop.portal.actions import issue_sign_in_link

    return "sent" if issue_sign_in_link(address=address, ip_address=ip_address) is not None else "no link"


def enqueue_sign_in_link(address: str, ip_address: str | None) -> None:
    send_sign_in_link.enqueue(address, ip_address)
