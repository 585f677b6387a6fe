"""Pages of the feedback domain: the customer's public survey and follow-up pages, and the staff's work pages.

The public pages need no sign-in: the signed token in the link is the
permission, and it names one survey or follow-up. Each view parses, calls one
action or selector, and renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.core import clock
from caseloop.core.errors import DomainError, Invalid, NotFound
from caseloop.feedback import actions, selectors
from caseloop.feedback.choices import Expectation, FollowUpState, Question, SurveyState
from caseloop.feedback.forms import (
    ActiveForm,
    CallResultForm,
    FollowUpAnswerForm,
    FollowUpRuleForm,
    PhoneThanksForm,
    SurveyForm,
    SurveyRuleForm,
    ThankYouForm,
)
from caseloop.feedback.models import FollowUpRule, SurveyAnswer
from caseloop.feedback.texts import thank_you_draft
from caseloop.identity.access import StaffRequest, manager_page, staff_page
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import teams


def _parsed(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise Invalid(f"{field.replace('_', ' ')}: {errors[0]}", field=field)
    return form.cleaned_data


@dataclass(frozen=True, slots=True)
class Typed:
    """What the customer posted, shown again above a refusal so nothing they typed or chose is lost."""

    expectations: str
    ces: int | None
    csat: int | None
    nps: int | None
    comment: str
    clicks_conflicted: bool = False

    @classmethod
    def from_post(cls, post: QueryDict, stored: SurveyAnswer | None) -> Typed:
        def score(name: str) -> int | None:
            raw = post.get(name, "")
            return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else None

        comment = post.get("comment", "").replace("\r\n", "\n")
        # the headline a click gave stays chosen when the page did not change it
        headline = post.get("expectations") or (stored.expectations if stored is not None else None) or ""
        return cls(expectations=headline, ces=score("ces"), csat=score("csat"), nps=score("nps"),
                   comment=comment)  # fmt: skip


def _public_error(request: HttpRequest, error: DomainError) -> HttpResponseBase:
    return render(request, "feedback/public_error.html", {"error": error}, status=error.status)


# --- the customer's pages ----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponseBase:
    """The rest of the survey after the one click (or the whole of it), and the thanks after sending."""
    try:
        survey = selectors.survey_from_token(token)
    except DomainError as unusable:
        return _public_error(request, unusable)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            data = _parsed(SurveyForm(request.POST))
            actions.answer_survey(token=token, expectations=data["expectations"] or None, ces=data["ces"],
                                  csat=data["csat"], nps=data["nps"], comment=data["comment"],
                                  no_more_surveys=data["no_more_surveys"])  # fmt: skip
            return redirect(f"{reverse('feedback:survey', kwargs={'token': token})}?sent=1")
        except DomainError as refused:
            error = refused  # shown above the form
        survey = selectors.survey_from_token(token)
    answer: SurveyAnswer | Typed | None = getattr(survey, "answer", None)
    if error is not None:  # the form again as they filled it, not as it was stored
        answer = Typed.from_post(request.POST, answer if isinstance(answer, SurveyAnswer) else None)
    context = {
        "survey": survey, "answer": answer, "token": token, "error": error, "sent": request.GET.get("sent") == "1",
        "closed": survey.state not in (SurveyState.SENT, SurveyState.ANSWERED),
        "choices": [Expectation.EXCEEDED, Expectation.MET, Expectation.FAILED],
        "asks": {q: q in survey.questions for q in Question.values},
        "ces_scale": range(1, 8), "csat_scale": range(1, 6), "nps_scale": range(11),
    }  # fmt: skip
    return render(request, "feedback/survey.html", context, status=error.status if error else 200)


@require_GET
def survey_click(request: HttpRequest, token: str, choice: str) -> HttpResponseBase:
    """One click in the survey message answers the headline question, then opens the page for the rest."""
    try:
        actions.record_click(token=token, choice=choice)
    except DomainError as error:
        return _public_error(request, error)
    return redirect("feedback:survey", token=token)


@require_http_methods(["GET", "POST"])
def follow_up_answer(request: HttpRequest, token: str, answer: str) -> HttpResponseBase:
    """ "Did the fix hold?": the link opens a confirmation, and the button records it.

    A GET never reopens a case: mail scanners open every link in a message,
    and a "no" they followed would put a working fix back in the queue.
    """
    try:
        follow_up = selectors.follow_up_from_token(token)
        if answer not in ("yes", "no"):
            raise NotFound("Answer", answer)
        if request.method == "POST":
            held = _parsed(FollowUpAnswerForm(request.POST))["answer"] == "yes"
            follow_up = actions.answer_follow_up_link(token=token, held=held)
            return render(request, "feedback/follow_up_done.html", {"follow_up": follow_up, "held": held})
    except DomainError as error:
        return _public_error(request, error)
    if follow_up.state in (FollowUpState.HELD, FollowUpState.NOT_HELD):
        return render(request, "feedback/follow_up_done.html",
                      {"follow_up": follow_up, "held": follow_up.state == FollowUpState.HELD})  # fmt: skip
    return render(request, "feedback/follow_up.html", {"follow_up": follow_up, "answer": answer, "token": token})


# --- staff: follow-up calls, thank-yous, notices -------------------------------------------------------------------
@require_GET
@staff_page
def work(request: StaffRequest) -> HttpResponseBase:
    """What feedback asks of the signed-in person: calls to make, customers to thank, praise to read."""
    user = request.user
    thank_yous = list(selectors.thank_yous_due(user)[:100])
    praised = selectors.praised_names(thank_yous)
    owed = [{"thank_you": t, "praised": praised.get(t.pk, []),
             "draft": thank_you_draft(contact=t.contact, names=praised.get(t.pk, []), author=user.name)}
            for t in thank_yous]  # fmt: skip
    return render(request, "feedback/work.html", {
        "calls": list(selectors.calls_due(user)[:100]),
        "thank_yous": owed,
        "notices": list(selectors.unread_notices(user)[:50]),
        "now": clock.now(),
    })  # fmt: skip


def _back_to_work(request: StaffRequest, text: str) -> HttpResponseBase:
    messages.success(request, text)
    return redirect("feedback:work")


@require_POST
@staff_page
def record_call(request: StaffRequest, follow_up_id: int) -> HttpResponseBase:
    data = _parsed(CallResultForm(request.POST))
    follow_up = selectors.access_follow_up(request.user, follow_up_id)
    follow_up = actions.record_follow_up_call(actor=request.user, follow_up=follow_up, held=data["held"],
                                              note=data["note"])  # fmt: skip
    if data["held"]:
        return _back_to_work(request, f"Recorded: the fix on {follow_up.case.number} held.")
    where = follow_up.new_case.number if follow_up.new_case else follow_up.case.number
    return _back_to_work(request, f"Recorded: the fix did not hold; {where} is open for the team.")


@require_POST
@staff_page
def send_thank_you(request: StaffRequest, thank_you_id: int) -> HttpResponseBase:
    data = _parsed(ThankYouForm(request.POST))
    thank_you = selectors.access_thank_you(request.user, thank_you_id)
    thank_you = actions.send_thank_you(actor=request.user, thank_you=thank_you, body=data["body"])
    return _back_to_work(request, f"Thank-you sent to {thank_you.contact.name}.")


@require_POST
@staff_page
def thanked_by_phone(request: StaffRequest, thank_you_id: int) -> HttpResponseBase:
    data = _parsed(PhoneThanksForm(request.POST))
    thank_you = selectors.access_thank_you(request.user, thank_you_id)
    thank_you = actions.record_thanked_by_phone(actor=request.user, thank_you=thank_you, note=data["note"])
    return _back_to_work(request, f"Recorded: {thank_you.contact.name} was thanked by phone.")


@require_POST
@staff_page
def notices_read(request: StaffRequest) -> HttpResponseBase:
    actions.mark_notices_read(actor=request.user)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("feedback:work")


# --- recognition ------------------------------------------------------------------------------------------------------
@require_GET
@manager_page
def recognition(request: StaffRequest) -> HttpResponseBase:
    """Managers: kudos per person per month, with the newest praise."""
    months, people = selectors.recognition_by_person(request.user, months=6)
    busiest = max((max(p.per_month) for p in people), default=0) or 1
    rows = [{"person": p, "cells": [(n, round(100 * n / busiest)) for n in p.per_month]} for p in people]
    return render(request, "feedback/recognition.html", {
        "months": months, "rows": rows, "notices": list(selectors.unread_notices(request.user)[:50]),
    })  # fmt: skip


@require_GET
@staff_page
def person_kudos(request: StaffRequest, user_id: int) -> HttpResponseBase:
    person = User.objects.filter(pk=user_id).first()
    if person is None or not person.is_staff_member:
        raise NotFound("Person", user_id)
    kudos = list(selectors.kudos_of(request.user, person)[:200])
    return render(request, "feedback/person.html", {"person": person, "kudos": kudos})


# --- rules ----------------------------------------------------------------------------------------------------------
def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound("Team", team_id)
    return team


@require_http_methods(["GET", "POST"])
@manager_page
def rules(request: StaffRequest) -> HttpResponseBase:
    """Survey and follow-up rules: the list, and a form to add each kind."""
    if request.method == "POST":
        kind = request.POST.get("kind")
        if kind == "survey":
            data = _parsed(SurveyRuleForm(request.POST))
            rule = actions.create_survey_rule(actor=request.user, name=data["name"], questions=data["questions"],
                                              delay_minutes=data["delay_minutes"], fatigue_days=data["fatigue_days"],
                                              team=_team(data["team"]), channels=data["channels"])  # fmt: skip
            messages.success(request, f"Survey rule “{rule.name}” added.")
        elif kind == "follow_up":
            data = _parsed(FollowUpRuleForm(request.POST))
            tags = [t for t in data["tags"].replace(",", " ").split() if t]
            follow_rule = actions.create_follow_up_rule(
                actor=request.user, name=data["name"], delay_hours=data["delay_hours"], method=data["method"],
                team=_team(data["team"]), tags=tags, needs_asset=data["needs_asset"])  # fmt: skip
            messages.success(request, f"Follow-up rule “{follow_rule.name}” added.")
        else:
            raise Invalid("Say which kind of rule to add.", field="kind")
        return redirect("feedback:rules")
    return render(request, "feedback/rules.html", {
        "survey_rules": list(selectors.survey_rules(request.user)),
        "follow_up_rules": list(selectors.follow_up_rules(request.user)),
        "counts": selectors.survey_counts(request.user),
        "teams": teams(), "questions": Question.choices,
    })  # fmt: skip


@require_POST
@manager_page
def survey_rule_active(request: StaffRequest, rule_id: int) -> HttpResponseBase:
    rule = selectors.survey_rules(request.user).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("Survey rule", rule_id)
    active = _parsed(ActiveForm(request.POST))["is_active"]
    actions.update_survey_rule(actor=request.user, rule=rule, is_active=active)
    messages.success(request, f"“{rule.name}” is {'on' if active else 'off'}.")
    return redirect("feedback:rules")


@require_POST
@manager_page
def follow_up_rule_active(request: StaffRequest, rule_id: int) -> HttpResponseBase:
    rule: FollowUpRule | None = selectors.follow_up_rules(request.user).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("Follow-up rule", rule_id)
    active = _parsed(ActiveForm(request.POST))["is_active"]
    actions.set_follow_up_rule_active(actor=request.user, rule=rule, is_active=active)
    messages.success(request, f"“{rule.name}” is {'on' if active else 'off'}.")
    return redirect("feedback:rules")
