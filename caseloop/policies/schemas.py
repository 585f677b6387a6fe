"""What the API takes and gives for rules, overrides, authority limits, concessions and approvals.

Amounts of money travel as decimal strings ("25.50") with their currency,
never as floats; a number is accepted on input and read exactly.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints

from caseloop.cases.choices import CaseStatus
from caseloop.core.schemas import NO_NUL, Id, InSchema, OutSchema, Text
from caseloop.identity.choices import Role
from caseloop.identity.schemas import Ref
from caseloop.policies.choices import (
    ActionKind,
    ApprovalState,
    ConcessionKind,
    ConcessionState,
    RuleKind,
)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class RuleOut(OutSchema):
    id: int
    name: str
    explanation: str
    kind: RuleKind
    applies_to: list[ActionKind]
    condition: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class RuleIn(InSchema):
    name: Text = Field(max_length=120)
    explanation: Text = Field(description="what the rep reads when the rule trips")
    kind: RuleKind
    applies_to: list[ActionKind] = Field(min_length=1)
    condition: Text = Field(max_length=2000, description='e.g. action.amount > 100 and customer.tier != "vip"')
    is_active: bool = True


class RulePatch(InSchema):
    name: Annotated[str, StringConstraints(max_length=120), NO_NUL] | None = None
    explanation: Text | None = None
    kind: RuleKind | None = None
    applies_to: list[ActionKind] | None = None
    condition: Annotated[str, StringConstraints(max_length=2000), NO_NUL] | None = None
    is_active: bool | None = None


class AttemptIn(InSchema):
    """An action someone is about to take, to see which rules it would trip (nothing is done)."""

    case: str = Field(description="the case id or number")
    kind: ActionKind
    amount: Decimal | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    percent: Decimal | None = None
    to_status: CaseStatus | None = None


class RuleHitOut(OutSchema):
    id: int
    name: str
    explanation: str


class VerdictOut(OutSchema):
    allowed: bool = Field(description="true: nothing trips; the action can go ahead as it is")
    refusals: list[RuleHitOut] = Field(description="integrity rules: the action will be refused")
    guidelines: list[RuleHitOut] = Field(description="guidelines: the action needs a written reason")


class OverrideOut(OutSchema):
    id: int
    rule: Ref
    case_id: int
    actor: Ref
    team_id: int | None
    action: str
    reason: str
    created_at: dt.datetime

    @staticmethod
    def resolve_rule(obj: Any) -> dict[str, Any]:
        return {"id": obj.rule_id, "name": obj.rule.name}

    @staticmethod
    def resolve_actor(obj: Any) -> dict[str, Any]:
        return {"id": obj.actor_id, "name": obj.actor.name}


class SurveyOutcomeOut(OutSchema):
    answered: int = Field(description="surveys whose headline (expectations) was answered")
    met_or_exceeded: int
    met_rate: float | None = Field(description="share of the answered surveys that met or exceeded expectations")
    mean_ces: float | None = Field(description="mean customer effort score (1-7) of the answers that gave one")


class OutcomeOut(OutSchema):
    cases: int = Field(description="cases solved at least once")
    reopened: int
    reopen_rate: float | None
    surveys: SurveyOutcomeOut | None = Field(description="survey results; null when surveys are not measured")


class CountOut(OutSchema):
    name: str
    count: int


class RuleReviewOut(OutSchema):
    rule: Ref
    kind: RuleKind
    overrides: int
    by_rep: list[CountOut]
    by_team: list[CountOut]
    overridden: OutcomeOut
    comparable: OutcomeOut
    suggestion: str


class PeriodQuery(Schema):
    since: dt.datetime
    until: dt.datetime


class LimitOut(OutSchema):
    id: int
    action: ConcessionKind
    role: str
    team_id: int | None
    user_id: int | None
    per_case: str = Field(description="an amount in currency, or a percentage for discounts")
    per_period: str | None
    period_days: int | None
    currency: str

    @staticmethod
    def resolve_per_case(obj: Any) -> str | None:
        return _money(obj.per_case)

    @staticmethod
    def resolve_per_period(obj: Any) -> str | None:
        return _money(obj.per_period)


class LimitIn(InSchema):
    action: ConcessionKind
    role: Role | None = None
    team: Id | None = None
    user: Id | None = None
    per_case: Decimal
    per_period: Decimal | None = None
    period_days: int | None = Field(None, ge=1, le=366)
    currency: str = Field("", max_length=3, description="empty: the installation's currency; none for discounts")


class AuthorityOut(OutSchema):
    kind: ConcessionKind
    per_case: str | None = Field(description="null: no authority (everything needs approval)")
    per_period: str | None
    period_days: int | None
    currency: str
    source: str


class ConcessionIn(InSchema):
    kind: ConcessionKind
    amount: Decimal | None = Field(None, description="for every kind but discount, e.g. 25.50")
    currency: str = Field("", max_length=3, description="default: the installation's currency")
    percent: Decimal | None = Field(None, description="for a discount")
    note: Text = Field(max_length=500, description="what it is for, as the customer would read it")
    override_reason: Text = Field("", description="why a guideline is bent, when one applies")
    ask_approval: bool = Field(False, description="above your authority: ask instead of being refused")
    approval_reason: Text = Field("", max_length=500)
    tell_customer: bool = Field(False, description="tell the customer when the answer will come")


class ApprovalOut(OutSchema):
    id: int
    concession_id: int
    case_id: int
    requested_by: Ref
    reason: str
    state: ApprovalState
    approver: Ref | None
    level: int
    due_at: dt.datetime | None
    answer_due_at: dt.datetime
    created_at: dt.datetime
    decided_by: Ref | None
    decided_at: dt.datetime | None
    decision_reason: str

    @staticmethod
    def resolve_requested_by(obj: Any) -> dict[str, Any]:
        return {"id": obj.requested_by_id, "name": obj.requested_by.name}

    @staticmethod
    def resolve_approver(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.approver_id, "name": obj.approver.name} if obj.approver_id else None

    @staticmethod
    def resolve_decided_by(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.decided_by_id, "name": obj.decided_by.name} if obj.decided_by_id else None


class ConcessionOut(OutSchema):
    id: int
    case_id: int
    kind: ConcessionKind
    amount: str | None
    currency: str
    percent: str | None
    note: str
    state: ConcessionState
    requested_by: Ref
    authorised_by: Ref | None
    created_at: dt.datetime
    granted_at: dt.datetime | None
    approval: ApprovalOut | None
    overrides: list[int] = Field(default_factory=list, description="ids of the overrides this recorded")

    @staticmethod
    def resolve_amount(obj: Any) -> str | None:
        return _money(obj.amount)

    @staticmethod
    def resolve_percent(obj: Any) -> str | None:
        return _money(obj.percent)

    @staticmethod
    def resolve_requested_by(obj: Any) -> dict[str, Any]:
        return {"id": obj.requested_by_id, "name": obj.requested_by.name}

    @staticmethod
    def resolve_authorised_by(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.authorised_by_id, "name": obj.authorised_by.name} if obj.authorised_by_id else None

    @staticmethod
    def resolve_approval(obj: Any) -> Any:
        # the reverse one-to-one raises an AttributeError subclass when there is none
        return getattr(obj, "approval", None)

    @staticmethod
    def resolve_overrides(obj: Any) -> list[int]:
        return list(getattr(obj, "api_overrides", []))


class DecisionIn(InSchema):
    approve: bool
    reason: Text = Field(max_length=2000)


class WithdrawIn(InSchema):
    reason: Text = Field(max_length=500)


class ApprovalQuery(Schema):
    waiting_for_me: bool = Field(True, description="only requests waiting on you now")
    state: ApprovalState | None = None


class TurnaroundOut(OutSchema):
    approver: Ref
    decided: int
    escalated: int = Field(description="requests that reached them and were missed")
    p50_minutes: float | None
    p90_minutes: float | None


class StatusChangeIn(InSchema):
    status: CaseStatus
    override_reason: Text = Field("", description="why a guideline is bent, when one applies")
