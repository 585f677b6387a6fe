"""Follow-ups: "did the fix hold?" a few days after a fix; a "no" puts the case back in front of the team."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.customers.actions import create_asset
from caseloop.feedback.actions import (
    answer_follow_up_link,
    create_follow_up_rule,
    record_follow_up_call,
    schedule_follow_up,
    send_due_follow_ups,
    set_follow_up_rule_active,
)
from caseloop.feedback.choices import FollowUpMethod, FollowUpState
from caseloop.feedback.errors import FeedbackErrorCode
from caseloop.feedback.models import FollowUp
from caseloop.feedback.selectors import calls_due
from caseloop.feedback.tests.factories import START, solved_case
from caseloop.feedback.tokens import Purpose, make_token, read_token
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

DUE = START + dt.timedelta(hours=72)


@pytest.fixture
def rule(manager):
    return create_follow_up_rule(actor=manager, name="Repairs", delay_hours=72)


@pytest.fixture
def door(db):
    return create_asset(actor=None, name="Garage door")


def _scheduled(agent, door, **kw):
    case = solved_case(agent=agent, asset=door, **kw)
    with clock.frozen_at(START):
        follow_up = schedule_follow_up(case_id=case.pk)
    assert follow_up is not None
    return follow_up


def _sent(agent, door, **kw):
    follow_up = _scheduled(agent, door, **kw)
    with clock.frozen_at(DUE):
        assert send_due_follow_ups() == 1
    follow_up.refresh_from_db()
    return follow_up


def _token(follow_up):
    return make_token(purpose=Purpose.FOLLOW_UP, ident=follow_up.pk)


def test_a_fix_on_an_asset_gets_a_follow_up_three_days_later(rule, agent, door):
    follow_up = _scheduled(agent, door)
    assert (follow_up.rule, follow_up.method, follow_up.state, follow_up.due_at) == (
        rule, FollowUpMethod.MESSAGE, FollowUpState.SCHEDULED, DUE)  # fmt: skip
    assert TimelineEvent.objects.filter(kind="follow_up.scheduled", case_id=follow_up.case_id).count() == 1


def test_no_rule_or_no_asset_no_follow_up(manager, rule, agent):
    assert schedule_follow_up(case_id=solved_case(agent=agent).pk) is None  # no asset: not a repair
    set_follow_up_rule_active(actor=manager, rule=rule, is_active=False)
    door = create_asset(actor=None, name="Gate")
    assert schedule_follow_up(case_id=solved_case(agent=agent, asset=door).pk) is None
    assert FollowUp.objects.count() == 0


def test_a_rule_with_tags_needs_one_of_them(manager, agent):
    create_follow_up_rule(actor=manager, name="Springs", tags=["Spring"], needs_asset=False)
    assert schedule_follow_up(case_id=solved_case(agent=agent, tags=["billing"]).pk) is None
    assert schedule_follow_up(case_id=solved_case(agent=agent, tags=["spring", "noise"]).pk) is not None


def test_the_question_goes_out_when_due_with_yes_and_no_links(rule, agent, door):
    follow_up = _scheduled(agent, door)
    with clock.frozen_at(DUE - dt.timedelta(minutes=1)):
        assert send_due_follow_ups() == 0
    with clock.frozen_at(DUE):
        assert send_due_follow_ups() == 1
    follow_up.refresh_from_db()
    assert (follow_up.state, follow_up.sent_at) == (FollowUpState.SENT, DUE)
    message = follow_up.message
    assert message is not None and message.direction == Direction.OUTBOUND
    links = re.findall(r"http://127.0.0.1:8000/feedback/f/([^/]+)/(yes|no)/", message.body_text)
    assert [answer for _, answer in links] == ["yes", "no"]
    assert {read_token(token, purpose=Purpose.FOLLOW_UP) for token, _ in links} == {follow_up.pk}


def test_yes_closes_the_follow_up_and_leaves_the_case_solved(rule, agent, door):
    follow_up = _sent(agent, door)
    answered = answer_follow_up_link(token=_token(follow_up), held=True)
    assert answered.state == FollowUpState.HELD and answered.answered_by is None
    assert Case.objects.get(pk=follow_up.case_id).status == CaseStatus.SOLVED
    assert answer_follow_up_link(token=_token(follow_up), held=True).state == FollowUpState.HELD  # same answer again
    with pytest.raises(DomainError) as excinfo:
        answer_follow_up_link(token=_token(follow_up), held=False)
    assert excinfo.value.code == FeedbackErrorCode.FOLLOW_UP_ANSWERED
    assert Case.objects.get(pk=follow_up.case_id).status == CaseStatus.SOLVED


def test_no_reopens_the_case_with_the_customers_answer(rule, agent, door):
    follow_up = _sent(agent, door)
    answered = answer_follow_up_link(token=_token(follow_up), held=False)
    case = Case.objects.get(pk=follow_up.case_id)
    assert (answered.state, case.status, answered.new_case) == (FollowUpState.NOT_HELD, CaseStatus.OPEN, None)
    last = Message.objects.filter(case=case).order_by("-id").first()
    assert last is not None
    assert (last.direction, last.channel, last.author_contact_id) == (Direction.INBOUND, Channel.EMAIL,
                                                                      case.requester_id)  # fmt: skip
    assert last.body_text == "Follow-up: the customer says the fix did not hold."
    event = TimelineEvent.objects.get(kind="follow_up.not_held", subject_kind="case")
    assert event.summary == f"The fix on {case.number} did not hold (answered by link); case reopened"


def test_a_follow_up_not_yet_asked_takes_no_answer(rule, agent, door):
    follow_up = _scheduled(agent, door)
    with pytest.raises(DomainError) as excinfo:
        answer_follow_up_link(token=_token(follow_up), held=False)
    assert excinfo.value.code == FeedbackErrorCode.FOLLOW_UP_NOT_DUE
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.SCHEDULED
    assert Case.objects.get(pk=follow_up.case_id).status == CaseStatus.SOLVED


def test_a_survey_token_is_no_follow_up_token(rule, agent, door):
    follow_up = _sent(agent, door)
    with pytest.raises(DomainError) as excinfo:
        answer_follow_up_link(token=make_token(purpose=Purpose.SURVEY, ident=follow_up.pk), held=False)
    assert excinfo.value.code == FeedbackErrorCode.TOKEN_INVALID
    assert FollowUp.objects.get().state == FollowUpState.SENT


def test_a_reopened_case_needs_no_follow_up(rule, agent, door):
    from caseloop.cases.actions import change_status

    follow_up = _scheduled(agent, door)
    change_status(actor=agent, case=follow_up.case, status=CaseStatus.OPEN)
    with clock.frozen_at(DUE):
        send_due_follow_ups()
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.CANCELLED and follow_up.message is None


def test_solved_again_moves_the_follow_up_to_the_new_due_time(rule, agent, door):
    from caseloop.cases.actions import change_status

    follow_up = _scheduled(agent, door)
    change_status(actor=agent, case=follow_up.case, status=CaseStatus.OPEN)
    change_status(actor=agent, case=follow_up.case, status=CaseStatus.SOLVED)
    with clock.frozen_at(START + dt.timedelta(days=1)):
        again = schedule_follow_up(case_id=follow_up.case_id)
    assert again == follow_up
    assert FollowUp.objects.get().due_at == DUE + dt.timedelta(days=1)


def test_a_closed_case_becomes_a_call_and_a_no_opens_a_new_case(rule, agent, door):
    from caseloop.cases.actions import change_status

    follow_up = _scheduled(agent, door, tags=["spring"])
    change_status(actor=agent, case=follow_up.case, status=CaseStatus.CLOSED)
    with clock.frozen_at(DUE):
        send_due_follow_ups()
    follow_up.refresh_from_db()
    assert (follow_up.state, follow_up.assigned_to, follow_up.message) == (FollowUpState.CALL_DUE, agent, None)
    assert "closed" in follow_up.note
    assert list(calls_due(agent)) == [follow_up]
    answered = record_follow_up_call(actor=agent, follow_up=follow_up, held=False, note="Squeaks again since Sunday")
    new_case = answered.new_case
    assert new_case is not None and new_case.pk != follow_up.case_id
    old = Case.objects.get(pk=follow_up.case_id)
    assert (new_case.subject, new_case.asset_id, new_case.assignee_id, new_case.requester_id) == (
        f"Fix did not hold: {old.subject}", door.pk, agent.pk, old.requester_id)  # fmt: skip
    assert list(new_case.tags.values_list("name", flat=True)) == ["spring"]
    first = new_case.messages.get()
    assert first.body_text.startswith(
        "Follow-up: the customer says the fix did not hold.\n\nSqueaks again since Sunday"
    )
    assert old.status == CaseStatus.CLOSED


def test_a_call_rule_makes_a_call_task_and_a_call_no_reopens_with_a_note(manager, agent, door):
    create_follow_up_rule(actor=manager, name="Call", method=FollowUpMethod.CALL, delay_hours=72)
    follow_up = _sent(agent, door)
    assert follow_up.state == FollowUpState.CALL_DUE and follow_up.message is None
    answered = record_follow_up_call(actor=agent, follow_up=follow_up, held=False, note="Motor hums")
    case = Case.objects.get(pk=follow_up.case_id)
    assert (answered.state, answered.answered_by, case.status) == (FollowUpState.NOT_HELD, agent, CaseStatus.OPEN)
    note = Message.objects.filter(case=case).order_by("-id").first()
    assert note is not None and (note.direction, note.author_user_id) == (Direction.NOTE, agent.pk)
    assert note.body_text.endswith("Motor hums")


def test_a_held_call_needs_staff_and_an_open_follow_up(manager, agent, door, customer):
    create_follow_up_rule(actor=manager, name="Call", method=FollowUpMethod.CALL, delay_hours=72)
    follow_up = _sent(agent, door)
    with pytest.raises(DomainError) as excinfo:
        record_follow_up_call(actor=customer, follow_up=follow_up, held=True)
    assert excinfo.value.code == "permission_denied"
    record_follow_up_call(actor=agent, follow_up=follow_up, held=True)
    follow_up.refresh_from_db()
    with pytest.raises(DomainError) as excinfo:
        record_follow_up_call(actor=agent, follow_up=follow_up, held=False)
    assert excinfo.value.code == FeedbackErrorCode.FOLLOW_UP_ANSWERED
    assert FollowUp.objects.get().state == FollowUpState.HELD


def test_a_fix_asked_about_by_sms_gets_the_question_by_sms(rule, agent, door):
    from caseloop.customers.actions import IdentityInput, create_contact
    from caseloop.customers.choices import IdentityKind

    texter = create_contact(actor=None, name="Tina Texter",
                            identities=[IdentityInput(IdentityKind.PHONE, "+1 415 555 0103")])  # fmt: skip
    follow_up = _sent(agent, door, requester=texter, channel=Channel.SMS, reply=False)
    message = follow_up.message
    assert message is not None and (message.channel, message.direction) == (Channel.SMS, Direction.OUTBOUND)
    assert message.body_text.startswith(f"Did our fix on {follow_up.case.number} hold? Yes: http")
    assert "\n" not in message.body_text and message.body_html == ""


# --- the follow-up is a promise in the ledger ---------------------------------------------------------------------
def _promise(follow_up):
    from caseloop.feedback.promising import follow_up_source
    from caseloop.promises.models import Promise

    return Promise.objects.get(source=follow_up_source(follow_up))


def test_a_scheduled_follow_up_is_a_promise_owned_by_who_worked_the_case(rule, agent, door):
    from caseloop.promises.choices import PromiseKind, PromiseState

    follow_up = _scheduled(agent, door)
    promise = _promise(follow_up)
    assert (promise.kind, promise.state, promise.owner_user, promise.window_start, promise.due_at) == (
        PromiseKind.REPLY, PromiseState.OPEN, agent, DUE, DUE + dt.timedelta(days=1))  # fmt: skip
    assert (promise.case_id, promise.contact_id) == (follow_up.case_id, follow_up.contact_id)
    assert promise.description == f"ask whether our fix on {follow_up.case.number} held"


def test_asking_keeps_the_promise(rule, agent, door):
    from caseloop.promises.choices import PromiseState

    follow_up = _sent(agent, door)
    promise = _promise(follow_up)
    assert (promise.state, promise.kept_at) == (PromiseState.KEPT, DUE)


def test_a_call_follow_up_is_a_call_back_promise_kept_by_recording_the_call(manager, agent, door):
    from caseloop.promises.choices import PromiseKind, PromiseState

    create_follow_up_rule(actor=manager, name="Call them", delay_hours=72, method=FollowUpMethod.CALL)
    follow_up = _sent(agent, door)
    assert follow_up.state == FollowUpState.CALL_DUE and _promise(follow_up).kind == PromiseKind.CALL_BACK
    assert _promise(follow_up).state == PromiseState.OPEN  # the call task is not the call
    with clock.frozen_at(DUE + dt.timedelta(hours=5)):
        record_follow_up_call(actor=agent, follow_up=follow_up, held=True, note="All good")
    assert _promise(follow_up).state == PromiseState.KEPT


def test_a_call_nobody_makes_breaks_the_promise(manager, agent, door):
    from caseloop.promises.checker import check_promises
    from caseloop.promises.choices import PromiseState

    create_follow_up_rule(actor=manager, name="Call them", delay_hours=72, method=FollowUpMethod.CALL)
    follow_up = _sent(agent, door)
    check_promises(now=DUE + dt.timedelta(hours=23))
    assert _promise(follow_up).state in (PromiseState.OPEN, PromiseState.AT_RISK)
    check_promises(now=DUE + dt.timedelta(days=1, minutes=1))
    assert _promise(follow_up).state == PromiseState.BROKEN


def test_a_reopened_case_releases_the_follow_up_promise(rule, agent, door):
    from caseloop.cases.actions import change_status
    from caseloop.promises.choices import PromiseState

    follow_up = _scheduled(agent, door)
    change_status(actor=agent, case=follow_up.case, status=CaseStatus.OPEN)
    with clock.frozen_at(DUE):
        send_due_follow_ups()
    promise = _promise(follow_up)
    assert promise.state == PromiseState.RELEASED and "reopened" in promise.release_reason


def test_solved_again_releases_the_old_promise_and_makes_one_for_the_new_time(rule, agent, door):
    from caseloop.cases.actions import change_status
    from caseloop.promises.choices import PromiseState
    from caseloop.promises.models import Promise

    follow_up = _scheduled(agent, door)
    first = _promise(follow_up)
    change_status(actor=agent, case=follow_up.case, status=CaseStatus.OPEN)
    change_status(actor=agent, case=follow_up.case, status=CaseStatus.SOLVED)
    with clock.frozen_at(START + dt.timedelta(days=1)):
        moved = schedule_follow_up(case_id=follow_up.case_id)
    assert moved is not None
    first.refresh_from_db()
    assert first.state == PromiseState.RELEASED
    second = _promise(moved)
    assert (second.state, second.due_at) == (PromiseState.OPEN, DUE + dt.timedelta(days=2))
    assert Promise.objects.filter(case_id=follow_up.case_id).count() == 2
