"""Who may use the workspace, and how refusals look in it.

Every workspace view is wrapped in `staff_view`: a visitor who is not signed
in goes to the sign-in page; a customer or partner (who has a portal, not the
workspace) gets a polite 403 page; a DomainError raised by an action or a
selector becomes its status with its message, as a page or an htmx fragment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from caseloop.core.errors import DomainError
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.web.htmx import is_htmx

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


class StaffRequest(HttpRequest):
    """A request of a signed-in member of staff (for type checking views)."""

    user: User  # narrowed from User | AnonymousUser by staff_view


def error_response(request: HttpRequest, error: DomainError) -> HttpResponseBase:
    template = "web/partials/error.html" if is_htmx(request) else "web/error.html"
    return render(request, template, {"error": error}, status=error.status)


def staff_view(view: Callable[Concatenate[StaffRequest, P], HttpResponseBase]) -> View[P]:
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
            return error_response(request, error)

    return wrapper


def manager_view(view: Callable[Concatenate[StaffRequest, P], HttpResponseBase]) -> View[P]:
    """A staff view for managers and administrators only."""

    @functools.wraps(view)
    def inner(request: StaffRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if request.user.role not in (Role.MANAGER, Role.ADMIN):
            return render(request, "web/error.html", {"error": _manager_only()}, status=403)
        return view(request, *args, **kwargs)

    return staff_view(inner)


def _manager_only() -> DomainError:
    from caseloop.core.errors import PermissionDenied

    return PermissionDenied("The team overview is for service managers and administrators.")
