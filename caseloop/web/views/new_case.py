"""A case opened by a rep for a customer: on the phone, at the counter, from a letter.

One request, one transaction: the requester (found, or a new person made
with the case), the case, and its first message. The first message is what
the customer said (inbound: `create_case` writes it), or a first reply to the
customer or an internal note (`add_message` on the new case, in the same
transaction, so a refused message leaves no case without it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from caseloop.cases.actions import MessageInput, add_message, create_case
from caseloop.cases.choices import Channel, Direction, Priority
from caseloop.cases.models import Case
from caseloop.core.errors import DomainError, Invalid
from caseloop.customers.actions import ContactDraft, IdentityInput, add_identity, draft_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Asset, Contact, Site
from caseloop.customers.selectors import assets_visible_to, find_contact_by_identity, sites_of_contact
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import staff_members, teams
from caseloop.web.access import StaffRequest, staff_view
from caseloop.web.views.lookup import chosen_contact, contact_id, lookup_context, lookup_results

T = TypeVar("T")

# The channels a person reaches a rep by; "internal" is a case the rep opens on their own (a walk-in, a letter).
STAFF_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.SMS, Channel.CHAT, Channel.INTERNAL)
FIRST_MESSAGES = {
    "inbound": "What the customer said",
    "reply": "Our first reply (sent to the customer)",
    "note": "An internal note",
}
# Where each refusal is shown; any other goes above the form.
FIELDS = frozenset({"requester", "new_name", "new_email", "new_phone", "subject", "kind", "body", "channel",
                    "priority", "team", "assignee", "tags", "site", "asset"})  # fmt: skip
SITE_LIMIT = 20
ASSET_LIMIT = 50


@dataclass(frozen=True, slots=True)
class _Requester:
    who: Contact | ContactDraft
    phone_too: IdentityInput | None = None  # a new person given both: the email is made with them, then this


def _one(choices: Mapping[str, T], raw: str, *, field: str, what: str) -> T:
    if raw not in choices:
        raise Invalid(f"Choose {what}.", field=field)
    return choices[raw]


def _taken(kind: IdentityKind, value: str, *, field: str) -> None:
    """Refuse an address someone already has: the rep picks that person instead (they show in the list)."""
    try:
        owner = find_contact_by_identity(kind, value)
    except DomainError as exc:
        raise Invalid(exc.message, field=field) from exc
    if owner is not None:
        raise Invalid(f"{value.strip()} is {owner.name}'s: choose them in the list above.", field=field)


def _requester(actor: User, data: QueryDict) -> _Requester:
    raw = data.get("requester", "")
    if raw != "new":
        return _Requester(chosen_contact(actor, raw, field="requester"))
    name, email, phone = (data.get(f, "").strip() for f in ("new_name", "new_email", "new_phone"))
    if not email and not phone:
        raise Invalid("Give the new person's email address or phone number.", field="new_email")
    if email:
        _taken(IdentityKind.EMAIL, email, field="new_email")
    if phone:
        _taken(IdentityKind.PHONE, phone, field="new_phone")
    kind, value = (IdentityKind.EMAIL, email) if email else (IdentityKind.PHONE, phone)
    try:
        draft = draft_contact(actor=actor, kind=kind, value=value, name=name)
    except DomainError as exc:
        raise Invalid(exc.message, field="new_email" if email else "new_phone") from exc
    return _Requester(draft, IdentityInput(IdentityKind.PHONE, phone, is_primary=True) if email and phone else None)


def _team(raw: str) -> Team | None:
    return _one({"": None, **{str(t.pk): t for t in teams()}}, raw, field="team", what="a team, or no team")


def _assignee(raw: str) -> User | None:
    return _one({"": None, **{str(u.pk): u for u in staff_members()}}, raw, field="assignee",
                what="someone who can be assigned cases, or nobody")  # fmt: skip


def _site_and_asset(actor: User, contact: Contact | None, data: QueryDict) -> tuple[Site | None, Asset | None]:
    """The requester's site and asset as chosen from the lists their own sites make."""
    raw_site, raw_asset = data.get("site", ""), data.get("asset", "")
    if not raw_site and not raw_asset:
        return None, None
    sites, assets = _things_of(actor, contact)
    site = _one({"": None, **{str(s.pk): s for s in sites}}, raw_site, field="site",
                what="one of the requester's sites, or none")  # fmt: skip
    asset = _one({"": None, **{str(a.pk): a for a in assets}}, raw_asset, field="asset",
                 what="an asset at the requester's sites, or none")  # fmt: skip
    return site, asset


