"""Reads of customers, sites, assets and orders, with permission in the query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from caseloop.core import clock
from caseloop.core.errors import DomainError, NotFound, PermissionDenied
from caseloop.core.fastdb import get_by, get_with
from caseloop.customers.choices import IdentityKind, OrganizationKind
from caseloop.customers.models import (
    Asset,
    Contact,
    ContactIdentity,
    Order,
    Organization,
    Site,
    SiteRelation,
)
from caseloop.customers.search import contact_ids_matching
from caseloop.identity.choices import Role
from caseloop.identity.models import User


def contact_of(user: User) -> Contact | None:
    """The contact a customer or partner user speaks for."""
    try:
        return user.contact
    except Contact.DoesNotExist:
        return None


def _today() -> dt.date:
    return clock.now().date()


def organizations_visible_to(actor: User) -> QuerySet[Organization]:
    qs = Organization.objects.all()
    if actor.is_staff_member:
        return qs
    contact = contact_of(actor)
    if contact is None or contact.organization_id is None:
        return qs.none()
    return qs.filter(pk=contact.organization_id)


def contacts_visible_to(actor: User) -> QuerySet[Contact]:
    qs = Contact.objects.all()
    if actor.is_staff_member:
        return qs
    contact = contact_of(actor)
    if contact is None:
        return qs.none()
    return qs.filter(pk=contact.pk)


def partner_organization_id(actor: User, contact: Contact) -> int | None:
    """The partner organization a partner user works for, or None (not a partner, or its
    organization is not of kind partner, which then grants nothing)."""
    if actor.role != Role.PARTNER or contact.organization_id is None:
        return None
    is_partner = Organization.objects.filter(pk=contact.organization_id, kind=OrganizationKind.PARTNER).exists()
    return contact.organization_id if is_partner else None


def sites_visible_to(actor: User) -> QuerySet[Site]:
    """Staff see every site; a customer the sites they are tied to now; a partner the sites
    of the cases attributed to its organization (where the work is), and no other."""
    qs = Site.objects.all()
    if actor.is_staff_member:
        return qs
    contact = contact_of(actor)
    if contact is None:
        return qs.none()
    if actor.role == Role.PARTNER:
        # `cases` is the reverse of Case.site: read by name, so this layer imports nothing above it
        partner_id = partner_organization_id(actor, contact)
        if partner_id is None:
            return qs.none()
        return qs.filter(pk__in=Site.objects.filter(cases__partner_id=partner_id).values("pk"))
    return qs.filter(pk__in=_current_ties().filter(contact=contact).values("site_id"))


def _current_ties() -> QuerySet[SiteRelation]:
    """The site relations in force today."""
    today = _today()
    return SiteRelation.objects.filter(valid_from__lte=today).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))


def sites_of_contact(actor: User, contact_id: int) -> QuerySet[Site]:
    """The sites the actor may see that this contact is tied to today (`GET /sites?contact=`).

    Outside the company one may ask only about oneself: naming anyone else
    answers as if no site matched, whoever they are and whether they exist, so
    the filter cannot probe who else is tied to one's sites.
    """
    qs = sites_visible_to(actor)
    if not actor.is_staff_member:
        own = contact_of(actor)
        if own is None or own.pk != contact_id:
            return qs.none()
    return qs.filter(pk__in=_current_ties().filter(contact_id=contact_id).values("site_id"))


def site_relations_visible_to(actor: User, site: Site) -> QuerySet[SiteRelation]:
    """Who is tied to a site (one the actor may see: `access_site` first).

    Staff see everyone, past and present. A customer sees only their own ties:
    the other people at the site, and its past owners, are not theirs to read.
    A partner is refused (403, the site being one it may see): it works at the
    site, not on who owns or lives there.
    """
    qs = SiteRelation.objects.filter(site=site)
    if actor.is_staff_member:
        return qs
    if actor.role == Role.PARTNER:
        raise PermissionDenied("A partner does not read who is tied to a site.")
    contact = contact_of(actor)
    if contact is None:
        return qs.none()
    return qs.filter(contact=contact)


def assets_visible_to(actor: User) -> QuerySet[Asset]:
    """Staff see every asset; a customer the assets at their sites; a partner the assets of
    the cases attributed to its organization (not the rest of the equipment at those sites)."""
    qs = Asset.objects.all()
    if actor.is_staff_member:
        return qs
    if actor.role == Role.PARTNER:
        contact = contact_of(actor)
        partner_id = partner_organization_id(actor, contact) if contact is not None else None
        if partner_id is None:
            return qs.none()
        return qs.filter(pk__in=Asset.objects.filter(cases__partner_id=partner_id).values("pk"))
    return qs.filter(site__in=sites_visible_to(actor))


def orders_visible_to(actor: User) -> QuerySet[Order]:
    qs = Order.objects.all()
    if actor.is_staff_member:
        return qs
    contact = contact_of(actor)
    if contact is None:
        return qs.none()
    return qs.filter(contact=contact)


def contact_references() -> list[tuple[str, Any]]:
    """Every foreign key to a contact from another table, as ("app.model.field", field): what a merge moves.

    Read from the models, so a table a later domain adds (a visit, a survey) moves without being listed here.
    """
    found = []
    for relation in Contact._meta.related_objects:
        if not relation.one_to_many or relation.field.model is Contact:  # only foreign keys; not merged_into
            continue
        field = relation.field
        found.append((f"{field.model._meta.label_lower}.{field.name}", field))
    return found


def what_a_merge_moves(source: Contact) -> dict[str, int]:
    """The rows `merge_contacts` would move from `source`, by reference ("cases.case.requester": 3); none left out."""
    counts = {key: field.model._default_manager.filter(**{field.name: source}).count()
              for key, field in contact_references()}  # fmt: skip
    return {key: count for key, count in counts.items() if count}


def access_contact(actor: User, contact_id: int) -> Contact:
    contact = contacts_visible_to(actor).select_related("organization").filter(pk=contact_id).first()
    if contact is None:
        raise NotFound("Contact", contact_id)
    return contact


def access_organization(actor: User, organization_id: int) -> Organization:
    organization = organizations_visible_to(actor).filter(pk=organization_id).first()
    if organization is None:
        raise NotFound("Organization", organization_id)
    return organization


def access_site(actor: User, site_id: int) -> Site:
    site = sites_visible_to(actor).select_related("organization").filter(pk=site_id).first()
    if site is None:
        raise NotFound("Site", site_id)
    return site


def access_asset(actor: User, asset_id: int) -> Asset:
    asset = assets_visible_to(actor).select_related("site", "organization").filter(pk=asset_id).first()
    if asset is None:
        raise NotFound("Asset", asset_id)
    return asset


def access_order(actor: User, order_id: int) -> Order:
    order = orders_visible_to(actor).filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order", order_id)
    return order


def surviving_contact(contact: Contact) -> Contact:
    """Follow merge redirects to the contact that lives on."""
    seen = {contact.pk}
    while contact.merged_into_id is not None:
        contact = Contact.objects.get(pk=contact.merged_into_id)
        if contact.pk in seen:  # pragma: no cover - merges refuse cycles
            break
        seen.add(contact.pk)
    return contact


def contact_ids_for_history(contact: Contact) -> list[int]:
    """The contact and every contact merged into it, at any depth."""
    ids = [contact.pk]
    frontier = [contact.pk]
    while frontier:
        frontier = list(Contact.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def find_contact_by_identity(kind: IdentityKind, value: str) -> Contact | None:
    from caseloop.customers.identities import normalise_identity

    # prepared unique-key reads (core.fastdb): every inbound message and API create asks this
    identity = get_with(ContactIdentity, "contact", kind=str(kind), value=normalise_identity(kind, value))
    return surviving_contact(identity.contact) if identity is not None else None


def organization_of_domain(domain: str) -> Organization | None:
    """The organization whose email domain this is (the oldest, if several claim it).

    Asked for every message from a new address: one prepared read of the domain
    index, then a unique-key read (core.fastdb), no ORM compilation.
    """
    table = connection.ops.quote_name(Organization._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE domain = %s ORDER BY id LIMIT 1", [domain])  # noqa: S608
        row = cursor.fetchone()
    return get_by(Organization, id=row[0]) if row is not None else None


def current_relations(site: Site) -> QuerySet[SiteRelation]:
    today = _today()
    return (
        site.relations.select_related("contact")
        .filter(valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    )


# --- finding people and things from the search box -------------------------------------
# Appended to a prefix to bound a range scan: sorts after every character that
# can follow the prefix, in SQLite's BINARY and PostgreSQL's "C" collations.
_HIGHEST = "\U0010ffff"


def _prefix_range(expression: str, prefix: str) -> Q:
    return Q(**{f"{expression}__gte": prefix, f"{expression}__lt": prefix + _HIGHEST})


def find_contacts(actor: User, query: str, *, limit: int = 10) -> list[Contact]:
    """Contacts whose email or phone is exactly `query`, then those with a name word starting with each word.

    Both are index lookups (the identity unique index; the name's full-text
    index, see customers/search.py), never a substring scan, so they stay fast
    with millions of contacts. Merged-away contacts are left out; their
    survivor is found instead.
    """
    text = query.strip()
    if not text:
        return []
    visible = contacts_visible_to(actor).select_related("organization")
    found: list[Contact] = []
    kinds = [IdentityKind.EMAIL] if "@" in text else [IdentityKind.PHONE, IdentityKind.CHAT]
    for kind in kinds:
        try:
            contact = find_contact_by_identity(kind, text)
        except DomainError:
            continue  # not a well-formed email/phone: look by name only
        if contact is not None and visible.filter(pk=contact.pk).exists():
            found.append(visible.get(pk=contact.pk))
            break
    by_name = (
        visible.annotate(name_lower=Lower("name"))
        .filter(pk__in=contact_ids_matching(text), merged_into__isnull=True)
        .exclude(pk__in=[c.pk for c in found])
        .order_by("name_lower", "id")[: max(0, limit - len(found))]
    )
    return found + list(by_name)


def find_assets(actor: User, query: str, *, limit: int = 10) -> list[Asset]:
    """Assets whose serial number is `query` or starts with it (as typed or upper-cased)."""
    text = query.strip()
    if not text:
        return []
    match = _prefix_range("serial_number", text)
    if text.upper() != text:
        match |= _prefix_range("serial_number", text.upper())
    return list(assets_visible_to(actor).filter(match).select_related("site").order_by("serial_number", "id")[:limit])
