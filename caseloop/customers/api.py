"""Organizations, contacts, sites, assets and orders: parse, call one action or selector, answer.

Reads go through the `*_visible_to` / `access_*` selectors, so a customer
asking for someone else's record gets the same 404 as for one that does not
exist. Writes are refused by the actions for anyone but staff.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Status

from caseloop.core.pagination import Page, PageOut, PageQuery, page_of
from caseloop.core.schemas import Id, changes_of
from caseloop.customers.actions import (
    IdentityInput,
    OrderLineInput,
    add_identity,
    create_asset,
    create_contact,
    create_order,
    create_organization,
    create_site,
    merge_contacts,
    relate_contact_to_site,
    update_asset,
    update_contact,
    update_order,
    update_organization,
    update_site,
)
from caseloop.customers.choices import IdentityKind
from caseloop.customers.identities import normalise_identity
from caseloop.customers.imports import import_orders
from caseloop.customers.models import Contact, Organization, Site, SiteRelation
from caseloop.customers.schemas import (
    AssetIn,
    AssetOut,
    AssetPatch,
    AssetQuery,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactQuery,
    IdentityIn,
    MergeIn,
    OrderIn,
    OrderOut,
    OrderPatch,
    OrderQuery,
    OrdersImportIn,
    OrdersImportOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    OrganizationQuery,
    RelationIn,
    RelationOut,
    SiteIn,
    SiteOut,
    SitePatch,
    SiteQuery,
)
from caseloop.customers.selectors import (
    access_asset,
    access_contact,
    access_order,
    access_organization,
    access_site,
    assets_visible_to,
    contacts_visible_to,
    orders_visible_to,
    organizations_visible_to,
    site_relations_visible_to,
    sites_of_contact,
    sites_visible_to,
    surviving_contact,
)
from caseloop.identity.api import actor_of
from caseloop.identity.models import User

router = Router()

_COORDINATE = Decimal("0.000001")


def _organization(actor: User, organization_id: int | None) -> Organization | None:
    return access_organization(actor, organization_id) if organization_id is not None else None


def _site(actor: User, site_id: int | None) -> Site | None:
    return access_site(actor, site_id) if site_id is not None else None


def _coordinates(fields: dict[str, Any]) -> dict[str, Any]:
    # the column keeps six decimals; more precision is rounded, not refused
    for name in ("latitude", "longitude"):
        if isinstance(fields.get(name), Decimal):
            fields[name] = fields[name].quantize(_COORDINATE, rounding=ROUND_HALF_EVEN)
    return fields


# --- organizations --------------------------------------------------------------------
@router.get("/organizations", response=PageOut[OrganizationOut], tags=["organizations"])
def list_organizations(request: HttpRequest, filters: Query[OrganizationQuery]) -> Page[Any]:
    qs = organizations_visible_to(actor_of(request))
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind)
    if filters.domain:
        qs = qs.filter(domain=filters.domain.strip().lower())
    return page_of(qs, cursor=filters.cursor, limit=filters.limit)


@router.post("/organizations", response={201: OrganizationOut}, tags=["organizations"])
def create_organization_route(request: HttpRequest, payload: OrganizationIn) -> Status[Organization]:
    return Status(201, create_organization(actor=actor_of(request), **payload.model_dump()))


@router.get("/organizations/{organization_id}", response=OrganizationOut, tags=["organizations"])
def get_organization(request: HttpRequest, organization_id: Id) -> Organization:
    return access_organization(actor_of(request), organization_id)


@router.patch("/organizations/{organization_id}", response=OrganizationOut, tags=["organizations"])
def patch_organization(request: HttpRequest, organization_id: Id, payload: OrganizationPatch) -> Organization:
    actor = actor_of(request)
    organization = access_organization(actor, organization_id)
    return update_organization(actor=actor, organization=organization, changes=changes_of(payload))


# --- contacts ---------------------------------------------------------------------------
def _contact_out(contact_id: int) -> Contact:
    return Contact.objects.prefetch_related("identities").get(pk=contact_id)


@router.get("/contacts", response=PageOut[ContactOut], tags=["contacts"])
def list_contacts(request: HttpRequest, filters: Query[ContactQuery]) -> Page[Any]:
    qs = contacts_visible_to(actor_of(request)).prefetch_related("identities")
    if filters.organization is not None:
        qs = qs.filter(organization_id=filters.organization)
    for kind, value in ((IdentityKind.EMAIL, filters.email), (IdentityKind.PHONE, filters.phone)):
        if value:
            qs = qs.filter(identities__kind=kind, identities__value=normalise_identity(kind, value))
    if not filters.include_merged:
        qs = qs.filter(merged_into__isnull=True)
    return page_of(qs, cursor=filters.cursor, limit=filters.limit)


@router.post("/contacts", response={201: ContactOut}, tags=["contacts"])
def create_contact_route(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    actor = actor_of(request)
    fields = payload.model_dump(exclude={"identities", "organization_id"})
    contact = create_contact(
        actor=actor,
        organization=_organization(actor, payload.organization_id),
        identities=[IdentityInput(i.kind, i.value, i.is_primary) for i in payload.identities],
        **fields,
    )
    return Status(201, _contact_out(contact.pk))


@router.get(
    "/contacts/{contact_id}",
    response={200: ContactOut, 308: dict[str, int]},
    tags=["contacts"],
    description="A contact merged into another answers 308 with `Location` naming the survivor.",
)
def get_contact(request: HttpRequest, contact_id: Id) -> Any:
    contact = access_contact(actor_of(request), contact_id)
    if contact.merged_into_id is not None:
        survivor = surviving_contact(contact)
        response = HttpResponse(json.dumps({"merged_into": survivor.pk}), status=308, content_type="application/json")
        response["Location"] = reverse("api:get_contact", kwargs={"contact_id": survivor.pk})
        return response
    return _contact_out(contact.pk)


@router.patch("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def patch_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch) -> Contact:
    actor = actor_of(request)
    contact = access_contact(actor, contact_id)
    changes = changes_of(payload, nullable=frozenset({"organization_id"}))
    if "organization_id" in changes:
        changes["organization"] = _organization(actor, changes.pop("organization_id"))
    update_contact(actor=actor, contact=contact, changes=changes)
    return _contact_out(contact.pk)


@router.post("/contacts/{contact_id}/identities", response={200: ContactOut, 201: ContactOut}, tags=["contacts"],
             description="201 when the identity was added, 200 when the contact had it already.")  # fmt: skip
def add_contact_identity(request: HttpRequest, contact_id: Id, payload: IdentityIn) -> Status[Contact]:
    actor = actor_of(request)
    contact = access_contact(actor, contact_id)
    added = add_identity(actor=actor, contact=contact,
                         identity=IdentityInput(payload.kind, payload.value, payload.is_primary))  # fmt: skip
    return Status(201 if added is not None else 200, _contact_out(contact.pk))


@router.post("/contacts/{contact_id}/merge", response=ContactOut, tags=["contacts"],
             description="Merge this contact into `into`; answers the survivor.")  # fmt: skip
def merge_contact(request: HttpRequest, contact_id: Id, payload: MergeIn) -> Contact:
    actor = actor_of(request)
    source = access_contact(actor, contact_id)
    target = access_contact(actor, payload.into)
    survivor = merge_contacts(actor=actor, source=source, target=target)
    return _contact_out(survivor.pk)


# --- sites ----------------------------------------------------------------------------------
@router.get("/sites", response=PageOut[SiteOut], tags=["sites"],
            description="The sites you may see. `contact`: a customer or a partner may name only themselves; "
                        "naming anyone else matches no site.")  # fmt: skip
def list_sites(request: HttpRequest, filters: Query[SiteQuery]) -> Page[Any]:
    actor = actor_of(request)
    # a customer or a partner may name only themselves as `contact`; anyone else matches nothing
    qs = sites_visible_to(actor) if filters.contact is None else sites_of_contact(actor, filters.contact)
    if filters.organization is not None:
        qs = qs.filter(organization_id=filters.organization)
    if filters.postal_code:
        qs = qs.filter(postal_code=filters.postal_code.strip())
    return page_of(qs, cursor=filters.cursor, limit=filters.limit)


@router.post("/sites", response={201: SiteOut}, tags=["sites"])
def create_site_route(request: HttpRequest, payload: SiteIn) -> Status[Site]:
    actor = actor_of(request)
    fields = _coordinates(payload.model_dump(exclude={"organization_id"}))
    fields["organization"] = _organization(actor, payload.organization_id)
    return Status(201, create_site(actor=actor, **fields))


@router.get("/sites/{site_id}", response=SiteOut, tags=["sites"])
def get_site(request: HttpRequest, site_id: Id) -> Site:
    return access_site(actor_of(request), site_id)


@router.patch("/sites/{site_id}", response=SiteOut, tags=["sites"])
def patch_site(request: HttpRequest, site_id: Id, payload: SitePatch) -> Site:
    actor = actor_of(request)
    site = access_site(actor, site_id)
    changes = _coordinates(changes_of(payload, nullable=frozenset({"organization_id", "latitude", "longitude"})))
    if "organization_id" in changes:
        changes["organization"] = _organization(actor, changes.pop("organization_id"))
    return update_site(actor=actor, site=site, changes=changes)


@router.get("/sites/{site_id}/relations", response=PageOut[RelationOut], tags=["sites"],
            description="Who is tied to the site, newest first: staff see everyone, past and present; a customer "
                        "only their own ties; a partner is refused (403).")  # fmt: skip
def list_site_relations(request: HttpRequest, site_id: Id, page: Query[PageQuery]) -> Page[Any]:
    actor = actor_of(request)
    relations = site_relations_visible_to(actor, access_site(actor, site_id))
    return page_of(relations, cursor=page.cursor, limit=page.limit)


@router.post("/sites/{site_id}/relations", response={201: RelationOut}, tags=["sites"],
             description="Tie a contact to the site (owner, occupant …) from a date.")  # fmt: skip
def relate_site(request: HttpRequest, site_id: Id, payload: RelationIn) -> Status[SiteRelation]:
    actor = actor_of(request)
    site = access_site(actor, site_id)
    contact = access_contact(actor, payload.contact_id)
    relation = relate_contact_to_site(actor=actor, site=site, contact=contact, role=payload.role,
                                      valid_from=payload.valid_from, ends_previous=payload.ends_previous)  # fmt: skip
    return Status(201, relation)


# --- assets ---------------------------------------------------------------------------------
@router.get("/assets", response=PageOut[AssetOut], tags=["assets"])
def list_assets(request: HttpRequest, filters: Query[AssetQuery]) -> Page[Any]:
    qs = assets_visible_to(actor_of(request))
    if filters.site is not None:
        qs = qs.filter(site_id=filters.site)
    if filters.organization is not None:
        qs = qs.filter(organization_id=filters.organization)
    if filters.serial:
        qs = qs.filter(serial_number=filters.serial.strip())
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    return page_of(qs, cursor=filters.cursor, limit=filters.limit)


@router.post("/assets", response={201: AssetOut}, tags=["assets"])
def create_asset_route(request: HttpRequest, payload: AssetIn) -> Status[Any]:
    actor = actor_of(request)
    fields = payload.model_dump(exclude={"site_id", "organization_id"})
    fields["site"] = _site(actor, payload.site_id)
    fields["organization"] = _organization(actor, payload.organization_id)
    return Status(201, create_asset(actor=actor, **fields))


@router.get("/assets/{asset_id}", response=AssetOut, tags=["assets"])
def get_asset(request: HttpRequest, asset_id: Id) -> Any:
    return access_asset(actor_of(request), asset_id)


@router.patch("/assets/{asset_id}", response=AssetOut, tags=["assets"])
def patch_asset(request: HttpRequest, asset_id: Id, payload: AssetPatch) -> Any:
    actor = actor_of(request)
    asset = access_asset(actor, asset_id)
    nullable = frozenset({"site_id", "organization_id", "installed_on", "warranty_until"})
    changes = changes_of(payload, nullable=nullable)
    if "site_id" in changes:
        changes["site"] = _site(actor, changes.pop("site_id"))
    if "organization_id" in changes:
        changes["organization"] = _organization(actor, changes.pop("organization_id"))
    return update_asset(actor=actor, asset=asset, changes=changes)


# --- orders ---------------------------------------------------------------------------------
@router.get("/orders", response=PageOut[OrderOut], tags=["orders"])
def list_orders(request: HttpRequest, filters: Query[OrderQuery]) -> Page[Any]:
    qs = orders_visible_to(actor_of(request)).prefetch_related("lines")
    if filters.contact is not None:
        qs = qs.filter(contact_id=filters.contact)
    if filters.organization is not None:
        qs = qs.filter(organization_id=filters.organization)
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    return page_of(qs, cursor=filters.cursor, limit=filters.limit)


@router.post("/orders", response={201: OrderOut}, tags=["orders"])
def create_order_route(request: HttpRequest, payload: OrderIn) -> Status[Any]:
    actor = actor_of(request)
    contact = access_contact(actor, payload.contact_id) if payload.contact_id is not None else None
    order = create_order(
        actor=actor,
        reference=payload.reference,
        contact=contact,
        organization=_organization(actor, payload.organization_id),
        ordered_at=payload.ordered_at,
        currency=payload.currency,
        lines=[
            OrderLineInput(description=ln.description, unit_price=ln.unit_price, quantity=ln.quantity, sku=ln.sku)
            for ln in payload.lines
        ],
        total=payload.total,
        is_renewal=payload.is_renewal,
    )
    return Status(201, order)


@router.post("/orders/import", response=OrdersImportOut, tags=["orders"],
             description="Import a CSV export of orders (staff); rows whose reference is stored are skipped, "
                         "a bad row is reported by its line and the others are imported.")  # fmt: skip
def import_orders_route(request: HttpRequest, payload: OrdersImportIn) -> dict[str, Any]:
    report = import_orders(actor=actor_of(request), text=payload.csv)
    return {"created": report.created, "already_there": report.already_there,
            "errors": [{"line": line, "message": message} for line, message in report.errors]}  # fmt: skip


@router.get("/orders/{order_id}", response=OrderOut, tags=["orders"])
def get_order(request: HttpRequest, order_id: Id) -> Any:
    return access_order(actor_of(request), order_id)


@router.patch("/orders/{order_id}", response=OrderOut, tags=["orders"])
def patch_order(request: HttpRequest, order_id: Id, payload: OrderPatch) -> Any:
    actor = actor_of(request)
    order = access_order(actor, order_id)
    return update_order(actor=actor, order=order, changes=changes_of(payload))
