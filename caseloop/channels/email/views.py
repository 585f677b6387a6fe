"""The quarantine page: administrators see mail that was not filed, with the reason, and re-process it.

Each view parses, calls one selector or action, and renders. Refusals
(not signed in, not an administrator, a DomainError) follow the workspace's
conventions: the sign-in page, or the workspace's error page with the status.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from caseloop.channels.email.actions import reprocess_inbound
from caseloop.channels.email.choices import InboundState
from caseloop.channels.email.selectors import access_inbound, inbound_for_admin
from caseloop.core.errors import DomainError
from caseloop.identity.models import User

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _refusal(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, "web/error.html", {"error": error}, status=error.status)


@require_GET
def quarantine(request: HttpRequest) -> HttpResponseBase:
    actor = _actor(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    state_param = request.GET.get("state", InboundState.QUARANTINED)
    state = InboundState(state_param) if state_param in InboundState.values else InboundState.QUARANTINED
    try:
        rows = inbound_for_admin(actor, state=state)
    except DomainError as error:
        return _refusal(request, error)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "email_channel/quarantine.html",
                  {"page": page, "state": state, "states": InboundState.choices})  # fmt: skip


@require_GET
def inbound_detail(request: HttpRequest, inbound_id: int) -> HttpResponseBase:
    actor = _actor(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    try:
        inbound = access_inbound(actor, inbound_id)
    except DomainError as error:
        return _refusal(request, error)
    if request.GET.get("raw") == "1":
        response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.eml"'
        return response
    headers = bytes(inbound.raw).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:20_000]
    return render(request, "email_channel/inbound.html",
                  {"inbound": inbound, "headers": headers.decode("utf-8", "replace")})  # fmt: skip


@require_POST
def reprocess(request: HttpRequest, inbound_id: int) -> HttpResponseBase:
    actor = _actor(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    try:
        inbound = reprocess_inbound(actor=actor, inbound_id=inbound_id)
    except DomainError as error:
        return _refusal(request, error)
    if inbound.state == InboundState.PROCESSED:
        messages.success(request, f"Inbound email {inbound.pk} was filed on case {inbound.case_id}.")
    else:
        messages.warning(request, f"Inbound email {inbound.pk} is {inbound.state} again: {inbound.reason}")
    return redirect("email_channel:inbound", inbound_id=inbound.pk)
