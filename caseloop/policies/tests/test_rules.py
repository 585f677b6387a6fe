"""Rules as data, and the rules' verdict on a status change: integrity refuses, a guideline needs a reason."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.cases.actions import change_status, update_case
from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.policies.actions import create_rule, update_rule
from caseloop.policies.errors import PolicyErrorCode
from caseloop.policies.models import Override, Rule
from caseloop.testing.factories import make_case
from caseloop.timeline.models import AuditEntry, TimelineEvent

pytestmark = pytest.mark.django_db

REASON = "The customer confirmed by phone that the door works again."


def legal_hold(manager, **kw):
    return create_rule(
        actor=manager,
        name="Legal hold",
        kind="integrity",
        applies_to=["status_change"],
        condition='"legal-hold" in case.tags',
        explanation="Legal must release this case before it can change.",
        **kw,
    )


def confirm_before_solving(manager):
    return create_rule(
        actor=manager,
        name="Confirm before solving urgent cases",
        kind="guideline",
        applies_to=["status_change"],
        condition='action.to_status == "solved" and case.priority == "urgent"',
        explanation="Check with the customer that the fix worked before solving an urgent case.",
    )


def test_a_rule_is_created_with_its_condition_checked(manager):
    rule = legal_hold(manager)
    assert (rule.kind, rule.applies_to, rule.is_active, rule.created_by_id) == (
        "integrity",
        ["status_change"],
        True,
        manager.pk,
    )
    assert AuditEntry.objects.filter(object_type="rule", object_id=rule.pk, action="rule.create").exists()


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"condition": "case.tags > 1"}, PolicyErrorCode.BAD_CONDITION, "condition"),
        ({"condition": "case.colour == 'red'"}, PolicyErrorCode.BAD_CONDITION, "condition"),
        ({"applies_to": []}, PolicyErrorCode.BAD_RULE, "applies_to"),
        ({"applies_to": ["teleport"]}, PolicyErrorCode.BAD_RULE, "applies_to"),
        ({"kind": "optional"}, PolicyErrorCode.BAD_RULE, "kind"),
        ({"name": "  "}, PolicyErrorCode.BAD_RULE, "name"),
        ({"explanation": ""}, PolicyErrorCode.BAD_RULE, "explanation"),
    ],
)
def test_a_bad_rule_is_refused_and_not_saved(manager, change, code, field):
    values = {
        "name": "A rule",
        "kind": "guideline",
        "applies_to": ["refund"],
        "condition": "action.amount > 1",
        "explanation": "Why.",
    }
    with pytest.raises(DomainError) as refused:
        create_rule(actor=manager, **{**values, **change})
    assert (refused.value.code, refused.value.field) == (code, field)
    assert Rule.objects.count() == 0


def test_a_bad_condition_says_where_it_stops_reading(manager):
    with pytest.raises(DomainError) as refused:
        create_rule(
            actor=manager,
            name="x",
            kind="guideline",
            applies_to=["refund"],
            explanation="y",
            condition="action.amount > 1 and",
        )
    assert refused.value.extra == {"position": 21}
    assert "expected a value, found the end (at character 22)" in refused.value.message


def test_rule_names_are_unique_and_only_managers_write_rules(manager, agent):
    legal_hold(manager)
    with pytest.raises(DomainError) as taken:
        create_rule(
            actor=manager,
            name="legal HOLD",
            kind="guideline",
            applies_to=["refund"],
            condition="action.amount > 1",
            explanation="x",
        )
    assert taken.value.code == PolicyErrorCode.RULE_NAME_TAKEN
    with pytest.raises(DomainError) as denied:
        create_rule(
            actor=agent,
            name="Mine",
            kind="guideline",
            applies_to=["refund"],
            condition="action.amount > 1",
            explanation="x",
        )
    assert denied.value.code == "permission_denied" and Rule.objects.count() == 1


def test_a_rule_is_updated_and_a_bad_change_leaves_it_as_it_was(manager):
    rule = legal_hold(manager)
    update_rule(actor=manager, rule=rule, changes={"kind": "guideline", "is_active": False})
    rule.refresh_from_db()
    assert (rule.kind, rule.is_active) == ("guideline", False)
    with pytest.raises(DomainError) as refused:
        update_rule(actor=manager, rule=rule, changes={"condition": "case.tags == 1"})
    assert refused.value.code == PolicyErrorCode.BAD_CONDITION
    assert Rule.objects.get(pk=rule.pk).condition == '"legal-hold" in case.tags'


def test_an_integrity_rule_refuses_a_status_change_and_nothing_changes(manager, agent):
    legal_hold(manager)
    case = make_case(tags=["legal-hold"])
    before = TimelineEvent.objects.count()
    for reason in ("", REASON):  # no reason bends an integrity rule
        with pytest.raises(DomainError) as refused:
            change_status(actor=agent, case=case, status=CaseStatus.SOLVED, override_reason=reason)
        assert refused.value.code == PolicyErrorCode.INTEGRITY_RULE and refused.value.status == 403
        assert "Legal must release this case" in refused.value.message
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW
    assert TimelineEvent.objects.count() == before and not Override.objects.exists()


def test_an_administrator_is_refused_by_an_integrity_rule_too(manager, admin_user):
    legal_hold(manager)
    case = make_case(tags=["legal-hold"])
    with pytest.raises(DomainError) as refused:
        change_status(actor=admin_user, case=case, status=CaseStatus.OPEN)
    assert refused.value.code == PolicyErrorCode.INTEGRITY_RULE


def test_an_edit_made_on_a_machine_whose_clock_is_behind_is_enforced_at_once(manager, agent):
    # given two rules, compiled by this process at its last guarded action
    hold = legal_hold(manager)
    newest = confirm_before_solving(manager)
    case = make_case(tags=["legal-hold"])
    with pytest.raises(DomainError):
        change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    # when another app server, its clock a minute behind this one's, lifts the legal hold
    with clock.frozen_at(newest.updated_at - dt.timedelta(minutes=1)):
        update_rule(actor=manager, rule=hold, changes={"is_active": False})
    # then the next action here is no longer refused by it (its updated_at is not the newest of the table)
    assert change_status(actor=agent, case=case, status=CaseStatus.OPEN).status == CaseStatus.OPEN


def test_an_inactive_or_unrelated_rule_does_not_trip(manager, agent):
    rule = legal_hold(manager)
    update_rule(actor=manager, rule=rule, changes={"is_active": False})
    case = make_case(tags=["legal-hold"])
    assert change_status(actor=agent, case=case, status=CaseStatus.OPEN).status == CaseStatus.OPEN
    other = make_case()
    update_rule(actor=manager, rule=rule, changes={"is_active": True})
    assert change_status(actor=agent, case=other, status=CaseStatus.OPEN).status == CaseStatus.OPEN


def test_the_system_is_not_put_to_the_rules(manager):
    legal_hold(manager)
    case = make_case(tags=["legal-hold"])
    assert change_status(actor=None, case=case, status=CaseStatus.OPEN).status == CaseStatus.OPEN


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", PolicyErrorCode.REASON_REQUIRED),
        ("fine", PolicyErrorCode.REASON_TOO_SHORT),
        ("yes yes yes yes yes", PolicyErrorCode.REASON_TOO_SHORT),
    ],
)
def test_a_guideline_needs_a_reason_and_without_one_nothing_changes(manager, agent, reason, code):
    confirm_before_solving(manager)
    case = make_case(priority="urgent")
    with pytest.raises(DomainError) as refused:
        change_status(actor=agent, case=case, status=CaseStatus.SOLVED, override_reason=reason)
    assert (refused.value.code, refused.value.field, refused.value.status) == (code, "override_reason", 422)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW and not Override.objects.exists()


def test_a_guideline_bent_with_a_reason_is_recorded_on_the_timeline(manager, agent):
    rule = confirm_before_solving(manager)
    case = make_case(priority="urgent")
    update_case(actor=agent, case=case, team=None)
    changed = change_status(actor=agent, case=case, status=CaseStatus.SOLVED, override_reason=f"  {REASON} ")
    assert changed.status == CaseStatus.SOLVED
    [override] = Override.objects.all()
    assert (
        override.rule_id,
        override.case_id,
        override.actor_id,
        override.action,
        override.reason,
        override.details,
    ) == (rule.pk, case.pk, agent.pk, "status_change", REASON, {"kind": "status_change", "from": "new", "to": "solved"})
    event = TimelineEvent.objects.get(kind="policy.overridden")
    assert (event.subject_kind, event.subject_id, event.actor_id, event.data["reason"]) == (
        "case",
        case.pk,
        agent.pk,
        REASON,
    )
    assert "Confirm before solving urgent cases" in event.summary


def test_a_guideline_on_solving_does_not_trip_on_other_moves(manager, agent):
    confirm_before_solving(manager)
    case = make_case(priority="urgent")
    assert change_status(actor=agent, case=case, status=CaseStatus.PENDING).status == CaseStatus.PENDING
    assert not Override.objects.exists()


def test_a_reopen_rule_applies_to_a_solved_case_opened_again_only(manager, agent):
    create_rule(
        actor=manager,
        name="Reopen within a week",
        kind="guideline",
        applies_to=["reopen"],
        condition="case.age_hours < 168",
        explanation="Open a follow-up case instead where you can.",
    )
    case = make_case()
    change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    with pytest.raises(DomainError) as refused:
        change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    assert refused.value.code == PolicyErrorCode.REASON_REQUIRED
    change_status(actor=agent, case=case, status=CaseStatus.OPEN, override_reason=REASON)
    assert Override.objects.get().action == "reopen"
