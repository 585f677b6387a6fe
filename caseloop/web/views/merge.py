"""Merging a duplicate contact into the one that lives on: pick, review what moves, confirm.

The write is `customers.actions.merge_contacts` (staff only, as the API's
`POST /contacts/<id>/merge`); this page shows beforehand what it will move.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from caseloop.cases.selectors import cases_visible_to
from caseloop.core.errors import DomainError, Invalid
from caseloop.customers.actions import merge_contacts
from caseloop.customers.models import Contact
from caseloop.customers.selectors import access_contact, contact_ids_for_history, sites_of_contact, what_a_merge_moves
from caseloop.identity.models import User
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent
from caseloop.web.access import StaffRequest, staff_view
from caseloop.web.views.lookup import chosen_contact, lookup_context, lookup_results

# Words for what points at a contact; any other table is named by its model (merge_contacts moves them all).
_MOVES_IN_WORDS = {
    "customers.contactidentity.contact": ("email address or phone number", "email addresses and phone numbers"),
    "customers.siterelation.contact": (
        "tie to a site (owner, tenant …)",
        "ties to sites (owner, tenant …), past and present",
    ),
    "customers.order.contact": ("order", "orders"),
    "cases.case.requester": ("case they asked for", "cases they asked for"),
    "cases.message.author_contact": ("message they wrote", "messages they wrote"),
}


def _what_moves(source: Contact) -> list[tuple[str, int]]:
    """What `merge_contacts` would move from `source`, in words, table by table."""
    moves = []
    for key, count in what_a_merge_moves(source).items():
        app_label, model_name, _ = key.split(".")
        meta = apps.get_model(app_label, model_name)._meta
        one, many = _MOVES_IN_WORDS.get(key, (str(meta.verbose_name), str(meta.verbose_name_plural)))
        moves.append((one if count == 1 else many, count))
    return moves


def _side(actor: User, contact: Contact, primary_kinds: set[str] | None = None) -> dict[str, Any]:
    """One contact as the review shows it. `primary_kinds`: the survivor's, which this one's primaries yield to."""
    ids = contact_ids_for_history(contact)
    identities = list(contact.identities.order_by("kind", "-is_primary", "value"))
    return {
        "contact": contact,
        "identities": [
            (i, primary_kinds is not None and i.is_primary and i.kind in primary_kinds) for i in identities
        ],  # (identity, stops being primary)
        "cases": cases_visible_to(actor).filter(requester_id__in=ids).count(),
        "sites": list(sites_of_contact(actor, contact.pk).order_by("name", "id")[:10]),
        "timeline": TimelineEvent.objects.filter(subject_kind=SubjectKind.CONTACT, subject_id__in=ids).count(),
    }


def _review(
    request: StaffRequest, source: Contact, target: Contact, *, error: DomainError | None = None
) -> HttpResponse:
    actor = request.user
    kept = {str(k) for k in target.identities.filter(is_primary=True).values_list("kind", flat=True)}
    return render(request, "web/merge_confirm.html", {
        "source": _side(actor, source, kept), "target": _side(actor, target), "moves": _what_moves(source),
        "error": error,
    }, status=error.status if error is not None else 200)  # fmt: skip


def _pick(request: StaffRequest, source: Contact, *, error: DomainError | None = None) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    people = lookup_results(request.user, [q], exclude=source.pk)
    return render(request, "web/merge_pick.html", {
        "source": source, "q": q,
        "lookup": lookup_context("into", people, q=q, chosen=None, error=error),
    }, status=error.status if error is not None else 200)  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_view
def merge_contact(request: StaffRequest, contact_id: int) -> HttpResponseBase:
    """GET: find the survivor (`?q=`), then review the merge (`?into=<id>`). POST: merge."""
    actor = request.user
    source = access_contact(actor, contact_id)
    if request.method == "GET":
        raw = request.GET.get("into", "")
        if not raw:
            return _pick(request, source)
        try:
            target = chosen_contact(actor, raw, field="into")
            if target.pk == source.pk:
                raise Invalid("Choose someone else: a contact is not merged into itself.", field="into")
        except DomainError as error:
            return _pick(request, source, error=error)
        return _review(request, source, target)
    target = chosen_contact(actor, request.POST.get("into", ""), field="into")
    try:
        survivor = merge_contacts(actor=actor, source=source, target=target)
    except DomainError as error:
        source.refresh_from_db()  # the refusal is shown with the contacts as they are now
        target.refresh_from_db()
        return _review(request, source, target, error=error)
    messages.success(request, f"{source.name} (#{source.pk}) was merged into {survivor.name}: "
                              "their cases, orders and history are here now.")  # fmt: skip
    return redirect("web:contact", contact_id=survivor.pk)
