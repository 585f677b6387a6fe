"""The public price page (no sign-in: the published prices in effect now, the same as the API and every quote),
the quotes beside a case (an htmx panel for staff), and the price book's pages.

The price book's pages list every item with its price now to service managers
and administrators; administrators add and change items and publish new
prices there, through `pricing.actions`. A price is never edited: publishing
one ends the price in effect at its start, and the history stays.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases.models import Case
from caseloop.cases.selectors import access_case
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.core.money import Money
from caseloop.identity.access import StaffRequest, manager_page, parsed, staff_page, zone_of
from caseloop.identity.choices import Role
from caseloop.identity.selectors import require_role
from caseloop.policies.errors import PolicyErrorCode
from caseloop.pricing import actions
from caseloop.pricing.choices import ItemKind
from caseloop.pricing.forms import LINES, ItemForm, PriceForm, QuoteForm, ReasonForm
from caseloop.pricing.models import Price, PriceItem
from caseloop.pricing.selectors import (
    access_item_by_id,
    access_quote,
    price_book,
    price_history,
    price_list,
    quotes_of_case,
)


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


def _quote_lines(form: QuoteForm | None) -> list[dict[str, Any]]:
    """The quote form's rows, each with the item and quantity sent (a refused quote keeps them)."""
    data = form.data if form is not None else {}
    return [
        {"n": n, "sku": data.get(f"sku_{n}", ""), "quantity": data.get(f"quantity_{n}") or "1"} for n in range(LINES)
    ]


def _panel(
    request: StaffRequest,
    case: Case,
    *,
    error: DomainError | None = None,
    form: QuoteForm | None = None,
    done: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "case": case,
        "quotes": quotes_of_case(request.user, case),
        "error": error,
        "done": done,
        "form": form.data if form is not None else {},
        "lines": _quote_lines(form),
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


# --- the price book's staff pages -------------------------------------------------------------------------------
Errors = dict[str, list[str]]


def _form_errors(form: forms.Form) -> Errors:
    # a template cannot read "__all__": errors that belong to no field are under "form"
    return {("form" if field == "__all__" else field): [str(e) for e in errs] for field, errs in form.errors.items()}


def _item_values(item: PriceItem | None) -> dict[str, Any]:
    if item is None:
        return {"sku": "", "name": "", "kind": ItemKind.SERVICE, "unit": "each", "description": "",
                "is_public": True, "is_active": True}  # fmt: skip
    return {
        "sku": item.sku,
        "name": item.name,
        "kind": item.kind,
        "unit": item.unit,
        "description": item.description,
        "is_public": item.is_public,
        "is_active": item.is_active,
    }


def _posted_item(request: StaffRequest) -> dict[str, Any]:
    post = request.POST
    return {
        **{f: post.get(f, "") for f in ("sku", "name", "kind", "unit", "description")},
        "is_public": bool(post.get("is_public")),
        "is_active": bool(post.get("is_active")),
    }


def _save_item(request: StaffRequest, item: PriceItem | None) -> tuple[PriceItem | None, Errors, int]:
    """Save the posted item through the action: the item, or what was wrong and the status to answer with."""
    require_role(request.user, Role.ADMIN)  # the action's own check, before the form is even read
    form = ItemForm(request.POST)
    if not form.is_valid():
        return None, _form_errors(form), 422
    data = form.cleaned_data
    try:
        saved = actions.save_item(
            actor=request.user,
            item=item,
            sku=data["sku"],
            name=data["name"],
            kind=data["kind"],
            unit=data["unit"],
            description=data["description"],
            is_public=data["is_public"],
            is_active=data["is_active"],
        )
    except DomainError as refused:
        return None, {refused.field or "form": [refused.message]}, refused.status
    return saved, {}, 200


def _book_context(request: StaffRequest) -> dict[str, Any]:
    return {
        "rows": price_book(request.user, currency=settings.CASELOOP_CURRENCY),
        "currency": settings.CASELOOP_CURRENCY,
        "kinds": ItemKind.choices,
        "can_edit": request.user.role == Role.ADMIN,
    }


@require_http_methods(["GET", "POST"])
@manager_page
def book(request: StaffRequest) -> HttpResponseBase:
    """The price book: every product and service with its price now; administrators add items here."""
    errors: Errors = {}
    status = 200
    values = _item_values(None)
    if request.method == "POST":
        saved, errors, status = _save_item(request, None)
        if saved is not None:
            messages.success(request, f"{saved.name} added; publish its price below.")
            return redirect("pricing:item", item_id=saved.pk)
        values = _posted_item(request)
    context = {**_book_context(request), "values": values, "errors": errors, "item": None}
    return render(request, "pricing/book.html", context, status=status)


def _standing(price: Price, now: dt.datetime) -> str:
    if price.valid_from > now:
        return "scheduled"
    return "in effect" if price.valid_to is None or price.valid_to > now else "ended"


def _item_page(
    request: StaffRequest,
    item: PriceItem,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    price_values: dict[str, Any] | None = None,
    price_errors: Errors | None = None,
    status: int = 200,
) -> HttpResponse:
    now = clock.now()
    history = [(price, _standing(price, now)) for price in price_history(item)]
    context = {
        "item": item,
        "values": values or _item_values(item),
        "errors": errors or {},
        "price_values": price_values
        or {"amount": "", "currency": settings.CASELOOP_CURRENCY, "valid_from": "", "valid_to": ""},
        "price_errors": price_errors or {},
        "history": history,
        "kinds": ItemKind.choices,
        "can_edit": request.user.role == Role.ADMIN,
        "zone": request.user.time_zone or "UTC",
    }
    return render(request, "pricing/item.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manager_page
def item_page(request: StaffRequest, item_id: int) -> HttpResponseBase:
    """One item: change its name, unit, description and visibility; its prices, newest first, and a new one."""
    item = access_item_by_id(request.user, item_id)
    if request.method == "GET":
        return _item_page(request, item)
    saved, errors, status = _save_item(request, item)
    if saved is not None:
        messages.success(request, f"{saved.name} saved.")
        return redirect("pricing:item", item_id=saved.pk)
    return _item_page(request, item, values=_posted_item(request), errors=errors, status=status)


def _aware(moment: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=zone)


@require_POST
@manager_page
def publish(request: StaffRequest, item_id: int) -> HttpResponseBase:
    """Publish a new price of an item: the one in effect at its start ends there; history is never edited."""
    item = access_item_by_id(request.user, item_id)
    require_role(request.user, Role.ADMIN)  # the action's own check, before the form is even read
    form = PriceForm(request.POST)
    posted = {f: request.POST.get(f, "") for f in ("amount", "currency", "valid_from", "valid_to")}
    if not form.is_valid():
        return _item_page(request, item, price_values=posted, price_errors=_form_errors(form), status=422)
    data = form.cleaned_data
    zone = zone_of(request.user)
    try:
        price = actions.publish_price(
            actor=request.user,
            item=item,
            amount=actions.parse_price(data["amount"], data["currency"]),
            valid_from=_aware(data["valid_from"], zone),
            valid_to=_aware(data["valid_to"], zone),
        )
    except DomainError as refused:
        errors = {refused.field or "form": [refused.message]}
        return _item_page(request, item, price_values=posted, price_errors=errors, status=refused.status)
    messages.success(
        request,
        f"{price.amount} {price.currency} published for {item.name}, from {price.valid_from:%Y-%m-%d %H:%M} UTC.",
    )
    return redirect("pricing:item", item_id=item.pk)
