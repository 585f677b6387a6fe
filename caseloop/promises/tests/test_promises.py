"""The promise ledger: making, keeping by events, the checker's state changes on a controlled clock, apologies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Message
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.identity.actions import add_member
from caseloop.identity.choices import Role
from caseloop.promises.actions import (
    Owner,
    break_promise,
    keep_promises,
    make_promise,
    mark_kept,
    release_promise,
    send_apologies,
)
from caseloop.promises.checker import check_promises
from caseloop.promises.choices import NoticeKind, PromiseKind, PromiseState
from caseloop.promises.errors import PromiseErrorCode
from caseloop.promises.models import Notice, Promise
from caseloop.promises.selectors import KeptBy, kept_rates, promise_counts_by_case, promises_owed_by
from caseloop.promises.tests.support import T0, committed, minutes
from caseloop.testing.factories import make_agent, make_case, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db


HOUR_LATER = T0 + minutes(60)


def call_back(agent, case, *, due=HOUR_LATER, **kw):
    with clock.frozen_at(kw.pop("at", T0)):
        return make_promise(
            actor=agent, case=case, kind=PromiseKind.CALL_BACK, description="call you back", due_at=due, **kw
        )


def reply(agent, case, at):
    with committed(at):
        add_message(
            actor=agent,
            case=case,
            direction=Direction.OUTBOUND,
            channel=Channel.PHONE,
            body=MessageInput(body_text="Called: the part is on its way."),
        )


def state(promise):
    return Promise.objects.get(pk=promise.pk).state


def test_a_promise_is_made_with_its_owner_and_is_on_the_case_and_customer_timelines(agent):
    case = make_case()
    promise = call_back(agent, case)
    assert (promise.state, promise.owner_user_id, promise.contact_id, promise.due_at) == (
        PromiseState.OPEN,
        agent.pk,
        case.requester_id,
        T0 + minutes(60),
    )
    assert set(TimelineEvent.objects.filter(kind="promise.made").values_list("subject_kind", "subject_id")) == {
        ("case", case.pk),
        ("contact", case.requester_id),
    }


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"description": "   "}, PromiseErrorCode.EMPTY_PROMISE),
        ({"due": T0 - minutes(1)}, PromiseErrorCode.BAD_DUE),
        ({"due": T0}, PromiseErrorCode.BAD_DUE),
        ({"window_start": T0 + minutes(90)}, PromiseErrorCode.BAD_DUE),
        ({"due": dt.datetime(2026, 3, 2, 12, 0)}, PromiseErrorCode.BAD_DUE),  # noqa: DTZ001  (the point: no zone)
    ],
)
def test_a_bad_promise_is_refused_and_nothing_is_written(agent, change, code):
    case = make_case()
    with clock.frozen_at(T0), pytest.raises(DomainError) as refused:
        make_promise(
            actor=agent,
            case=case,
            kind=PromiseKind.CALL_BACK,
            description=change.get("description", "call back"),
            due_at=change.get("due", T0 + minutes(60)),
            window_start=change.get("window_start"),
        )
    assert refused.value.code == code
    assert Promise.objects.count() == 0 and not TimelineEvent.objects.filter(kind="promise.made").exists()


def test_a_customer_cannot_make_promises(customer):
    case = make_case()
    with clock.frozen_at(T0), pytest.raises(DomainError) as refused:
        make_promise(actor=customer, case=case, kind=PromiseKind.OTHER, description="x", due_at=T0 + minutes(5))
    assert refused.value.code == "permission_denied" and Promise.objects.count() == 0


def test_an_automatic_promise_is_made_once_per_source(agent):
    case = make_case()
    first = call_back(agent, case, source="approval:7")
    again = call_back(agent, case, source="approval:7")
    assert first.pk == again.pk and Promise.objects.count() == 1


def test_a_persons_reply_before_due_keeps_a_call_back(agent):
    case = make_case()
    promise = call_back(agent, case)
    reply(agent, case, T0 + minutes(30))
    kept = Promise.objects.get(pk=promise.pk)
    assert (kept.state, kept.kept_at, kept.kept_by) == (PromiseState.KEPT, T0 + minutes(30), "message.sent")
    assert TimelineEvent.objects.filter(kind="promise.kept", subject_kind="case", subject_id=case.pk).count() == 1


def test_a_reply_after_due_or_a_note_or_an_automatic_message_keeps_nothing(agent):
    case = make_case()
    promise = call_back(agent, case)
    with committed(T0 + minutes(10)):
        add_message(actor=agent, case=case, direction=Direction.NOTE, body=MessageInput(body_text="will call"))
        add_message(actor=None, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="auto"))
    reply(agent, case, T0 + minutes(61))
    assert state(promise) == PromiseState.OPEN


def test_a_window_promise_is_kept_only_inside_its_window(agent):
    case = make_case()
    promise = call_back(agent, case, window_start=T0 + minutes(30))
    reply(agent, case, T0 + minutes(10))  # too early: the customer asked for after 9:30
    assert state(promise) == PromiseState.OPEN
    reply(agent, case, T0 + minutes(40))
    assert state(promise) == PromiseState.KEPT


def test_solving_the_case_keeps_a_fixed_by_promise(agent):
    case = make_case()
    with clock.frozen_at(T0):
        promise = make_promise(
            actor=agent,
            case=case,
            kind=PromiseKind.RESOLUTION,
            description="fixed by Friday",
            due_at=T0 + dt.timedelta(days=4),
        )
    with committed(T0 + dt.timedelta(days=1)):
        change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    assert state(promise) == PromiseState.KEPT


def test_the_checker_moves_a_promise_from_open_to_reminded_at_risk_and_broken(agent):
    lead = make_agent(role=Role.MANAGER)
    team = make_team()
    add_member(team=team, user=agent)
    add_member(team=team, user=lead, is_lead=True)
    case = make_case()
    promise = call_back(agent, case)  # due 10:00

    assert check_promises(now=T0 + minutes(20)).as_dict() == {
        "kept": 0,
        "broken": 0,
        "at_risk": 0,
        "reminded": 0,
        "notices": 0,
    }
    result = check_promises(now=T0 + minutes(35))  # 25 minutes to go: a reminder, once
    assert (result.reminded, state(promise)) == (1, PromiseState.OPEN)
    assert check_promises(now=T0 + minutes(36)).reminded == 0
    assert check_promises(now=T0 + minutes(52)).at_risk == 1
    assert state(promise) == PromiseState.AT_RISK
    result = check_promises(now=T0 + minutes(60) + dt.timedelta(seconds=1))
    assert (result.broken, state(promise)) == (1, PromiseState.BROKEN)
    notices = list(Notice.objects.order_by("id").values_list("recipient_id", "kind"))
    assert notices == [
        (agent.pk, NoticeKind.REMINDER),
        (agent.pk, NoticeKind.AT_RISK),
        (agent.pk, NoticeKind.BROKEN),
        (lead.pk, NoticeKind.BROKEN),
    ]
    assert TimelineEvent.objects.filter(kind="promise.broken", subject_id__in=[case.pk, case.requester_id]).count() == 2
    assert check_promises(now=T0 + minutes(90)).broken == 0  # nothing twice


def test_a_promise_due_at_ten_is_still_kept_at_ten_whichever_runs_first(agent):
    # given a call-back promised "by 10:00"
    case = make_case()
    promise = call_back(agent, case)
    # when the checker passes at 10:00 exactly, and the call is logged at 10:00 exactly
    assert check_promises(now=HOUR_LATER).broken == 0
    reply(agent, case, HOUR_LATER)
    # then it is kept, as it is when the call comes first (it was broken, the call no longer counting)
    assert state(promise) == PromiseState.KEPT
    # and a second after 10:00 an unkept one is broken
    late = call_back(agent, make_case())
    assert (check_promises(now=HOUR_LATER + dt.timedelta(seconds=1)).broken, state(late)) == (1, PromiseState.BROKEN)


def test_an_at_risk_promise_can_still_be_kept(agent):
    case = make_case()
    promise = call_back(agent, case)
    check_promises(now=T0 + minutes(55))
    reply(agent, case, T0 + minutes(58))
    assert state(promise) == PromiseState.KEPT
    assert check_promises(now=T0 + minutes(70)).broken == 0


def test_a_team_promise_reminds_the_team_leads_and_breaking_it_tells_every_manager_without_leads(agent):
    lead, manager = make_agent(), make_agent(role=Role.MANAGER)
    team = make_team()
    add_member(team=team, user=lead, is_lead=True)
    case = make_case()
    with clock.frozen_at(T0):
        promise = make_promise(
            actor=None,
            case=case,
            kind=PromiseKind.REPLY,
            description="an answer",
            due_at=T0 + minutes(60),
            owner=Owner(team=team),
        )
    check_promises(now=T0 + minutes(61))
    assert state(promise) == PromiseState.BROKEN
    assert set(Notice.objects.values_list("recipient_id", flat=True)) == {lead.pk}
    other = make_case()
    with clock.frozen_at(T0):
        partnerless = make_promise(
            actor=agent, case=other, kind=PromiseKind.REPLY, description="an answer", due_at=T0 + minutes(60)
        )
    Notice.objects.all().delete()
    check_promises(now=T0 + minutes(61))
    assert state(partnerless) == PromiseState.BROKEN
    assert set(Notice.objects.values_list("recipient_id", flat=True)) == {agent.pk, manager.pk}


def test_a_quoted_price_is_kept_by_reaching_its_due_time(agent):
    case = make_case()
    with clock.frozen_at(T0):
        promise = make_promise(
            actor=agent,
            case=case,
            kind=PromiseKind.QUOTE_VALIDITY,
            description="price holds",
            due_at=T0 + dt.timedelta(days=30),
        )
    assert check_promises(now=T0 + dt.timedelta(days=29, hours=23, minutes=55)).at_risk == 0
    result = check_promises(now=T0 + dt.timedelta(days=31))
    assert (result.kept, result.broken, result.notices) == (1, 0, 0)
    kept = Promise.objects.get(pk=promise.pk)
    assert (kept.state, kept.kept_at, kept.kept_by) == (PromiseState.KEPT, T0 + dt.timedelta(days=30), "due")


def test_a_broken_promise_tells_the_customer_once_in_one_message_per_case(agent):
    case = make_case(channel=Channel.EMAIL)
    call_back(agent, case)
    call_back(agent, case, due=T0 + minutes(45))
    check_promises(now=T0 + minutes(61))
    with clock.frozen_at(T0 + minutes(62)):
        assert send_apologies() == 1
        assert send_apologies() == 0
    [message] = Message.objects.filter(case=case, direction=Direction.OUTBOUND)
    assert message.author_user_id is None and message.channel == Channel.EMAIL
    assert message.body_text.count("We promised to call you back by") == 2
    assert not Promise.objects.filter(apology_pending=True).exists()


def test_a_closed_case_gets_no_apology(agent):
    case = make_case()
    call_back(agent, case)
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    check_promises(now=T0 + minutes(61))
    assert send_apologies() == 0
    assert not Message.objects.filter(case=case, direction=Direction.OUTBOUND).exists()


def test_keep_release_and_break_by_hand(agent):
    case = make_case()
    a, b, c = (call_back(agent, case) for _ in range(3))
    with clock.frozen_at(T0 + minutes(5)):
        assert mark_kept(actor=agent, promise=a).kept_by == "hand"
        with pytest.raises(DomainError) as refused:
            release_promise(actor=agent, promise=b, reason="  ")
        assert refused.value.code == PromiseErrorCode.REASON_REQUIRED and state(b) == PromiseState.OPEN
        released = release_promise(actor=agent, promise=b, reason="The customer fixed it themselves.")
        assert (released.state, released.release_reason) == (PromiseState.RELEASED, "The customer fixed it themselves.")
        broken = break_promise(actor=agent, promise=c, reason="Technician off sick")
        assert (broken.state, broken.apology_pending) == (PromiseState.BROKEN, True)
        with pytest.raises(DomainError) as again:
            mark_kept(actor=agent, promise=b)
    assert again.value.code == PromiseErrorCode.NOT_OPEN and state(b) == PromiseState.RELEASED


def test_only_the_owner_or_a_manager_settles_a_promise(agent):
    other = make_agent()
    promise = call_back(agent, make_case())
    with clock.frozen_at(T0 + minutes(1)), pytest.raises(DomainError) as refused:
        mark_kept(actor=other, promise=promise)
    assert refused.value.code == "permission_denied" and state(promise) == PromiseState.OPEN
    with clock.frozen_at(T0 + minutes(1)):
        mark_kept(actor=make_agent(role=Role.MANAGER), promise=promise)
    assert state(promise) == PromiseState.KEPT


def test_keeping_by_an_event_no_kind_listens_to_does_nothing(agent):
    case = make_case()
    promise = call_back(agent, case)
    assert keep_promises(case_id=case.pk, event="survey.answered", at=T0 + minutes(1)) == []
    assert state(promise) == PromiseState.OPEN


def test_kept_rates_by_person_team_and_kind_count_kept_against_broken(agent):
    team = make_team(name="Doors")
    other = make_agent(display_name="Bea")
    case = make_case()
    kept = [call_back(agent, case) for _ in range(3)]
    call_back(agent, case, due=T0 + minutes(20))
    call_back(other, case, due=T0 + minutes(20))
    with clock.frozen_at(T0):
        make_promise(
            actor=None,
            case=case,
            kind=PromiseKind.REPLY,
            description="answer",
            due_at=T0 + minutes(20),
            owner=Owner(team=team),
        )
    released = call_back(agent, case, due=T0 + minutes(20))
    release_promise(actor=agent, promise=released, reason="not needed")
    reply(agent, case, T0 + minutes(10))  # keeps everything due after 9:10
    check_promises(now=T0 + minutes(30))
    assert all(state(p) == PromiseState.KEPT for p in kept)
    window = {"since": T0, "until": T0 + dt.timedelta(days=1)}
    people = {(r.label, r.kept, r.broken) for r in kept_rates(agent, by=KeptBy.PERSON, **window)}
    assert people == {(agent.name, 4, 0), ("Bea", 1, 0)}
    [teams] = kept_rates(agent, by=KeptBy.TEAM, **window)
    assert (teams.label, teams.kept, teams.broken, teams.rate) == ("Doors", 1, 0, 1.0)
    kinds = {(r.key, r.kept, r.broken) for r in kept_rates(agent, by=KeptBy.KIND, **window)}
    assert kinds == {("call_back", 5, 0), ("reply", 1, 0)}
    assert promise_counts_by_case([case.pk]) == {case.pk: (6, 6)}


def test_a_broken_count_lowers_the_rate(agent):
    case = make_case()
    call_back(agent, case)
    call_back(agent, case, due=T0 + minutes(5))
    reply(agent, case, T0 + minutes(30))
    check_promises(now=T0 + minutes(90))
    [row] = kept_rates(agent, by=KeptBy.PERSON, since=T0, until=T0 + dt.timedelta(hours=2))
    assert (row.kept, row.broken, row.rate) == (1, 1, 0.5)
    assert [p.kind for p in promises_owed_by(agent)] == []


def test_kept_rates_refuse_a_bad_grouping(agent):
    with pytest.raises(DomainError) as refused:
        kept_rates(agent, by="weather", since=T0, until=T0 + minutes(1))
    assert refused.value.code == "invalid"


@override_settings(CASELOOP_PROMISE_NOTICES_PER_PASS=2)
def test_an_owner_is_told_of_each_broken_promise_up_to_a_limit_then_once_with_the_rest(agent):
    manager = make_agent(role=Role.MANAGER)
    case = make_case()
    for _ in range(5):
        call_back(agent, case)
    assert check_promises(now=T0 + minutes(61)).broken == 5
    mine = list(Notice.objects.filter(recipient=agent).order_by("id").values_list("summary", flat=True))
    assert mine == [
        "Promise broken: call you back",
        "Promise broken: call you back",
        "…and 3 more of your promises broke; see My promises",
    ]
    assert list(Notice.objects.filter(recipient=manager).values_list("summary", flat=True)) == [
        f"5 promises broken ({agent.name} 5)"
    ]
