"""Surveys: scheduling on solve, fatigue and opt-outs, sending, one-click answers, the page's answer, tokens."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.core import mail
from django.test import override_settings

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Message
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.customers.actions import IdentityInput, create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.feedback.actions import (
    answer_survey,
    create_survey_rule,
    opt_out_of_surveys,
    record_click,
    schedule_survey,
    send_due_surveys,
    send_survey,
    update_survey_rule,
)
from caseloop.feedback.choices import AnswerSource, Expectation, Question, SkipReason, SurveyState
from caseloop.feedback.errors import FeedbackErrorCode
from caseloop.feedback.models import Survey, SurveyAnswer, SurveyOptOut, SurveyRule
from caseloop.feedback.tests.factories import START, sent_survey, solved_case, token_of
from caseloop.feedback.tokens import Purpose, make_token, read_token
from caseloop.identity.actions import add_member
from caseloop.testing.factories import make_agent, make_contact, make_team
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent
from caseloop.timeline.selectors import outside_kinds

pytestmark = pytest.mark.django_db


# --- rules ---------------------------------------------------------------------------------------------------
def test_default_rule_ships_with_every_question_an_hour_later_and_a_month_of_fatigue():
    rule = SurveyRule.objects.get()
    assert (rule.name, rule.is_active, rule.delay_minutes, rule.fatigue_days, rule.channels) == (
        "After a case is solved", True, 60, 30, [])  # fmt: skip
    assert rule.questions == ["expectations", "ces", "csat", "nps", "comment"]


def test_rule_questions_always_start_with_expectations_and_unknown_ones_are_refused(manager):
    rule = create_survey_rule(actor=manager, name="Short", questions=["nps", "ces"], delay_minutes=0)
    assert rule.questions == ["expectations", "ces", "nps"]
    with pytest.raises(DomainError) as excinfo:
        create_survey_rule(actor=manager, name="Bad", questions=["mood"])
    assert excinfo.value.code == FeedbackErrorCode.BAD_RULE
    assert SurveyRule.objects.count() == 2


def test_only_managers_and_admins_make_rules(agent):
    with pytest.raises(DomainError) as excinfo:
        create_survey_rule(actor=agent, name="Mine")
    assert excinfo.value.code == "permission_denied"
    assert SurveyRule.objects.count() == 1


def test_a_team_rule_wins_over_the_general_rule(manager, agent):
    team = make_team("Doors")
    create_survey_rule(actor=manager, name="Doors only", team=team, questions=["nps"], delay_minutes=5)
    survey = schedule_survey(case_id=solved_case(agent=agent, team=team).pk)
    assert survey is not None and survey.rule is not None
    assert (survey.rule.name, survey.questions) == ("Doors only", ["expectations", "nps"])


def test_no_active_rule_no_survey(manager, agent):
    update_survey_rule(actor=manager, rule=SurveyRule.objects.get(), is_active=False)
    assert schedule_survey(case_id=solved_case(agent=agent).pk) is None
    assert Survey.objects.count() == 0


# --- scheduling -----------------------------------------------------------------------------------------------
def test_solving_schedules_a_survey_attributed_to_who_worked_the_case(agent):
    team = make_team("Repairs")
    helper = make_agent(username="helper")
    case = solved_case(agent=agent, team=team)
    change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    add_message(actor=helper, case=case, direction=Direction.NOTE, body=MessageInput(body_text="Checked the part"))
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    with clock.frozen_at(START):
        survey = schedule_survey(case_id=case.pk)
    assert survey is not None
    assert (survey.state, survey.channel, survey.team_id) == (SurveyState.SCHEDULED, Channel.EMAIL, team.pk)
    assert survey.scheduled_for == START + dt.timedelta(minutes=60)
    assert sorted(survey.people.values_list("username", flat=True)) == ["agent", "helper"]
    assert schedule_survey(case_id=case.pk) == survey  # the same solve seen twice
    assert Survey.objects.count() == 1


def test_an_open_case_gets_no_survey(agent):
    case = solved_case(agent=agent)
    change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    assert schedule_survey(case_id=case.pk) is None and Survey.objects.count() == 0


def test_fatigue_one_survey_per_customer_per_rule_days(agent):
    customer = make_contact()
    first = schedule_survey(case_id=solved_case(agent=agent, requester=customer).pk)
    second = schedule_survey(case_id=solved_case(agent=agent, requester=customer).pk)
    assert first is not None and second is not None
    assert (first.state, second.state, second.skip_reason) == (SurveyState.SCHEDULED, SurveyState.SKIPPED,
                                                               SkipReason.FATIGUE)  # fmt: skip
    skipped = TimelineEvent.objects.get(kind="survey.skipped")
    assert skipped.summary.endswith(": surveyed recently")


def test_fatigue_ends_after_the_rule_days(agent):
    customer = make_contact()
    with clock.frozen_at(START):
        schedule_survey(case_id=solved_case(agent=agent, requester=customer).pk)
    case = solved_case(agent=agent, requester=customer)
    with clock.frozen_at(START + dt.timedelta(days=29, hours=23)):
        assert schedule_survey(case_id=case.pk).state == SurveyState.SKIPPED  # type: ignore[union-attr]
    change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    with clock.frozen_at(START + dt.timedelta(days=30, minutes=1)):
        assert schedule_survey(case_id=case.pk).state == SurveyState.SCHEDULED  # type: ignore[union-attr]


def test_fatigue_counts_a_merged_contacts_surveys(agent):
    from caseloop.customers.actions import merge_contacts

    old, new = make_contact(), make_contact()
    schedule_survey(case_id=solved_case(agent=agent, requester=old).pk)
    merge_contacts(actor=agent, source=old, target=new)
    survey = schedule_survey(case_id=solved_case(agent=agent, requester=new).pk)
    assert survey is not None and survey.skip_reason == SkipReason.FATIGUE


def test_no_survey_after_a_complaint_about_surveys(agent):
    customer = make_contact()
    opt_out_of_surveys(actor=agent, contact=customer, reason="Said on the phone: no more surveys")
    survey = schedule_survey(case_id=solved_case(agent=agent, requester=customer).pk)
    assert survey is not None and (survey.state, survey.skip_reason) == (SurveyState.SKIPPED, SkipReason.OPTED_OUT)


def test_the_same_solve_scheduled_twice_is_decided_once(agent):
    """`case_solved` delivered twice (a retry, two workers): one survey row, one "no survey" on the timeline."""
    customer = make_contact()
    opt_out_of_surveys(actor=agent, contact=customer, reason="Said on the phone: no more surveys")
    case = solved_case(agent=agent, requester=customer)
    first = schedule_survey(case_id=case.pk)
    again = schedule_survey(case_id=case.pk)
    assert first is not None and again is not None and again.pk == first.pk
    assert list(Survey.objects.values_list("state", "skip_reason")) == [(SurveyState.SKIPPED, SkipReason.OPTED_OUT)]
    assert TimelineEvent.objects.filter(kind="survey.skipped").count() == 1
    # a later solve is a new decision
    change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    assert schedule_survey(case_id=case.pk).pk != first.pk  # type: ignore[union-attr]
    assert Survey.objects.count() == 2


def test_two_workers_scheduling_one_solve_at_once_make_one_survey_not_a_fatigue_skip(agent):
    """The other worker schedules the survey while this one reads the rules: this one finds it under the lock."""
    from caseloop.feedback.selectors import worked_by

    case = solved_case(agent=agent)
    raced: list[bool] = []

    def other_worker_first(solved):
        if not raced:
            raced.append(True)
            schedule_survey(case_id=case.pk)  # the other worker, committed before this one locks
        return worked_by(solved)

    with mock.patch("caseloop.feedback.actions.worked_by", other_worker_first):
        survey = schedule_survey(case_id=case.pk)
    assert survey is not None and survey.state == SurveyState.SCHEDULED
    assert list(Survey.objects.values_list("state", flat=True)) == [SurveyState.SCHEDULED]
    assert not TimelineEvent.objects.filter(kind="survey.skipped").exists()


def test_a_case_from_a_channel_that_cannot_deliver_is_surveyed_by_email_or_not_at_all(agent):
    by_api = solved_case(agent=agent, channel=Channel.API, reply=False)
    survey = schedule_survey(case_id=by_api.pk)
    assert survey is not None and survey.channel == Channel.EMAIL
    phone = IdentityInput(IdentityKind.PHONE, "+1 415 555 0100")
    no_email = create_contact(actor=None, name="Paula Phone", identities=[phone])
    unreachable = schedule_survey(case_id=solved_case(agent=agent, requester=no_email, channel=Channel.API,
                                                      reply=False).pk)  # fmt: skip
    assert unreachable is not None and unreachable.skip_reason == SkipReason.NO_CHANNEL


def test_a_case_that_came_by_phone_or_sms_gets_the_short_survey_on_its_channel(agent):
    phone = IdentityInput(IdentityKind.PHONE, "+1 415 555 0101")
    caller = create_contact(actor=None, name="Carl Caller", identities=[phone])
    survey = sent_survey(solved_case(agent=agent, requester=caller, channel=Channel.PHONE, reply=False))
    assert survey.channel == Channel.PHONE and survey.message is not None
    text = survey.message.body_text
    assert text.startswith(f"How did we do on {survey.case.number}? Exceeded: http") and "\n" not in text
    assert survey.message.body_html == ""


def test_channels_of_a_rule_limit_it(manager, agent):
    rule = SurveyRule.objects.get()
    update_survey_rule(actor=manager, rule=rule, channels=["web"])
    assert schedule_survey(case_id=solved_case(agent=agent, channel=Channel.EMAIL).pk) is None


# --- sending --------------------------------------------------------------------------------------------------
def test_survey_goes_out_when_due_as_an_outbound_message_with_three_signed_links(agent):
    case = solved_case(agent=agent)
    with clock.frozen_at(START):
        survey = schedule_survey(case_id=case.pk)
    assert survey is not None
    with clock.frozen_at(START + dt.timedelta(minutes=59)):
        assert send_due_surveys() == 0
    survey.refresh_from_db()
    assert survey.state == SurveyState.SCHEDULED
    with clock.frozen_at(START + dt.timedelta(minutes=60)):
        assert send_due_surveys() == 1
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT and survey.sent_at == START + dt.timedelta(minutes=60)
    message = survey.message
    assert message is not None
    assert (message.direction, message.channel, message.author_user_id) == (Direction.OUTBOUND, Channel.EMAIL, None)
    links = re.findall(r"http://127.0.0.1:8000/feedback/s/([^/]+)/(\w+)/", message.body_text)
    assert [choice for _, choice in links] == ["exceeded", "met", "failed"]
    assert {read_token(token, purpose=Purpose.SURVEY) for token, _ in links} == {survey.pk}
    assert [(t, c) for t, c in re.findall(r'href="http://127.0.0.1:8000/feedback/s/([^/]+)/(\w+)/"',
                                         message.body_html)] == links  # fmt: skip
    case.refresh_from_db()
    assert case.status == CaseStatus.SOLVED  # the survey message does not reopen it


def test_survey_email_is_delivered_by_the_email_channel(agent, django_capture_on_commit_callbacks):
    case = solved_case(agent=agent)
    with clock.frozen_at(START):
        survey = schedule_survey(case_id=case.pk)
    assert survey is not None
    mail.outbox.clear()
    with clock.frozen_at(survey.scheduled_for), django_capture_on_commit_callbacks(execute=True):
        send_survey(survey_id=survey.pk)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [case.requester.identities.get().value]
    survey.refresh_from_db()
    assert survey.message is not None and sent.body == survey.message.body_text
    assert "/met/" in sent.body and "/exceeded/" in sent.body


def test_a_case_reopened_or_closed_before_the_survey_is_sent_is_not_surveyed(agent):
    reopened, closed = solved_case(agent=agent), solved_case(agent=agent)
    surveys = []
    for case in (reopened, closed):
        with clock.frozen_at(START):
            surveys.append(schedule_survey(case_id=case.pk))
    change_status(actor=agent, case=reopened, status=CaseStatus.OPEN)
    change_status(actor=agent, case=closed, status=CaseStatus.CLOSED)
    with clock.frozen_at(START + dt.timedelta(hours=1)):
        assert send_due_surveys() == 2
    states = [(s.state, s.skip_reason) for s in Survey.objects.order_by("id")]
    assert states == [(SurveyState.SKIPPED, SkipReason.REOPENED), (SurveyState.SKIPPED, SkipReason.CLOSED)]
    assert Message.objects.filter(direction=Direction.OUTBOUND, author_user__isnull=True).count() == 0


def test_sending_twice_sends_once(agent):
    survey = sent_survey(solved_case(agent=agent))
    with clock.frozen_at(START + dt.timedelta(hours=2)):
        again = send_survey(survey_id=survey.pk)
    assert again is not None and again.message_id == survey.message_id
    assert Message.objects.filter(direction=Direction.OUTBOUND, author_user__isnull=True).count() == 1


def test_the_listener_schedules_a_survey_when_a_case_is_solved(agent, django_capture_on_commit_callbacks):
    case = solved_case(agent=agent)
    change_status(actor=agent, case=case, status=CaseStatus.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    assert Survey.objects.get(case=case).state == SurveyState.SCHEDULED


# --- tokens ---------------------------------------------------------------------------------------------------
def test_a_tampered_token_is_refused_and_records_nothing(agent):
    survey = sent_survey(solved_case(agent=agent))
    token = token_of(survey)
    forged = make_token(purpose=Purpose.SURVEY, ident=int(survey.pk) + 1)
    tampered = forged.split(":")[0] + ":" + token.split(":", 1)[1]  # another id under this token's signature
    for bad in (tampered, token[:-1] + ("A" if token[-1] != "A" else "B"), "garbage"):
        with pytest.raises(DomainError) as excinfo:
            record_click(token=bad, choice="met")
        assert excinfo.value.code == FeedbackErrorCode.TOKEN_INVALID and excinfo.value.status == 404
    assert SurveyAnswer.objects.count() == 0


def test_a_follow_up_token_is_no_survey_token(agent):
    survey = sent_survey(solved_case(agent=agent))
    with pytest.raises(DomainError) as excinfo:
        record_click(token=make_token(purpose=Purpose.FOLLOW_UP, ident=survey.pk), choice="met")
    assert excinfo.value.code == FeedbackErrorCode.TOKEN_INVALID
    assert SurveyAnswer.objects.count() == 0


@override_settings(CASELOOP_SURVEY_LINK_DAYS=30)
def test_a_token_expires_after_the_link_days(agent):
    survey = sent_survey(solved_case(agent=agent))
    now = dt.datetime.now(dt.UTC).timestamp()
    with mock.patch("django.core.signing.time.time", return_value=now):
        token = token_of(survey)
    with mock.patch("django.core.signing.time.time", return_value=now + 30 * 86400 - 5):
        record_click(token=token, choice="met")
    with (
        mock.patch("django.core.signing.time.time", return_value=now + 30 * 86400 + 5),
        pytest.raises(DomainError) as excinfo,
    ):
        record_click(token=token, choice="exceeded")
    assert excinfo.value.code == FeedbackErrorCode.TOKEN_EXPIRED and excinfo.value.status == 410
    assert SurveyAnswer.objects.get().expectations == Expectation.MET


# --- one click --------------------------------------------------------------------------------------------------
def test_one_click_answers_the_headline_and_lands_on_the_timelines(agent):
    from caseloop.customers.actions import create_asset

    asset = create_asset(actor=None, name="Garage door")
    case = solved_case(agent=agent, asset=asset)
    survey = sent_survey(case)
    with clock.frozen_at(START + dt.timedelta(hours=3)):
        record_click(token=token_of(survey), choice="exceeded")
    survey.refresh_from_db()
    answer = survey.answer
    assert survey.state == SurveyState.ANSWERED
    assert (answer.expectations, answer.source, answer.ces, answer.clicks_conflicted) == (
        Expectation.EXCEEDED, AnswerSource.CLICK, None, False)  # fmt: skip
    events = TimelineEvent.objects.filter(kind="survey.answered")
    assert sorted(events.values_list("subject_kind", flat=True)) == ["asset", "case", "contact"]
    event = events.first()
    assert event is not None
    assert event.summary == f"Survey on {case.number}: exceeded my expectations"
    assert event.data["people"] == [agent.pk] and event.data["expectations"] == "exceeded"


def test_different_clicks_within_seconds_are_a_scanner_and_answer_nothing(agent):
    survey = sent_survey(solved_case(agent=agent))
    token = token_of(survey)
    at = START + dt.timedelta(hours=2)
    for offset, choice in enumerate(("exceeded", "met", "failed")):
        with clock.frozen_at(at + dt.timedelta(seconds=offset)):
            record_click(token=token, choice=choice)
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT
    assert (survey.answer.expectations, survey.answer.clicks_conflicted) == (None, True)
    # the first click looked like an answer; the second showed it was not, and the case says so
    kinds = list(TimelineEvent.objects.filter(subject_kind="case", kind__startswith="survey.answ")
                 .values_list("kind", flat=True))  # fmt: skip
    assert kinds == ["survey.answered"]
    assert TimelineEvent.objects.filter(kind="survey.clicks_conflicted").count() == 1
    # the person clicks later: that is an answer
    with clock.frozen_at(at + dt.timedelta(minutes=30)):
        record_click(token=token, choice="met")
    survey.refresh_from_db()
    assert (survey.state, survey.answer.expectations, survey.answer.clicks_conflicted) == (
        SurveyState.ANSWERED, Expectation.MET, False)  # fmt: skip


def test_the_same_click_twice_is_one_answer(agent):
    survey = sent_survey(solved_case(agent=agent))
    with clock.frozen_at(START + dt.timedelta(hours=2)):
        record_click(token=token_of(survey), choice="met")
        record_click(token=token_of(survey), choice="met")
    assert SurveyAnswer.objects.get().expectations == Expectation.MET
    assert TimelineEvent.objects.filter(kind="survey.answered", subject_kind="case").count() == 1


def test_an_unknown_choice_or_a_skipped_survey_takes_no_click(agent):
    survey = sent_survey(solved_case(agent=agent))
    with pytest.raises(DomainError) as excinfo:
        record_click(token=token_of(survey), choice="delighted")
    assert excinfo.value.code == FeedbackErrorCode.BAD_ANSWER
    Survey.objects.filter(pk=survey.pk).update(state=SurveyState.SKIPPED)
    with pytest.raises(DomainError) as excinfo:
        record_click(token=token_of(survey), choice="met")
    assert excinfo.value.code == FeedbackErrorCode.BAD_ANSWER and excinfo.value.status == 409
    assert SurveyAnswer.objects.count() == 0


# --- the survey page ---------------------------------------------------------------------------------------------
def test_the_page_answer_keeps_the_click_and_adds_the_rest(agent):
    survey = sent_survey(solved_case(agent=agent))
    record_click(token=token_of(survey), choice="met")
    answer = answer_survey(token=token_of(survey), expectations=None, ces=6, csat=4, nps=8, comment="  Quick fix ")
    assert (answer.expectations, answer.ces, answer.csat, answer.nps, answer.comment, answer.source) == (
        Expectation.MET, 6, 4, 8, "Quick fix", AnswerSource.PAGE)  # fmt: skip


def test_changing_an_answer_is_recorded_as_a_change_and_saving_it_again_records_nothing(agent):
    # given an answer on the survey page
    case = solved_case(agent=agent)
    survey = sent_survey(case)
    token = token_of(survey)
    with clock.frozen_at(START + dt.timedelta(hours=2)):
        answer_survey(token=token, expectations="met", ces=5, csat=4, nps=8, comment="Quick fix")
    # when the customer saves the same answer again, then changes two scores
    with clock.frozen_at(START + dt.timedelta(hours=3)):
        answer_survey(token=token, expectations="met", ces=5, csat=4, nps=8, comment="Quick fix")
    with clock.frozen_at(START + dt.timedelta(hours=4)):
        answer_survey(token=token, expectations="failed", ces=5, csat=4, nps=3, comment="Quick fix")
    # then the case says it was answered once and changed once, with the scores before and after
    on_case = TimelineEvent.objects.filter(subject_kind="case", kind__startswith="survey.")
    assert list(on_case.order_by("id").values_list("kind", flat=True)) == [
        "survey.sent", "survey.answered", "survey.changed"]  # fmt: skip
    changed = on_case.get(kind="survey.changed")
    assert changed.summary == f"Survey on {case.number} changed: met my expectations → failed to meet my " \
        "expectations · recommend 8/10 → 3/10"  # fmt: skip
    assert (changed.data["before"], changed.data["after"]) == (
        {"expectations": "met", "ces": 5, "csat": 4, "nps": 8, "comment": "Quick fix"},
        {"expectations": "failed", "ces": 5, "csat": 4, "nps": 3, "comment": "Quick fix"},
    )
    assert changed.data["people"] == [agent.pk]
    # on the same timelines as the answer, and as internal as it: the customer reads neither on their case
    subjects = {kind: sorted(TimelineEvent.objects.filter(kind=kind).values_list("subject_kind", flat=True))
                for kind in ("survey.answered", "survey.changed")}  # fmt: skip
    assert subjects["survey.changed"] == subjects["survey.answered"]
    assert not {"survey.answered", "survey.changed"} & outside_kinds(SubjectKind.CASE)


def test_the_page_completing_a_clicked_answer_is_a_change_not_a_second_answer(agent):
    case = solved_case(agent=agent)
    survey = sent_survey(case)
    record_click(token=token_of(survey), choice="met")
    answer_survey(token=token_of(survey), expectations=None, nps=9)
    kinds = TimelineEvent.objects.filter(subject_kind="case", kind__in=("survey.answered", "survey.changed"))
    assert list(kinds.order_by("id").values_list("kind", "summary")) == [
        ("survey.answered", f"Survey on {case.number}: met my expectations"),
        ("survey.changed", f"Survey on {case.number} changed: recommend none → 9/10"),
    ]


def test_a_later_click_with_another_choice_is_recorded_as_a_change(agent):
    case = solved_case(agent=agent)
    survey = sent_survey(case)
    with clock.frozen_at(START + dt.timedelta(hours=2)):
        record_click(token=token_of(survey), choice="met")
    with clock.frozen_at(START + dt.timedelta(hours=5)):  # hours later: a person changing their mind
        record_click(token=token_of(survey), choice="failed")
        record_click(token=token_of(survey), choice="failed")  # the same again changes nothing
    kinds = TimelineEvent.objects.filter(subject_kind="case", kind__in=("survey.answered", "survey.changed"))
    assert list(kinds.order_by("id").values_list("kind", "summary")) == [
        ("survey.answered", f"Survey on {case.number}: met my expectations"),
        ("survey.changed", f"Survey on {case.number} changed: met my expectations → failed to meet my expectations"),
    ]
    assert SurveyAnswer.objects.get().expectations == Expectation.FAILED


def test_the_page_needs_the_headline_when_no_click_gave_it(agent):
    survey = sent_survey(solved_case(agent=agent))
    with pytest.raises(DomainError) as excinfo:
        answer_survey(token=token_of(survey), expectations=None, nps=9)
    assert (excinfo.value.code, excinfo.value.field) == (FeedbackErrorCode.BAD_ANSWER, "expectations")
    assert SurveyAnswer.objects.count() == 0


@pytest.mark.parametrize(("field", "value"), [("ces", 0), ("ces", 8), ("csat", 6), ("nps", 11), ("nps", -1)])
def test_scores_outside_their_scale_are_refused(agent, field, value):
    survey = sent_survey(solved_case(agent=agent))
    with pytest.raises(DomainError) as excinfo:
        answer_survey(token=token_of(survey), expectations="met", **{field: value})
    assert (excinfo.value.code, excinfo.value.field) == (FeedbackErrorCode.BAD_ANSWER, field)
    assert SurveyAnswer.objects.count() == 0


def test_a_question_the_survey_did_not_ask_is_refused(manager, agent):
    rule = SurveyRule.objects.get()
    update_survey_rule(actor=manager, rule=rule, questions=[Question.EXPECTATIONS, Question.NPS])
    survey = sent_survey(solved_case(agent=agent))
    for extra in ({"ces": 5}, {"comment": "hi"}):
        with pytest.raises(DomainError) as excinfo:
            answer_survey(token=token_of(survey), expectations="met", **extra)
        assert excinfo.value.code == FeedbackErrorCode.BAD_ANSWER
    assert SurveyAnswer.objects.count() == 0


def test_no_more_surveys_box_opts_out_and_drops_scheduled_surveys(agent):
    customer = make_contact()
    survey = sent_survey(solved_case(agent=agent, requester=customer))
    later = Survey.objects.create(case=solved_case(agent=agent, requester=customer), contact=customer,
                                  scheduled_for=START, created_at=START - dt.timedelta(days=40))  # fmt: skip
    answer_survey(token=token_of(survey), expectations="met", no_more_surveys=True)
    assert SurveyOptOut.objects.get().contact == customer
    later.refresh_from_db()
    assert (later.state, later.skip_reason) == (SurveyState.SKIPPED, SkipReason.OPTED_OUT)


def test_a_comment_complaining_about_surveys_opts_out(agent):
    survey = sent_survey(solved_case(agent=agent))
    answer_survey(token=token_of(survey), expectations="met", comment="Fine, but please stop sending me surveys.")
    assert SurveyOptOut.objects.filter(contact=survey.contact).exists()


def test_staff_opt_out_needs_a_reason_and_staff(agent, customer):
    contact = make_contact()
    with pytest.raises(DomainError) as excinfo:
        opt_out_of_surveys(actor=agent, contact=contact, reason="  ")
    assert excinfo.value.field == "reason"
    with pytest.raises(DomainError) as excinfo:
        opt_out_of_surveys(actor=customer, contact=contact, reason="no")
    assert excinfo.value.code == "permission_denied"
    assert not SurveyOptOut.objects.exists()


def test_attribution_is_who_worked_the_case_not_who_leads_the_team(agent):
    team = make_team()
    lead = make_agent(username="lead")
    add_member(team=team, user=lead, is_lead=True)
    survey = schedule_survey(case_id=solved_case(agent=agent, team=team).pk)
    assert survey is not None and list(survey.people.values_list("username", flat=True)) == ["agent"]


def test_fatigue_counts_a_survey_of_any_rule_not_only_the_same_rule(manager, agent):
    team = make_team("Doors")
    create_survey_rule(actor=manager, name="Doors only", team=team, questions=["nps"], fatigue_days=30)
    customer = make_contact()
    first = schedule_survey(case_id=solved_case(agent=agent, requester=customer, team=team).pk)
    second = schedule_survey(case_id=solved_case(agent=agent, requester=customer).pk)  # the general rule
    assert first is not None and second is not None and first.rule != second.rule
    assert (first.state, second.state, second.skip_reason) == (SurveyState.SCHEDULED, SurveyState.SKIPPED,
                                                               SkipReason.FATIGUE)  # fmt: skip


def test_a_case_that_came_by_sms_gets_the_one_click_survey_by_sms(agent):
    phone = IdentityInput(IdentityKind.PHONE, "+1 415 555 0102")
    texter = create_contact(actor=None, name="Tina Texter", identities=[phone])
    survey = sent_survey(solved_case(agent=agent, requester=texter, channel=Channel.SMS, reply=False))
    assert survey.channel == Channel.SMS and survey.message is not None
    assert survey.message.channel == Channel.SMS and survey.message.direction == Direction.OUTBOUND
    links = re.findall(r"http://127.0.0.1:8000/feedback/s/([^/\s]+)/(failed|met|exceeded)/", survey.message.body_text)
    assert sorted(choice for _, choice in links) == ["exceeded", "failed", "met"]  # one click answers from the SMS
    assert {read_token(token, purpose=Purpose.SURVEY) for token, _ in links} == {survey.pk}


def test_a_rules_delay_decides_when_its_survey_goes_out(manager, agent):
    team = make_team("Doors")
    create_survey_rule(actor=manager, name="Doors a day later", team=team, questions=["ces"], delay_minutes=24 * 60)
    case = solved_case(agent=agent, team=team)
    with clock.frozen_at(START):
        survey = schedule_survey(case_id=case.pk)
    assert survey is not None and survey.scheduled_for == START + dt.timedelta(days=1)
    with clock.frozen_at(START + dt.timedelta(hours=23, minutes=59)):
        assert send_due_surveys() == 0
    with clock.frozen_at(START + dt.timedelta(days=1)):
        assert send_due_surveys() == 1
    survey.refresh_from_db()
    assert survey.state == SurveyState.SENT and survey.questions == ["expectations", "ces"]
