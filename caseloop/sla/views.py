"""The SLA pages: a case's clocks (an htmx panel), compliance per team and channel (managers), and the set-up.

The set-up pages list the business calendars and the SLA policies to service
managers and administrators; administrators add and change them there, through
`sla.actions` (the same checks as the API: a refusal shows beside its field).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from caseloop.cases.choices import Channel, Priority
from caseloop.cases.selectors import access_case
from caseloop.core import clock
from caseloop.core.errors import DomainError, Invalid, NotFound
from caseloop.customers.choices import CustomerTier
from caseloop.customers.selectors import organizations_visible_to
from caseloop.identity.access import StaffRequest, manager_page, parsed, staff_page
from caseloop.identity.choices import Role
from caseloop.identity.selectors import require_role
from caseloop.sla import actions, selectors
from caseloop.sla.engine import DAYS
from caseloop.sla.forms import DAY_LABELS, CalendarForm, PolicyForm
from caseloop.sla.models import BusinessCalendar, SlaPolicy


class _PeriodForm(forms.Form):
    days = forms.TypedChoiceField(choices=[(7, "7"), (30, "30"), (90, "90")], coerce=int, required=False)


@require_GET
@staff_page
def case_panel(request: StaffRequest, case_id: int) -> HttpResponseBase:
    case = access_case(request.user, case_id)
    sla = selectors.sla_of_case(case)
    return render(
        request,
        "sla/partials/case_panel.html",
        {
            "case": case,
            "sla": sla,
            "badge": selectors.badge_of(sla) if sla else None,
        },
    )


@require_GET
@manager_page
def compliance(request: StaffRequest) -> HttpResponseBase:
    days = parsed(_PeriodForm(request.GET)).get("days") or 30
    until = clock.now()
    since = until - dt.timedelta(days=days)
    report = selectors.compliance_report(request.user, since=since, until=until)
    return render(
        request,
        "sla/compliance.html",
        {
            "days": days,
            "teams": report.teams,
            "channels": report.channels,
            "policies": list(selectors.policies_visible_to(request.user)),
        },
    )


# --- set-up: business calendars and SLA policies --------------------------------------------------------------
Errors = dict[str, list[str]]


def _form_errors(form: forms.Form) -> Errors:
    # a template cannot read "__all__": errors that belong to no field are under "form"
    return {("form" if field == "__all__" else field): [str(e) for e in errs] for field, errs in form.errors.items()}


def _refusal(error: DomainError) -> Errors:
    """A refusal of the action, under the field it is about (a day's hours under that day)."""
    field = error.field or "form"
    if field == "hours" and (day := error.message.split(":", 1)[0]) in DAYS:
        field = f"hours_{day}"
    return {field: [error.message]}


def _status(errors: Errors, refused: DomainError | None) -> int:
    if refused is not None:
        return refused.status
    return 422 if errors else 200


def _calendar_values(calendar: BusinessCalendar | None, user_zone: str) -> dict[str, Any]:
    if calendar is None:
        return {"name": "", "time_zone": user_zone or "UTC", "hours": actions.default_hours(), "holidays": ""}
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "hours": calendar.hours,
        "holidays": "\n".join(calendar.holidays),
    }


def _calendar_context(values: dict[str, Any], errors: Errors) -> dict[str, Any]:
    hours = values["hours"]
    return {
        "values": values,
        "errors": errors,
        "days": [(day, DAY_LABELS[day], ", ".join(hours.get(day, [])), errors.get(f"hours_{day}", [])) for day in DAYS],
        "zones": _zones(),
    }


@cache
def _zones() -> tuple[str, ...]:
    # read once per process: available_timezones() walks the time zone database (about 600 files) each call
    return tuple(sorted(available_timezones()))


def _calendar_form(request: StaffRequest, calendar: BusinessCalendar | None, template: str) -> HttpResponseBase:
    """Show the calendar form, or save what was posted through the action and go back to the list."""
    errors: Errors = {}
    refused: DomainError | None = None
    if request.method == "POST":
        require_role(request.user, Role.ADMIN)  # the action's own check, before the form is even read
        form = CalendarForm(request.POST)
        if form.is_valid():
            try:
                saved = actions.save_calendar(
                    actor=request.user,
                    calendar=calendar,
                    name=form.cleaned_data["name"],
                    time_zone=form.cleaned_data["time_zone"].strip(),
                    hours=form.hours(),
                    holidays=form.holiday_list(),
                )
            except DomainError as error:
                refused, errors = error, _refusal(error)
            else:
                messages.success(request, f"Calendar “{saved.name}” saved.")
                return redirect("sla:calendars")
        else:
            errors = _form_errors(form)
        values: dict[str, Any] = {
            "name": request.POST.get("name", ""),
            "time_zone": request.POST.get("time_zone", ""),
            "hours": {day: [request.POST.get(f"hours_{day}", "")] for day in DAYS},
            "holidays": request.POST.get("holidays", ""),
        }
    else:
        values = _calendar_values(calendar, request.user.time_zone)
    context = {
        **_calendar_context(values, errors),
        "calendar": calendar,
        "calendars": _calendar_rows(request) if calendar is None else [],
        "can_edit": request.user.role == Role.ADMIN,
    }
    return render(request, template, context, status=_status(errors, refused))


def _calendar_rows(request: StaffRequest) -> list[tuple[BusinessCalendar, list[tuple[str, str]]]]:
    return [
        (c, [(DAY_LABELS[d][:3], ", ".join(c.hours.get(d, [])) or "closed") for d in DAYS])
        for c in selectors.calendars_visible_to(request.user)
    ]


