"""Each case's SLA clocks following its life on a controlled clock: start, meet, pause, resume, breach, compliance."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction, Priority
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.identity.actions import add_member
from caseloop.promises.choices import NoticeKind, PromiseKind
from caseloop.promises.models import Notice, Promise
from caseloop.promises.tests.support import T0, committed, minutes
from caseloop.sla.actions import check_slas, save_calendar, save_policy
from caseloop.sla.choices import SlaState
from caseloop.sla.errors import SlaErrorCode
from caseloop.sla.models import CaseSla
from caseloop.sla.selectors import (
    by_sla_due,
    compliance,
    compliance_report,
    due_within,
    sla_badges,
    sla_met_by_case,
)
from caseloop.testing.factories import make_agent, make_case, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

OFFICE = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
FRIDAY_4PM = dt.datetime(2026, 3, 6, 16, 0, tzinfo=dt.UTC)
HOURS = dt.timedelta(hours=1)


@pytest.fixture
def office(admin_user):
    """Weekdays 9 to 5 (UTC): urgent cases answered within 1 business hour, others 4; solved within 16."""
    cal = save_calendar(actor=admin_user, name="Office", time_zone="UTC", hours=OFFICE)
    save_policy(
        actor=admin_user,
        name="Urgent",
        position=1,
        priorities=[Priority.URGENT],
        calendar=cal,
        first_response_minutes=60,
        next_response_minutes=60,
        resolution_minutes=8 * 60,
    )
    save_policy(
        actor=admin_user,
        name="Everyone",
        position=2,
        calendar=cal,
        first_response_minutes=4 * 60,
        next_response_minutes=2 * 60,
        resolution_minutes=16 * 60,
        warn_minutes=30,
    )
    return cal


def opened(at=T0, **kw):
    with committed(at):
        return make_case(**kw)


def sla(case):
    return CaseSla.objects.select_related("policy").get(case_id=case.pk)


def write(actor, case, direction, at, channel=Channel.EMAIL):
    with committed(at):
        add_message(
            actor=actor,
            case=case,
            direction=direction,
            channel=channel,
            body=MessageInput(body_text="About your door."),
        )


def move(actor, case, status, at):
    with committed(at):
        change_status(actor=actor, case=case, status=status)


def test_a_new_case_gets_its_policys_targets_in_business_time(office):
    case = opened(FRIDAY_4PM)
    clocks = sla(case)
    assert clocks.policy.name == "Everyone"
    assert clocks.first_response_due_at == dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)  # Monday noon
    assert clocks.resolution_due_at == dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    assert (clocks.due_at, clocks.warn_at) == (clocks.first_response_due_at, clocks.first_response_due_at - minutes(30))
    urgent = opened(FRIDAY_4PM, priority=Priority.URGENT)
    assert (sla(urgent).policy.name, sla(urgent).first_response_due_at) == (
        "Urgent",
        dt.datetime(2026, 3, 6, 17, 0, tzinfo=dt.UTC),
    )


def test_no_policy_no_clock():
    case = opened()
    assert not CaseSla.objects.filter(case_id=case.pk).exists()


def test_a_case_with_a_team_is_promised_a_first_answer_by_its_due_time(office):
    team = make_team()
    case = opened(T0, team=team)
    promise = Promise.objects.get(case=case)
    assert (promise.kind, promise.due_at, promise.owner_team_id, promise.source) == (
        PromiseKind.FIRST_RESPONSE,
        T0 + 4 * HOURS,
        team.pk,
        f"sla-first-response:{case.pk}",
    )


def test_a_persons_reply_meets_the_first_response_an_automatic_one_does_not(office, agent):
    case = opened(T0, team=make_team())
    write(None, case, Direction.OUTBOUND, T0 + HOURS)
    assert sla(case).first_response_at is None
    write(agent, case, Direction.OUTBOUND, T0 + 2 * HOURS)
    clocks = sla(case)
    assert (clocks.first_response_at, clocks.first_response_breached) == (T0 + 2 * HOURS, False)
    assert clocks.due_at == clocks.resolution_due_at
    assert Promise.objects.get(case=case).state == "kept"


def test_a_customer_message_starts_the_next_response_and_a_reply_meets_it(office, agent):
    case = opened(T0)
    write(agent, case, Direction.OUTBOUND, T0 + HOURS)
    write(None, case, Direction.INBOUND, T0 + 2 * HOURS)
    assert sla(case).next_response_due_at == T0 + 4 * HOURS
    write(agent, case, Direction.OUTBOUND, T0 + 3 * HOURS)
    clocks = sla(case)
    assert (clocks.next_response_due_at, clocks.next_responses_met, clocks.next_responses_breached) == (None, 1, 0)
    write(None, case, Direction.INBOUND, T0 + 3.5 * HOURS)
    write(agent, case, Direction.OUTBOUND, T0 + 6 * HOURS)  # 2.5 business hours later: late
    assert (sla(case).next_responses_met, sla(case).next_responses_breached) == (1, 1)


def test_waiting_on_the_customer_pauses_the_clocks_and_their_reply_resumes_them(office, agent):
    case = opened(T0)  # Monday 9:00: first response due 13:00, resolution due Tuesday 17:00
    write(agent, case, Direction.OUTBOUND, T0 + HOURS)
    move(agent, case, CaseStatus.PENDING, T0 + 2 * HOURS)
    clocks = sla(case)
    assert (clocks.paused_at, clocks.resolution_due_at, clocks.resolution_remaining, clocks.due_at) == (
        T0 + 2 * HOURS,
        None,
        14 * 3600.0,
        None,
    )
    # the customer answers on Wednesday at 10:00: the 14 business hours left run from then
    write(None, case, Direction.INBOUND, dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC))
    clocks = sla(case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    assert (clocks.paused_at, clocks.resolution_due_at) == (None, dt.datetime(2026, 3, 5, 16, 0, tzinfo=dt.UTC))
    assert clocks.next_response_due_at == dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


def test_solving_in_time_meets_the_resolution_and_reopening_runs_what_was_left(office, agent):
    case = opened(T0)
    write(agent, case, Direction.OUTBOUND, T0 + HOURS)
    move(agent, case, CaseStatus.SOLVED, T0 + 3 * HOURS)
    clocks = sla(case)
    assert (clocks.resolved_at, clocks.resolution_breached, clocks.due_at, clocks.resolution_remaining) == (
        T0 + 3 * HOURS,
        False,
        None,
        13 * 3600.0,
    )
    move(agent, case, CaseStatus.OPEN, T0 + 24 * HOURS)  # Tuesday 9:00
    clocks = sla(case)
    assert (clocks.resolved_at, clocks.resolution_due_at) == (None, dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC))
    move(agent, case, CaseStatus.SOLVED, T0 + 26 * HOURS)
    assert sla(case).met


def test_the_checker_records_a_missed_target_once_and_warns_before(office, agent):
    lead = make_agent()
    team = make_team()
    add_member(team=team, user=lead, is_lead=True)
    case = opened(T0, team=team)
    assert check_slas(now=T0 + 3 * HOURS).warned == 0
    result = check_slas(now=T0 + 3.6 * HOURS)  # due 13:00, warned from 12:30
    assert (result.warned, result.breached) == (1, 0)
    assert Notice.objects.get(kind=NoticeKind.SLA_DUE).recipient_id == lead.pk
    with clock.frozen_at(T0 + 3 * HOURS):
        assert sla_badges([case.pk])[case.pk].state == SlaState.OK
    with clock.frozen_at(T0 + 3.7 * HOURS):
        assert sla_badges([case.pk])[case.pk].state == SlaState.WARNING
    result = check_slas(now=T0 + 4 * HOURS + minutes(1))
    assert (result.breached, check_slas(now=T0 + 5 * HOURS).breached) == (1, 0)
    assert sla(case).first_response_breached
    assert TimelineEvent.objects.filter(kind="sla.breached", subject_id=case.pk).count() == 1
    with clock.frozen_at(T0 + 5 * HOURS):
        badge = sla_badges([case.pk])[case.pk]
    assert (badge.state, badge.target) == (SlaState.BREACHED, "first response")
    write(agent, case, Direction.OUTBOUND, T0 + 5 * HOURS)  # answered late: still a breach
    assert sla(case).first_response_breached and sla_met_by_case([case.pk]) == {case.pk: False}


def test_an_answer_at_the_due_time_meets_it_whether_the_checker_runs_first_or_not(office, agent):
    # given a first response due at 13:00 (four business hours from Monday 9:00)
    case = opened(T0)
    assert sla(case).first_response_due_at == T0 + 4 * HOURS
    # when the checker passes at 13:00 exactly, before the answer written at 13:00 exactly
    assert check_slas(now=T0 + 4 * HOURS).breached == 0
    with clock.frozen_at(T0 + 4 * HOURS):
        assert sla_badges([case.pk])[case.pk].state != SlaState.BREACHED
    write(agent, case, Direction.OUTBOUND, T0 + 4 * HOURS)
    # then the target is met, as it is when the answer comes first (it was recorded as a breach)
    assert not sla(case).first_response_breached
    assert not TimelineEvent.objects.filter(kind="sla.breached", subject_id=case.pk).exists()


def test_compliance_per_team_and_channel(office, agent, admin_user):
    doors, gates = make_team(name="Doors"), make_team(name="Gates")
    on_time = opened(T0, team=doors, channel=Channel.EMAIL)
    late = opened(T0, team=doors, channel=Channel.PHONE)
    quiet = opened(T0, team=gates, channel=Channel.EMAIL)
    write(agent, on_time, Direction.OUTBOUND, T0 + HOURS)
    move(agent, on_time, CaseStatus.SOLVED, T0 + 2 * HOURS)
    write(agent, late, Direction.OUTBOUND, T0 + 5 * HOURS)
    check_slas(now=T0 + 5 * HOURS)
    window = {"since": T0 - HOURS, "until": T0 + HOURS}
    teams = {c.label: (c.met, c.breached, c.rate) for c in compliance(admin_user, by="team", **window)}
    assert teams == {"Doors": (2, 1, 2 / 3), "Gates": (0, 1, 0.0)}
    channels = {
        c.key: (c.first_met, c.first_breached, c.resolution_met) for c in compliance(admin_user, by="channel", **window)
    }
    assert channels == {"email": (1, 1, 1), "phone": (0, 1, 0)}
    assert sla_met_by_case([on_time.pk, late.pk, quiet.pk]) == {on_time.pk: True, late.pk: False, quiet.pk: False}
    with pytest.raises(DomainError):
        compliance(agent, by="team", **window)


def test_compliance_is_counted_by_the_database_one_row_per_group(office, agent, admin_user):
    # a month of a busy desk is tens of thousands of cases: the report reads one row per team, not one per case
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    doors = make_team(name="Doors")
    for n in range(6):
        case = opened(T0, team=doors, channel=Channel.EMAIL)
        write(agent, case, Direction.OUTBOUND, T0 + (HOURS if n % 2 else 5 * HOURS))
    check_slas(now=T0 + 5 * HOURS)
    with CaptureQueriesContext(connection) as queries:
        (group,) = compliance(admin_user, by="team", since=T0 - HOURS, until=T0 + HOURS)
    (sql,) = [q["sql"] for q in queries.captured_queries if "sla_casesla" in q["sql"]]
    assert "GROUP BY" in sql and "COUNT(" in sql
    assert (group.label, group.first_met, group.first_breached) == ("Doors", 3, 3)


def test_the_compliance_page_reads_the_period_once_for_both_groupings(office, agent, admin_user):
    # every case of the period costs two index searches: the page's two tables come from one reading
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    doors = make_team(name="Doors")
    for channel in (Channel.EMAIL, Channel.PHONE, Channel.EMAIL):
        case = opened(T0, team=doors, channel=channel)
        write(agent, case, Direction.OUTBOUND, T0 + HOURS)
    opened(T0, channel=Channel.PHONE)
    check_slas(now=T0 + 5 * HOURS)
    with CaptureQueriesContext(connection) as queries:
        report = compliance_report(admin_user, since=T0 - HOURS, until=T0 + HOURS)
    assert len([q for q in queries.captured_queries if "sla_casesla" in q["sql"]]) == 1
    # worst first, as on the page
    assert [(g.label, g.first_met, g.first_breached) for g in report.teams] == [("No team", 0, 1), ("Doors", 3, 0)]
    assert {g.key: (g.first_met, g.first_breached) for g in report.channels} == {"email": (2, 0), "phone": (1, 1)}
    window = {"since": T0 - HOURS, "until": T0 + HOURS}
    assert [(g.key, g.met, g.breached) for g in compliance(admin_user, by="team", **window)] == [
        (g.key, g.met, g.breached) for g in report.teams
    ]
    client = Client()
    client.force_login(admin_user)
    with clock.frozen_at(T0 + 5 * HOURS), CaptureQueriesContext(connection) as queries:
        response = client.get("/sla/", {"days": 7})
    assert response.status_code == 200
    assert len([q for q in queries.captured_queries if "sla_casesla" in q["sql"]]) == 1


def test_the_inbox_sorts_by_the_next_due_time_and_finds_what_is_due_soon(office):
    later = opened(T0 + HOURS)
    sooner = opened(T0, priority=Priority.URGENT)
    none = opened(T0)
    CaseSla.objects.filter(case_id=none.pk).delete()
    ordered = list(by_sla_due(Case.objects.filter(pk__in=[later.pk, sooner.pk, none.pk])).values_list("id", flat=True))
    assert ordered == [sooner.pk, later.pk, none.pk]
    with clock.frozen_at(T0 + 30 * minutes(1)):
        assert list(due_within(Case.objects.all(), minutes=60).values_list("id", flat=True)) == [sooner.pk]


def test_closing_stops_every_clock(office, agent):
    case = opened(T0)
    move(agent, case, CaseStatus.SOLVED, T0 + HOURS)
    move(agent, case, CaseStatus.CLOSED, T0 + 2 * HOURS)
    clocks = sla(case)
    assert (clocks.due_at, clocks.first_response_due_at, clocks.resolution_remaining, clocks.paused_at) == (
        None,
        None,
        None,
        None,
    )
    assert check_slas(now=T0 + 100 * HOURS).breached == 0


def test_policies_and_calendars_are_checked_and_only_administrators_write_them(admin_user, agent):
    with pytest.raises(DomainError) as denied:
        save_calendar(actor=agent, name="Mine", time_zone="UTC", hours=OFFICE)
    assert denied.value.code == "permission_denied"
    bad_calendars: list[tuple[str, dict[str, list[str]], str]] = [
        ("Nowhere/Land", OFFICE, "time_zone"),
        ("UTC", {"mon": ["10:00-09:00"]}, "hours"),
    ]
    for zone, hours, field in bad_calendars:
        with pytest.raises(DomainError) as refused:
            save_calendar(actor=admin_user, name="x", time_zone=zone, hours=hours)
        assert (refused.value.code, refused.value.field) == (SlaErrorCode.BAD_CALENDAR, field)
    bad_policies: list[tuple[dict[str, Any], str]] = [
        ({"name": "x"}, "first_response_minutes"),
        ({"name": "x", "first_response_minutes": 0}, "first_response_minutes"),
        ({"name": "x", "first_response_minutes": 5, "channels": ["pigeon"]}, "channels"),
    ]
    for kwargs, field in bad_policies:
        with pytest.raises(DomainError) as refused:
            save_policy(actor=admin_user, **kwargs)
        assert (refused.value.code, refused.value.field) == (SlaErrorCode.BAD_POLICY, field)
    policy = save_policy(actor=admin_user, name="All", first_response_minutes=30)
    with pytest.raises(DomainError) as taken:
        save_policy(actor=admin_user, name="all", first_response_minutes=30)
    assert taken.value.code == SlaErrorCode.NAME_TAKEN
    assert save_policy(actor=admin_user, policy=policy, is_active=False).is_active is False


@pytest.mark.django_db(transaction=True)
def test_a_case_and_its_clocks_are_one_transaction_with_one_commit(office):
    """The clocks are written inside the create (no after-commit second transaction), and roll back with it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from caseloop.testing.factories import make_contact

    requester = make_contact()
    with clock.frozen_at(FRIDAY_4PM), CaptureQueriesContext(connection) as queries:
        case = make_case(requester, priority=Priority.URGENT)
    commits = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("COMMIT")]
    assert len(commits) == 1
    assert CaseSla.objects.get(case=case).first_response_due_at == FRIDAY_4PM + HOURS

    from django.db import transaction

    made: list[Case] = []

    def create_then_fail() -> None:
        with transaction.atomic():
            made.append(make_case(subject="Never kept"))
            raise RuntimeError("the request failed after the create")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert not Case.objects.filter(subject="Never kept").exists()
    assert not CaseSla.objects.filter(case_id=made[0].pk).exists()


