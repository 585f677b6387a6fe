"""The staff pages of the policies domain.

Beside a case (an htmx panel): what the rep may give at once, the dialog to
give it or ask for approval in the same step, the rules' verdict as it comes
(an integrity rule's explanation, or a guideline's request for a reason), and
a status change with a reason. Elsewhere: the approvals waiting on me, the
rules (managers), the authority limits (administrators edit), and the review
of overrides and approval turnaround (managers).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.cases.selectors import access_case
from caseloop.core import clock
from caseloop.core.errors import DomainError, NotFound
from caseloop.identity.access import StaffRequest, error_page, is_htmx, manager_page, parsed, staff_page
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import staff_members, teams
from caseloop.policies import actions, selectors
from caseloop.policies.choices import PERCENT_KINDS, ActionKind, ConcessionKind, RuleKind
from caseloop.policies.engine import FIELDS
from caseloop.policies.errors import PolicyError, PolicyErrorCode
from caseloop.policies.forms import (
    ConcessionForm,
    DecisionForm,
    LimitForm,
    PeriodForm,
    ReasonForm,
    RuleForm,
    StatusForm,
)


# --- beside a case --------------------------------------------------------------------------------------
def _panel(
    request: StaffRequest,
    case: Case,
    *,
    error: DomainError | None = None,
    form: Any = None,
    status_error: DomainError | None = None,
    status_form: Any = None,
    done: str = "",
    code: int = 200,
) -> HttpResponse:
    authority = selectors.authorities_of(request.user)
    concessions = selectors.concessions_of_case(request.user, case)
    context = {
        "case": case,
        "authority": authority,
        "concessions": concessions,
        "error": error,
        "form": form.data if form is not None else {},
        "status_error": status_error,
        "status_form": status_form.data if status_form is not None else {},
        "done": done,
        "kinds": ConcessionKind.choices,
        "statuses": CaseStatus.choices,
        "now": clock.now(),
        "needs_reason": error is not None
        and error.code in (PolicyErrorCode.REASON_REQUIRED, PolicyErrorCode.REASON_TOO_SHORT),
        "status_needs_reason": status_error is not None
        and status_error.code in (PolicyErrorCode.REASON_REQUIRED, PolicyErrorCode.REASON_TOO_SHORT),
        "above_authority": error is not None and error.code == PolicyErrorCode.ABOVE_AUTHORITY,
        "waiting_on_me": [
            c.approval
            for c in concessions
            if getattr(c, "approval", None) is not None
            and c.approval.state == "pending"
            and c.approval.approver_id == request.user.pk
        ],
    }
    response = render(request, "policies/partials/case_panel.html", context, status=code)
    if done:
        response["HX-Trigger"] = "case-changed"
    return response


def _money_or_percent(kind: str, value: str) -> tuple[Any, Decimal | None]:
    if kind in PERCENT_KINDS:
        try:
            return None, Decimal(value.strip().rstrip("%"))
        except InvalidOperation as exc:
            raise PolicyError(PolicyErrorCode.BAD_AMOUNT, f"{value!r} is not a percentage.", field="value") from exc
    return actions.parse_money(value, settings.CASELOOP_CURRENCY), None


@require_http_methods(["GET", "POST"])
@staff_page
def case_panel(request: StaffRequest, case_id: int) -> HttpResponseBase:
    """Give a credit, refund, discount, fee waiver or free replacement, or ask for approval of it."""
    case = access_case(request.user, case_id)
    if request.method == "GET":
        return _panel(request, case)
    form = ConcessionForm(request.POST)
    try:
        data = parsed(form)
        amount, percent = _money_or_percent(data["kind"], data["value"])
        result = actions.give_concession(
            actor=request.user,
            case=case,
            kind=data["kind"],
            note=data["note"],
            amount=amount,
            percent=percent,
            override_reason=data["override_reason"],
            ask_approval=data["ask_approval"],
            approval_reason=data["approval_reason"],
            tell_customer=data["tell_customer"],
        )
    except DomainError as refused:
        return _panel(request, case, error=refused, form=form, code=refused.status)
    concession = result.concession
    if result.approval is not None:
        assert result.approval.approver is not None
        done = (
            f"Asked {result.approval.approver.name} to approve it; the answer is due by "
            f"{result.approval.answer_due_at:%H:%M} UTC, and the customer is promised it by then."
        )
    else:
        done = f"{ConcessionKind(concession.kind).label} of {concession.value_label} given."
    return _panel(request, case, done=done)


@require_POST
@staff_page
def case_status(request: StaffRequest, case_id: int) -> HttpResponseBase:
    """Change the status with a reason for a guideline it bends (the panel's answer to a guideline)."""
    case = access_case(request.user, case_id)
    form = StatusForm(request.POST)
    try:
        data = parsed(form)
        change_status(
            actor=request.user, case=case, status=CaseStatus(data["status"]), override_reason=data["override_reason"]
        )
    except DomainError as refused:
        return _panel(request, case, status_error=refused, status_form=form, code=refused.status)
    return _panel(request, access_case(request.user, case_id), done=f"Status changed to {data['status']}.")


# --- approvals ----------------------------------------------------------------------------------------------
@require_GET
@staff_page
def approvals(request: StaffRequest) -> HttpResponseBase:
    """The requests waiting on me now (soonest due first), and what I asked for that is still open."""
    now = clock.now()
    mine = list(selectors.approvals_visible_to(request.user).filter(requested_by=request.user).order_by("-id")[:20])
    return render(
        request,
        "policies/approvals.html",
        {
            "waiting": list(selectors.approvals_waiting_for(request.user)[:100]),
            "asked": mine,
            "now": now,
        },
    )


@require_POST
@staff_page
def decide(request: StaffRequest, approval_id: int) -> HttpResponseBase:
    data = parsed(DecisionForm(request.POST))
    approval = selectors.access_approval(request.user, approval_id)
    approval = actions.decide_approval(
        actor=request.user, approval=approval, approve=data["decision"] == "approve", reason=data["reason"]
    )
    if is_htmx(request):
        return _panel(request, access_case(request.user, approval.case_id), done=f"Request {approval.state}.")
    messages.success(request, f"Request on {approval.case.number} {approval.state}.")
    return redirect("policies:approvals")


@require_POST
@staff_page
def withdraw(request: StaffRequest, approval_id: int) -> HttpResponseBase:
    reason = parsed(ReasonForm(request.POST))["reason"]
    approval = actions.withdraw_approval(
        actor=request.user, approval=selectors.access_approval(request.user, approval_id), reason=reason
    )
    if is_htmx(request):
        return _panel(request, access_case(request.user, approval.case_id), done="Request withdrawn.")
    messages.success(request, "Request withdrawn.")
    return redirect("policies:approvals")


# --- rules -----------------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@manager_page
def rules(request: StaffRequest) -> HttpResponseBase:
    """Every rule, and the form to add one; a condition that does not read says where it stops."""
    error: DomainError | None = None
    form = RuleForm(request.POST or None)
    if request.method == "POST":
        try:
            data = parsed(form)
            actions.create_rule(
                actor=request.user,
                name=data["name"],
                explanation=data["explanation"],
                kind=data["kind"],
                applies_to=data["applies_to"],
                condition=data["condition"],
            )
            messages.success(request, f"Rule “{data['name']}” added.")
            return redirect("policies:rules")
        except DomainError as refused:
            error = refused
    context = {
        "rules": list(selectors.rules_visible_to(request.user)),
        "error": error,
        "form": form.data,
        "kinds": RuleKind.choices,
        "actions": ActionKind.choices,
        "fields": sorted(FIELDS.items()),
    }
    return render(request, "policies/rules.html", context, status=error.status if error else 200)


@require_POST
@manager_page
def rule_active(request: StaffRequest, rule_id: int) -> HttpResponseBase:
    rule = selectors.access_rule(request.user, rule_id)
    actions.update_rule(actor=request.user, rule=rule, changes={"is_active": not rule.is_active})
    messages.success(request, f"“{rule.name}” is {'on' if rule.is_active else 'off'}.")
    return redirect("policies:rules")


# --- authority limits ---------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_page
def limits(request: StaffRequest) -> HttpResponseBase:
    """Every limit; administrators set them here (one per kind for each role, team or person)."""
    error: DomainError | None = None
    form = LimitForm(request.POST or None)
    if request.method == "POST":
        try:
            data = parsed(form)
            team = Team.objects.filter(pk=data["team"]).first() if data["team"] else None
            user = User.objects.filter(pk=data["user"]).first() if data["user"] else None
            actions.set_authority_limit(
                actor=request.user,
                action=data["action"],
                role=data["role"],
                team=team,
                user=user,
                per_case=data["per_case"],
                per_period=data["per_period"],
                period_days=data["period_days"],
                currency=data["currency"] or "",
            )
            messages.success(request, "Limit saved.")
            return redirect("policies:limits")
        except DomainError as refused:
            error = refused
    context = {
        "limits": list(selectors.limits_visible_to(request.user)),
        "error": error,
        "can_edit": request.user.role == Role.ADMIN,
        "kinds": ConcessionKind.choices,
        "roles": Role.choices,
        "teams": teams(),
        "people": staff_members(),
    }
    return render(request, "policies/limits.html", context, status=error.status if error else 200)


@require_POST
@staff_page
def limit_delete(request: StaffRequest, limit_id: int) -> HttpResponseBase:
    limit = selectors.limits_visible_to(request.user).filter(pk=limit_id).first()
    if limit is None:
        return error_page(request, NotFound("Authority limit", limit_id))
    actions.delete_authority_limit(actor=request.user, limit=limit)
    messages.success(request, "Limit removed.")
    return redirect("policies:limits")


# --- the review -------------------------------------------------------------------------------------------------
@require_GET
@manager_page
def review(request: StaffRequest) -> HttpResponseBase:
    """Overrides by rule, rep and team with outcomes, and approval turnaround by approver."""
    days = parsed(PeriodForm(request.GET)).get("days") or 30
    until = clock.now()
    since = until - dt.timedelta(days=days)
    return render(
        request,
        "policies/review.html",
        {
            "days": days,
            "reviews": selectors.override_review(request.user, since=since, until=until),
            "turnaround": selectors.approval_turnaround(request.user, since=since, until=until),
        },
    )
