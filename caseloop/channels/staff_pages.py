"""Who may open the channels' own workspace pages (chat queue, IVR editor, the case page's panels).

The channels sit below `caseloop.web` in the layers, so they cannot use its
`staff_view`; these decorators keep the same conventions: the sign-in page for
a visitor (a 401 with HX-Redirect for an htmx fragment), the workspace's polite
403 page for a customer or partner, a DomainError shown with its status, and
pages extend the workspace's templates.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case
from caseloop.cases.selectors import messages_visible_to
from caseloop.channels.email.selectors import delivery_states, display_texts
from caseloop.core.errors import DomainError, PermissionDenied
from caseloop.identity.choices import Role
from caseloop.identity.models import User

P = ParamSpec("P")


class StaffRequest(HttpRequest):
    user: User  # narrowed by the decorators


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def refusal(request: HttpRequest, error: DomainError) -> HttpResponse:
    template = "web/partials/error.html" if is_htmx(request) else "web/error.html"
    return render(request, template, {"error": error}, status=error.status)


def staff_page(
    view: Callable[Concatenate[StaffRequest, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            if is_htmx(request):
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
            return refusal(request, error)

    return wrapper


def admin_page(
    view: Callable[Concatenate[StaffRequest, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """A staff page for administrators only (channel set-up)."""

    @functools.wraps(view)
    def inner(request: StaffRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if request.user.role != Role.ADMIN:
            return refusal(request, PermissionDenied("Only administrators set up channels."))
        return view(request, *args, **kwargs)

    return staff_page(inner)


def conversation(actor: User, case: Case) -> dict[str, Any]:
    """What `web/partials/message.html` needs to show a case's messages as the case page does (the chat and
    calls panels refresh the conversation in place): the messages, trimmed email texts, email delivery states."""
    thread = list(messages_visible_to(actor, case))
    email = [m for m in thread if m.channel == Channel.EMAIL]
    received = [m.pk for m in email if m.direction != Direction.OUTBOUND]
    sent = [m.pk for m in email if m.direction == Direction.OUTBOUND]
    return {
        "thread": thread,
        "email_texts": display_texts(received) if received else {},
        "deliveries": delivery_states(actor, sent) if sent else {},
    }
