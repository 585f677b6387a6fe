"""The email admin pages: mailboxes (list, add, edit, disable) and the quarantine (mail that was not
filed, with the reason, to re-process).

Each view parses, calls one selector or action, and renders. Refusals
(not signed in, not an administrator, a DomainError) follow the workspace's
conventions: the sign-in page, or the workspace's error page with the status.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from caseloop.channels.email.actions import create_mailbox, reprocess_inbound, set_mailbox_active, update_mailbox
from caseloop.channels.email.choices import InboundState
from caseloop.channels.email.forms import MailboxForm
from caseloop.channels.email.selectors import access_inbound, access_mailbox, inbound_for_admin, mailboxes_for_admin
from caseloop.core.errors import DomainError
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role

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


# --- mailboxes ----------------------------------------------------------------------------
@require_GET
def mailboxes(request: HttpRequest) -> HttpResponseBase:
    actor = _actor(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    try:
        rows = mailboxes_for_admin(actor)
    except DomainError as error:
        return _refusal(request, error)
    return render(request, "email_channel/mailboxes.html", {"mailboxes": rows})


def _form_fields(form: MailboxForm) -> dict[str, Any]:
    """The settings the actions take, as the form cleaned them (types checked by the form's fields)."""
    data = form.cleaned_data
    names = ("address", "name", "team", "acknowledge", "imap_host", "imap_port", "imap_username", "imap_folder",
             "imap_archive_folder", "poll_seconds")  # fmt: skip
    return {name: data[name] for name in names}


def _form_page(request: HttpRequest, form: MailboxForm, error: DomainError | None, status: int) -> HttpResponse:
    if error is not None and error.field in form.fields:
        form.add_error(error.field, error.message)  # shown beside its field
        error = None
    return render(request, "email_channel/mailbox_form.html", {"form": form, "mailbox": form.mailbox,
                                                                "error": error}, status=status)  # fmt: skip


def mailbox_add(request: HttpRequest) -> HttpResponseBase:
    actor = _actor(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    try:
        require_role(actor, Role.ADMIN)  # the form itself is for administrators only
    except DomainError as refused:
        return _refusal(request, refused)
    form = MailboxForm(request.POST or None)
    error: DomainError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = create_mailbox(actor=actor, imap_password=form.cleaned_data["imap_password"],
                                     **_form_fields(form))  # fmt: skip
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Added the mailbox {mailbox.address}.")
            return redirect("email_channel:mailboxes")
    status = error.status if error else 422 if form.errors else 200
    return _form_page(request, form, error, status)


def mailbox_edit(request: HttpRequest, mailbox_id: int) -> HttpResponseBase:
    actor = _actor(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    try:
        mailbox = access_mailbox(actor, mailbox_id)
    except DomainError as refused:
        return _refusal(request, refused)
    form = MailboxForm(request.POST or None, mailbox=mailbox)
    error: DomainError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            update_mailbox(actor=actor, mailbox=mailbox, imap_password=form.cleaned_data["imap_password"] or None,
                           clear_imap_password=bool(form.cleaned_data.get("clear_imap_password")),
                           **_form_fields(form))  # fmt: skip
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Saved the mailbox {form.cleaned_data['address'].strip().lower()}.")
            return redirect("email_channel:mailboxes")
    status = error.status if error else 422 if form.errors else 200
    return _form_page(request, form, error, status)


@require_POST
def mailbox_active(request: HttpRequest, mailbox_id: int) -> HttpResponseBase:
    """Disable a mailbox (`active=0`) or enable it again (`active=1`)."""
    actor = _actor(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    try:
        mailbox = set_mailbox_active(actor=actor, mailbox=access_mailbox(actor, mailbox_id),
                                     active=request.POST.get("active") == "1")  # fmt: skip
    except DomainError as error:
        return _refusal(request, error)
    what = "enabled: it receives mail again" if mailbox.active else "disabled: it receives no more mail"
    messages.success(request, f"{mailbox.address} is {what}.")
    return redirect("email_channel:mailboxes")
