"""Business calendars, SLA policies, a case's clocks and compliance through the REST API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from caseloop.core.errors import NotFound
from caseloop.core.schemas import changes_of
from caseloop.customers.models import Organization
from caseloop.identity.api import actor_of
from caseloop.identity.selectors import require_staff
from caseloop.promises.api import case_by_ref
from caseloop.sla import actions, selectors
from caseloop.sla.models import BusinessCalendar, SlaPolicy
from caseloop.sla.schemas import (
    CalendarIn,
    CalendarOut,
    CaseSlaOut,
    ComplianceOut,
    ComplianceQuery,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
)

router = Router(tags=["sla"])


@router.get("/sla/calendars", response=list[CalendarOut])
def list_calendars(request: HttpRequest) -> list[BusinessCalendar]:
    return list(selectors.calendars_visible_to(actor_of(request)))


@router.post("/sla/calendars", response={201: CalendarOut}, description="Administrators.")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Status[BusinessCalendar]:
    calendar = actions.save_calendar(
        actor=actor_of(request),
        name=payload.name,
        time_zone=payload.time_zone,
        hours=payload.hours,
        holidays=payload.holidays,
    )
    return Status(201, calendar)


@router.put("/sla/calendars/{calendar_id}", response=CalendarOut, description="Replace a calendar (administrators).")
def replace_calendar(request: HttpRequest, calendar_id: int, payload: CalendarIn) -> BusinessCalendar:
    actor = actor_of(request)
    calendar = selectors.access_calendar(actor, calendar_id)
    return actions.save_calendar(
        actor=actor,
        calendar=calendar,
        name=payload.name,
        time_zone=payload.time_zone,
        hours=payload.hours,
        holidays=payload.holidays,
    )


@router.get("/sla/policies", response=list[PolicyOut], description="In the order they are matched.")
def list_policies(request: HttpRequest) -> list[SlaPolicy]:
    return list(selectors.policies_visible_to(actor_of(request)))


@router.post("/sla/policies", response={201: PolicyOut}, description="Administrators.")
def create_policy(request: HttpRequest, payload: PolicyIn) -> Status[SlaPolicy]:
    actor = actor_of(request)
    fields: dict[str, Any] = payload.model_dump()
    organization_id, calendar_id = fields.pop("organization"), fields.pop("calendar")
    fields["organization"] = None
    if organization_id is not None:
        fields["organization"] = Organization.objects.filter(pk=organization_id).first()
        if fields["organization"] is None:
            raise NotFound("Organization", organization_id)
    fields["calendar"] = selectors.access_calendar(actor, calendar_id) if calendar_id is not None else None
    return Status(201, actions.save_policy(actor=actor, **fields))


@router.patch("/sla/policies/{policy_id}", response=PolicyOut, description="Absent fields stay as they are.")
def patch_policy(request: HttpRequest, policy_id: int, payload: PolicyPatch) -> SlaPolicy:
    actor = actor_of(request)
    policy = selectors.access_policy(actor, policy_id)
    nullable = frozenset({"first_response_minutes", "next_response_minutes", "resolution_minutes"})
    return actions.save_policy(actor=actor, policy=policy, **changes_of(payload, nullable=nullable))


@router.get("/cases/{case_ref}/sla", response=CaseSlaOut, description="Where a case stands against its SLA.")
def case_sla(request: HttpRequest, case_ref: str) -> dict[str, Any]:
    actor = actor_of(request)
    require_staff(actor)
    case = case_by_ref(actor, case_ref)
    sla = selectors.sla_of_case(case)
    if sla is None:
        raise NotFound("SLA of case", case_ref)
    badge = selectors.badge_of(sla)
    fields = (
        "first_response_due_at",
        "first_response_at",
        "first_response_breached",
        "next_response_due_at",
        "next_responses_met",
        "next_responses_breached",
        "resolution_due_at",
        "resolved_at",
        "resolution_breached",
        "paused_at",
    )
    return {
        "case_id": case.pk,
        "policy": sla.policy.name,
        "state": badge.state,
        "due_at": badge.due_at,
        "target": badge.target,
        **{f: getattr(sla, f) for f in fields},
    }


@router.get(
    "/sla/compliance",
    response=list[ComplianceOut],
    description="Targets met against missed per team or channel, cases opened in [since, until) (managers).",
)
def compliance(request: HttpRequest, params: Query[ComplianceQuery]) -> list[dict[str, Any]]:
    rows = selectors.compliance(actor_of(request), by=params.by, since=params.since, until=params.until)
    return [
        {
            **{
                f: getattr(r, f)
                for f in (
                    "key",
                    "label",
                    "met",
                    "breached",
                    "first_met",
                    "first_breached",
                    "next_met",
                    "next_breached",
                    "resolution_met",
                    "resolution_breached",
                )
            },
            "rate": r.rate,
        }
        for r in rows
    ]
