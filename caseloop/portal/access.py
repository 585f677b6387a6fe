"""Who may use the portal, and how refusals look in it.

Every portal page but sign-in is wrapped in `customer_view`: a visitor who is
not signed in goes to the portal's sign-in page; staff (who have the workspace)
get a polite 403 page and see no customer data; customers and partners come in,
and each sees what the domains' `*_visible_to` selectors give them (a partner:
the work attributed to its organization, ADR 0052); a DomainError
raised by an action or selector becomes its status with its message, so a
guessed case number is the same "not found" as one that does not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec
from urllib.parse import quote

from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from caseloop.core.errors import DomainError
from caseloop.identity.choices import Role
from caseloop.identity.models import User

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


# who the portal is for: customers, and partners working cases attributed to them
PORTAL_ROLES = frozenset({Role.CUSTOMER, Role.PARTNER})


class CustomerRequest(HttpRequest):
    """A request of a signed-in customer or partner (for type checking views)."""

    user: User  # narrowed from User | AnonymousUser by customer_view


def error_page(request: HttpRequest, error: DomainError) -> HttpResponseBase:
    return render(request, "portal/error.html", {"error": error}, status=error.status)


def customer_view(view: Callable[Concatenate[CustomerRequest, P], HttpResponseBase]) -> View[P]:
    @never_cache  # a customer's own data: never kept by a shared cache or the back button of the next person
    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return HttpResponseRedirect(f"{reverse('portal:sign_in')}?next={quote(request.get_full_path())}")
        assert isinstance(user, User)
        if user.role not in PORTAL_ROLES:
            return render(request, "portal/not_customer.html", status=403)
        try:
            return view(request, *args, **kwargs)  # type: ignore[arg-type]
        except DomainError as error:
            return error_page(request, error)

    return wrapper
