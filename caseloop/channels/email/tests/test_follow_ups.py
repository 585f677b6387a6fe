"""Replies to a closed case: the first opens a follow-up case, later ones join it while it is open."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case, Message
from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundSource, InboundState, OutboundKind
from caseloop.channels.email.models import InboundEmail, OutboundEmail
from caseloop.channels.email.tests.mail import case_of, raw_email
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db


def ingest(raw: bytes) -> InboundEmail:
    return ingest_email(raw=raw, source=InboundSource.SMTP, envelope_to=["support@example.com"], inline=True).inbound


def _closed_case(agent) -> Case:
    case = case_of(ingest(raw_email()))
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    return case


def _acks() -> int:
    return OutboundEmail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT).count()


def test_second_reply_to_a_closed_case_joins_its_open_follow_up(agent):
    closed = _closed_case(agent)
    first = ingest(raw_email(message_id="<closed1@customer.test>", subject=f"Re: thing [{closed.number}]"))
    acks = _acks()
    second = ingest(raw_email(message_id="<closed2@customer.test>", subject=f"Re: thing [{closed.number}]"))
    follow_up = case_of(first)
    assert follow_up.pk != closed.pk
    assert (second.state, second.case_id) == (InboundState.PROCESSED, follow_up.pk)
    assert Case.objects.count() == 2 and Message.objects.filter(case=follow_up).count() == 2
    assert _acks() == acks  # the follow-up was acknowledged once, when it was opened
    assert TimelineEvent.objects.filter(kind="case.follow_up", subject_id=closed.pk).count() == 1


def test_reply_quoting_the_closed_case_message_joins_the_follow_up(agent):
    closed = _closed_case(agent)
    original = Message.objects.get(case=closed).external_id
    first = ingest(raw_email(subject=f"Re: [{closed.number}] again", in_reply_to=f"<{original}>"))
    second = ingest(raw_email(subject="Re: still", in_reply_to=f"<{original}>", references=f"<{original}>"))
    assert second.case_id == first.case_id != closed.pk


def test_once_the_follow_up_is_closed_too_a_reply_opens_another(agent):
    closed = _closed_case(agent)
    follow_up = case_of(ingest(raw_email(subject=f"Re: [{closed.number}] again")))
    change_status(actor=agent, case=follow_up, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=follow_up, status=CaseStatus.CLOSED)
    third = ingest(raw_email(subject=f"Re: [{closed.number}] and again"))
    assert third.case_id not in (closed.pk, follow_up.pk) and Case.objects.count() == 3
