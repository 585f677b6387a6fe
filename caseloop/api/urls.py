"""Mounts the API at /api/v1/; whatever it does not answer is still a problem, not HTML."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, path, re_path

from caseloop.api.main import api
from caseloop.api.problems import problem_response


def unknown_route(request: HttpRequest, rest: str) -> HttpResponse:
    """Anything under /api/v1/ that no route matches: a problem, not the web UI's HTML 404."""
    return problem_response(status=404, code="not_found", detail="There is no such API route.")


def _method_not_allowed_as_problem(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    # ninja answers a method a path lacks with a bare 405 of its own, outside the exception handlers
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "problem" not in response.get("Content-Type", ""):
            detail = f"{request.method} is not allowed here; use {response['Allow']}."
            problem = problem_response(status=405, code="method_not_allowed", detail=detail)
            problem["Allow"] = response["Allow"]
            return problem
        return response

    return wrapper


def _api_patterns() -> list[URLPattern | URLResolver]:
    patterns, _app, _namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _method_not_allowed_as_problem(pattern.callback)
    return patterns


urlpatterns = [
    path("api/v1/", (_api_patterns(), "ninja", "api")),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_route),
]
