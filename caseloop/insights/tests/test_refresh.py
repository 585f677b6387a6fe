"""Facts and daily sums from real cases, surveys and orders: a full rebuild, then incremental refreshes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import override_settings

from caseloop.cases.actions import MessageInput, add_message, change_status, create_case
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.core import clock
from caseloop.customers.actions import create_asset, create_order, merge_contacts
from caseloop.customers.choices import OrderStatus
from caseloop.feedback.actions import answer_survey
from caseloop.feedback.tests.factories import sent_survey, token_of
from caseloop.identity.actions import add_member
from caseloop.insights.actions import refresh_insights
from caseloop.insights.choices import Dimension
from caseloop.insights.models import CaseFact, DailySegmentStat, RefreshState
from caseloop.testing.factories import make_contact, make_team

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday
DAY = T0.date()
_refs = iter(range(1, 10_000))


def at(moment, fn, *args, **kwargs):
    with clock.frozen_at(moment):
        return fn(*args, **kwargs)


def order(contact, when, status=OrderStatus.PLACED):
    made = create_order(actor=None, reference=f"O-{next(_refs)}", contact=contact, ordered_at=when, currency="USD",
                        total=Decimal("10.00"))  # fmt: skip
    if status != OrderStatus.PLACED:
        type(made).objects.filter(pk=made.pk).update(status=status)
    return made


def solve(agent, requester, *, when=T0, **kw):
    """A case opened an hour before `when`, answered and solved by `agent` at `when`."""
    with clock.frozen_at(when - dt.timedelta(hours=1)):
        case = create_case(actor=None, requester=requester, subject="Door stuck", body=MessageInput(body_text="Help"),
                           channel=Channel.EMAIL, assignee=agent, **kw).case  # fmt: skip
        add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="Fixed"),
                    channel=Channel.EMAIL)  # fmt: skip
    with clock.frozen_at(when):
        return change_status(actor=agent, case=case, status=CaseStatus.SOLVED)


def answer(case, when, **given):
    survey = sent_survey(case, at=when)
    at(when + dt.timedelta(hours=2), answer_survey, token=token_of(survey), **given)
    return survey


@pytest.fixture
def world(agent):
    team = make_team("Doors")
    add_member(team=team, user=agent)
    door = create_asset(actor=None, name="Garage door")
    ann, bob = make_contact(name="Ann"), make_contact(name="Bob")
    order(ann, T0 - dt.timedelta(days=10))  # Ann had bought before; Bob never did
    first = solve(agent, ann, team=team, asset=door)
    answer(first, T0, expectations="failed", ces=2, nps=3)
    second = solve(agent, bob, team=team, tags=["billing"])
    answer(second, T0, expectations="exceeded", ces=7, csat=5, nps=10)
    # Ann is back about the same door two days later, and buys again on day 40
    at(T0 + dt.timedelta(days=2), create_case, actor=None, requester=ann, subject="Door stuck again",
       body=MessageInput(body_text="Again"), asset=door)  # fmt: skip
    order(ann, T0 + dt.timedelta(days=40))
    return {"team": team, "door": door, "ann": ann, "bob": bob, "first": first, "second": second}


def stat(dimension, key, day=DAY):
    row = DailySegmentStat.objects.get(dimension=dimension, key=key, day=day)
    return {k: v for k, v in row.__dict__.items() if isinstance(v, int) and v and k not in ("id",)}


def test_a_full_rebuild_writes_one_fact_per_solved_case(world, agent):
    result = at(T0 + dt.timedelta(days=200), refresh_insights, full=True)
    assert (result.full, result.facts, result.removed) == (True, 2, 0)
    first = CaseFact.objects.get(case=world["first"])
    assert (first.solved_at, first.solved_on, first.customer_id, first.team_id, first.assignee_id, first.asset_id,
            first.channel, first.case_types) == (T0, DAY, world["ann"].pk, world["team"].pk, agent.pk,
                                                 world["door"].pk, "email", "|")  # fmt: skip
    assert (first.expectations, first.ces, first.csat, first.nps) == ("failed", 2, None, 3)
    assert first.repeat_at == T0 + dt.timedelta(days=2)
    assert (first.prior_order, first.next_order_at) == (True, T0 + dt.timedelta(days=40))
    assert (first.sla_met, first.promises_due, first.promises_kept) == (None, 0, 0)  # not measured in this version
    second = CaseFact.objects.get(case=world["second"])
    assert (second.case_types, second.repeat_at, second.prior_order, second.next_order_at) == (
        "|billing|", None, False, None)  # fmt: skip
    assert CaseFact.objects.count() == 2  # Ann's new case is open: no fact


def test_the_daily_sums_of_the_rebuild(world):
    at(T0 + dt.timedelta(days=200), refresh_insights, full=True)
    assert stat(Dimension.ALL, "") == {
        "cases": 2, "exp_n": 2, "exp_failed": 1, "exp_exceeded": 1, "ces_n": 2, "ces_sum": 9, "ces_sumsq": 53,
        "csat_n": 1, "csat_sum": 5, "csat_good": 1, "nps_n": 2, "nps_promoters": 1, "nps_detractors": 1,
        "repeat_base": 2, "repeat_yes": 1, "ret30_base": 1, "ret90_base": 1, "ret90_yes": 1, "ret180_base": 1,
        "ret180_yes": 1,
    }  # fmt: skip
    assert stat(Dimension.TEAM, str(world["team"].pk))["cases"] == 2
    assert stat(Dimension.CASE_TYPE, "billing") == stat(Dimension.EXPECTATIONS, "exceeded")
    assert stat(Dimension.CASE_TYPE, "none")["exp_failed"] == 1
    assert stat(Dimension.PROMISE, "none")["cases"] == 2
    assert stat(Dimension.PARTNER, "none")["cases"] == 2


def test_open_windows_are_not_counted_yet(world):
    at(T0 + dt.timedelta(days=5), refresh_insights, full=True)
    counted = stat(Dimension.ALL, "")
    assert "repeat_base" not in counted and "ret30_base" not in counted
    # time passes: the next refresh counts the days whose windows closed since
    at(T0 + dt.timedelta(days=8), refresh_insights)
    counted = stat(Dimension.ALL, "")
    assert (counted["repeat_base"], counted["repeat_yes"]) == (2, 1)
    assert "ret30_base" not in counted
    at(T0 + dt.timedelta(days=95), refresh_insights)
    counted = stat(Dimension.ALL, "")
    assert (counted["ret30_base"], counted.get("ret30_yes", 0), counted["ret90_base"], counted["ret90_yes"]) == (
        1, 0, 1, 1)  # fmt: skip


def test_an_answer_given_after_a_refresh_is_counted_by_the_next(world, agent):
    later = T0 + dt.timedelta(days=1)
    third = solve(agent, make_contact(), when=later)
    survey = sent_survey(third, at=later)
    at(later + dt.timedelta(hours=3), refresh_insights, full=True)
    assert CaseFact.objects.get(case=third).expectations is None
    at(later + dt.timedelta(hours=4), answer_survey, token=token_of(survey), expectations="met", nps=8)
    result = at(later + dt.timedelta(hours=5), refresh_insights)
    assert not result.full
    assert (CaseFact.objects.get(case=third).expectations, CaseFact.objects.get(case=third).nps) == ("met", 8)
    assert stat(Dimension.ALL, "", day=later.date())["exp_met"] == 1


def test_a_reopened_case_leaves_the_figures_until_solved_again(world, agent):
    at(T0 + dt.timedelta(days=3), refresh_insights, full=True)
    at(T0 + dt.timedelta(days=3, hours=1), change_status, actor=agent, case=world["second"], status=CaseStatus.OPEN)
    result = at(T0 + dt.timedelta(days=3, hours=2), refresh_insights)
    assert result.removed == 1
    assert list(CaseFact.objects.values_list("case_id", flat=True)) == [world["first"].pk]
    assert stat(Dimension.ALL, "")["cases"] == 1


def test_a_new_order_updates_retention_incrementally(world):
    at(T0 + dt.timedelta(days=100), refresh_insights, full=True)
    assert CaseFact.objects.get(case=world["second"]).next_order_at is None
    order(world["bob"], T0 + dt.timedelta(days=20))  # imported late, dated in the past
    at(T0 + dt.timedelta(days=100, hours=1), refresh_insights)
    fact = CaseFact.objects.get(case=world["second"])
    assert (fact.prior_order, fact.next_order_at) == (False, T0 + dt.timedelta(days=20))  # Bob had not bought before


def test_a_repeat_contact_is_seen_incrementally(world, agent):
    at(T0 + dt.timedelta(days=3), refresh_insights, full=True)
    assert CaseFact.objects.get(case=world["second"]).repeat_at is None
    at(T0 + dt.timedelta(days=4), create_case, actor=None, requester=world["bob"], subject="Invoice wrong",
       body=MessageInput(body_text="Billing again"), tags=["billing"])  # fmt: skip
    at(T0 + dt.timedelta(days=4, hours=1), refresh_insights)
    assert CaseFact.objects.get(case=world["second"]).repeat_at == T0 + dt.timedelta(days=4)


def test_another_topic_is_not_a_repeat_and_after_seven_days_neither(world, agent):
    at(T0 + dt.timedelta(days=1), create_case, actor=None, requester=world["bob"], subject="Other thing",
       body=MessageInput(body_text="New"), tags=["noise"])  # fmt: skip
    at(T0 + dt.timedelta(days=8), create_case, actor=None, requester=world["bob"], subject="Billing",
       body=MessageInput(body_text="Late"), tags=["billing"])  # fmt: skip
    at(T0 + dt.timedelta(days=9), refresh_insights, full=True)
    assert CaseFact.objects.get(case=world["second"]).repeat_at is None


def test_cancelled_orders_do_not_count_and_organization_orders_do(world, agent):
    from caseloop.customers.actions import create_organization

    acme = create_organization(actor=None, name="Acme")
    carol = make_contact(name="Carol", organization=acme)
    dave = make_contact(name="Dave", organization=acme)
    order(carol, T0 - dt.timedelta(days=1))
    order(carol, T0 + dt.timedelta(days=3), status=OrderStatus.CANCELLED)
    order(dave, T0 + dt.timedelta(days=5))  # a colleague renews for the organization
    case = solve(agent, carol, when=T0 + dt.timedelta(hours=2))
    at(T0 + dt.timedelta(days=100), refresh_insights, full=True)
    fact = CaseFact.objects.get(case=case)
    assert (fact.prior_order, fact.next_order_at) == (True, T0 + dt.timedelta(days=5))


def test_merged_contacts_are_one_customer(world, agent):
    twin = make_contact(name="Ann (old address)")
    case = solve(agent, twin, when=T0 + dt.timedelta(hours=3), asset=world["door"])
    merge_contacts(actor=agent, source=twin, target=world["ann"])
    at(T0 + dt.timedelta(days=100), refresh_insights, full=True)
    fact = CaseFact.objects.get(case=case)
    assert fact.customer_id == world["ann"].pk
    assert (fact.prior_order, fact.repeat_at) == (True, T0 + dt.timedelta(days=2))


def test_a_merge_after_a_refresh_reaches_the_figures_at_the_next_incremental_refresh(world, agent):
    """Contacts merged since the last refresh are one customer at the next one, not only after a weekly rebuild."""
    twin = make_contact(name="Ann (old address)")
    case = solve(agent, twin, when=T0 + dt.timedelta(hours=3), asset=world["door"])
    at(T0 + dt.timedelta(days=1), refresh_insights, full=True)
    assert (CaseFact.objects.get(case=case).customer_id, CaseFact.objects.get(case=case).repeat_at) == (twin.pk, None)
    at(T0 + dt.timedelta(days=20), merge_contacts, actor=agent, source=twin, target=world["ann"])
    at(T0 + dt.timedelta(days=21), refresh_insights)
    fact = CaseFact.objects.get(case=case)
    assert (fact.customer_id, fact.prior_order, fact.repeat_at) == (world["ann"].pk, True, T0 + dt.timedelta(days=2))
    incremental = sorted(DailySegmentStat.objects.values_list("day", "dimension", "key", "repeat_yes", "ret30_base"))
    at(T0 + dt.timedelta(days=21), refresh_insights, full=True)
    assert sorted(DailySegmentStat.objects.values_list("day", "dimension", "key", "repeat_yes",
                                                       "ret30_base")) == incremental  # fmt: skip


@override_settings(CASELOOP_INSIGHTS_CASE_TYPE_FIELD="kind")
def test_the_case_type_field_wins_over_tags(agent):
    from caseloop.cases.actions import create_custom_field
    from caseloop.cases.choices import CustomFieldType
    from caseloop.identity.choices import Role
    from caseloop.testing.factories import make_agent

    create_custom_field(actor=make_agent(role=Role.ADMIN), key="kind", label="Kind", field_type=CustomFieldType.CHOICE,
                        choices=["repair", "install"])  # fmt: skip
    case = solve(agent, make_contact(), tags=["noise"], custom_fields={"kind": "repair"})
    at(T0 + dt.timedelta(days=1), refresh_insights, full=True)
    assert CaseFact.objects.get(case=case).case_types == "|repair|"


def test_refresh_is_one_at_a_time_and_records_its_freshness(world):
    RefreshState.objects.update_or_create(pk=1, defaults={"running_since": T0 + dt.timedelta(days=1)})
    skipped = at(T0 + dt.timedelta(days=1, minutes=10), refresh_insights)
    assert skipped.skipped and CaseFact.objects.count() == 0
    # a mark older than an hour is a crashed refresh: taken over
    done = at(T0 + dt.timedelta(days=1, hours=2), refresh_insights)
    assert not done.skipped and done.full and CaseFact.objects.count() == 2
    state = RefreshState.objects.get()
    assert (state.refreshed_at, state.running_since, state.last_cases) == (T0 + dt.timedelta(days=1, hours=2), None,
                                                                           2)  # fmt: skip


def test_the_management_command(world):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    with clock.frozen_at(T0 + dt.timedelta(days=1)):
        call_command("insights_refresh", "--full", stdout=out)
    assert out.getvalue().startswith("Full rebuild: 2 case facts written, 0 removed, 1 days summed")


def _snapshot():
    from caseloop.insights.counting import COUNTERS

    return {(r[0], r[1], r[2]): r[3:] for r in DailySegmentStat.objects.values_list("day", "dimension", "key",
                                                                                    *COUNTERS)}  # fmt: skip


def test_incremental_refreshes_end_where_a_full_rebuild_does(world, agent, monkeypatch):
    """The invariant behind the deltas: after any refreshes, each day's sums are those of its facts now."""
    from caseloop.insights import actions

    applied = []
    real = actions.apply_deltas

    def spy(deltas):
        applied.append(real(deltas))
        return applied[-1]

    monkeypatch.setattr(actions, "apply_deltas", spy)
    at(T0 + dt.timedelta(days=1), refresh_insights, full=True)
    # a day of changes: a reopen and a re-solve, a new answer, a repeat, a late order, a merge, a new solved case
    at(T0 + dt.timedelta(days=1, hours=1), change_status, actor=agent, case=world["second"], status=CaseStatus.OPEN)
    at(T0 + dt.timedelta(days=1, hours=2), refresh_insights)
    at(T0 + dt.timedelta(days=2), change_status, actor=agent, case=world["second"], status=CaseStatus.SOLVED)
    third = solve(agent, make_contact(), when=T0 + dt.timedelta(days=2, hours=1), tags=["billing"])
    survey = sent_survey(third, at=T0 + dt.timedelta(days=2, hours=1))
    at(T0 + dt.timedelta(days=2, hours=5), answer_survey, token=token_of(survey), expectations="met", nps=9)
    at(T0 + dt.timedelta(days=2, hours=6), refresh_insights)
    order(world["bob"], T0 + dt.timedelta(days=3))
    at(T0 + dt.timedelta(days=4), create_case, actor=None, requester=world["bob"], subject="Again",
       body=MessageInput(body_text="Billing"), tags=["billing"])  # fmt: skip
    at(T0 + dt.timedelta(days=9), refresh_insights)  # a week later: repeat windows have closed meanwhile
    at(T0 + dt.timedelta(days=40), refresh_insights)
    incremental = _snapshot()
    at(T0 + dt.timedelta(days=40), refresh_insights, full=True)
    assert incremental == _snapshot()
    # the changes went in as deltas, none fell back to summing a day again
    assert sum(len(a.days) for a in applied) > 0 and all(not a.fallback for a in applied)
    # the re-solved case moved to the day it was solved again, beside the new one
    assert (incremental[(DAY, "all", "")][0], incremental[(DAY + dt.timedelta(days=2), "all", "")][0]) == (1, 2)


