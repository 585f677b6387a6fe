"""Reads of the web form: which case a form token made, and which open case a new submission continues."""

from __future__ import annotations

import datetime as dt

from caseloop.cases.choices import OPEN_STATUSES, Channel
from caseloop.cases.models import Case, Message
from caseloop.channels.webform.models import WebSubmission
from caseloop.customers.models import Contact


def external_id_for(form_token: str) -> str:
    """The message external id a form token stands for: unique per channel, so one token makes one message."""
    return f"webform-{form_token}"


def case_of_form_token(form_token: str) -> Case | None:
    """The case a submission with this token already reached, if any (a double submit)."""
    case_id = (
        Message.objects.filter(channel=Channel.WEB, external_id=external_id_for(form_token))
        .values_list("case_id", flat=True)
        .first()
    )
    return Case.objects.filter(pk=case_id).first() if case_id is not None else None


def case_to_continue(*, contact: Contact, topic: str, since: dt.datetime) -> Case | None:
    """The still-open case this contact opened or continued through the form on `topic` since `since`."""
    submission = (
        WebSubmission.objects.filter(contact=contact, topic=topic, created_at__gte=since,
                                     case__status__in=list(OPEN_STATUSES))
        .select_related("case")
        .order_by("-created_at", "-id")
        .first()
    )  # fmt: skip
    return submission.case if submission is not None else None
