"""The promises feedback owes: the thank-you for praise, and the follow-up after a fix (ADR 0044).

The ledger (caseloop.promises) is a domain beside this one; it is read only
when installed, so feedback works without it. A thank-you is a "get back in
writing" promise owned by the person who should thank: the ledger keeps it
when that person's message goes out on the case, reminds them before it is
due, and marks it broken (and tells their manager) if it is not. A thank-you
by phone is a logged call, which keeps it as well.

A follow-up ("did the fix hold?") is a promise too (issue 6, ADR 0044 as
amended): owned by whoever worked the case (else its team), due a day after
the follow-up's own due time (the question goes out then; a call task gets a
working day). Sending the question keeps it, and so does recording the call;
a follow-up cancelled because the case reopened releases it; one moved by a
new solve releases the old promise and makes one for the new time. Left
undone (a call nobody made), the ledger breaks it like any promise: the
owner's manager is told and the customer gets the honest apology.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.apps import apps

from caseloop.cases.models import Case
from caseloop.core.errors import DomainError
from caseloop.feedback.choices import FollowUpMethod
from caseloop.feedback.models import FollowUp, ThankYou
from caseloop.identity.models import User

PROMISES_APP = "caseloop.promises"
FOLLOW_UP_GRACE = dt.timedelta(days=1)  # after the follow-up's due time, before its promise is broken
FOLLOW_UP_PROMISE = "ask whether our fix on {number} held"

logger = logging.getLogger(__name__)


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


# --- follow-ups ----------------------------------------------------------------------------------------------
def follow_up_source(follow_up: FollowUp) -> str:
    """One promise per follow-up and due time: a follow-up moved by a new solve gets a new promise."""
    return f"feedback.follow_up:{follow_up.pk}:{int(follow_up.due_at.timestamp())}"


def promise_follow_up(follow_up: FollowUp, case: Case) -> None:
    """Record the follow-up as a promise to the customer: asked (or called) within a day of its due time."""
    if not apps.is_installed(PROMISES_APP):
        return
    from caseloop.promises.actions import make_promise
    from caseloop.promises.choices import PromiseKind

    kind = PromiseKind.CALL_BACK if follow_up.method == FollowUpMethod.CALL else PromiseKind.REPLY
    try:
        # the window opens at the due time: a reply written before it is no follow-up
        make_promise(actor=None, case=case, kind=kind, due_at=follow_up.due_at + FOLLOW_UP_GRACE,
                     window_start=follow_up.due_at, description=FOLLOW_UP_PROMISE.format(number=case.number),
                     source=follow_up_source(follow_up))  # fmt: skip
    except DomainError as refused:
        # nobody to own it (a case with neither assignee nor team): the follow-up still goes out on time
        logger.info("follow-up %s of case %s is not in the promise ledger: %s", follow_up.pk, case.pk, refused)


def follow_up_done(follow_up: FollowUp, *, actor: User | None) -> None:
    """The question went out, or the call was made: the follow-up's promise is kept."""
    if not apps.is_installed(PROMISES_APP):
        return
    from caseloop.promises.actions import keep_promises
    from caseloop.promises.kinds import MESSAGE_SENT

    keep_promises(case_id=follow_up.case_id, event=MESSAGE_SENT, actor=actor, source=follow_up_source(follow_up))


def follow_up_released(follow_up: FollowUp, *, reason: str) -> None:
    """The follow-up is no longer owed (the case reopened, or a new solve moved it): its promise is let go."""
    if not apps.is_installed(PROMISES_APP):
        return
    from caseloop.promises.actions import release_promise
    from caseloop.promises.choices import LIVE_STATES
    from caseloop.promises.models import Promise

    promise = Promise.objects.filter(source=follow_up_source(follow_up), state__in=LIVE_STATES).first()
    if promise is not None:
        release_promise(actor=None, promise=promise, reason=reason)
