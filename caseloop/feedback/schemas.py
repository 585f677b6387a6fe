"""What the API takes and gives for surveys, rules, follow-ups, kudos and thank-yous."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints

from caseloop.cases.choices import Channel
from caseloop.core.schemas import NO_NUL, Id, InSchema, OutSchema, Text
from caseloop.feedback.choices import (
    Expectation,
    FollowUpMethod,
    FollowUpState,
    KudosSource,
    Question,
    SkipReason,
    SurveyState,
    ThankYouState,
)


class AnswerOut(OutSchema):
    expectations: Expectation | None
    ces: int | None = Field(description="customer effort, 1 (very hard) to 7 (very easy)")
    csat: int | None = Field(description="satisfaction, 1 to 5")
    nps: int | None = Field(description="likelihood to recommend, 0 to 10")
    comment: str
    answered_at: dt.datetime
    updated_at: dt.datetime


class SurveyOut(OutSchema):
    id: int
    case_id: int
    contact_id: int
    state: SurveyState
    skip_reason: SkipReason | None
    channel: Channel | None
    questions: list[Question]
    scheduled_for: dt.datetime
    sent_at: dt.datetime | None
    team_id: int | None = Field(description="the team that worked the case when it was solved")
    people: list[int] = Field(description="ids of the people who worked the case: the answer is theirs")
    answer: AnswerOut | None

    @staticmethod
    def resolve_skip_reason(obj: Any) -> str | None:
        return obj.skip_reason or None

    @staticmethod
    def resolve_channel(obj: Any) -> str | None:
        return obj.channel or None

    @staticmethod
    def resolve_people(obj: Any) -> list[int]:
        return sorted(credit.user_id for credit in obj.credits.all())

    @staticmethod
    def resolve_answer(obj: Any) -> Any:
        return getattr(obj, "answer", None)


class SurveyListQuery(Schema):
    case: str = Field(description="the case: its id or number (CL-10234)")


class SurveyRuleOut(OutSchema):
    id: int
    name: str
    is_active: bool
    trigger: str
    questions: list[Question]
    delay_minutes: int
    fatigue_days: int = Field(description="at most one survey per customer in this many days (0: no limit)")
    team_id: int | None
    channels: list[Channel] = Field(description="empty: every channel")


class SurveyRuleIn(InSchema):
    name: Text = Field(max_length=100)
    questions: list[Question] = Field(default_factory=lambda: list(Question), max_length=len(Question))
    delay_minutes: int = Field(60, ge=0)
    fatigue_days: int = Field(30, ge=0)
    team: Id | None = None
    channels: list[Channel] = Field(default_factory=list, max_length=len(Channel))
    is_active: bool = True


class SurveyRulePatch(InSchema):
    name: Annotated[str, StringConstraints(max_length=100), NO_NUL] | None = None
    questions: list[Question] | None = Field(None, max_length=len(Question))
    delay_minutes: int | None = Field(None, ge=0)
    fatigue_days: int | None = Field(None, ge=0)
    channels: list[Channel] | None = Field(None, max_length=len(Channel))
    is_active: bool | None = None


class FollowUpOut(OutSchema):
    id: int
    case_id: int
    contact_id: int
    method: FollowUpMethod
    state: FollowUpState
    due_at: dt.datetime
    sent_at: dt.datetime | None
    assigned_to_id: int | None
    answered_at: dt.datetime | None
    note: str
    new_case_id: int | None = Field(description="opened when the fix did not hold and the case was closed")


class FollowUpQuery(Schema):
    state: FollowUpState | None = None
    limit: int = Field(25, ge=1, le=200)
    cursor: str | None = None


class CallResultIn(InSchema):
    held: bool = Field(description="true: the fix held; false: it did not (the case reopens)")
    note: Text = Field("", max_length=5000)


class KudosOut(OutSchema):
    id: int
    user_id: int
    case_id: int | None
    contact_id: int | None
    source: KudosSource
    quote: str
    created_at: dt.datetime


class KudosQuery(Schema):
    user: Id = Field(description="whose kudos")
    limit: int = Field(25, ge=1, le=200)
    cursor: str | None = None


class ThankYouOut(OutSchema):
    id: int
    case_id: int
    contact_id: int
    quote: str
    owner_id: int | None
    state: ThankYouState
    due_at: dt.datetime
    done_at: dt.datetime | None
    kept: bool | None = Field(description="true: thanked in time; false: late; null: not yet")


class ThankYouIn(InSchema):
    body: Text = Field(min_length=1, max_length=5000)


class PhoneThanksIn(InSchema):
    note: Text = Field("", max_length=300)


class OptOutIn(InSchema):
    contact: Id
    reason: Text = Field(min_length=1, max_length=300)


class OptOutOut(OutSchema):
    contact_id: int
    reason: str
    created_at: dt.datetime
