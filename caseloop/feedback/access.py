"""Who may open the staff pages of feedback and insights, and how a refusal looks there.

The workspace's own wrapper lives in caseloop.web, a layer above this domain;
these two decorators behave the same (sign-in redirect, a polite 403 for
customers and partners, a DomainError shown with its status and message) and
render the workspace's templates, so the pages look alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render

from caseloop.core.errors import DomainError, PermissionDenied
from caseloop.identity.choices import Role
from caseloop.identity.models import User

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


class StaffRequest(HttpRequest):
    user: User  # narrowed by staff_page


def error_page(request: HttpRequest, error: DomainError) -> HttpResponseBase:
    return render(request, "web/error.html", {"error": error}, status=error.status)


def staff_page(view: Callable[Concatenate[StaffRequest, P], HttpResponseBase]) -> View[P]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
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
