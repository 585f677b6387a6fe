"""The pages for what no view answers: an unknown address (404), a method an address does not take (405).

Staff see them in the workspace's layout; customers, partners and visitors (and anyone under /portal/ or on
the contact form) in the portal's, which shows nothing of the workspace. An htmx request gets the fragment.
Django renders 500.html, 400.html and 403_csrf.html itself with no request and no context processors, so
those templates stand alone (`web/plain_base.html`): nothing there may read the database or the user.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from caseloop.core.errors import CommonErrorCode, DomainError
from caseloop.identity.access import is_htmx
from caseloop.identity.models import User

# addresses that belong to customers and visitors: their errors keep the portal's look
PUBLIC_PREFIXES = ("/portal/", "/contact/")


def _for_staff(request: HttpRequest) -> bool:
    if request.path_info.startswith(PUBLIC_PREFIXES):
        return False
    user = getattr(request, "user", None)  # absent when the error comes before the authentication middleware
    return isinstance(user, User) and user.is_authenticated and user.is_staff_member


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an unknown address, or an Http404 raised by a view."""
    if is_htmx(request):
        error = DomainError(CommonErrorCode.NOT_FOUND, "That was not found; reload the page.", status=404)
        return render(request, "web/partials/error.html", {"error": error}, status=404)
    return render(request, "404.html" if _for_staff(request) else "portal/404.html", status=404)


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    """The page for a 405: typically a reload or a bookmark of an address that only takes a form's POST."""
    words = "This address only receives what a form on a page sends, so there is nothing to show here."
    error = DomainError(CommonErrorCode.INVALID, f"{words} Go back and use the page's button.", status=405)
    if is_htmx(request):
        response = render(request, "web/partials/error.html", {"error": error}, status=405)
    else:
        template = "web/error.html" if _for_staff(request) else "portal/error.html"
        response = render(request, template, {"error": error}, status=405)
    response["Allow"] = allowed
    return response
