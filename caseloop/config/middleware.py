"""NUL characters in a query string or a form are refused before any view runs.

No caseloop column can store U+0000 (PostgreSQL's text refuses it, so the
write or the filter would fail with a server error) and no person types one.
Django's form fields already refuse it, but a view that reads a parameter
itself (a provider's webhook, a filter, a page without a Form) would hand it
to the database. So it is refused here, once: a 400, as problem+json under the
API. JSON bodies are checked by their parser (core.strictjson). A view marked
`accepts_nul` (the telephony provider's webhooks: a customer's text must not be
lost for one) reads its form itself and replaces U+0000 there.

Form bodies are read only where Django's CSRF check has read them already (or
they are url-encoded, which leaves the raw body readable): a CSRF-exempt view
taking multipart, such as a webhook that checks a signature over the raw
body, must still find it unread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import render

from caseloop.api.problems import problem_response

API_PREFIX = "/api/"
DETAIL = "Text cannot contain NUL characters."


def _has_nul(values: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values.getlist(key)) for key in values)


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if _has_nul(request.GET) or (self._form_is_readable(request, view_func) and _has_nul(request.POST)):
            return self._refusal(request)
        return None

    @staticmethod
    def _form_is_readable(request: HttpRequest, view_func: Callable[..., Any]) -> bool:
        if request.method != "POST" or request.path_info.startswith(API_PREFIX):
            return False
        if getattr(view_func, "accepts_nul", False):
            return False
        if request.content_type == "application/x-www-form-urlencoded":
            return True
        return request.content_type == "multipart/form-data" and not getattr(view_func, "csrf_exempt", False)

    @staticmethod
    def _refusal(request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            return problem_response(status=400, code="nul_in_text", detail=DETAIL)
        # a person who pasted it into a search box gets a page in the app's look, not bare text
        return render(request, "400.html", {"detail": DETAIL}, status=400)
