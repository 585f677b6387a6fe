"""Reads of the web form: which case a form token made."""

from __future__ import annotations

from caseloop.cases.choices import Channel
from caseloop.cases.models import Case, Message


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
