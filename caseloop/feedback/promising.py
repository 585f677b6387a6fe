"""The thank-you owed to a customer who praised us, kept in the promise ledger when it is installed (ADR 0044).

The ledger (caseloop.promises) is a domain beside this one; it is read only
when installed, so feedback works without it. A thank-you is a "get back in
writing" promise owned by the person who should thank: the ledger keeps it
when that person's message goes out on the case, reminds them before it is
due, and marks it broken (and tells their manager) if it is not. A thank-you
by phone is a logged call, which keeps it as well.

Follow-ups are not promises: they are asked automatically, and the ledger is
kept by what people do.
"""

from __future__ import annotations

from django.apps import apps

from caseloop.feedback.models import ThankYou
from caseloop.identity.models import User

PROMISES_APP = "caseloop.promises"


def source_of(thank_you: ThankYou) -> str:
    return f"feedback.thank_you:{thank_you.pk}"


def promise_thank_you(thank_you: ThankYou) -> None:
    """Record the thank-you as a promise to the customer, due when the thank-you is."""
    if not apps.is_installed(PROMISES_APP):
        return
    from caseloop.promises.actions import Owner, make_promise
    from caseloop.promises.choices import PromiseKind

    make_promise(actor=None, case=thank_you.case, kind=PromiseKind.REPLY, due_at=thank_you.due_at,
                 description="Thank you personally for your kind words",
                 owner=Owner(user=thank_you.owner) if thank_you.owner else None,
                 source=source_of(thank_you))  # fmt: skip


def thanked_by_phone(thank_you: ThankYou, *, actor: User) -> None:
    """A thank-you by phone is a call to the customer: it keeps what a call keeps on the case."""
    if not apps.is_installed(PROMISES_APP):
        return
    from caseloop.promises.actions import keep_promises
    from caseloop.promises.kinds import MESSAGE_SENT

    keep_promises(case_id=thank_you.case_id, event=MESSAGE_SENT, actor=actor)
