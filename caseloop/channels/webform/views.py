"""The public contact form: a page anyone may use, and the page that says it arrived.

Each view parses, calls one action, and renders. No sign-in: the limits are
the form's one-time token, the honeypot, and the rate limits per address and IP.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from caseloop.channels.webform import conf
from caseloop.channels.webform.actions import ContactRequest, submit_contact_form
from caseloop.channels.webform.files import allowed_types_text
from caseloop.channels.webform.forms import ContactForm, attachment_inputs, new_form_token
from caseloop.channels.webform.http import limit_body
from caseloop.core.clientaddr import client_address
from caseloop.core.errors import DomainError


def _render_form(request: HttpRequest, form: ContactForm, *, error: DomainError | None = None,
                 status: int = 200) -> HttpResponse:  # fmt: skip
    context: dict[str, Any] = {
        "form": form, "error": error, "max_files": conf.max_files(), "max_file_bytes": conf.max_file_bytes(),
        "file_types": allowed_types_text(),
    }  # fmt: skip
    response = render(request, "webform/contact.html", context, status=status)
    if error is not None and "retry_after_seconds" in error.extra:
        response["Retry-After"] = str(error.extra["retry_after_seconds"])
    return response


def _refuse(request: HttpRequest, error: DomainError) -> HttpResponseBase:
    return _render_form(request, ContactForm(initial={"form_token": new_form_token()}), error=error,
                        status=error.status)  # fmt: skip


@never_cache
@require_http_methods(["GET", "POST"])
@limit_body(_refuse)
def contact(request: HttpRequest) -> HttpResponseBase:
    if request.method == "GET":
        return _render_form(request, ContactForm(initial={"form_token": new_form_token()}))
    form = ContactForm(request.POST, request.FILES)
    if not form.is_valid():
        if not request.POST.get("form_token"):
            form = ContactForm(request.POST.dict() | {"form_token": new_form_token()})
            form.is_valid()
        return _render_form(request, form, status=422)
    data = form.cleaned_data
    try:
        submit_contact_form(request=ContactRequest(
            name=data["name"], email=data["email"], topic=data["topic"], message=data["message"],
            form_token=data["form_token"], ip_address=client_address(request),
            attachments=attachment_inputs(data["attachments"]), honeypot=data["website"],
        ))  # fmt: skip
    except DomainError as refused:
        return _render_form(request, form, error=refused, status=refused.status)
    # whatever happened (a new case, a repeat, a robot caught), the same page: it must not tell whoever typed
    # an address anything about that address's cases; the number goes to the address, in the acknowledgement
    return redirect("webform:sent")


@never_cache
@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    """The thank-you page: the same words for every submission and every address (ADR 0076)."""
    return render(request, "webform/sent.html", {"acknowledged": conf.acknowledge()})