@require_http_methods(["GET", "POST"])
@manager_page
def calendars(request: StaffRequest) -> HttpResponseBase:
    """Every business calendar; administrators add one here."""
    return _calendar_form(request, None, "sla/calendars.html")


@require_http_methods(["GET", "POST"])
@manager_page
def calendar_edit(request: StaffRequest, calendar_id: int) -> HttpResponseBase:
    """One calendar's hours, time zone and holidays; running clocks keep the due times they have."""
    return _calendar_form(request, selectors.access_calendar(request.user, calendar_id), "sla/calendar_edit.html")


_MINUTES = ("first_response_minutes", "next_response_minutes", "resolution_minutes")


def _policy_values(policy: SlaPolicy | None, next_position: int) -> dict[str, Any]:
    if policy is None:
        return {
            "name": "",
            "position": next_position,
            "is_active": True,
            "priorities": [],
            "channels": [],
            "tiers": [],
            "organization": "",
            "calendar": "",
            **dict.fromkeys(_MINUTES, ""),
            "warn_minutes": 30,
            "promise_first_response": True,
        }
    return {
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "priorities": policy.priorities,
        "channels": policy.channels,
        "tiers": policy.tiers,
        "organization": policy.organization.name if policy.organization else "",
        "calendar": str(policy.calendar_id or ""),
        **{m: getattr(policy, m) or "" for m in _MINUTES},
        "warn_minutes": policy.warn_minutes,
        "promise_first_response": policy.promise_first_response,
    }


def _posted_policy(request: StaffRequest) -> dict[str, Any]:
    post = request.POST
    return {
        **{f: post.get(f, "") for f in ("name", "position", "organization", "calendar", "warn_minutes", *_MINUTES)},
        "is_active": bool(post.get("is_active")),
        "promise_first_response": bool(post.get("promise_first_response")),
        **{f: post.getlist(f) for f in ("priorities", "channels", "tiers")},
    }


def _checks(choices: list[tuple[str, str]], chosen: list[str]) -> list[tuple[str, str, bool]]:
    return [(value, label, value in chosen) for value, label in choices]


def _policy_fields(request: StaffRequest, data: dict[str, Any]) -> dict[str, Any]:
    """The action's fields from the parsed form: the organization by name, the calendar by id."""
    organization = None
    if name := " ".join(data["organization"].split()):
        organization = organizations_visible_to(request.user).filter(name__iexact=name).order_by("id").first()
        if organization is None:
            raise Invalid(f"No organization is named {name!r}.", field="organization")
    calendar = None
    if data["calendar"] is not None:
        try:
            calendar = selectors.access_calendar(request.user, data["calendar"])
        except NotFound as exc:
            raise Invalid("Choose a calendar from the list.", field="calendar") from exc
    return {
        **{key: data[key] for key in ("name", "position", "is_active", "priorities", "channels", "tiers")},
        **{key: data[key] for key in (*_MINUTES, "warn_minutes", "promise_first_response")},
        "organization": organization,
        "calendar": calendar,
    }


def _policy_form(request: StaffRequest, policy: SlaPolicy | None, template: str) -> HttpResponseBase:
    """Show the policy form, or save what was posted through the action and go back to the list."""
    errors: Errors = {}
    refused: DomainError | None = None
    existing = list(selectors.policies_visible_to(request.user)) if policy is None else []
    if request.method == "POST":
        require_role(request.user, Role.ADMIN)  # the action's own check, before the form is even read
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                saved = actions.save_policy(
                    actor=request.user, policy=policy, **_policy_fields(request, form.cleaned_data)
                )
            except DomainError as error:
                refused, errors = error, _refusal(error)
            else:
                messages.success(request, f"SLA policy “{saved.name}” saved; it applies to cases opened from now on.")
                return redirect("sla:policies")
        else:
            errors = _form_errors(form)
        values = _posted_policy(request)
    else:
        values = _policy_values(policy, max((p.position for p in existing), default=90) + 10)
    context = {
        "policy": policy,
        "policies": existing,
        "values": values,
        "errors": errors,
        "can_edit": request.user.role == Role.ADMIN,
        "priorities": _checks(Priority.choices, values["priorities"]),
        "channels": _checks(Channel.choices, values["channels"]),
        "tiers": _checks(CustomerTier.choices, values["tiers"]),
        "calendars": list(selectors.calendars_visible_to(request.user)),
        "targets": [
            (name, label, hint, values[name], errors.get(name, []))
            for name, label, hint in (
                ("first_response_minutes", "First response", "the first answer from a person"),
                ("next_response_minutes", "Next response", "each answer after the customer writes again"),
                ("resolution_minutes", "Resolution", "solved"),
            )
        ],
    }
    return render(request, template, context, status=_status(errors, refused))


@require_http_methods(["GET", "POST"])
@manager_page
def policies(request: StaffRequest) -> HttpResponseBase:
    """Every SLA policy in the order they are matched; administrators add one here."""
    return _policy_form(request, None, "sla/policies.html")


@require_http_methods(["GET", "POST"])
@manager_page
def policy_edit(request: StaffRequest, policy_id: int) -> HttpResponseBase:
    """One policy's match and targets; cases opened before keep the clocks they started with."""
    return _policy_form(request, selectors.access_policy(request.user, policy_id), "sla/policy_edit.html")