def test_a_changed_policy_applies_to_the_next_case_at_once(office, admin_user):
    # policies are kept per process (core.stamps): the edit must reach the very next create
    first = opened(FRIDAY_4PM)
    assert sla(first).first_response_due_at == dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)
    everyone = CaseSla.objects.get(case_id=first.pk).policy
    save_policy(actor=admin_user, policy=everyone, first_response_minutes=60)
    second = opened(FRIDAY_4PM)
    assert sla(second).first_response_due_at == dt.datetime(2026, 3, 6, 17, 0, tzinfo=dt.UTC)
    save_policy(actor=admin_user, policy=everyone, is_active=False)
    unmatched = opened(FRIDAY_4PM)  # normal priority: only "Everyone" matched it
    assert not CaseSla.objects.filter(case_id=unmatched.pk).exists()
    save_calendar(actor=admin_user, calendar=office, name="Office", time_zone="UTC",
                  hours={day: ["09:00-18:00"] for day in OFFICE})  # fmt: skip
    save_policy(actor=admin_user, policy=everyone, is_active=True)
    third = opened(FRIDAY_4PM)
    assert sla(third).first_response_due_at == dt.datetime(2026, 3, 6, 17, 0, tzinfo=dt.UTC)
    fourth = opened(dt.datetime(2026, 3, 6, 17, 0, tzinfo=dt.UTC))  # open until 18:00 now
    assert sla(fourth).first_response_due_at == dt.datetime(2026, 3, 6, 18, 0, tzinfo=dt.UTC)