def _things_of(actor: User, contact: Contact | None) -> tuple[list[Site], list[Asset]]:
    """The sites a contact is tied to today, and the assets there (what a new case may be about)."""
    if contact is None:
        return [], []
    sites = list(sites_of_contact(actor, contact.pk).order_by("name", "id")[:SITE_LIMIT])
    assets = list(assets_visible_to(actor).filter(site__in=sites).select_related("site")
                  .order_by("site_id", "name", "id")[:ASSET_LIMIT]) if sites else []  # fmt: skip
    return sites, assets


def _open_case(actor: User, data: QueryDict) -> Case:
    """Parse the form, then make the case (and its requester, and its first message) in one transaction."""
    requester = _requester(actor, data)
    kind = _one({k: k for k in FIRST_MESSAGES}, data.get("kind", ""), field="kind", what="what the first message is")
    channel = _one({c.value: c for c in STAFF_CHANNELS}, data.get("channel", ""), field="channel", what="a channel")
    priority = _one({p.value: p for p in Priority}, data.get("priority", ""), field="priority", what="a priority")
    if kind == "reply" and channel == Channel.INTERNAL:
        raise Invalid("A reply goes to the customer: choose the channel it goes by (email, SMS …).", field="channel")
    contact = requester.who if isinstance(requester.who, Contact) else None
    site, asset = _site_and_asset(actor, contact, data)
    body = MessageInput(body_text=data.get("body", ""))
    with transaction.atomic():  # refused together, kept together: the person, the case, its first message
        created = create_case(
            actor=actor, requester=requester.who, subject=data.get("subject", ""),
            body=body if kind == "inbound" else None, channel=channel, priority=priority,
            team=_team(data.get("team", "")), assignee=_assignee(data.get("assignee", "")), site=site, asset=asset,
            tags=data.get("tags", "").replace(",", " ").split(),
        )  # fmt: skip
        case = created.case
        if requester.phone_too is not None:
            try:
                add_identity(actor=actor, contact=case.requester, identity=requester.phone_too)
            except DomainError as exc:
                raise Invalid(exc.message, field="new_phone") from exc
        if kind != "inbound":
            direction = Direction.OUTBOUND if kind == "reply" else Direction.NOTE
            add_message(actor=actor, case=case, direction=direction, body=body,
                        channel=channel if kind == "reply" else Channel.INTERNAL)  # fmt: skip
    return case


def _form(
    request: StaffRequest, data: QueryDict | Mapping[str, str], *, error: DomainError | None = None, status: int = 200
) -> HttpResponse:
    """The form as the rep left it: every value, the people found, and the refusal beside its field."""
    actor = request.user
    chosen = None
    if (pk := contact_id(data.get("requester", ""))) is not None:
        try:
            chosen = chosen_contact(actor, str(pk), field="requester")
        except DomainError:
            chosen = None
    q = data.get("q", "").strip()
    people = lookup_results(actor, [q, data.get("new_email", ""), data.get("new_phone", "")], chosen=chosen)
    sites, assets = _things_of(actor, chosen)
    field_errors = {error.field: error.message} if error is not None and error.field in FIELDS else {}
    return render(request, "web/new_case.html", {
        "v": data,
        "lookup": lookup_context("requester", people, q=q, chosen=chosen),
        "is_new_person": data.get("requester") == "new",
        "sites": sites, "assets": assets,
        "first_messages": FIRST_MESSAGES.items(),
        "channels": [(c.value, c.label) for c in STAFF_CHANNELS],
        "priorities": Priority.choices,
        "teams": teams(), "agents": staff_members(),
        "error": error if error is not None and not field_errors else None,
        "field_errors": field_errors,
    }, status=status)  # fmt: skip


DEFAULTS = {"kind": "inbound", "channel": Channel.PHONE.value, "priority": Priority.NORMAL.value}


@require_http_methods(["GET", "POST"])
@staff_view
def new_case(request: StaffRequest) -> HttpResponseBase:
    """The "New case" form; `?requester=<id>` starts it for that person (a contact page's link)."""
    if request.method == "GET":
        return _form(request, {**DEFAULTS, "assignee": str(request.user.pk),
                               "requester": request.GET.get("requester", "")})  # fmt: skip
    if request.POST.get("op") == "find":  # the Find button without htmx: show who matches, keep the rest
        return _form(request, request.POST)
    try:
        case = _open_case(request.user, request.POST)
    except DomainError as error:
        return _form(request, request.POST, error=error, status=error.status)
    messages.success(request, f"{case.number} opened for {case.requester.name}.")
    return redirect("web:case", case_id=case.pk)


@require_GET
@staff_view
def requester_things(request: StaffRequest) -> HttpResponse:
    """The site and asset choices of the requester just picked (htmx swaps them in)."""
    raw = request.GET.get("requester", "")
    chosen = chosen_contact(request.user, raw, field="requester") if contact_id(raw) is not None else None
    sites, assets = _things_of(request.user, chosen)
    return render(request, "web/partials/new_case_things.html", {"sites": sites, "assets": assets, "v": {}})
