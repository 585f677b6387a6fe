"""Authority limits, concessions and approvals: within the limit at once, above it by approval, on a set clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus, Direction
from caseloop.cases.models import Message
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.core.money import Money
from caseloop.customers.actions import create_order
from caseloop.identity.actions import add_member
from caseloop.identity.choices import Role
from caseloop.policies.actions import (
    check_approvals,
    create_rule,
    decide_approval,
    give_concession,
    parse_money,
    set_authority_limit,
    withdraw_approval,
)
from caseloop.policies.choices import ApprovalState, ConcessionState, StepOutcome
from caseloop.policies.errors import PolicyErrorCode
from caseloop.policies.models import ApprovalRequest, ApprovalStep, Concession, Override
from caseloop.policies.selectors import approval_turnaround, approvers_for, authority_of
from caseloop.promises.checker import check_promises
from caseloop.promises.choices import NoticeKind, PromiseKind, PromiseState
from caseloop.promises.models import Notice, Promise
from caseloop.promises.tests.support import T0, minutes
from caseloop.testing.factories import make_agent, make_case, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

USD = "USD"


def usd(amount: str) -> Money:
    return Money.parse(amount, USD)


@pytest.fixture
def crew(db, admin_user):
    """An agent allowed 50 USD of credit per case and 100 in 7 days; a lead allowed 200; a manager 1000."""
    team = make_team(name="Doors")
    agent, lead, manager = make_agent(), make_agent(display_name="Lee Lead"), make_agent(role=Role.MANAGER)
    add_member(team=team, user=agent)
    add_member(team=team, user=lead, is_lead=True)
    set_authority_limit(
        actor=admin_user, action="credit", role=Role.AGENT, per_case="50", per_period="100", period_days=7
    )
    set_authority_limit(actor=admin_user, action="credit", user=lead, per_case="200")
    set_authority_limit(actor=admin_user, action="credit", role=Role.MANAGER, per_case="1000")
    set_authority_limit(actor=admin_user, action="discount", role=Role.AGENT, per_case="10")
    return {"agent": agent, "lead": lead, "manager": manager, "team": team, "admin": admin_user}


def credit(agent, case, amount, *, at=T0, **kw):
    with clock.frozen_at(at):
        return give_concession(actor=agent, case=case, kind="credit", amount=usd(amount), note="Missed visit", **kw)


def test_within_authority_a_credit_is_granted_at_once_and_on_the_timeline(crew):
    case = make_case()
    result = credit(crew["agent"], case, "40")
    concession = result.concession
    assert (concession.state, concession.amount, concession.currency, concession.authorised_by_id, result.approval) == (
        ConcessionState.GRANTED,
        Decimal("40.00"),
        USD,
        crew["agent"].pk,
        None,
    )
    event = TimelineEvent.objects.get(kind="concession.granted", subject_kind="case")
    assert event.summary.startswith("Credit of 40.00 USD given by")


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        ("0", USD, PolicyErrorCode.BAD_AMOUNT),
        ("-5", USD, PolicyErrorCode.BAD_AMOUNT),
        ("10", "EUR", PolicyErrorCode.CURRENCY_MISMATCH),
    ],
)
def test_a_zero_negative_or_foreign_amount_is_refused_and_nothing_is_written(crew, amount, currency, code):
    case = make_case()
    events = TimelineEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        give_concession(actor=crew["agent"], case=case, kind="credit", amount=Money.parse(amount, currency), note="x")
    assert refused.value.code == code
    assert not Concession.objects.exists() and TimelineEvent.objects.count() == events


def test_amounts_as_typed_are_parsed_exactly_or_refused():
    assert parse_money("25.5", "usd") == Money(Decimal("25.50"), USD)
    for bad in ("-1", "1e3", "12.345", "ten", ""):
        with pytest.raises(DomainError) as refused:
            parse_money(bad, USD)
        assert refused.value.code == PolicyErrorCode.BAD_AMOUNT


def test_a_discount_is_a_percentage_and_an_amount_is_not(crew):
    case = make_case()
    with pytest.raises(DomainError) as refused:
        give_concession(actor=crew["agent"], case=case, kind="discount", amount=usd("5"), note="x")
    assert refused.value.code == PolicyErrorCode.BAD_AMOUNT
    with pytest.raises(DomainError) as too_much:
        give_concession(actor=crew["agent"], case=case, kind="discount", percent=Decimal("120"), note="x")
    assert too_much.value.code == PolicyErrorCode.BAD_AMOUNT
    granted = give_concession(actor=crew["agent"], case=case, kind="discount", percent=Decimal("10"), note="x")
    assert (granted.concession.percent, granted.concession.value_label) == (Decimal("10.00"), "10%")
    with pytest.raises(DomainError) as above:
        give_concession(actor=crew["agent"], case=case, kind="discount", percent=Decimal("15"), note="x")
    assert above.value.code == PolicyErrorCode.ABOVE_AUTHORITY


def test_above_authority_is_refused_with_the_reason_and_nothing_changes(crew):
    case = make_case()
    with pytest.raises(DomainError) as refused:
        credit(crew["agent"], case, "60")
    assert (refused.value.code, refused.value.status) == (PolicyErrorCode.ABOVE_AUTHORITY, 403)
    assert "60.00 USD on this case is above the 50.00 USD per case (role Agent)" in refused.value.message
    assert not Concession.objects.exists() and not Promise.objects.exists()


def test_the_per_case_limit_counts_what_anyone_gave_on_the_case(crew):
    other = make_agent()
    case = make_case()
    credit(other, case, "30")
    with pytest.raises(DomainError) as refused:
        credit(crew["agent"], case, "30")
    assert refused.value.code == PolicyErrorCode.ABOVE_AUTHORITY
    assert credit(crew["agent"], case, "20").concession.state == ConcessionState.GRANTED


def test_the_rolling_period_limit_forgets_what_fell_out_of_the_window(crew):
    agent = crew["agent"]
    credit(agent, make_case(), "50", at=T0)
    credit(agent, make_case(), "40", at=T0 + dt.timedelta(days=3))
    with pytest.raises(DomainError) as refused:
        credit(agent, make_case(), "20", at=T0 + dt.timedelta(days=6, hours=23))
    assert "110.00 USD in 7 days is above the 100.00 USD per period" in refused.value.message
    # a week after the first credit it no longer counts: 40 + 20 is within 100
    assert credit(agent, make_case(), "20", at=T0 + dt.timedelta(days=7, minutes=1)).concession.state == "granted"


def test_the_most_specific_limit_applies(crew):
    lead, agent, admin = crew["lead"], crew["agent"], crew["admin"]
    assert (authority_of(lead, "credit").per_case, authority_of(lead, "credit").source) == (
        Decimal("200.00"),
        "own limit",
    )
    set_authority_limit(actor=admin, action="credit", team=crew["team"], per_case="75")
    assert (authority_of(agent, "credit").per_case, authority_of(agent, "credit").source) == (
        Decimal("75.00"),
        "team Doors",
    )
    assert authority_of(crew["manager"], "refund").per_case is None


def test_only_administrators_set_limits_and_bad_limits_are_refused(crew):
    with pytest.raises(DomainError) as denied:
        set_authority_limit(actor=crew["manager"], action="credit", user=crew["manager"], per_case="99999")
    assert denied.value.code == "permission_denied"
    bad = [
        {"action": "credit", "per_case": "10", "role": Role.AGENT, "team": crew["team"]},
        {"action": "credit", "per_case": "-1", "role": Role.AGENT},
        {"action": "credit", "per_case": "10", "role": Role.AGENT, "per_period": "5", "period_days": 7},
        {"action": "credit", "per_case": "10", "role": Role.AGENT, "per_period": "50"},
        {"action": "discount", "per_case": "150", "role": Role.AGENT},
        {"action": "teleport", "per_case": "1", "role": Role.AGENT},
    ]
    for values in bad:
        with pytest.raises(DomainError) as refused:
            set_authority_limit(actor=crew["admin"], **values)
        assert refused.value.code == PolicyErrorCode.BAD_LIMIT, values
    assert authority_of(crew["agent"], "credit").per_case == Decimal("50.00")


def test_an_integrity_rule_refuses_a_refund_above_what_was_paid(crew):
    create_rule(
        actor=crew["manager"],
        name="No refund above what was paid",
        kind="integrity",
        applies_to=["refund"],
        condition="action.amount > customer.orders_total",
        explanation="We refund at most what was paid.",
    )
    set_authority_limit(actor=crew["admin"], action="refund", role=Role.AGENT, per_case="500")
    case = make_case()
    create_order(
        actor=None, contact=case.requester, reference="A-1", ordered_at=T0, currency=USD, total=Decimal("80.00")
    )
    with pytest.raises(DomainError) as refused:
        give_concession(
            actor=crew["agent"],
            case=case,
            kind="refund",
            amount=usd("100"),
            note="Door returned",
            override_reason="The customer is very upset about it.",
        )
    assert refused.value.code == PolicyErrorCode.INTEGRITY_RULE and not Concession.objects.exists()
    granted = give_concession(actor=crew["agent"], case=case, kind="refund", amount=usd("80"), note="Door returned")
    assert granted.concession.state == ConcessionState.GRANTED


def test_a_guideline_on_credits_is_bent_with_a_reason_and_recorded(crew):
    create_rule(
        actor=crew["manager"],
        name="Third credit in 90 days",
        kind="guideline",
        applies_to=["credit"],
        condition="customer.concessions_90d >= 2",
        explanation="Find out why they keep needing credits.",
    )
    case = make_case()
    credit(crew["agent"], case, "10")
    credit(crew["agent"], case, "10")
    with pytest.raises(DomainError) as refused:
        credit(crew["agent"], case, "10")
    assert refused.value.code == PolicyErrorCode.REASON_REQUIRED and Concession.objects.count() == 2
    result = credit(crew["agent"], case, "10", override_reason="Each credit was for a different missed visit.")
    assert [o.rule.name for o in result.overrides] == ["Third credit in 90 days"]
    assert Override.objects.get().details == {"kind": "credit", "amount": "10.00", "currency": "USD"}


def test_above_authority_an_approval_goes_to_the_lead_first_with_a_promise_to_the_customer(crew):
    case = make_case()
    result = credit(
        crew["agent"], case, "150", ask_approval=True, approval_reason="Third missed visit", tell_customer=True
    )
    approval = result.approval
    assert approval is not None
    assert (result.concession.state, approval.approver_id, approval.due_at, approval.level) == (
        ConcessionState.PENDING,
        crew["lead"].pk,
        T0 + minutes(15),
        0,
    )
    promise = Promise.objects.get(source=f"approval:{approval.pk}")
    assert (promise.kind, promise.due_at, promise.owner_user_id, promise.state) == (
        PromiseKind.APPROVAL_ANSWER,
        T0 + minutes(15),
        crew["agent"].pk,
        PromiseState.OPEN,
    )
    assert Notice.objects.get(kind=NoticeKind.APPROVAL_REQUESTED).recipient_id == crew["lead"].pk
    told = Message.objects.get(case=case, direction=Direction.OUTBOUND)
    assert "You will have an answer by 09:15" in told.body_text
    assert [
        u.pk
        for u in approvers_for(kind="credit", case=case, value=Decimal("150"), currency=USD, requester=crew["agent"])
    ] == [crew["lead"].pk, crew["manager"].pk]


def test_approval_within_due_time_grants_it_and_keeps_the_promise(crew):
    case = make_case()
    approval = credit(crew["agent"], case, "150", ask_approval=True).approval
    with clock.frozen_at(T0 + minutes(6)):
        decided = decide_approval(actor=crew["lead"], approval=approval, approve=True, reason="Third missed visit.")
    concession = Concession.objects.get(pk=approval.concession_id)
    assert (decided.state, concession.state, concession.authorised_by_id, concession.granted_at) == (
        ApprovalState.APPROVED,
        ConcessionState.GRANTED,
        crew["lead"].pk,
        T0 + minutes(6),
    )
    assert Promise.objects.get(source=f"approval:{approval.pk}").state == PromiseState.KEPT
    step = ApprovalStep.objects.get()
    assert (step.outcome, step.ended_at) == (StepOutcome.DECIDED, T0 + minutes(6))
    assert Notice.objects.get(kind=NoticeKind.APPROVAL_DECIDED).recipient_id == crew["agent"].pk
    assert TimelineEvent.objects.filter(kind="approval.decided", subject_kind="case").count() == 1


def test_a_decline_needs_a_reason_and_leaves_nothing_granted(crew):
    approval = credit(crew["agent"], make_case(), "150", ask_approval=True).approval
    with pytest.raises(DomainError) as refused:
        decide_approval(actor=crew["lead"], approval=approval, approve=False, reason=" ")
    assert refused.value.code == PolicyErrorCode.REASON_TOO_SHORT
    assert ApprovalRequest.objects.get(pk=approval.pk).state == ApprovalState.PENDING
    decide_approval(actor=crew["lead"], approval=approval, approve=False, reason="Offer a free service visit.")
    assert Concession.objects.get(pk=approval.concession_id).state == ConcessionState.DECLINED
    with pytest.raises(DomainError) as closed:
        decide_approval(actor=crew["manager"], approval=approval, approve=True, reason="Changed my mind.")
    assert closed.value.code == PolicyErrorCode.APPROVAL_CLOSED


def test_only_someone_whose_authority_covers_it_decides_never_the_requester(crew):
    approval = credit(crew["agent"], make_case(), "150", ask_approval=True).approval
    for actor in (crew["agent"], make_agent()):
        with pytest.raises(DomainError) as refused:
            decide_approval(actor=actor, approval=approval, approve=True, reason="ok")
        assert refused.value.code == PolicyErrorCode.NOT_APPROVER
    # the manager is not the assigned approver, but their authority covers it
    with clock.frozen_at(T0 + minutes(3)):
        decide_approval(actor=crew["manager"], approval=approval, approve=True, reason="Go ahead.")
    outcomes = set(ApprovalStep.objects.values_list("approver_id", "outcome"))
    assert outcomes == {(crew["lead"].pk, StepOutcome.CLOSED), (crew["manager"].pk, StepOutcome.DECIDED)}


def test_nobody_to_approve_is_refused_and_nothing_is_written(crew):
    with pytest.raises(DomainError) as refused:
        credit(crew["agent"], make_case(), "5000", ask_approval=True)
    assert refused.value.code == PolicyErrorCode.NO_APPROVER
    assert not Concession.objects.exists() and not ApprovalRequest.objects.exists() and not Promise.objects.exists()


def test_a_missed_request_is_reminded_then_escalated_on_time(crew):
    case = make_case()
    approval = credit(crew["agent"], case, "150", ask_approval=True).approval
    assert check_approvals(now=T0 + minutes(9)).reminded == 0
    assert check_approvals(now=T0 + minutes(10)).reminded == 1  # five minutes before due
    assert check_approvals(now=T0 + minutes(11)).reminded == 0
    assert check_approvals(now=T0 + minutes(14)).escalated == 0
    result = check_approvals(now=T0 + minutes(15))
    assert (result.escalated, result.exhausted) == (1, 0)
    approval.refresh_from_db()
    assert (approval.approver_id, approval.level, approval.due_at, approval.answer_due_at) == (
        crew["manager"].pk,
        1,
        T0 + minutes(30),
        T0 + minutes(15),
    )
    steps = list(ApprovalStep.objects.order_by("level").values_list("approver_id", "outcome", "due_at"))
    assert steps == [
        (crew["lead"].pk, StepOutcome.ESCALATED, T0 + minutes(15)),
        (crew["manager"].pk, StepOutcome.WAITING, T0 + minutes(30)),
    ]
    assert TimelineEvent.objects.filter(kind="approval.escalated").count() == 1
    assert Notice.objects.filter(kind=NoticeKind.APPROVAL_ESCALATED, recipient=crew["manager"]).count() == 1
    # the customer was promised an answer by 9:15: the promise checker now marks it broken
    check_promises(now=T0 + minutes(16))
    assert Promise.objects.get(source=f"approval:{approval.pk}").state == PromiseState.BROKEN
    # the manager misses it too: nobody's authority is left, managers are told, and it stops escalating
    result = check_approvals(now=T0 + minutes(30))
    assert (result.escalated, result.exhausted) == (0, 1)
    approval.refresh_from_db()
    assert (approval.state, approval.due_at) == (ApprovalState.PENDING, None)
    assert check_approvals(now=T0 + minutes(60)).exhausted == 0
    with clock.frozen_at(T0 + minutes(61)):
        decide_approval(actor=crew["manager"], approval=approval, approve=True, reason="Sorry for the wait.")
    assert Concession.objects.get(pk=approval.concession_id).state == ConcessionState.GRANTED


def test_a_withdrawn_request_releases_the_promised_answer(crew):
    approval = credit(crew["agent"], make_case(), "150", ask_approval=True).approval
    with clock.frozen_at(T0 + minutes(2)):
        withdraw_approval(actor=crew["agent"], approval=approval, reason="The customer took a voucher instead.")
    assert Promise.objects.get(source=f"approval:{approval.pk}").state == PromiseState.RELEASED
    assert Concession.objects.get(pk=approval.concession_id).state == ConcessionState.WITHDRAWN
    assert check_approvals(now=T0 + minutes(20)).escalated == 0


def test_a_closed_case_takes_no_concessions(crew):
    case = make_case()
    change_status(actor=crew["agent"], case=case, status=CaseStatus.SOLVED)
    change_status(actor=crew["agent"], case=case, status=CaseStatus.CLOSED)
    with pytest.raises(DomainError) as refused:
        credit(crew["agent"], case, "10")
    assert refused.value.code == PolicyErrorCode.CASE_CLOSED and not Concession.objects.exists()


@override_settings(CASELOOP_APPROVAL_DUE_MINUTES=5)
def test_the_due_time_is_a_setting(crew):
    approval = credit(crew["agent"], make_case(), "150", ask_approval=True).approval
    assert approval.due_at == T0 + minutes(5)


def test_turnaround_by_approver_in_minutes(crew):
    lead, manager = crew["lead"], crew["manager"]
    for minutes_taken in (2, 4, 6, 8, 30):
        approval = credit(crew["agent"], make_case(), "150", ask_approval=True).approval
        with clock.frozen_at(T0 + minutes(minutes_taken)):
            decide_approval(actor=lead, approval=approval, approve=True, reason="Fine by me.")
    missed = credit(crew["agent"], make_case(), "150", ask_approval=True).approval
    check_approvals(now=T0 + minutes(15))
    with clock.frozen_at(T0 + minutes(20)):
        decide_approval(actor=manager, approval=missed, approve=True, reason="Fine.")
    rows = {r.approver_id: r for r in approval_turnaround(manager, since=T0, until=T0 + dt.timedelta(days=1))}
    assert (rows[lead.pk].decided, rows[lead.pk].escalated, rows[lead.pk].p50_minutes, rows[lead.pk].p90_minutes) == (
        5,
        1,
        6.0,
        30.0,
    )
    assert (rows[manager.pk].decided, rows[manager.pk].p50_minutes) == (1, 5.0)
    with pytest.raises(DomainError):
        approval_turnaround(crew["agent"], since=T0, until=T0 + dt.timedelta(days=1))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_credits_on_different_cases_at_once_are_counted_against_the_period_one_after_the_other(crew):
    """The agent has given 40 of 100 this week and gives 40 on two cases at the same moment: one is refused.

    The first grant is held open (before its commit) until the second has counted the period or two
    seconds pass: with the user's row locked the second waits for the first and sees its 40.
    """
    import threading
    from unittest import mock

    from django.db import connection, connections

    from caseloop.policies.selectors import coverage as real_coverage
    from caseloop.timeline.actions import record_event as real_record_event

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN: the race cannot happen there")
    agent = crew["agent"]
    credit(agent, make_case(), "40")
    first_case, second_case = make_case(), make_case()
    first_holds, second_counted = threading.Event(), threading.Event()

    def counting(**kw):
        covered = real_coverage(**kw)
        if kw["case_id"] == second_case.pk:
            second_counted.set()
        return covered

    def holding(**kw):
        if kw.get("case_id") == first_case.pk and kw["kind"] == "concession.granted":
            first_holds.set()
            second_counted.wait(timeout=2)
        return real_record_event(**kw)

    outcomes: dict[str, str] = {}

    def give(name, case):
        try:
            if name == "second":
                first_holds.wait(timeout=10)
            # not credit(): its frozen_at, entered and left by two threads, could leave the clock frozen
            given = give_concession(actor=agent, case=case, kind="credit", amount=usd("40"), note="Missed visit")
            outcomes[name] = given.concession.state
        except DomainError as refused:
            outcomes[name] = refused.code
        finally:
            connections.close_all()

    with (
        clock.frozen_at(T0),  # for both threads (the clock is one per process)
        mock.patch("caseloop.policies.actions.coverage", counting),
        mock.patch("caseloop.policies.actions.record_event", holding),
    ):
        threads = [
            threading.Thread(target=give, args=(n, c)) for n, c in (("first", first_case), ("second", second_case))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert outcomes == {"first": ConcessionState.GRANTED, "second": PolicyErrorCode.ABOVE_AUTHORITY}
    granted = Concession.objects.filter(requested_by=agent, state=ConcessionState.GRANTED)
    assert list(granted.values_list("amount", flat=True)) == [Decimal(40), Decimal(40)]
