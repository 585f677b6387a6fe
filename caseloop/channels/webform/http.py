"""Refusing an oversized upload before a byte of it is read.

Django reads a POST body the first time anything touches `request.POST` or
`request.FILES`, and CsrfViewMiddleware touches it before the view runs, so a
limit checked in the view would come after a 500 MB upload was already
spooled to disk. Django's documented way around it: exempt the outer view
from the middleware's check, look at Content-Length, then run the real view
under `csrf_protect`, which checks the token as the middleware would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from caseloop.channels.webform import conf
from caseloop.channels.webform.errors import WebFormError, WebFormErrorCode

P = ParamSpec("P")
R = TypeVar("R", bound=HttpRequest)  # a view typed for a narrower request (the portal's signed-in customer)
View = Callable[Concatenate[R, P], HttpResponseBase]


def too_large() -> WebFormError:
    limit = conf.max_body_bytes() // (1024 * 1024)
    return WebFormError(WebFormErrorCode.REQUEST_TOO_LARGE,
                        f"That is more than we can receive at once (about {limit} MB in all). Please attach fewer "
                        f"or smaller files.", status=413, field="attachments")  # fmt: skip


def limit_body(
    refuse: Callable[[HttpRequest, WebFormError], HttpResponseBase],
) -> Callable[[View[R, P]], View[R, P]]:
    """Decorator: a POST larger than `conf.max_body_bytes()` gets `refuse(request, error)`; CSRF is still checked."""

    def decorate(view: View[R, P]) -> View[R, P]:
        protected = csrf_protect(view)

        @functools.wraps(view)
        def outer(request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if request.method == "POST":
                raw = request.META.get("CONTENT_LENGTH") or "0"
                if not raw.isdigit() or int(raw) > conf.max_body_bytes():
                    return refuse(request, too_large())
            return protected(request, *args, **kwargs)

        return csrf_exempt(outer)

    return decorate
