from __future__ import annotations

import pytest

from caseloop.cases.actions import (
    MessageInput,
    add_message,
    change_status,
    create_case,
    update_case,
)
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.errors import CaseErrorCode
from caseloop.cases.models import Case, Message
from caseloop.core.errors import DomainError
from caseloop.testing.factories import make_case, make_contact
from caseloop.timeline.models import AuditEntry, TimelineEvent

pytestmark = pytest.mark.django_db


def test_create_case_writes_case_message_timeline_and_audit(agent):
    contact = make_contact(name="Ann Smith")
    result = create_case(
        actor=agent,
        requester=contact,
        subject="Spring broke",
        body=MessageInput(body_text="The spring snapped", external_id="<a@x>"),
        channel=Channel.EMAIL,
    )
    case = result.case
    assert case.number == f"CL-{case.pk}" and case.pk > 10000
    assert case.status == CaseStatus.NEW
    assert list(case.messages.values_list("direction", "body_text")) == [(Direction.INBOUND, "The spring snapped")]
    kinds = set(TimelineEvent.objects.filter(case_id=case.pk).values_list("subject_kind", "kind"))
    assert kinds == {("case", "case.opened"), ("contact", "case.opened")}
    assert AuditEntry.objects.filter(object_type="case", object_id=case.pk, action="case.create").count() == 1


def test_redelivered_message_is_recognised_not_duplicated(agent):
    contact = make_contact()
    first = create_case(
        actor=agent,
        requester=contact,
        subject="A",
        body=MessageInput(body_text="x", external_id="id-1"),
        channel=Channel.EMAIL,
    )
    again = create_case(
        actor=agent,
        requester=contact,
        subject="A",
        body=MessageInput(body_text="x", external_id="id-1"),
        channel=Channel.EMAIL,
    )
    assert again.duplicate and again.case.pk == first.case.pk
    assert Case.objects.count() == 1 and Message.objects.count() == 1


def test_illegal_transition_is_refused_with_code_and_changes_nothing(agent):
    case = make_case()
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    with pytest.raises(DomainError) as excinfo:
        change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    assert excinfo.value.code == CaseErrorCode.ALREADY_CLOSED
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


def test_new_case_cannot_be_closed_directly(agent):
    case = make_case()
    with pytest.raises(DomainError) as excinfo:
        change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    assert excinfo.value.code == CaseErrorCode.ILLEGAL_TRANSITION
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW


def test_inbound_reply_reopens_solved_case(agent):
    case = make_case()
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    add_message(
        actor=None,
        case=case,
        direction=Direction.INBOUND,
        body=MessageInput(body_text="Still broken"),
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.solved_at is None and case.message_count == 2


def test_first_reply_sets_first_response_and_opens(agent):
    case = make_case()
    add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="On it"))
    case.refresh_from_db()
    assert case.first_response_at is not None and case.status == CaseStatus.OPEN


def test_html_is_sanitised_and_text_derived(agent):
    case = make_case()
    added = add_message(
        actor=agent,
        case=case,
        direction=Direction.NOTE,
        body=MessageInput(body_html='<p>Hi<script>alert(1)</script></p><a href="javascript:x">l</a>'),
    )
    assert "<script" not in added.message.body_html and "javascript" not in added.message.body_html
    assert added.message.body_text.startswith("Hi")


def test_tags_added_and_removed(agent):
    case = make_case()
    update_case(actor=agent, case=case, add_tags=["Billing", "urgent"])
    update_case(actor=agent, case=case, remove_tags=["urgent"])
    assert list(case.tags.values_list("name", flat=True)) == ["billing"]