@pytest.mark.skipif(not apps.is_installed("caseloop.promises"), reason="the promise ledger is not installed")
def test_promises_kept_and_broken_are_the_process_view(world, agent):
    from caseloop.insights.process import measured
    from caseloop.promises.actions import break_promise, make_promise, mark_kept
    from caseloop.promises.choices import PromiseKind

    assert measured()["promises"] is True
    with clock.frozen_at(T0 - dt.timedelta(hours=2)):
        kept = make_promise(actor=agent, case=world["first"], kind=PromiseKind.CALL_BACK, description="Call back",
                            due_at=T0 + dt.timedelta(days=1))  # fmt: skip
        broken = make_promise(actor=agent, case=world["first"], kind=PromiseKind.OTHER, description="Send a part",
                              due_at=T0 + dt.timedelta(days=1))  # fmt: skip
        make_promise(actor=agent, case=world["second"], kind=PromiseKind.OTHER, description="Still open",
                     due_at=T0 + dt.timedelta(days=30))  # fmt: skip
    at(T0 + dt.timedelta(hours=3), refresh_insights, full=True)
    assert (CaseFact.objects.get(case=world["first"]).promises_due, stat(Dimension.PROMISE, "none")["cases"]) == (0, 2)
    at(T0 + dt.timedelta(hours=4), mark_kept, actor=agent, promise=kept)
    at(T0 + dt.timedelta(hours=5), break_promise, actor=agent, promise=broken, reason="Part out of stock")
    at(T0 + dt.timedelta(hours=6), refresh_insights)
    first = CaseFact.objects.get(case=world["first"])
    assert (first.promises_due, first.promises_kept) == (2, 1)  # the open one on the second case does not count
    everything = stat(Dimension.ALL, "")
    assert (everything["promises_due"], everything["promises_kept"]) == (2, 1)
    assert stat(Dimension.PROMISE, "broken")["cases"] == 1 and stat(Dimension.PROMISE, "none")["cases"] == 1


@pytest.mark.skipif(not apps.is_installed("caseloop.sla"), reason="SLA clocks are not installed")
def test_sla_met_or_missed_is_the_process_view(world):
    from caseloop.insights.process import measured
    from caseloop.sla.models import CaseSla, SlaPolicy

    assert measured()["sla"] is True
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=60, updated_at=T0)
    CaseSla.objects.create(case=world["first"], policy=policy, started_at=T0, first_response_breached=True)
    CaseSla.objects.create(case=world["second"], policy=policy, started_at=T0)
    at(T0 + dt.timedelta(days=1), refresh_insights, full=True)
    assert [CaseFact.objects.get(case=world[k]).sla_met for k in ("first", "second")] == [False, True]
    everything = stat(Dimension.ALL, "")
    assert (everything["sla_n"], everything["sla_met"]) == (2, 1)
