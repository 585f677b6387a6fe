"""Finding a contact as one types: the requester of a new case, the survivor of a merge."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from caseloop.core.errors import DomainError, Invalid
from caseloop.core.schemas import MAX_ID
from caseloop.customers.models import Contact
from caseloop.customers.selectors import access_contact, find_contacts
from caseloop.identity.models import User
from caseloop.web.access import StaffRequest, staff_view

# The radio group the results fill: the pages that show a lookup name theirs here.
LOOKUP_FIELDS = frozenset({"requester", "into"})
LOOKUP_LIMIT = 8


def contact_id(raw: str) -> int | None:
    """An id as typed in a form, or None when it cannot name a row (never an overflow in the query)."""
    return int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID else None


def chosen_contact(actor: User, raw: str, *, field: str) -> Contact:
    """The contact a form's radio names, or a refusal shown beside that field."""
    pk = contact_id(raw)
    if pk is None:
        raise Invalid("Choose someone: find them by name, email or phone.", field=field)
    try:
        return access_contact(actor, pk)
    except DomainError as exc:
        raise Invalid(exc.message, field=field) from exc


def lookup_results(
    actor: User, queries: Iterable[str], *, chosen: Contact | None = None, exclude: int | None = None
) -> list[Contact]:
    """The chosen contact first, then whoever each query finds (exact email/phone, or name words), once each."""
    found: dict[int, Contact] = {chosen.pk: chosen} if chosen is not None else {}
    for query in queries:
        for contact in find_contacts(actor, query, limit=LOOKUP_LIMIT):
            found.setdefault(contact.pk, contact)
    contacts = [c for c in found.values() if c.pk != exclude][: LOOKUP_LIMIT + 1]
    prefetch_related_objects(contacts, "identities")  # each row shows the addresses that tell two Ann Smiths apart
    return contacts


def lookup_context(
    field: str, contacts: list[Contact], *, q: str, chosen: Contact | None, error: DomainError | None = None
) -> Mapping[str, Any]:
    return {"field": field, "contacts": contacts, "q": q, "chosen_id": chosen.pk if chosen else None,
            "lookup_error": error}  # fmt: skip


@require_GET
@staff_view
def contact_lookup(request: StaffRequest) -> HttpResponse:
    """The radio list of contacts matching `q` (htmx swaps it in as one types).

    `field` names the radio group; `chosen` keeps the contact already picked at
    the top, so typing a new search never loses the choice; `exclude` leaves a
    contact out (a contact is not merged into itself).
    """
    field = request.GET.get("field", "")
    if field not in LOOKUP_FIELDS:
        raise Invalid("Unknown lookup.", field="field")
    q = request.GET.get("q", "").strip()
    chosen_id = contact_id(request.GET.get(field, ""))
    chosen = None
    if chosen_id is not None:
        try:
            chosen = access_contact(request.user, chosen_id)
        except DomainError:
            chosen = None  # gone or not visible: the list simply no longer shows it
    exclude = contact_id(request.GET.get("exclude", ""))
    contacts = lookup_results(request.user, [q], chosen=chosen, exclude=exclude)
    return render(request, "web/partials/contact_lookup.html", lookup_context(field, contacts, q=q, chosen=chosen))
