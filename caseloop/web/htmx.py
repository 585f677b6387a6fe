"""One view, two renderings: a full page, or the fragment htmx asked for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request for a fragment (a boosted link wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render_page(
    request: HttpRequest,
    *,
    page: str,
    partial: str,
    context: Mapping[str, Any],
    status: int = 200,
) -> HttpResponse:
    """Render `partial` for an htmx request, else `page` (which includes the partial)."""
    template = partial if is_htmx(request) else page
    return render(request, template, dict(context), status=status)


def trigger(response: HttpResponse, event: str) -> HttpResponse:
    """Tell the page that something changed, so other parts can refresh themselves."""
    response["HX-Trigger"] = event
    return response
