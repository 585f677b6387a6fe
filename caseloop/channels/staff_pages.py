"""The channels' own workspace pages (chat queue, IVR editor, the case page's panels): who may open them,
and the conversation their panels refresh.

Staff pages use the one decorator every domain shares (`caseloop.identity.access.staff_page`: the sign-in
page for a visitor, the polite 403 for a customer or partner, a DomainError shown with its status);
`admin_page` adds the channels' administrators-only set-up pages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponseBase

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case
from caseloop.cases.selectors import messages_visible_to
from caseloop.channels.email.selectors import delivery_states, display_texts
from caseloop.core.errors import PermissionDenied
from caseloop.identity.access import StaffRequest, error_page, is_htmx, staff_page
from caseloop.identity.choices import Role
from caseloop.identity.models import User

__all__ = ["StaffRequest", "admin_page", "conversation", "is_htmx", "staff_page"]

P = ParamSpec("P")


def admin_page(
    view: Callable[Concatenate[StaffRequest, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """A staff page for administrators only (channel set-up)."""

    @functools.wraps(view)
    def inner(request: StaffRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if request.user.role != Role.ADMIN:
            return error_page(request, PermissionDenied("Only administrators set up channels."))
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
