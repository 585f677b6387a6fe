"""Signing in and out. Password reset uses Django's views with our templates (see urls)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from caseloop.core.clientaddr import client_address
from caseloop.core.errors import DomainError
from caseloop.identity.actions import sign_in
from caseloop.web.forms import LoginForm


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return str(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    error: DomainError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            user = sign_in(
                request=request,
                identifier=form.cleaned_data["identifier"],
                password=form.cleaned_data["password"],
                ip_address=client_address(request),
            )
        except DomainError as exc:
            error = exc
        else:
            auth_login(request, user)
            return HttpResponseRedirect(_safe_next(request))
    status = error.status if error is not None and error.status == 429 else (400 if request.method == "POST" else 200)
    return render(request, "web/login.html", {"form": form, "error": error, "next": _safe_next(request)},
                  status=status)  # fmt: skip


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST signs out. GET (a typed or bookmarked /logout/) asks first, as signing out by a link would let any
    page sign a person out; someone already signed out goes to the sign-in page."""
    if request.method == "GET":
        if not request.user.is_authenticated:
            return redirect("web:login")
        return render(request, "web/logout.html")
    auth_logout(request)
    return redirect("web:login")
