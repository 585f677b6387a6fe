"""The staff pages of the promise ledger: what I owe, the kept rate, and a case's promises (an htmx panel)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases.models import Case
from caseloop.cases.selectors import access_case
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.identity.access import StaffRequest, is_htmx, parsed, staff_page, zone_of
from caseloop.promises import actions, selectors
from caseloop.promises.choices import PromiseKind, PromiseState
from caseloop.promises.forms import KeptRateForm, PromiseForm, ReasonForm


def _panel(
    request: StaffRequest,
    case: Case,
    *,
    form: PromiseForm | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    elsewhere = [p for p in selectors.live_promises_of_contact(request.user, case.requester) if p.case_id != case.pk]
    context = {
        "case": case,
        "elsewhere": elsewhere,
        "promises": selectors.promises_of_case(request.user, case),
        "form": form or PromiseForm(),
        "kinds": PromiseKind.choices,
        "error": error,
        "now": clock.now(),
        "live": PromiseState.OPEN,
    }
    response = render(request, "promises/partials/case_panel.html", context, status=status)
    return response


@require_http_methods(["GET", "POST"])
@staff_page
def case_panel(request: StaffRequest, case_id: int) -> HttpResponseBase:
    """A case's promises, and the form to make one ("I'll call you back by 15:00")."""
    case = access_case(request.user, case_id)
    if request.method == "GET":
        return _panel(request, case)
    form = PromiseForm(request.POST)
    try:
        # the times were typed in the person's own time zone
        with timezone.override(zone_of(request.user)):
            data = parsed(form)
        actions.make_promise(
            actor=request.user,
            case=case,
            kind=PromiseKind(data["kind"]),
            description=data["description"],
            due_at=data["due_at"],
            window_start=data["window_start"],
        )
    except DomainError as refused:
        return _panel(request, case, form=form, error=refused, status=refused.status)
    response = _panel(request, case)
    response["HX-Trigger"] = "case-changed"
    return response


def _back(request: StaffRequest, promise_case: int, text: str) -> HttpResponseBase:
    if is_htmx(request):
        response = _panel(request, access_case(request.user, promise_case))
        response["HX-Trigger"] = "case-changed"
        return response
    messages.success(request, text)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("promises:mine")


@require_POST
@staff_page
def keep(request: StaffRequest, promise_id: int) -> HttpResponseBase:
    promise = actions.mark_kept(
        actor=request.user,
        promise=selectors.access_promise(request.user, promise_id),
        note=request.POST.get("note", ""),
    )
    return _back(request, promise.case_id, f"Kept: {promise.description}.")


@require_POST
@staff_page
def release(request: StaffRequest, promise_id: int) -> HttpResponseBase:
    reason = parsed(ReasonForm(request.POST))["reason"]
    promise = actions.release_promise(
        actor=request.user, promise=selectors.access_promise(request.user, promise_id), reason=reason
    )
    return _back(request, promise.case_id, f"Released: {promise.description}.")


@require_GET
@staff_page
def mine(request: StaffRequest) -> HttpResponseBase:
    """What I (and my teams) owe customers, soonest first, and what I have been told."""
    now = clock.now()
    owed = list(selectors.promises_owed_by(request.user)[:200])
    return render(
        request,
        "promises/mine.html",
        {
            "owed": owed,
            "overdue": [p for p in owed if p.due_at <= now],
            "notices": list(selectors.unread_notices(request.user)[:50]),
            "now": now,
            "soon": now + dt.timedelta(hours=1),
        },
    )


@require_POST
@staff_page
def notices_read(request: StaffRequest) -> HttpResponseBase:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    actions.mark_notices_read(actor=request.user, ids=ids or None)
    return redirect("promises:mine")


@require_GET
@staff_page
def kept_rate(request: StaffRequest) -> HttpResponseBase:
    """The promise-kept rate per person, team, kind or partner, over the last 7, 30 or 90 days."""
    data: dict[str, Any] = parsed(KeptRateForm(request.GET))
    by, days = data.get("by") or "person", data.get("days") or 30
    until = clock.now()
    rows = selectors.kept_rates(request.user, by=by, since=until - dt.timedelta(days=days), until=until)
    return render(
        request, "promises/kept_rate.html", {"rows": rows, "by": by, "days": days, "url": reverse("promises:kept_rate")}
    )
