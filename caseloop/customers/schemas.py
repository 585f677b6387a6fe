"""What the API takes and gives for organizations, contacts, sites, assets and orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field

from caseloop.core.pagination import PageQuery
from caseloop.core.schemas import NO_NUL, Id, InSchema, OutSchema, Text
from caseloop.customers.choices import (
    AssetStatus,
    CustomerTier,
    IdentityKind,
    OrderStatus,
    OrganizationKind,
    SiteRole,
)

AttributeValue = str | int | float | bool | None


def _staff_only(value: str, context: Any) -> str:
    """Internal notes are for staff; a customer or partner reading their own record sees none."""
    request = (context or {}).get("request")
    actor = getattr(request, "auth", None)
    return value if actor is not None and actor.is_staff_member else ""


# --- organizations ------------------------------------------------------------------
class OrganizationOut(OutSchema):
    id: int
    name: str
    kind: OrganizationKind
    tier: CustomerTier
    domain: str
    notes: str
    shares_cases: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_notes(obj: Any, context: Any) -> str:
        return _staff_only(obj.notes, context)


class OrganizationIn(InSchema):
    name: Text = Field(min_length=1, max_length=200)
    kind: OrganizationKind = OrganizationKind.CUSTOMER
    tier: CustomerTier = CustomerTier.STANDARD
    domain: Text = Field("", max_length=200)
    notes: Text = Field("", max_length=20_000)
    shares_cases: bool = False


class OrganizationPatch(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=200), NO_NUL] | None = None
    kind: OrganizationKind | None = None
    tier: CustomerTier | None = None
    domain: Annotated[str, Field(max_length=200), NO_NUL] | None = None
    notes: Annotated[str, Field(max_length=20_000), NO_NUL] | None = None
    shares_cases: bool | None = None


class OrganizationQuery(PageQuery):
    kind: OrganizationKind | None = None
    domain: Annotated[str, Field(max_length=200), NO_NUL] | None = Field(
        None, description="exact email domain, e.g. example.com"
    )


# --- contacts ------------------------------------------------------------------------
class IdentityIn(InSchema):
    kind: IdentityKind
    value: Text = Field(min_length=1, max_length=254)
    is_primary: bool = False


class IdentityOut(OutSchema):
    kind: IdentityKind
    value: str
    is_primary: bool


class ContactOut(OutSchema):
    id: int
    name: str
    organization_id: int | None
    tier: CustomerTier
    language: str
    time_zone: str
    notes: str
    identities: list[IdentityOut]
    merged_into_id: int | None = Field(description="set on a contact merged into another")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_notes(obj: Any, context: Any) -> str:
        return _staff_only(obj.notes, context)

    @staticmethod
    def resolve_identities(obj: Any) -> list[Any]:
        # prefetched by the route; in the order they were added (PostgreSQL returns rows in heap order, which an
        # update, such as a primary demoted, changes)
        return sorted(obj.identities.all(), key=lambda identity: identity.pk)


class ContactIn(InSchema):
    name: Text = Field(min_length=1, max_length=200)
    organization_id: Id | None = None
    tier: CustomerTier = CustomerTier.STANDARD
    language: Text = Field("en", min_length=1, max_length=10)
    time_zone: Text = Field("UTC", min_length=1, max_length=64)
    notes: Text = Field("", max_length=20_000)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


class ContactPatch(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=200), NO_NUL] | None = None
    organization_id: Id | None = None
    tier: CustomerTier | None = None
    language: Annotated[str, Field(min_length=1, max_length=10), NO_NUL] | None = None
    time_zone: Annotated[str, Field(min_length=1, max_length=64), NO_NUL] | None = None
    notes: Annotated[str, Field(max_length=20_000), NO_NUL] | None = None


class ContactQuery(PageQuery):
    organization: Id | None = None
    email: Annotated[str, Field(max_length=254), NO_NUL] | None = Field(
        None, description="the contact with this email address"
    )
    phone: Annotated[str, Field(max_length=64), NO_NUL] | None = Field(
        None, description="the contact with this phone number"
    )
    include_merged: bool = Field(False, description="also list contacts merged into others")


class MergeIn(InSchema):
    into: Id = Field(description="the contact that lives on")


# --- sites ------------------------------------------------------------------------------


class SiteOut(OutSchema):
    id: int
    name: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    latitude: float | None
    longitude: float | None
    organization_id: int | None
    access_notes: str
    created_at: dt.datetime
    updated_at: dt.datetime


class SiteIn(InSchema):
    name: Text = Field("", max_length=200)
    address_line1: Text = Field(min_length=1, max_length=200)
    address_line2: Text = Field("", max_length=200)
    city: Text = Field(min_length=1, max_length=100)
    region: Text = Field("", max_length=100)
    postal_code: Text = Field("", max_length=20)
    country: Text = Field("US", min_length=2, max_length=2)
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    organization_id: Id | None = None
    access_notes: Text = Field("", max_length=20_000)


class SitePatch(InSchema):
    name: Annotated[str, Field(max_length=200), NO_NUL] | None = None
    address_line1: Annotated[str, Field(min_length=1, max_length=200), NO_NUL] | None = None
    address_line2: Annotated[str, Field(max_length=200), NO_NUL] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100), NO_NUL] | None = None
    region: Annotated[str, Field(max_length=100), NO_NUL] | None = None
    postal_code: Annotated[str, Field(max_length=20), NO_NUL] | None = None
    country: Annotated[str, Field(min_length=2, max_length=2), NO_NUL] | None = None
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    organization_id: Id | None = None
    access_notes: Annotated[str, Field(max_length=20_000), NO_NUL] | None = None


class SiteQuery(PageQuery):
    organization: Id | None = None
    contact: Id | None = Field(None, description="sites this contact is tied to now")
    postal_code: Annotated[str, Field(max_length=20), NO_NUL] | None = None


class RelationIn(InSchema):
    contact_id: Id
    role: SiteRole
    valid_from: dt.date | None = Field(None, description="defaults to today")
    ends_previous: bool = Field(True, description="a new owner ends the current owner's tie on valid_from")


class RelationOut(OutSchema):
    id: int
    site_id: int
    contact_id: int
    role: SiteRole
    valid_from: dt.date
    valid_to: dt.date | None


# --- assets -------------------------------------------------------------------------------
class AssetOut(OutSchema):
    id: int
    name: str
    site_id: int | None
    organization_id: int | None
    manufacturer: str
    model: str
    serial_number: str
    installed_on: dt.date | None
    warranty_until: dt.date | None
    status: AssetStatus
    attributes: dict[str, AttributeValue]
    created_at: dt.datetime
    updated_at: dt.datetime


class AssetIn(InSchema):
    name: Text = Field(min_length=1, max_length=200)
    site_id: Id | None = None
    organization_id: Id | None = None
    manufacturer: Text = Field("", max_length=100)
    model: Text = Field("", max_length=100)
    serial_number: Text = Field("", max_length=100)
    installed_on: dt.date | None = None
    warranty_until: dt.date | None = None
    status: AssetStatus = AssetStatus.IN_SERVICE
    attributes: dict[Text, AttributeValue] = Field(default_factory=dict, max_length=100)


class AssetPatch(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=200), NO_NUL] | None = None
    site_id: Id | None = None
    organization_id: Id | None = None
    manufacturer: Annotated[str, Field(max_length=100), NO_NUL] | None = None
    model: Annotated[str, Field(max_length=100), NO_NUL] | None = None
    serial_number: Annotated[str, Field(max_length=100), NO_NUL] | None = None
    installed_on: dt.date | None = None
    warranty_until: dt.date | None = None
    status: AssetStatus | None = None
    attributes: dict[Text, AttributeValue] | None = Field(None, max_length=100)


class AssetQuery(PageQuery):
    site: Id | None = None
    organization: Id | None = None
    serial: Annotated[str, Field(max_length=100), NO_NUL] | None = Field(None, description="exact serial number")
    status: AssetStatus | None = None


# --- orders -----------------------------------------------------------------------------


class OrderLineIn(InSchema):
    description: Text = Field(min_length=1, max_length=300)
    unit_price: Decimal = Field(max_digits=14, decimal_places=2)
    quantity: int = Field(1, ge=1, le=1_000_000)
    sku: Text = Field("", max_length=64)


class OrderLineOut(OutSchema):
    sku: str
    description: str
    quantity: int
    unit_price: Decimal


class OrderOut(OutSchema):
    id: int
    reference: str
    contact_id: int | None
    organization_id: int | None
    ordered_at: dt.datetime
    status: OrderStatus
    total: Decimal
    currency: str
    is_renewal: bool
    lines: list[OrderLineOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())  # prefetched by the route


class OrderIn(InSchema):
    reference: Text = Field(min_length=1, max_length=64)
    contact_id: Id | None = None
    organization_id: Id | None = None
    ordered_at: dt.datetime
    currency: Text = Field(min_length=3, max_length=3)
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=500)
    total: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    is_renewal: bool = False


class OrderPatch(InSchema):
    status: OrderStatus | None = None
    is_renewal: bool | None = None


class OrderQuery(PageQuery):
    contact: Id | None = None
    organization: Id | None = None
    status: OrderStatus | None = None


class OrdersImportIn(InSchema):
    csv: Text = Field(min_length=1, max_length=8_000_000,
                      description="a CSV export, one order a row (columns: docs/api.md, Orders)")  # fmt: skip


class ImportErrorOut(OutSchema):
    line: int = Field(description="the line of the file (1 is the header)")
    message: str


class OrdersImportOut(OutSchema):
    created: int
    already_there: int = Field(description="rows whose reference is stored already (skipped)")
    errors: list[ImportErrorOut]
