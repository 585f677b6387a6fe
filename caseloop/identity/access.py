"""Who may open a staff page, and how a refusal looks there.

Every domain's staff pages (the workspace in caseloop.web, and the pages of
promises, policies, SLAs and the price book, which sit below it) are wrapped
in `staff_page`: a visitor who is not signed in goes to the sign-in page (an
htmx fragment gets a 401 with HX-Redirect, as a fragment cannot show it); a
customer or partner (who has a portal, not the workspace) gets a polite 403
page; a DomainError raised by an action or a selector becomes its status with
its message, as a page or as the fragment htmx asked for. `manager_page` also
turns away anyone below a service manager. The templates are the workspace's
(web/error.html, web/partials/error.html, web/not_staff.html), found by name.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from caseloop.core.errors import DomainError, Invalid, PermissionDenied
from caseloop.identity.choices import Role
from caseloop.identity.models import User

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


class StaffRequest(HttpRequest):
    """A request of a signed-in member of staff (for type checking views)."""

    user: User  # narrowed from User | AnonymousUser by staff_page


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request for a fragment (a boosted link wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def error_page(request: HttpRequest, error: DomainError) -> HttpResponseBase:
    template = "web/partials/error.html" if is_htmx(request) else "web/error.html"
    return render(request, template, {"error": error}, status=error.status)


def staff_page(view: Callable[Concatenate[StaffRequest, P], HttpResponseBase]) -> View[P]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            if is_htmx(request):
                # a fragment cannot show the sign-in page; send the whole window there
                response = HttpResponse(status=401)
                response["HX-Redirect"] = f"/login/?next={request.headers.get('HX-Current-URL', '/')}"
                return response
            return redirect_to_login(request.get_full_path())
        assert isinstance(user, User)
        if not user.is_staff_member:
            return render(request, "web/not_staff.html", status=403)
        try:
            return view(request, *args, **kwargs)  # type: ignore[arg-type]
        except DomainError as error:
            return error_page(request, error)

    return wrapper


def manager_page(
    view: Callable[Concatenate[StaffRequest, P], HttpResponseBase],
    *,
    refusal: str = "This page is for service managers and administrators.",
) -> View[P]:
    """A staff page for service managers and administrators only."""

    @functools.wraps(view)
    def inner(request: StaffRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if request.user.role not in (Role.MANAGER, Role.ADMIN):
            return error_page(request, PermissionDenied(refusal))
        return view(request, *args, **kwargs)

    return staff_page(inner)


def parsed(form: forms.Form) -> dict[str, Any]:
    """The cleaned data, or the first problem as an Invalid naming its field."""
    if not form.is_valid():
        if not form.errors:  # unbound (`Form(request.POST or None)` with an empty POST): invalid, with nothing to say
            raise Invalid("The form arrived empty; fill it in and send it again.")
        field, errors = next(iter(form.errors.items()))
        raise Invalid(f"{field.replace('_', ' ')}: {errors[0]}", field=field)
    return form.cleaned_data


def zone_of(user: User) -> dt.tzinfo:
    try:
        return ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC
