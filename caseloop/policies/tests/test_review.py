"""The override review (by rule, rep and team, outcome against comparable cases) and the facts rules read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus, Priority
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.customers.actions import create_asset, create_order
from caseloop.policies.actions import create_rule
from caseloop.policies.engine import ActionFacts
from caseloop.policies.selectors import override_review, snapshot_for
from caseloop.policies.tests.support import reply_first_rule
from caseloop.promises.tests.support import T0
from caseloop.testing.factories import make_agent, make_case, make_contact, make_team

pytestmark = pytest.mark.django_db

REASON = "Checked with the customer on the phone that it works."


def solve(agent, case, *, reason=""):
    with clock.frozen_at(T0 + dt.timedelta(hours=1)):
        return change_status(actor=agent, case=case, status=CaseStatus.SOLVED, override_reason=reason)


def test_overrides_are_counted_by_rule_rep_and_team(manager):
    rule = create_rule(
        actor=manager,
        name="Confirm urgent fixes",
        kind="guideline",
        applies_to=["status_change"],
        condition='action.to_status == "solved" and case.priority == "urgent"',
        explanation="Call before solving.",
    )
    team = make_team(name="Doors")
    ann, bob = make_agent(display_name="Ann"), make_agent(display_name="Bob")
    with clock.frozen_at(T0):
        cases = [make_case(priority=Priority.URGENT, team=team) for _ in range(3)] + [make_case(priority="urgent")]
    for i, case in enumerate(cases):
        solve(ann if i < 2 else bob, case, reason=REASON)
    [review] = override_review(manager, since=T0 - dt.timedelta(days=1), until=T0 + dt.timedelta(days=1))
    assert (review.rule.pk, review.overrides, review.by_rep, review.by_team) == (
        rule.pk,
        4,
        [("Ann", 2), ("Bob", 2)],
        [("Doors", 3), ("no team", 1)],
    )
    assert (review.overridden.cases, review.overridden.reopened) == (4, 0)
    # fewer overrides than CASELOOP_OVERRIDE_REVIEW_MIN (10): too few to suggest anything
    assert (review.comparable.cases, review.suggestion) == (0, "")
    assert override_review(manager, since=T0 + dt.timedelta(days=2), until=T0 + dt.timedelta(days=3)) == []


@override_settings(CASELOOP_OVERRIDE_REVIEW_MIN=2)
def test_the_review_compares_reopen_rates_and_suggests(manager):
    reply_first_rule(manager)
    agent = make_agent(display_name="Ann")
    with clock.frozen_at(T0):
        overridden = [make_case() for _ in range(3)]
        comparable = [make_case() for _ in range(4)]
    for case in overridden:
        solve(agent, case, reason=REASON)
    for case in comparable:
        change_status(actor=None, case=case, status=CaseStatus.SOLVED)  # the system is not put to the rules
    for case in comparable[:2]:
        change_status(actor=None, case=case, status=CaseStatus.OPEN)
    [review] = override_review(manager, since=T0 - dt.timedelta(days=1), until=T0 + dt.timedelta(days=1))
    assert (review.overridden.cases, review.overridden.reopened, review.overridden.rate) == (3, 0, 0.0)
    assert (review.comparable.cases, review.comparable.reopened, review.comparable.rate) == (4, 2, 0.5)
    assert review.suggestion.startswith("Overridden 3 times, and those cases came back no more often")
    # the overridden cases come back much more often: keep it
    for case in overridden:
        change_status(actor=None, case=case, status=CaseStatus.OPEN)
    [again] = override_review(manager, since=T0 - dt.timedelta(days=1), until=T0 + dt.timedelta(days=1))
    assert again.overridden.rate == 1.0 and again.suggestion.startswith("Overridden cases came back more often")


def test_only_managers_review_overrides(agent):
    with pytest.raises(DomainError) as denied:
        override_review(agent, since=T0, until=T0 + dt.timedelta(days=1))
    assert denied.value.code == "permission_denied"


def test_a_snapshot_reads_the_customer_and_asset_the_rules_need(agent):
    contact = make_contact(tier="vip")
    asset = create_asset(
        actor=None, name="Garage door", warranty_until=dt.date(2026, 3, 12), installed_on=dt.date(2025, 3, 2)
    )
    with clock.frozen_at(T0 - dt.timedelta(hours=5)):
        case = make_case(requester=contact, asset=asset, tags=["vip"])
        make_case(requester=contact)
    create_order(actor=None, contact=contact, reference="O-1", ordered_at=T0, currency="USD", total=Decimal("90"))
    create_order(actor=None, contact=contact, reference="O-2", ordered_at=T0, currency="EUR", total=Decimal("500"))
    needed = frozenset(
        {
            "customer.open_cases",
            "customer.cases_90d",
            "customer.orders_total",
            "asset.warranty_days_left",
            "case.tags",
            "asset.age_days",
        }
    )
    with clock.frozen_at(T0):
        snapshot = snapshot_for(
            case=case, action=ActionFacts(kind="refund", currency="USD"), actor=agent, needed=needed
        )
    assert (
        snapshot.customer.tier,
        snapshot.customer.open_cases,
        snapshot.customer.cases_90d,
        snapshot.customer.orders_total,
    ) == ("vip", 2, 2, Decimal("90.00"))
    assert (
        snapshot.asset.present,
        snapshot.asset.in_warranty,
        snapshot.asset.warranty_days_left,
        snapshot.asset.age_days,
    ) == (True, True, 10, 365)
    assert (snapshot.case.tags, snapshot.case.age_hours, snapshot.actor.role) == (
        frozenset({"vip"}),
        Decimal("5.00"),
        "agent",
    )
    lean = snapshot_for(case=case, action=ActionFacts(kind="refund"), actor=None, needed=frozenset())
    assert (lean.customer.tier, lean.customer.open_cases, lean.asset.present, lean.case.tags) == (
        None,
        None,
        True,
        frozenset(),
    )


def test_the_comparable_sample_is_the_newest_cases_of_the_period(manager, monkeypatch):
    from caseloop.policies import selectors

    monkeypatch.setattr(selectors, "COMPARABLE_SAMPLE", 2)
    reply_first_rule(manager)
    with clock.frozen_at(T0):
        overridden = make_case()
    solve(make_agent(), overridden, reason=REASON)
    # made newest first, so that the newest by time are the oldest ids: the sample follows the time
    comparable = []
    for hours in (3, 2, 1):
        with clock.frozen_at(T0 + dt.timedelta(hours=hours)):
            comparable.append(make_case())
    for case in comparable:
        change_status(actor=None, case=case, status=CaseStatus.SOLVED)
    change_status(actor=None, case=comparable[2], status=CaseStatus.OPEN)  # the oldest came back
    [review] = override_review(manager, since=T0 - dt.timedelta(days=1), until=T0 + dt.timedelta(days=1))
    assert (review.comparable.cases, review.comparable.reopened) == (2, 0)  # the two newest, neither came back
