"""The email admin pages: mailboxes (list, add, edit, disable) and the quarantine (mail that was not
filed, with the reason, to re-process).

Each view parses, calls one selector or action, and renders. Every page is wrapped in the channels'
`admin_page` (caseloop/channels/staff_pages.py), so refusals look as on every other staff page: the sign-in
page for a visitor, the polite "for our staff" 403 for a customer or partner, a 403 for staff who are not
administrators, and a DomainError from an action or selector shown with its status and message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from caseloop.channels.email.actions import create_mailbox, reprocess_inbound, set_mailbox_active, update_mailbox
from caseloop.channels.email.choices import InboundState
from caseloop.channels.email.forms import MailboxForm
from caseloop.channels.email.selectors import access_inbound, access_mailbox, inbound_for_admin, mailboxes_for_admin
from caseloop.channels.staff_pages import StaffRequest, admin_page
from caseloop.core.errors import DomainError

PAGE_SIZE = 50


@require_GET
@admin_page
def quarantine(request: StaffRequest) -> HttpResponseBase:
    actor = request.user
    state_param = request.GET.get("state", InboundState.QUARANTINED)
    state = InboundState(state_param) if state_param in InboundState.values else InboundState.QUARANTINED
    rows = inbound_for_admin(actor, state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "email_channel/quarantine.html",
                  {"page": page, "state": state, "states": InboundState.choices})  # fmt: skip


@require_GET
@admin_page
def inbound_detail(request: StaffRequest, inbound_id: int) -> HttpResponseBase:
    actor = request.user
    inbound = access_inbound(actor, inbound_id)
    if request.GET.get("raw") == "1":
        response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.eml"'
        return response
    headers = bytes(inbound.raw).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:20_000]
    return render(request, "email_channel/inbound.html",
                  {"inbound": inbound, "headers": headers.decode("utf-8", "replace")})  # fmt: skip


@require_POST
@admin_page
def reprocess(request: StaffRequest, inbound_id: int) -> HttpResponseBase:
    actor = request.user
    inbound = reprocess_inbound(actor=actor, inbound_id=inbound_id)
    if inbound.state == InboundState.PROCESSED:
        messages.success(request, f"Inbound email {inbound.pk} was filed on case {inbound.case_id}.")
    else:
        messages.error(request, f"Inbound email {inbound.pk} is {inbound.state} again: {inbound.reason}")
    return redirect("email_channel:inbound", inbound_id=inbound.pk)


# --- mailboxes ----------------------------------------------------------------------------
@require_GET
@admin_page
def mailboxes(request: StaffRequest) -> HttpResponseBase:
    actor = request.user
    rows = mailboxes_for_admin(actor)
    return render(request, "email_channel/mailboxes.html", {"mailboxes": rows})


def _form_fields(form: MailboxForm) -> dict[str, Any]:
    """The settings the actions take, as the form cleaned them (types checked by the form's fields)."""
    data = form.cleaned_data
    names = ("address", "name", "team", "acknowledge", "imap_host", "imap_port", "imap_username", "imap_folder",
             "imap_archive_folder", "poll_seconds")  # fmt: skip
    return {name: data[name] for name in names}


def _form_page(request: StaffRequest, form: MailboxForm, error: DomainError | None, status: int) -> HttpResponse:
    if error is not None and error.field in form.fields:
        form.add_error(error.field, error.message)  # shown beside its field
        error = None
    return render(request, "email_channel/mailbox_form.html", {"form": form, "mailbox": form.mailbox,
                                                                "error": error}, status=status)  # fmt: skip


@admin_page
def mailbox_add(request: StaffRequest) -> HttpResponseBase:
    actor = request.user
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


@admin_page
def mailbox_edit(request: StaffRequest, mailbox_id: int) -> HttpResponseBase:
    actor = request.user
    mailbox = access_mailbox(actor, mailbox_id)
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
@admin_page
def mailbox_active(request: StaffRequest, mailbox_id: int) -> HttpResponseBase:
    """Disable a mailbox (`active=0`) or enable it again (`active=1`)."""
    actor = request.user
    mailbox = set_mailbox_active(actor=actor, mailbox=access_mailbox(actor, mailbox_id),
                                 active=request.POST.get("active") == "1")  # fmt: skip
    what = "enabled: it receives mail again" if mailbox.active else "disabled: it receives no more mail"
    messages.success(request, f"{mailbox.address} is {what}.")
    return redirect("email_channel:mailboxes")
