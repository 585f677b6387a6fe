"""Surveys, rules, follow-ups, kudos and thank-yous through the REST API: parse, call one action or selector, answer.

The customer's side (answering a survey, saying whether a fix held) is not
here: it is the public pages reached by signed links (views.py).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from caseloop.cases.selectors import access_case, parse_case_number
from caseloop.core.errors import NotFound
from caseloop.core.pagination import Page, PageOut, page_of
from caseloop.core.schemas import MAX_ID
from caseloop.customers.selectors import access_contact
from caseloop.feedback import actions, selectors
from caseloop.feedback.models import FollowUp, Kudos, Survey, SurveyOptOut, SurveyRule, ThankYou
from caseloop.feedback.schemas import (
    CallResultIn,
    FollowUpOut,
    FollowUpQuery,
    KudosOut,
    KudosQuery,
    OptOutIn,
    OptOutOut,
    PhoneThanksIn,
    SurveyListQuery,
    SurveyOut,
    SurveyRuleIn,
    SurveyRuleOut,
    SurveyRulePatch,
    ThankYouIn,
    ThankYouOut,
)
from caseloop.identity.api import actor_of
from caseloop.identity.models import Team, User

router = Router(tags=["feedback"])


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound("Team", team_id)
    return team


@router.get("/feedback/surveys", response=list[SurveyOut],
            description="The surveys of one case, newest first, with their answers (staff).")  # fmt: skip
def list_surveys(request: HttpRequest, params: Query[SurveyListQuery]) -> list[Survey]:
    actor = actor_of(request)
    case_id = parse_case_number(params.case)
    if case_id is None or not 1 <= case_id <= MAX_ID:
        raise NotFound("Case", params.case)
    case = access_case(actor, case_id)
    return list(selectors.surveys_of_case(actor, case).prefetch_related("credits"))


@router.get("/feedback/survey-rules", response=list[SurveyRuleOut], description="Managers and administrators.")
def list_survey_rules(request: HttpRequest) -> list[SurveyRule]:
    return list(selectors.survey_rules(actor_of(request)))


@router.post("/feedback/survey-rules", response={201: SurveyRuleOut}, description="Managers and administrators.")
def create_survey_rule(request: HttpRequest, payload: SurveyRuleIn) -> Status[SurveyRule]:
    rule = actions.create_survey_rule(
        actor=actor_of(request), name=payload.name, questions=[q.value for q in payload.questions],
        delay_minutes=payload.delay_minutes, fatigue_days=payload.fatigue_days, team=_team(payload.team),
        channels=[c.value for c in payload.channels], is_active=payload.is_active,
    )  # fmt: skip
    return Status(201, rule)


@router.patch("/feedback/survey-rules/{rule_id}", response=SurveyRuleOut,
              description="Change a rule; absent fields stay as they are.")  # fmt: skip
def patch_survey_rule(request: HttpRequest, rule_id: int, payload: SurveyRulePatch) -> SurveyRule:
    actor = actor_of(request)
    rule = selectors.survey_rules(actor).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("Survey rule", rule_id)
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True, exclude_none=True)
    return actions.update_survey_rule(actor=actor, rule=rule, **changes)


@router.get("/feedback/follow-ups", response=PageOut[FollowUpOut],
            description="Follow-ups newest first, optionally in one state (e.g. call_due: calls to make).")  # fmt: skip
def list_follow_ups(request: HttpRequest, params: Query[FollowUpQuery]) -> Page[FollowUp]:
    states = [params.state.value] if params.state else []
    return page_of(selectors.follow_ups_of(actor_of(request), states=states), cursor=params.cursor,
                   limit=params.limit)  # fmt: skip


@router.post("/feedback/follow-ups/{follow_up_id}/call", response=FollowUpOut,
             description="What the customer said on the follow-up call; false reopens the case.")  # fmt: skip
def record_call(request: HttpRequest, follow_up_id: int, payload: CallResultIn) -> FollowUp:
    actor = actor_of(request)
    follow_up = selectors.access_follow_up(actor, follow_up_id)
    return actions.record_follow_up_call(actor=actor, follow_up=follow_up, held=payload.held, note=payload.note)


@router.get("/feedback/kudos", response=PageOut[KudosOut], description="A person's kudos, newest first (staff).")
def list_kudos(request: HttpRequest, params: Query[KudosQuery]) -> Page[Kudos]:
    actor = actor_of(request)
    person = User.objects.filter(pk=params.user).first()
    if person is None:
        raise NotFound("User", params.user)
    return page_of(selectors.kudos_of(actor, person), cursor=params.cursor, limit=params.limit)


@router.get("/feedback/thank-yous", response=list[ThankYouOut],
            description="Thank-yous still owed: yours (a manager's: everyone's), soonest due first.")  # fmt: skip
def list_thank_yous(request: HttpRequest) -> list[ThankYou]:
    return list(selectors.thank_yous_due(actor_of(request))[:200])


@router.post("/feedback/thank-yous/{thank_you_id}/send", response=ThankYouOut,
             description="Thank the customer with a message on the case.")  # fmt: skip
def send_thank_you(request: HttpRequest, thank_you_id: int, payload: ThankYouIn) -> ThankYou:
    actor = actor_of(request)
    thank_you = selectors.access_thank_you(actor, thank_you_id)
    return actions.send_thank_you(actor=actor, thank_you=thank_you, body=payload.body)


@router.post("/feedback/thank-yous/{thank_you_id}/phone", response=ThankYouOut,
             description="Record that the customer was thanked by phone.")  # fmt: skip
def thanked_by_phone(request: HttpRequest, thank_you_id: int, payload: PhoneThanksIn) -> ThankYou:
    actor = actor_of(request)
    thank_you = selectors.access_thank_you(actor, thank_you_id)
    return actions.record_thanked_by_phone(actor=actor, thank_you=thank_you, note=payload.note)


@router.post("/feedback/opt-outs", response={201: OptOutOut},
             description="Send a customer no more surveys (they asked, or complained about them).")  # fmt: skip
def opt_out(request: HttpRequest, payload: OptOutIn) -> Status[SurveyOptOut]:
    actor = actor_of(request)
    contact = access_contact(actor, payload.contact)
    return Status(201, actions.opt_out_of_surveys(actor=actor, contact=contact, reason=payload.reason))
