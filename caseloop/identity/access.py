"""Who may open the staff pages of promises, policies, SLAs and quotes, and how a refusal looks there.

The workspace's own wrapper lives in caseloop.web, a layer above these
domains; these decorators behave the same (sign-in redirect, a polite 403 for
customers and partners, a DomainError shown with its status and message, as a
page or as the fragment htmx asked for) and render the workspace's templates,
so the pages look alike.
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
    user: User  # narrowed by staff_page


def is_htmx(request: HttpRequest) -> bool:
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


def manager_page(view: Callable[Concatenate[StaffRequest, P], HttpResponseBase]) -> View[P]:
    """A staff page for service managers and administrators only."""

    @functools.wraps(view)
    def inner(request: StaffRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if request.user.role not in (Role.MANAGER, Role.ADMIN):
            return error_page(request, PermissionDenied("This page is for service managers and administrators."))
        return view(request, *args, **kwargs)

    return staff_page(inner)


def parsed(form: forms.Form) -> dict[str, Any]:
    """The cleaned data, or the first problem as an Invalid naming its field."""
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise Invalid(f"{field.replace('_', ' ')}: {errors[0]}", field=field)
    return form.cleaned_data


def zone_of(user: User) -> dt.tzinfo:
    try:
        return ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC
