"""The public price page (no sign-in: the published prices in effect now, the same as the API and every quote),
and the quotes beside a case (an htmx panel for staff)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases.models import Case
from caseloop.cases.selectors import access_case
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.core.money import Money
from caseloop.identity.access import StaffRequest, parsed, staff_page
from caseloop.policies.errors import PolicyErrorCode
from caseloop.pricing import actions
from caseloop.pricing.forms import LINES, QuoteForm, ReasonForm
from caseloop.pricing.selectors import access_quote, price_list, quotes_of_case


@require_GET
def public_prices(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    try:
        currency = Money.parse(0, request.GET.get("currency") or settings.CASELOOP_CURRENCY).currency
    except DomainError:
        currency = settings.CASELOOP_CURRENCY
    lines = price_list(currency=currency, public_only=True, query=query)
    return render(
        request, "pricing/public_prices.html", {"lines": lines, "q": query, "currency": currency, "now": clock.now()}
    )


def _panel(
    request: StaffRequest,
    case: Case,
    *,
    error: DomainError | None = None,
    form: Any = None,
    done: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "case": case,
        "quotes": quotes_of_case(request.user, case),
        "error": error,
        "done": done,
        "form": form.data if form is not None else {},
        "lines": range(LINES),
        "book": price_list(currency=settings.CASELOOP_CURRENCY, public_only=False),
        "needs_reason": error is not None
        and error.code in (PolicyErrorCode.REASON_REQUIRED, PolicyErrorCode.REASON_TOO_SHORT),
        "above_authority": error is not None and error.code == PolicyErrorCode.ABOVE_AUTHORITY,
    }
    response = render(request, "pricing/partials/case_panel.html", context, status=status)
    if done:
        response["HX-Trigger"] = "case-changed"
    return response


@require_http_methods(["GET", "POST"])
@staff_page
def case_panel(request: StaffRequest, case_id: int) -> HttpResponseBase:
    """A case's quotes, and the form to quote from the price book (a discount within authority, or asked for)."""
    case = access_case(request.user, case_id)
    if request.method == "GET":
        return _panel(request, case)
    form = QuoteForm(request.POST)
    try:
        data = parsed(form)
        lines = [
            actions.LineInput(sku=data[f"sku_{n}"], quantity=data[f"quantity_{n}"] or 1)
            for n in range(LINES)
            if data[f"sku_{n}"]
        ]
        result = actions.create_quote(
            actor=request.user,
            case=case,
            lines=lines,
            discount_percent=data["discount_percent"] or Decimal(0),
            valid_days=data["valid_days"] or 30,
            note=data["note"],
            override_reason=data["override_reason"],
            ask_approval=data["ask_approval"],
        )
    except DomainError as refused:
        return _panel(request, case, error=refused, form=form, status=refused.status)
    quote = result.quote
    done = (
        f"Quote of {quote.total} {quote.currency} issued."
        if quote.state == "issued"
        else "Quote waiting for the discount's approval."
    )
    return _panel(request, case, done=done)


@require_POST
@staff_page
def settle(request: StaffRequest, quote_id: int, outcome: str) -> HttpResponseBase:
    quote = access_quote(request.user, quote_id)
    reason = parsed(ReasonForm(request.POST))["reason"]
    if outcome == "accept":
        quote = actions.accept_quote(actor=request.user, quote=quote)
    elif outcome == "decline":
        quote = actions.decline_quote(actor=request.user, quote=quote, reason=reason)
    else:
        quote = actions.withdraw_quote(actor=request.user, quote=quote, reason=reason)
    return _panel(request, access_case(request.user, quote.case_id), done=f"Quote {quote.get_state_display().lower()}.")
