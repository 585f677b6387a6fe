"""The customer portal's pages. Each view parses, calls one action or selector, and renders.

A partner signs in here too and sees the same pages over the work attributed to its
organization (the selectors decide what is visible); it may answer, never open a request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from caseloop.cases.attachments import attachments_root, safe_content_type, safe_filename
from caseloop.channels.webform import conf as webform_conf
from caseloop.channels.webform.errors import WebFormError
from caseloop.channels.webform.files import allowed_types_text
from caseloop.channels.webform.forms import attachment_inputs, new_form_token
from caseloop.channels.webform.http import limit_body
from caseloop.core.clientaddr import client_address
from caseloop.core.errors import DomainError, Invalid, PermissionDenied
from caseloop.customers.models import Asset, Site
from caseloop.customers.selectors import access_asset, access_site
from caseloop.identity.choices import Role
from caseloop.portal import actions, conf, selectors
from caseloop.portal.access import CustomerRequest, customer_view, error_page
from caseloop.portal.forms import NewCaseForm, ReplyForm, SignInForm
from caseloop.promises.selectors import promises_told_to
from caseloop.timeline.choices import SubjectKind


def _file_limits() -> dict[str, Any]:
    return {"max_files": webform_conf.max_files(), "max_file_bytes": webform_conf.max_file_bytes(),
            "file_types": allowed_types_text()}  # fmt: skip


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/portal/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:home")


# --- signing in -----------------------------------------------------------------------------------------
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link. Every well-formed address gets the same "check your email" page."""
    form = SignInForm(request.POST or None)
    error: DomainError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            actions.request_sign_in_link(email=form.cleaned_data["email"], ip_address=client_address(request))
        except DomainError as refused:
            error = refused
        else:
            minutes = int(conf.link_life().total_seconds() // 60)
            return render(request, "portal/check_email.html", {"email": form.cleaned_data["email"], "minutes": minutes})
    status = error.status if error is not None else (422 if request.method == "POST" else 200)
    response = render(request, "portal/sign_in.html", {"form": form, "error": error}, status=status)
    if error is not None and "retry_after_seconds" in error.extra:
        response["Retry-After"] = str(error.extra["retry_after_seconds"])
    return response


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponseBase:
    """The link from the email. GET only shows a button: mail scanners that open every link
    must not use it up; the person's click (a POST) signs in."""
    try:
        if request.method == "GET":
            selectors.usable_link(token)  # read only: says at once when a link is used up or expired
            return render(request, "portal/confirm.html", {"token": token, "next": _safe_next(request)})
        user = actions.sign_in_with_link(token=token, ip_address=client_address(request))
    except DomainError as refused:
        return render(request, "portal/link_error.html", {"error": refused}, status=refused.status)
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(_safe_next(request))


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """POST signs out. GET (a typed or bookmarked address) asks first; someone signed out goes to sign-in."""
    if request.method == "GET":
        if not request.user.is_authenticated:
            return redirect("portal:sign_in")
        return render(request, "portal/sign_out.html")
    auth_logout(request)
    return redirect("portal:sign_in")


# --- cases ----------------------------------------------------------------------------------------------
@require_GET
@customer_view
def home(request: CustomerRequest) -> HttpResponse:
    before = request.GET.get("before", "")
    listing = selectors.portal_cases(request.user, before_id=int(before) if before.isdigit() else None)
    return render(request, "portal/cases.html", {"listing": listing})


def _about_choices(request: CustomerRequest) -> list[tuple[str, str]]:
    choices = [(f"site:{s.pk}", str(s)) for s in selectors.customer_sites(request.user)]
    choices += [(f"asset:{a.pk}", f"{a} at {a.site}" if a.site else str(a)) for a in selectors.customer_assets(
        request.user)]  # fmt: skip
    return choices


def _refuse_new_case(request: HttpRequest, error: WebFormError) -> HttpResponseBase:
    return error_page(request, error)


@require_http_methods(["GET", "POST"])
@customer_view
@limit_body(_refuse_new_case)
def new_case(request: CustomerRequest) -> HttpResponseBase:
    if request.user.role == Role.PARTNER:
        # a partner works what is attributed to it; a request about a customer's site is the customer's to make
        return error_page(request, PermissionDenied(
            "New requests come from customers; partners work the requests given to them."))  # fmt: skip
    about = _about_choices(request)
    initial = {"form_token": new_form_token(), "about": request.GET.get("about", "")}
    form = NewCaseForm(request.POST or None, request.FILES or None, about=about, initial=initial)
    error: DomainError | None = None
    if request.method == "POST":
        if form.is_valid():
            site_id, asset_id = form.about_ids()
            try:
                opened = actions.open_case(actor=request.user, subject=form.cleaned_data["subject"],
                                           text=form.cleaned_data["message"], site_id=site_id, asset_id=asset_id,
                                           attachments=attachment_inputs(form.cleaned_data["attachments"]),
                                           form_token=form.cleaned_data["form_token"])  # fmt: skip
            except DomainError as refused:
                error = refused
            else:
                return redirect("portal:case", case_id=opened.case.pk)
        else:
            error = Invalid("Please check the form.")
    context = {"form": form, "error": error, **_file_limits()}
    return render(request, "portal/new_case.html", context, status=error.status if error else 200)


def _case_page(request: CustomerRequest, case_id: int, *, form: ReplyForm | None = None,
               error: DomainError | None = None) -> HttpResponse:  # fmt: skip
    talk = selectors.conversation(request.user, case_id)
    context = {
        "case": talk.case, "messages": talk.messages, "display": talk.display, "error": error,
        "promises": promises_told_to(request.user, talk.case),
        "me": request.user.pk,
        "form": form or ReplyForm(initial={"form_token": new_form_token()}), **_file_limits(),
    }  # fmt: skip
    return render(request, "portal/case.html", context, status=error.status if error else 200)


@require_GET
@customer_view
def case_detail(request: CustomerRequest, case_id: int) -> HttpResponse:
    return _case_page(request, case_id)


def _refuse_reply(request: HttpRequest, error: WebFormError) -> HttpResponseBase:
    return error_page(request, error)


@require_http_methods(["GET", "POST"])
@customer_view
@limit_body(_refuse_reply)
def post_reply(request: CustomerRequest, case_id: int) -> HttpResponseBase:
    if request.method == "GET":
        # the address a refused answer is shown at: a reload or a bookmark of it opens the case
        return redirect("portal:case", case_id=case_id)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _case_page(request, case_id, form=form, error=Invalid("Please check your answer."))
    try:
        actions.reply(actor=request.user, case_id=case_id, text=form.cleaned_data["message"],
                      attachments=attachment_inputs(form.cleaned_data["attachments"]),
                      form_token=form.cleaned_data["form_token"])  # fmt: skip
    except DomainError as refused:
        return _case_page(request, case_id, form=form, error=refused)
    return redirect(f"{reverse('portal:case', kwargs={'case_id': case_id})}#latest")


@require_GET
@customer_view
def attachment(request: CustomerRequest, link_id: int) -> HttpResponseBase:
    """A file of a message the customer may see, always as a download."""
    link = selectors.access_attachment(request.user, link_id)
    path = attachments_root() / link.attachment.relative_path
    if not path.exists():
        raise Http404
    # names and types from outside go into headers: cleaned when stored (ADR 0076), and here for older rows
    name = safe_filename(link.filename)
    return FileResponse(path.open("rb"), as_attachment=True, filename=name,
                        content_type=safe_content_type(link.attachment.content_type, name))  # fmt: skip


# --- places and equipment -----------------------------------------------------------------------------
@require_GET
@customer_view
def places(request: CustomerRequest) -> HttpResponse:
    sites = selectors.customer_sites(request.user)
    assets = list(selectors.customer_assets(request.user))
    by_site = {s.pk: [a for a in assets if a.site_id == s.pk] for s in sites}
    return render(request, "portal/places.html", {"sites": [(s, by_site[s.pk]) for s in sites]})


def _history(request: CustomerRequest, kind: SubjectKind, ident: int) -> list[Any]:
    return selectors.customer_history(request.user, subject_kind=kind, subject_id=ident)


@require_GET
@customer_view
def site_detail(request: CustomerRequest, site_id: int) -> HttpResponse:
    site: Site = access_site(request.user, site_id)
    context = {
        "site": site, "about": f"site:{site.pk}", "assets": list(selectors.customer_assets(request.user, site=site)),
        "cases": selectors.cases_about(request.user, site=site),
        "history": _history(request, SubjectKind.SITE, site.pk),
    }  # fmt: skip
    return render(request, "portal/site.html", context)


@require_GET
@customer_view
def asset_detail(request: CustomerRequest, asset_id: int) -> HttpResponse:
    asset: Asset = access_asset(request.user, asset_id)
    context = {
        "asset": asset, "about": f"asset:{asset.pk}", "cases": selectors.cases_about(request.user, asset=asset),
        "history": _history(request, SubjectKind.ASSET, asset.pk),
    }  # fmt: skip
    return render(request, "portal/asset.html", context)
