"""The pages: the customer's survey and follow-up pages (no sign-in), and the staff's work, recognition and rules."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.customers.actions import create_asset
from caseloop.feedback.actions import answer_survey, create_follow_up_rule, recognise_survey, schedule_follow_up
from caseloop.feedback.choices import Expectation, FollowUpState, ThankYouState
from caseloop.feedback.models import FollowUp, FollowUpRule, SurveyAnswer, SurveyOptOut, SurveyRule, ThankYou
from caseloop.feedback.tests.factories import START, sent_survey, solved_case, token_of
from caseloop.feedback.tokens import Purpose, make_token
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db


# --- the customer's survey page -------------------------------------------------------------------------------
def test_one_click_records_and_opens_the_page_for_the_rest(agent):
    survey = sent_survey(solved_case(agent=agent))
    token = token_of(survey)
    client = Client()
    response = client.get(reverse("feedback:survey_click", kwargs={"token": token, "choice": "met"}))
    assert response.status_code == 302 and response["Location"] == reverse("feedback:survey", kwargs={"token": token})
    assert SurveyAnswer.objects.get().expectations == Expectation.MET
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="met" checked' in html and 'name="nps"' in html and 'name="comment"' in html
    assert "Content-Security-Policy" in page


def test_a_head_request_from_a_link_checker_records_nothing(agent):
    survey = sent_survey(solved_case(agent=agent))
    response = Client().head(reverse("feedback:survey_click", kwargs={"token": token_of(survey), "choice": "met"}))
    assert response.status_code == 405 and SurveyAnswer.objects.count() == 0


def test_the_page_saves_the_answer_and_thanks(agent):
    survey = sent_survey(solved_case(agent=agent))
    url = reverse("feedback:survey", kwargs={"token": token_of(survey)})
    client = Client(enforce_csrf_checks=True)
    client.get(url)
    csrf = client.cookies["csrftoken"].value
    response = client.post(url, {"expectations": "exceeded", "ces": "7", "csat": "5", "nps": "10",
                                 "comment": "Superb", "csrfmiddlewaretoken": csrf})  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    answer = SurveyAnswer.objects.get()
    assert (answer.expectations, answer.ces, answer.csat, answer.nps, answer.comment) == ("exceeded", 7, 5, 10,
                                                                                          "Superb")  # fmt: skip
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_the_page_shows_a_refusal_and_keeps_nothing(agent):
    survey = sent_survey(solved_case(agent=agent))
    response = Client().post(reverse("feedback:survey", kwargs={"token": token_of(survey)}), {"nps": "9"})
    assert response.status_code == 422
    assert "Please say whether we met your expectations." in response.content.decode()
    assert SurveyAnswer.objects.count() == 0


def test_a_long_comment_in_paragraphs_is_saved_as_the_browser_allowed_it(agent):
    """A textarea counts a line break as one character for maxlength=5000 but sends it as CRLF."""
    survey = sent_survey(solved_case(agent=agent))
    comment = "\r\n".join(["x" * 99] * 50)  # 4,999 characters in the browser, 5,048 as posted
    response = Client().post(reverse("feedback:survey", kwargs={"token": token_of(survey)}),
                             {"expectations": "met", "comment": comment})  # fmt: skip
    assert response.status_code == 302
    assert SurveyAnswer.objects.get().comment == "\n".join(["x" * 99] * 50)


def test_a_refused_answer_keeps_what_the_customer_typed_on_the_page(agent):
    survey = sent_survey(solved_case(agent=agent))
    url = reverse("feedback:survey", kwargs={"token": token_of(survey)})
    Client().post(url, {"expectations": "met", "nps": "3", "comment": "First thoughts"})
    typed = "It took three calls <b>and</b> a visit. " * 130  # over 5,000 characters
    response = Client().post(url, {"expectations": "failed", "nps": "1", "ces": "2", "comment": typed})
    html = response.content.decode()
    assert response.status_code == 422 and "at most 5000 characters" in html
    assert html.count("It took three calls &lt;b&gt;and&lt;/b&gt; a visit.") == 130  # escaped, not lost
    for name, value in (("expectations", "failed"), ("nps", "1"), ("ces", "2")):
        assert f'name="{name}" value="{value}" checked' in html, name
    assert 'name="nps" value="3" checked' not in html
    answer = SurveyAnswer.objects.get()
    assert (answer.expectations, answer.nps, answer.comment) == ("met", 3, "First thoughts")  # unchanged
    # without a headline in the post, the one already given stays chosen
    html = Client().post(url, {"nps": "9", "comment": typed}).content.decode()
    assert 'name="expectations" value="met" checked' in html and 'name="nps" value="9" checked' in html


def test_the_no_more_surveys_box(agent):
    survey = sent_survey(solved_case(agent=agent))
    Client().post(reverse("feedback:survey", kwargs={"token": token_of(survey)}),
                  {"expectations": "met", "no_more_surveys": "on"})  # fmt: skip
    assert SurveyOptOut.objects.filter(contact=survey.contact).exists()


def test_an_expired_link_says_so(agent):
    survey = sent_survey(solved_case(agent=agent))
    now = dt.datetime.now(dt.UTC).timestamp()
    with mock.patch("django.core.signing.time.time", return_value=now - 31 * 86400):
        token = token_of(survey)
    for url in (reverse("feedback:survey", kwargs={"token": token}),
                reverse("feedback:survey_click", kwargs={"token": token, "choice": "met"})):  # fmt: skip
        response = Client().get(url)
        assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert SurveyAnswer.objects.count() == 0


def test_a_forged_link_is_not_found(agent):
    response = Client().get(reverse("feedback:survey", kwargs={"token": "eyJpZCI6MX0:1abc:forged"}))
    assert response.status_code == 404 and "This link does not work" in response.content.decode()


# --- the follow-up page ------------------------------------------------------------------------------------------
@pytest.fixture
def asked(agent, manager):
    create_follow_up_rule(actor=manager, name="Repairs", delay_hours=72)
    case = solved_case(agent=agent, asset=create_asset(actor=None, name="Door"))
    with clock.frozen_at(START):
        follow_up = schedule_follow_up(case_id=case.pk)
    assert follow_up is not None
    from caseloop.feedback.actions import send_follow_up

    with clock.frozen_at(START + dt.timedelta(days=3)):
        send_follow_up(follow_up_id=follow_up.pk)
    return follow_up


def test_opening_the_no_link_changes_nothing_until_confirmed(asked):
    token = make_token(purpose=Purpose.FOLLOW_UP, ident=asked.pk)
    url = reverse("feedback:follow_up_answer", kwargs={"token": token, "answer": "no"})
    page = Client().get(url)
    assert page.status_code == 200 and "No, it does not work" in page.content.decode()
    assert FollowUp.objects.get().state == FollowUpState.SENT
    assert Case.objects.get(pk=asked.case_id).status == CaseStatus.SOLVED
    done = Client().post(url, {"answer": "no"})
    assert done.status_code == 200 and "back in front of our team" in done.content.decode()
    assert FollowUp.objects.get().state == FollowUpState.NOT_HELD
    assert Case.objects.get(pk=asked.case_id).status == CaseStatus.OPEN


def test_an_unknown_follow_up_answer_is_not_found(asked):
    token = make_token(purpose=Purpose.FOLLOW_UP, ident=asked.pk)
    url = reverse("feedback:follow_up_answer", kwargs={"token": token, "answer": "maybe"})
    assert Client().post(url, {"answer": "no"}).status_code == 404
    assert FollowUp.objects.get().state == FollowUpState.SENT


# --- the customer's pages wear the portal's look, not the workspace's --------------------------------------------
def _in_the_portal_layout(html: str) -> None:
    """The installation's own name and the portal's layout; no caseloop brand, workspace nav or shortcuts."""
    assert '<body class="portal">' in html and "Acme Doors</a>" in html and "· Acme Doors</title>" in html
    assert "caseloop" not in html.replace("/static/", "")  # static paths aside, the staff brand is nowhere
    for staff_only in ('class="topbar"', 'aria-label="Main"', 'id="shortcuts"', "data-open-shortcuts", "/inbox/",
                       'role="search"', "auth-card"):  # fmt: skip
        assert staff_only not in html, staff_only


@override_settings(CASELOOP_PORTAL_NAME="Acme Doors")
def test_the_survey_and_its_answers_are_in_the_portal_layout(agent):
    survey = sent_survey(solved_case(agent=agent))
    token = token_of(survey)
    client = Client()
    url = reverse("feedback:survey", kwargs={"token": token})
    page = client.get(reverse("feedback:survey_click", kwargs={"token": token, "choice": "met"}), follow=True)
    _in_the_portal_layout(page.content.decode())
    assert 'value="met" checked' in page.content.decode()
    refused = client.post(url, {"expectations": "crafted", "comment": "Kept as typed"})
    assert refused.status_code == 422 and "Kept as typed</textarea>" in refused.content.decode()
    _in_the_portal_layout(refused.content.decode())
    sent = client.post(url, {"expectations": "met"}, follow=True)
    assert "Thank you" in sent.content.decode()
    _in_the_portal_layout(sent.content.decode())
    forged = client.get(reverse("feedback:survey", kwargs={"token": "eyJpZCI6MX0:1abc:forged"}))
    assert forged.status_code == 404 and "This link does not work" in forged.content.decode()
    _in_the_portal_layout(forged.content.decode())


@override_settings(CASELOOP_PORTAL_NAME="Acme Doors")
def test_the_follow_up_pages_are_in_the_portal_layout(asked):
    url = reverse("feedback:follow_up_answer",
                  kwargs={"token": make_token(purpose=Purpose.FOLLOW_UP, ident=asked.pk), "answer": "yes"})  # fmt: skip
    page = Client().get(url)
    assert "Yes, it holds" in page.content.decode()
    _in_the_portal_layout(page.content.decode())
    done = Client().post(url, {"answer": "yes"})
    assert "holds." in done.content.decode()
    _in_the_portal_layout(done.content.decode())


# --- staff pages -------------------------------------------------------------------------------------------------
def _praised_case(agent):
    survey = sent_survey(solved_case(agent=agent))
    answer_survey(token=token_of(survey), expectations="exceeded", nps=10, comment="Wonderful people")
    recognise_survey(survey_id=survey.pk)
    return survey


def test_work_page_lists_the_thank_you_with_a_draft_and_sends_it(agent):
    survey = _praised_case(agent)
    client = signed_in(agent)
    page = client.get(reverse("feedback:work")).content.decode()
    assert "Wonderful people" in page and "I have passed them on to agent" in page
    thank_you = ThankYou.objects.get()
    response = client.post(reverse("feedback:send_thank_you", args=[thank_you.pk]), {"body": "Thank you! Agent"})
    assert response.status_code == 302
    thank_you.refresh_from_db()
    assert thank_you.state == ThankYouState.SENT and thank_you.reply is not None
    assert thank_you.reply.case_id == survey.case_id


def test_an_empty_thank_you_is_refused_with_its_message(agent):
    _praised_case(agent)
    thank_you = ThankYou.objects.get()
    response = signed_in(agent).post(reverse("feedback:send_thank_you", args=[thank_you.pk]), {"body": ""})
    assert response.status_code == 422 and "body" in response.content.decode()
    assert ThankYou.objects.get().state == ThankYouState.DUE


def test_customers_and_visitors_get_no_staff_page(agent, customer):
    assert Client().get(reverse("feedback:work")).status_code == 302
    assert signed_in(customer).get(reverse("feedback:work")).status_code == 403


def test_recognition_page_is_for_managers(agent, manager):
    _praised_case(agent)
    page = signed_in(manager).get(reverse("feedback:recognition"))
    assert page.status_code == 200 and "agent" in page.content.decode()
    assert signed_in(agent).get(reverse("feedback:recognition")).status_code == 403
    person = signed_in(agent).get(reverse("feedback:person", args=[agent.pk]))
    assert person.status_code == 200 and "Wonderful people" in person.content.decode()


def test_managers_add_and_switch_rules(manager, agent):
    client = signed_in(manager)
    assert client.get(reverse("feedback:rules")).status_code == 200
    client.post(reverse("feedback:rules"), {"kind": "survey", "name": "Quick", "questions": ["nps"],
                                            "delay_minutes": "10", "fatigue_days": "60"})  # fmt: skip
    rule = SurveyRule.objects.get(name="Quick")
    assert (rule.questions, rule.delay_minutes, rule.fatigue_days) == (["expectations", "nps"], 10, 60)
    client.post(reverse("feedback:survey_rule_active", args=[rule.pk]), {})
    rule.refresh_from_db()
    assert rule.is_active is False
    client.post(reverse("feedback:rules"), {"kind": "follow_up", "name": "Springs", "delay_hours": "48",
                                            "method": "call", "tags": "spring, motor",
                                            "needs_asset": "on"})  # fmt: skip
    follow_rule = FollowUpRule.objects.get()
    assert (follow_rule.method, follow_rule.tags, follow_rule.needs_asset) == ("call", ["motor", "spring"], True)
    assert signed_in(agent).post(reverse("feedback:rules"), {"kind": "survey", "name": "x", "delay_minutes": "1",
                                                             "fatigue_days": "1"}).status_code == 403  # fmt: skip
    assert SurveyRule.objects.filter(name="x").count() == 0
