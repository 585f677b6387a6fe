"""Survey results in the override review of the policies domain: the figures, the suggestion, the page and the API."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.test import Client, override_settings

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus
from caseloop.core import clock
from caseloop.feedback.choices import Expectation, SurveyState
from caseloop.feedback.models import Survey, SurveyAnswer
from caseloop.policies import outcomes
from caseloop.policies.selectors import override_review
from caseloop.policies.tests.support import reply_first_rule
from caseloop.promises.tests.support import T0
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_agent, make_case

pytestmark = pytest.mark.django_db

REASON = "Checked with the customer on the phone that it works."
SINCE, UNTIL = T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1)


def answer(case, expectations, ces=None, *, state=SurveyState.ANSWERED):
    survey = Survey.objects.create(
        case=case, contact=case.requester, state=state, scheduled_for=T0, created_at=T0, sent_at=T0
    )
    SurveyAnswer.objects.create(survey=survey, expectations=expectations, ces=ces, answered_at=T0, updated_at=T0)


def overridden_and_comparable(manager, n=6):
    """n cases solved by overriding a guideline, n comparable ones solved without; none came back."""
    reply_first_rule(manager)
    agent = make_agent(display_name="Ann")
    with clock.frozen_at(T0):
        overridden = [make_case() for _ in range(n)]
        comparable = [make_case() for _ in range(n)]
    with clock.frozen_at(T0 + dt.timedelta(hours=1)):
        for case in overridden:
            change_status(actor=agent, case=case, status=CaseStatus.SOLVED, override_reason=REASON)
        for case in comparable:
            change_status(actor=None, case=case, status=CaseStatus.SOLVED)  # the system is not put to the rules
    return overridden, comparable


def surveyed(manager):
    overridden, comparable = overridden_and_comparable(manager)
    for i, case in enumerate(overridden):  # 5 of 6 met or exceeded, effort 2 throughout
        answer(case, Expectation.FAILED if i == 0 else Expectation.EXCEEDED if i % 2 else Expectation.MET, ces=2)
    for i, case in enumerate(comparable):  # 4 of 6, effort 3 and 4 (two answers without one)
        answer(case, Expectation.FAILED if i < 2 else Expectation.MET, ces=(3, 4, None, None, 3, 4)[i])
    return overridden, comparable


@override_settings(CASELOOP_OVERRIDE_REVIEW_MIN=5)
def test_survey_results_beside_the_reopen_rate_and_the_suggestion(manager):
    overridden, _ = surveyed(manager)
    # neither an unanswered headline nor a survey still waiting counts
    with clock.frozen_at(T0):
        unanswered, waiting = make_case(), make_case()  # comparable cases too
    answer(unanswered, None, ces=1)
    answer(waiting, Expectation.FAILED, ces=7, state=SurveyState.SENT)
    [review] = override_review(manager, since=SINCE, until=UNTIL)
    ours, others = review.overridden.surveys, review.comparable.surveys
    assert ours is not None and others is not None
    assert (ours.answered, ours.met_or_exceeded, ours.met_rate, ours.mean_ces) == (6, 5, 5 / 6, 2.0)
    assert (others.answered, others.met_or_exceeded, others.mean_ces) == (6, 4, 3.5)
    assert review.suggestion == (
        "Overridden 6 times, and those cases came back no more often than comparable ones (0% vs 0% reopened) "
        "and met customers' expectations at least as often (expectations met or exceeded: 83% of 6 answers vs "
        "67% of 6 answers): consider relaxing or retiring this guideline."
    )
    # the overridden cases disappoint more often: no suggestion to relax it
    SurveyAnswer.objects.filter(survey__case__in=overridden[1:4]).update(expectations=Expectation.FAILED)
    [worse] = override_review(manager, since=SINCE, until=UNTIL)
    assert worse.overridden.surveys is not None and worse.overridden.surveys.met_or_exceeded == 2
    assert worse.suggestion == (
        "Overridden 6 times; those cases came back no more often (0% vs 0% reopened) but met customers' "
        "expectations less often (expectations met or exceeded: 33% of 6 answers vs 67% of 6 answers): "
        "keep the guideline and read the answers."
    )


@override_settings(CASELOOP_OVERRIDE_REVIEW_MIN=5)
def test_too_few_answers_are_not_a_survey_comparison(manager):
    overridden, comparable = overridden_and_comparable(manager)
    for case in overridden[:4]:
        answer(case, Expectation.EXCEEDED, ces=1)
    for case in comparable:
        answer(case, Expectation.FAILED, ces=7)
    [review] = override_review(manager, since=SINCE, until=UNTIL)
    assert review.overridden.surveys is not None and review.overridden.surveys.answered == 4
    assert review.suggestion == (
        "Overridden 6 times, and those cases came back no more often than comparable ones (0% vs 0% reopened): "
        "consider relaxing or retiring this guideline. The survey comparison is not yet meaningful (4 answered "
        "on overridden cases, 6 on comparable ones; 5 needed on each side)."
    )


@override_settings(CASELOOP_OVERRIDE_REVIEW_MIN=5)
def test_without_a_provider_the_review_is_the_reopen_rate_alone(manager, monkeypatch):
    surveyed(manager)
    monkeypatch.setattr(outcomes, "_provider", [])
    [review] = override_review(manager, since=SINCE, until=UNTIL)
    assert review.overridden.surveys is None and review.comparable.surveys is None
    assert review.suggestion == (
        "Overridden 6 times, and those cases came back no more often than comparable ones (0% vs 0% reopened): "
        "consider relaxing or retiring this guideline."
    )
    api = ApiClient(manager).get("/overrides/review", {"since": SINCE.isoformat(), "until": UNTIL.isoformat()})
    assert api.json()[0]["overridden"]["surveys"] is None


@override_settings(CASELOOP_OVERRIDE_REVIEW_MIN=5)
def test_the_page_and_the_api_show_the_same_figures(manager):
    surveyed(manager)
    [body] = (
        ApiClient(manager).get("/overrides/review", {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}).json()
    )
    assert body["overridden"]["surveys"] == {"answered": 6, "met_or_exceeded": 5, "met_rate": 5 / 6, "mean_ces": 2.0}
    assert body["comparable"]["surveys"] == {"answered": 6, "met_or_exceeded": 4, "met_rate": 4 / 6, "mean_ces": 3.5}
    client = Client()
    client.force_login(manager)
    with clock.frozen_at(T0 + dt.timedelta(hours=2)):
        page = html.unescape(client.get("/policies/review/", {"days": "7"}).content.decode())
    assert "overridden 5 of 6 answered, mean effort 2.0 · comparable 4 of 6 answered, mean effort 3.5" in page
    assert body["suggestion"] in page and "83% of 6 answers vs 67% of 6 answers" in body["suggestion"]
