"""A strict Content-Security-Policy on every response; a 405 in words.

Every script and stylesheet is a static file of our own (htmx is vendored), so
the policy allows nothing inline and nothing from elsewhere: injected markup
in a customer's message could not run a script even if it slipped past the
sanitiser. A response that already carries a policy keeps its own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from caseloop.web.views.errors import method_not_allowed

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = POLICY
        return response


class MethodNotAllowedPageMiddleware:
    """A 405 as a page in the app's look, not an empty body (which browsers replace with their own error page).

    Django's method decorators answer a GET on an address that only takes a form's POST (a reload or a
    bookmark of it, a typed /cases/1/presence/) with an empty 405. The API answers its own as problem+json
    and is left alone, as is any 405 that already says something.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and isinstance(response, HttpResponse)
            and not response.content
            and not request.path_info.startswith("/api/")
        ):
            return method_not_allowed(request, response.get("Allow", ""))
        return response
