"""Rules, the rules' verdict, overrides, authority limits, concessions and approvals through the REST API.

Each route parses, calls one action or selector, and answers; refusals are
problems with a stable code (`integrity_rule`, `guideline_reason_required`,
`above_authority`, `currency_mismatch`, `no_approver` …, see docs/policies.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Status

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.core.errors import Invalid, NotFound
from caseloop.core.schemas import Id, changes_of
from caseloop.identity.api import actor_of
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_staff
from caseloop.policies import actions, selectors
from caseloop.policies.engine import ActionFacts
from caseloop.policies.models import ApprovalRequest, AuthorityLimit, Concession, Override, Rule
from caseloop.policies.schemas import (
    ApprovalOut,
    ApprovalQuery,
    AttemptIn,
    AuthorityOut,
    ConcessionIn,
    ConcessionOut,
    DecisionIn,
    LimitIn,
    LimitOut,
    OverrideOut,
    PeriodQuery,
    RuleIn,
    RuleOut,
    RulePatch,
    RuleReviewOut,
    StatusChangeIn,
    TurnaroundOut,
    VerdictOut,
    WithdrawIn,
)
from caseloop.promises.api import case_by_ref

router = Router(tags=["policies"])


# --- rules ----------------------------------------------------------------------------------------------
@router.get("/rules", response=list[RuleOut], description="Every rule, by name (staff may read them).")
def list_rules(request: HttpRequest) -> list[Rule]:
    return list(selectors.rules_visible_to(actor_of(request)))


@router.post("/rules", response={201: RuleOut}, description="Add a rule (managers and administrators).")
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[Rule]:
    rule = actions.create_rule(
        actor=actor_of(request),
        name=payload.name,
        explanation=payload.explanation,
        kind=payload.kind,
        applies_to=[a.value for a in payload.applies_to],
        condition=payload.condition,
        is_active=payload.is_active,
    )
    return Status(201, rule)


@router.post(
    "/rules/check",
    response=VerdictOut,
    description="Which rules an action would trip, before taking it (nothing is done or recorded).",
)
def check_rules(request: HttpRequest, payload: AttemptIn) -> dict[str, Any]:
    actor = actor_of(request)
    case = case_by_ref(actor, payload.case)
    kinds = {payload.kind.value, *(["status_change"] if payload.kind == "reopen" else [])}
    currency = (payload.currency or settings.CASELOOP_CURRENCY).upper() if payload.amount is not None else None
    facts = ActionFacts(
        kind=payload.kind.value,
        amount=payload.amount,
        currency=currency,
        percent=payload.percent,
        from_status=case.status,
        to_status=payload.to_status.value if payload.to_status else None,
    )
    verdict = selectors.verdict_for(actor=actor, case=case, action=facts, kinds=kinds)

    def hits(rules: Any) -> list[dict[str, Any]]:
        return [{"id": r.id, "name": r.name, "explanation": r.explanation} for r in rules]

    return {"allowed": verdict.allowed, "refusals": hits(verdict.refusals), "guidelines": hits(verdict.guidelines)}


@router.get("/rules/{rule_id}", response=RuleOut)
def get_rule(request: HttpRequest, rule_id: int) -> Rule:
    return selectors.access_rule(actor_of(request), rule_id)


@router.patch("/rules/{rule_id}", response=RuleOut, description="Change a rule; absent fields stay as they are.")
def patch_rule(request: HttpRequest, rule_id: int, payload: RulePatch) -> Rule:
    actor = actor_of(request)
    rule = selectors.access_rule(actor, rule_id)
    changes = changes_of(payload)
    if "applies_to" in changes:
        changes["applies_to"] = [str(a) for a in changes["applies_to"]]
    return actions.update_rule(actor=actor, rule=rule, changes=changes)


@router.post(
    "/cases/{case_ref}/status-change",
    response=dict[str, str],
    description="Change a case's status with a reason for any guideline it bends (the rules decide).",
)
def status_change(request: HttpRequest, case_ref: str, payload: StatusChangeIn) -> dict[str, str]:
    actor = actor_of(request)
    case = case_by_ref(actor, case_ref)
    changed = change_status(
        actor=actor, case=case, status=CaseStatus(payload.status), override_reason=payload.override_reason
    )
    return {"status": changed.status}


# --- overrides and their review ---------------------------------------------------------------------------
@router.get("/overrides", response=list[OverrideOut], description="The latest 200 overrides (managers).")
def list_overrides(request: HttpRequest, rule: Id | None = None, case: str | None = None) -> list[Override]:
    actor = actor_of(request)
    qs = selectors.overrides_visible_to(actor)
    if rule is not None:
        qs = qs.filter(rule_id=rule)
    if case is not None:
        qs = qs.filter(case_id=case_by_ref(actor, case).pk)
    return list(qs[:200])


@router.get(
    "/overrides/review",
    response=list[RuleReviewOut],
    description="Overrides by rule, rep and team, with outcomes beside comparable cases (managers).",
)
def override_review(request: HttpRequest, params: Query[PeriodQuery]) -> list[dict[str, Any]]:
    reviews = selectors.override_review(actor_of(request), since=params.since, until=params.until)

    def outcome(o: selectors.Outcome) -> dict[str, Any]:
        surveys = o.surveys
        return {
            "cases": o.cases,
            "reopened": o.reopened,
            "reopen_rate": o.rate,
            "surveys": None
            if surveys is None
            else {
                "answered": surveys.answered,
                "met_or_exceeded": surveys.met_or_exceeded,
                "met_rate": surveys.met_rate,
                "mean_ces": surveys.mean_ces,
            },
        }

    return [
        {
            "rule": {"id": r.rule.pk, "name": r.rule.name},
            "kind": r.rule.kind,
            "overrides": r.overrides,
            "by_rep": [{"name": n, "count": c} for n, c in r.by_rep],
            "by_team": [{"name": n, "count": c} for n, c in r.by_team],
            "overridden": outcome(r.overridden),
            "comparable": outcome(r.comparable),
            "suggestion": r.suggestion,
        }
        for r in reviews
    ]


# --- authority limits -------------------------------------------------------------------------------------------
@router.get("/authority-limits", response=list[LimitOut], description="Every limit (staff).")
def list_limits(request: HttpRequest) -> list[AuthorityLimit]:
    return list(selectors.limits_visible_to(actor_of(request)))


@router.put(
    "/authority-limits",
    response=LimitOut,
    description="Set the limit of one role, team or person for one kind (administrators); replaces it.",
)
def set_limit(request: HttpRequest, payload: LimitIn) -> AuthorityLimit:
    team = Team.objects.filter(pk=payload.team).first() if payload.team else None
    user = User.objects.filter(pk=payload.user).first() if payload.user else None
    if payload.team and team is None:
        raise NotFound("Team", payload.team)
    if payload.user and user is None:
        raise NotFound("User", payload.user)
    return actions.set_authority_limit(
        actor=actor_of(request),
        action=payload.action,
        role=payload.role or "",
        team=team,
        user=user,
        per_case=payload.per_case,
        per_period=payload.per_period,
        period_days=payload.period_days,
        currency=payload.currency,
    )


@router.delete("/authority-limits/{limit_id}", response={204: None})
def delete_limit(request: HttpRequest, limit_id: int) -> Status[None]:
    actor = actor_of(request)
    limit = selectors.limits_visible_to(actor).filter(pk=limit_id).first()
    if limit is None:
        raise NotFound("Authority limit", limit_id)
    actions.delete_authority_limit(actor=actor, limit=limit)
    return Status(204, None)


@router.get("/authority/me", response=list[AuthorityOut], description="What you may give of each kind at once.")
def my_authority(request: HttpRequest) -> list[dict[str, Any]]:
    actor = actor_of(request)
    require_staff(actor)
    out = []
    for a in selectors.authorities_of(actor):
        kind = a.kind
        out.append(
            {
                "kind": kind,
                "per_case": None if a.per_case is None else f"{a.per_case:.2f}",
                "per_period": None if a.per_period is None else f"{a.per_period:.2f}",
                "period_days": a.period_days,
                "currency": a.currency,
                "source": a.source,
            }
        )
    return out


# --- concessions ------------------------------------------------------------------------------------------------
def _concession_out(concession: Concession, overrides: list[Override]) -> Concession:
    # read by ConcessionOut.resolve_overrides
    setattr(concession, "api_overrides", [o.pk for o in overrides])  # noqa: B010  (not a model field)
    return concession


@router.post(
    "/cases/{case_ref}/concessions",
    response={201: ConcessionOut},
    description="Give a credit, refund, discount, fee waiver or free replacement; above your authority, "
    "ask for approval with ask_approval.",
)
def give_concession(request: HttpRequest, case_ref: str, payload: ConcessionIn) -> Status[Concession]:
    actor = actor_of(request)
    case: Case = case_by_ref(actor, case_ref)
    amount = None
    if payload.amount is not None:
        amount = actions.parse_money(payload.amount, payload.currency or settings.CASELOOP_CURRENCY)
    elif payload.currency:
        raise Invalid("A currency goes with an amount.", field="currency")
    result = actions.give_concession(
        actor=actor,
        case=case,
        kind=payload.kind,
        note=payload.note,
        amount=amount,
        percent=payload.percent,
        override_reason=payload.override_reason,
        ask_approval=payload.ask_approval,
        approval_reason=payload.approval_reason,
        tell_customer=payload.tell_customer,
    )
    return Status(201, _concession_out(result.concession, result.overrides))


@router.get("/cases/{case_ref}/concessions", response=list[ConcessionOut], description="Newest first (staff).")
def list_concessions(request: HttpRequest, case_ref: str) -> list[Concession]:
    actor = actor_of(request)
    return selectors.concessions_of_case(actor, case_by_ref(actor, case_ref))


# --- approvals -------------------------------------------------------------------------------------------------
@router.get("/approvals", response=list[ApprovalOut], description="Requests waiting on you (or all, by state).")
def list_approvals(request: HttpRequest, params: Query[ApprovalQuery]) -> list[ApprovalRequest]:
    actor = actor_of(request)
    if params.waiting_for_me:
        return list(selectors.approvals_waiting_for(actor)[:200])
    qs = selectors.approvals_visible_to(actor).order_by("-id")
    if params.state is not None:
        qs = qs.filter(state=params.state)
    return list(qs[:200])


@router.get(
    "/approvals/turnaround",
    response=list[TurnaroundOut],
    description="Per approver: decided, missed, and minutes to decide (p50, p90) (managers).",
)
def turnaround(request: HttpRequest, params: Query[PeriodQuery]) -> list[dict[str, Any]]:
    rows = selectors.approval_turnaround(actor_of(request), since=params.since, until=params.until)
    return [
        {
            "approver": {"id": r.approver_id, "name": r.approver},
            "decided": r.decided,
            "escalated": r.escalated,
            "p50_minutes": r.p50_minutes,
            "p90_minutes": r.p90_minutes,
        }
        for r in rows
    ]


@router.get("/approvals/{approval_id}", response=ApprovalOut)
def get_approval(request: HttpRequest, approval_id: int) -> ApprovalRequest:
    return selectors.access_approval(actor_of(request), approval_id)


@router.post(
    "/approvals/{approval_id}/decision",
    response=ApprovalOut,
    description="Approve or decline with a reason (anyone whose authority covers it, never the requester).",
)
def decide(request: HttpRequest, approval_id: int, payload: DecisionIn) -> ApprovalRequest:
    actor = actor_of(request)
    approval = selectors.access_approval(actor, approval_id)
    decided = actions.decide_approval(actor=actor, approval=approval, approve=payload.approve, reason=payload.reason)
    return selectors.access_approval(actor, decided.pk)


@router.post("/approvals/{approval_id}/withdraw", response=ApprovalOut, description="Take a request back.")
def withdraw(request: HttpRequest, approval_id: int, payload: WithdrawIn) -> ApprovalRequest:
    actor = actor_of(request)
    approval = selectors.access_approval(actor, approval_id)
    actions.withdraw_approval(actor=actor, approval=approval, reason=payload.reason)
    return selectors.access_approval(actor, approval_id)
