"""The SLA pages: a case's clocks (an htmx panel) and compliance per team and channel (managers)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from caseloop.cases.selectors import access_case
from caseloop.core import clock
from caseloop.identity.access import StaffRequest, manager_page, parsed, staff_page
from caseloop.sla import selectors


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
    return render(
        request,
        "sla/compliance.html",
        {
            "days": days,
            "teams": selectors.compliance(request.user, by="team", since=since, until=until),
            "channels": selectors.compliance(request.user, by="channel", since=since, until=until),
            "policies": list(selectors.policies_visible_to(request.user)),
        },
    )
