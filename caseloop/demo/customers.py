"""The demo's customers: organizations, contacts, sites, ownership over time, assets and orders.

Rows are written in batches with their timeline and audit rows, exactly as
`caseloop.customers.actions` writes them (see `caseloop.demo.rows` for why the
loader does not call the actions themselves). What the case generator needs
to know about each customer is kept in small slotted objects.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from faker import Faker

from caseloop.core.money import Money
from caseloop.customers.choices import (
    AssetStatus,
    CustomerTier,
    IdentityKind,
    OrderStatus,
    OrganizationKind,
    SiteRole,
)
from caseloop.customers.models import (
    Asset,
    Contact,
    ContactIdentity,
    Order,
    OrderLine,
    Organization,
    Site,
    SiteRelation,
)
from caseloop.demo import vocabulary as v
from caseloop.demo.rows import History, IdPool, Statement, Table
from caseloop.demo.sink import Sink
from caseloop.timeline.choices import SubjectKind as S

# the fields each create action snapshots into its audit entry (customers.actions.*_FIELDS)
ORGANIZATION_FIELDS = ("name", "kind", "tier", "domain", "notes", "shares_cases")
CONTACT_FIELDS = ("name", "organization", "tier", "language", "time_zone", "notes")
SITE_FIELDS = ("name", "address_line1", "address_line2", "city", "region", "postal_code", "country",
               "latitude", "longitude", "organization", "access_notes")  # fmt: skip
ASSET_FIELDS = ("site", "organization", "name", "manufacturer", "model", "serial_number", "installed_on",
                "warranty_until", "status", "attributes")  # fmt: skip

_PHONE_SPACE = 8_000_000  # local numbers 200-0000 … 999-9999 per area code
_PHONE_STRIDE = 7_919  # a prime: id → number is one-to-one below len(AREA_CODES) * _PHONE_SPACE
_NOT_LETTERS = re.compile(r"[^a-z]")
_COORD = Decimal("0.000001")
_TIERS = (CustomerTier.STANDARD, CustomerTier.PRIORITY, CustomerTier.VIP)
_TIER_WEIGHTS = (70, 22, 8)
_ACCESS_NOTES = ("Gate code 4471.", "Dog in the yard; call first.", "Side entrance, ring twice.",
                 "Park on the street, not the drive.")  # fmt: skip


@dataclass(slots=True)
class DemoAsset:
    id: int
    kind: v.AssetKind
    brand: str
    model: str
    serial: str
    spec: str  # the first attribute, as a customer would quote it
    warranty_until: dt.date

    @property
    def label(self) -> str:
        return f"{self.kind.name.capitalize()} ({self.serial})"


@dataclass(slots=True)
class DemoSite:
    id: int
    street: str
    city: str
    organization_id: int | None
    assets: list[DemoAsset] = field(default_factory=list)
    owner_id: int | None = None  # the owner since before the demo year, or the only one
    sold_on: dt.date | None = None  # the day it changed hands, if it did during the year


@dataclass(slots=True)
class DemoContact:
    id: int
    name: str
    organization_id: int | None
    created_at: dt.datetime
    site: DemoSite | None = None
    order_refs: list[str] = field(default_factory=list)
    is_new_owner: bool = False

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    def site_at(self, moment: dt.datetime) -> DemoSite | None:
        """The site this person is tied to at `moment` (a seller loses it on the sale day)."""
        site = self.site
        if site is None or self.is_new_owner or site.sold_on is None or site.owner_id != self.id:
            return site
        return site if moment.date() < site.sold_on else None


@dataclass(slots=True)
class CustomerBase:
    """What the case generator picks from: contacts in order of creation."""

    contacts: list[DemoContact] = field(default_factory=list)
    created: list[float] = field(default_factory=list)  # contacts' creation timestamps, ascending
    partners: dict[str, int] = field(default_factory=dict)  # partner name → organization id
    counts: dict[str, int] = field(default_factory=dict)

    def eligible(self, moment: dt.datetime) -> int:
        """How many contacts existed at `moment` (a prefix of `contacts`)."""
        return bisect.bisect_right(self.created, moment.timestamp())


class _Names:
    """Pools drawn once from Faker (seeded), then combined by a seeded Random: fast and repeatable."""

    def __init__(self, seed: int) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.first = [fake.first_name() for _ in range(1500)]
        self.last = [fake.last_name() for _ in range(1500)]
        self.streets = [fake.street_name() for _ in range(1200)]


def phone_for(contact_id: int) -> str:
    """A well-formed US number in E.164, different for every contact id."""
    x = (contact_id * _PHONE_STRIDE) % (len(v.AREA_CODES) * _PHONE_SPACE)
    return f"+1{v.AREA_CODES[x // _PHONE_SPACE]}{2_000_000 + x % _PHONE_SPACE:07d}"


def _email_for(rng: random.Random, name: str, contact_id: int, domain: str | None) -> str:
    first, *_, last = [_NOT_LETTERS.sub("", part.lower()) or "x" for part in name.split()]
    if domain:  # a work address: unique by the contact id
        return f"{first}.{last}.{contact_id}@{domain}"
    style = rng.randrange(3)
    local = (f"{first}.{last}{contact_id}", f"{first[0]}{last}{contact_id}", f"{first}_{contact_id}")[style]
    return f"{local}@{rng.choice(v.PERSONAL_DOMAINS)}"


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    name: str
    place: str  # what its sites are: "bakery", "apartment building" …
    domain: str


class CustomerWriter:
    """Makes the rows of customers, their sites, assets and orders, with their history."""

    def __init__(self, *, rng: random.Random, seed: int, now: dt.datetime, start: dt.datetime, block: int) -> None:
        self.rng = rng
        self.names = _Names(seed)
        self.now = now
        self.start = start  # the beginning of the demo year
        self.history = History()
        self.organizations = Table(Organization)
        self.contacts = Table(Contact)
        self.identities = Table(ContactIdentity, with_id=False)
        self.sites = Table(Site)
        self.relations = Table(SiteRelation, with_id=False)
        self.assets = Table(Asset)
        self.orders = Table(Order)
        self.lines = Table(OrderLine, with_id=False)
        self.ids = {model: IdPool(model, block=block) for model in (Organization, Contact, Site, Asset, Order)}

    def drain(self) -> list[Statement]:
        tables = (self.organizations, self.contacts, self.identities, self.sites, self.relations, self.assets,
                  self.orders, self.lines)  # fmt: skip
        return [st for st in (t.drain() for t in tables) if st is not None] + self.history.drain()

    def counts(self) -> dict[str, int]:
        return {"organizations": self.organizations.written, "contacts": self.contacts.written,
                "identities": self.identities.written, "sites": self.sites.written,
                "site_relations": self.relations.written, "assets": self.assets.written, "orders": self.orders.written,
                "order_lines": self.lines.written, "history_rows": self.history.written}  # fmt: skip

    def release_ids(self) -> None:
        for pool in self.ids.values():
            pool.release()

    # --- organizations -------------------------------------------------------------
    def _organization(self, *, oid: int, name: str, kind: str, tier: str, domain: str, notes: str, shares: bool,
                      at: dt.datetime) -> None:  # fmt: skip
        self.organizations.add({"id": oid, "name": name, "kind": kind, "tier": tier, "domain": domain, "notes": notes,
                                "shares_cases": shares, "created_at": at, "updated_at": at})  # fmt: skip
        self.history.event(kind="organization.created", subjects=[(S.ORGANIZATION, oid)], occurred_at=at,
                           summary=f"Organization {name} created")  # fmt: skip
        snapshot = {"name": name, "kind": kind, "tier": tier, "domain": domain, "notes": notes, "shares_cases": shares}
        self.history.audit(action="organization.create", object_type="organization", object_id=oid, at=at,
                           after=snapshot)  # fmt: skip

    def partners(self) -> dict[str, int]:
        """The partner organizations (reused when they exist: an appended load)."""
        names = [p[0] for p in v.PARTNERS]
        existing = Organization.objects.filter(kind=OrganizationKind.PARTNER, name__in=names)
        found = dict(existing.values_list("name", "id"))
        for name, domain, notes in v.PARTNERS:
            if name not in found:
                found[name] = self.ids[Organization].one()
                self._organization(oid=found[name], name=name, kind=OrganizationKind.PARTNER,
                                   tier=CustomerTier.STANDARD, domain=domain, notes=notes, shares=False,
                                   at=self.start - dt.timedelta(days=400))  # fmt: skip
        return found

    def companies(self, count: int) -> list[Company]:
        """Customer companies, founded before the demo year."""
        rng = self.rng
        made = []
        for oid in self.ids[Organization].take(count):
            kind, place = rng.choice(v.ORGANIZATION_KINDS)
            name = f"{rng.choice(v.ORGANIZATION_STEMS)} {kind}"
            name = f"{name} {rng.choice(v.CITIES)[0]}" if rng.random() < 0.6 else name
            domain = f"{_NOT_LETTERS.sub('', name.lower())}{oid}.example"
            tier = rng.choices(_TIERS, _TIER_WEIGHTS)[0]
            self._organization(oid=oid, name=name, kind=OrganizationKind.CUSTOMER, tier=tier, domain=domain,
                               notes="", shares=kind == "Property Management",
                               at=self.start - dt.timedelta(days=rng.uniform(30, 1100)))  # fmt: skip
            made.append(Company(id=oid, name=name, place=place, domain=domain))
        return made

    # --- contacts, sites, assets, orders --------------------------------------------
    def contact(self, *, cid: int, name: str, at: dt.datetime, organization_id: int | None, domain: str | None,
                time_zone: str, email: str | None = None, phone: str | None = None,
                user_id: int | None = None) -> None:  # fmt: skip
        rng = self.rng
        tier = CustomerTier.STANDARD if rng.random() < 0.88 else rng.choice([CustomerTier.PRIORITY, CustomerTier.VIP])
        language = "es" if rng.random() < 0.06 else "en"
        self.contacts.add({"id": cid, "name": name, "organization_id": organization_id, "tier": tier,
                           "language": language, "time_zone": time_zone, "notes": "", "user_id": user_id,
                           "merged_into_id": None, "created_at": at, "updated_at": at})  # fmt: skip
        identities = [(IdentityKind.EMAIL, email or _email_for(rng, name, cid, domain))]
        number = phone or (phone_for(cid) if rng.random() < 0.7 else None)
        if number and not (phone is None and number == v.CUSTOMER_PHONE):  # Carla's number is hers alone
            identities.append((IdentityKind.PHONE, number))
        for index, (kind, value) in enumerate(identities):
            self.identities.add({"contact_id": cid, "kind": kind, "value": value, "is_primary": index == 0,
                                 "failing_since": None, "created_at": at})  # fmt: skip
        self.history.event(kind="contact.created", subjects=[(S.CONTACT, cid), (S.ORGANIZATION, organization_id)],
                           occurred_at=at, summary=f"Contact {name} created")  # fmt: skip
        after = {"name": name, "organization": organization_id, "tier": tier, "language": language,
                 "time_zone": time_zone, "notes": "",
                 "identities": [f"{k}:{val}" for k, val in identities]}  # fmt: skip
        self.history.audit(action="contact.create", object_type="contact", object_id=cid, at=at, after=after)

    def site(self, *, sid: int, at: dt.datetime, city: tuple[str, str, str, float, float, str], name: str = "",
             organization_id: int | None = None) -> DemoSite:  # fmt: skip
        rng = self.rng
        street = f"{rng.randint(2, 9899)} {rng.choice(self.names.streets)}"
        city_name, region, zip_prefix, lat, lon, _ = city
        latitude = Decimal(lat + rng.uniform(-0.12, 0.12)).quantize(_COORD)
        longitude = Decimal(lon + rng.uniform(-0.15, 0.15)).quantize(_COORD)
        values = {"name": name, "address_line1": street, "address_line2": "", "city": city_name, "region": region,
                  "postal_code": f"{zip_prefix}{rng.randint(1, 99):02d}", "country": "US", "latitude": latitude,
                  "longitude": longitude, "organization": organization_id, "access_notes": ""}  # fmt: skip
        if rng.random() < 0.08:
            values["access_notes"] = rng.choice(_ACCESS_NOTES)
        row = {("organization_id" if k == "organization" else k): val for k, val in values.items()}
        self.sites.add({**row, "id": sid, "created_at": at, "updated_at": at})
        label = name or f"{street}, {city_name}"
        self.history.event(kind="site.created", subjects=[(S.SITE, sid), (S.ORGANIZATION, organization_id)],
                           occurred_at=at, summary=f"Site {label} created")  # fmt: skip
        self.history.audit(action="site.create", object_type="site", object_id=sid, at=at, after=values)
        return DemoSite(id=sid, street=street, city=city_name, organization_id=organization_id)

    def relate(self, *, site: DemoSite, site_label: str, contact: DemoContact, role: SiteRole, start: dt.date,
               at: dt.datetime, ended: list[int], valid_to: dt.date | None = None) -> None:  # fmt: skip
        """As `relate_contact_to_site`: a new owner ends the previous owner's relation on their first day.

        A home sold later in the year is written with the end its relation
        will have by then (`valid_to`): the rows come out as the actions leave
        them after the sale, without updating a row written earlier.
        """
        self.relations.add({"site_id": site.id, "contact_id": contact.id, "role": role, "valid_from": start,
                            "valid_to": valid_to})  # fmt: skip
        data = {"contact": contact.id, "role": role, "valid_from": start, "ended": ended}
        self.history.event(
            kind="site.relation_started", occurred_at=at, data=data,
            subjects=[(S.SITE, site.id), (S.CONTACT, contact.id), *[(S.CONTACT, c) for c in ended]],
            summary=f"{contact.name} became {SiteRole(role).label.lower()} of {site_label} from {start.isoformat()}",
        )  # fmt: skip
        self.history.audit(action="site.relate", object_type="site", object_id=site.id, at=at, after=data)

    def asset(self, *, aid: int, kind: v.AssetKind, site: DemoSite, site_label: str, at: dt.datetime) -> DemoAsset:
        rng = self.rng
        brand = rng.choice(kind.brands)
        model = f"{kind.model_prefix}-{rng.randint(100, 999)}{rng.choice('ABCDEFGHJKLMNPRSTX')}"
        installed = (at - dt.timedelta(days=rng.randint(30, 12 * 365))).date()
        serial = f"{kind.serial_prefix}{installed.year % 100:02d}{rng.randint(0, 9_999_999):07d}"
        warranty = installed.replace(year=installed.year + kind.warranty_years, day=min(installed.day, 28))
        attributes = {name: rng.choice(choices) for name, choices in kind.attributes}
        first_name = kind.attributes[0][0]
        spec = str(attributes[first_name])
        if first_name == "capacity_gal":
            spec = f"{spec}-gallon"
        status = AssetStatus.NEEDS_SERVICE if rng.random() < 0.04 else AssetStatus.IN_SERVICE
        name = kind.name.capitalize()
        values = {"site": site.id, "organization": site.organization_id, "name": name, "manufacturer": brand,
                  "model": model, "serial_number": serial, "installed_on": installed, "warranty_until": warranty,
                  "status": status, "attributes": attributes}  # fmt: skip
        row = {(f"{k}_id" if k in {"site", "organization"} else k): val for k, val in values.items()}
        self.assets.add({**row, "id": aid, "created_at": at, "updated_at": at})
        self.history.event(
            kind="asset.installed", occurred_at=at,
            subjects=[(S.ASSET, aid), (S.SITE, site.id), (S.ORGANIZATION, site.organization_id)],
            summary=f"{name} ({serial}) recorded at {site_label}",
        )  # fmt: skip
        self.history.audit(action="asset.create", object_type="asset", object_id=aid, at=at, after=values)
        asset = DemoAsset(id=aid, kind=kind, brand=brand, model=model, serial=serial, spec=spec,
                          warranty_until=warranty)  # fmt: skip
        site.assets.append(asset)
        return asset

    def order(self, *, oid: int, contact: DemoContact, at: dt.datetime) -> str:
        rng = self.rng
        reference = f"SO-{100_000 + oid}"
        lines: list[tuple[str, str, int, Decimal]] = []
        for sku, description, listed in rng.sample(v.PRODUCTS, rng.choice((1, 1, 1, 2, 2, 3))):
            quantity = rng.choice((1, 1, 1, 2)) if not sku.startswith(("SVC", "WTY", "PLN")) else 1
            lines.append((sku, description, quantity, Decimal(listed)))
        total = Money.parse(0, "USD")
        for *_, quantity, price in lines:
            total = total + Money.parse(price * quantity, "USD")
        age = (self.now - at).days
        if age > 30:
            status = rng.choices([OrderStatus.FULFILLED, OrderStatus.REFUNDED, OrderStatus.CANCELLED], [92, 5, 3])[0]
        else:
            status = rng.choice([OrderStatus.PLACED, OrderStatus.FULFILLED])
        is_renewal = any(line[0] == "PLN-CARE" for line in lines) and rng.random() < 0.6
        self.orders.add({"id": oid, "contact_id": contact.id, "organization_id": contact.organization_id,
                         "reference": reference, "ordered_at": at, "status": status, "total": total.amount,
                         "currency": total.currency, "is_renewal": is_renewal, "created_at": at})  # fmt: skip
        for sku, description, quantity, price in lines:
            self.lines.add({"order_id": oid, "sku": sku, "description": description, "quantity": quantity,
                            "unit_price": price})  # fmt: skip
        self.history.event(
            kind="order.placed", occurred_at=at,
            subjects=[(S.CONTACT, contact.id), (S.ORGANIZATION, contact.organization_id)],
            summary=f"Order {reference}: {total}", data={"order": oid, "total": total.amount, "currency": "USD"},
        )  # fmt: skip
        self.history.audit(action="order.create", object_type="order", object_id=oid, at=at,
                           after={"reference": reference, "total": total.amount, "currency": "USD"})  # fmt: skip
        return reference


@dataclass(slots=True)
class _Plan:
    """One contact to create: when, for which company, and how they relate to a home."""

    created_at: dt.datetime
    company: Company | None
    has_home: bool
    sells_on: dt.date | None = None  # a long-standing owner whose home is sold during the year
    buys_from: _Plan | None = None  # a mover who buys that home on the day they become a customer
    contact: DemoContact | None = None  # set once written


def _contact_plans(rng: random.Random, *, count: int, companies: list[Company], start: dt.datetime,
                   now: dt.datetime) -> list[_Plan]:  # fmt: skip
    """Seven in ten customers exist before the demo year; the rest arrive during it, some buying a sold home."""
    year = (now - start).total_seconds()
    plans = []
    for index in range(count):
        before = index == 0 or rng.random() < 0.7  # the first exists before every case
        at = (start - dt.timedelta(days=rng.uniform(1, 3 * 365)) if before
              else start + dt.timedelta(seconds=rng.uniform(0, year * 0.97)))  # fmt: skip
        company = rng.choice(companies) if companies and index and rng.random() < 0.2 else None
        plans.append(_Plan(created_at=at, company=company, has_home=company is None and rng.random() < 0.9))
    owners = [p for p in plans if p.has_home and p.created_at < start]
    movers = [p for p in plans if p.company is None and p.created_at >= start]
    rng.shuffle(owners)
    # about one home in fifteen changes hands during the year; its buyer arrives that day
    for seller, buyer in zip(owners[: len(owners) // 15], movers, strict=False):
        seller.sells_on = buyer.created_at.date()
        buyer.buys_from = seller
        buyer.has_home = False
    plans.sort(key=lambda p: p.created_at)
    return plans


def write_customers(
    writer: CustomerWriter,
    sink: Sink,
    *,
    contacts: int,
    organizations: int,
    on_progress: Callable[[int], None],
    batch_size: int = 2000,
) -> CustomerBase:
    """Write `contacts` customers (and their world) in transactions of `batch_size` contacts."""
    base = CustomerBase(partners=writer.partners())
    companies = writer.companies(organizations)
    sink.write(writer.drain())
    company_sites: dict[int, list[DemoSite]] = {}
    plans = _contact_plans(writer.rng, count=contacts, companies=companies, start=writer.start, now=writer.now)
    for first in range(0, len(plans), batch_size):
        chunk = plans[first : first + batch_size]
        for plan, cid in zip(chunk, writer.ids[Contact].take(len(chunk)), strict=True):
            contact = _write_one(writer, plan, cid, company_sites)
            plan.contact = contact
            base.contacts.append(contact)
            base.created.append(contact.created_at.timestamp())
            _write_orders(writer, contact)
        sink.write(writer.drain())
        on_progress(len(chunk))
    return base


def _write_one(writer: CustomerWriter, plan: _Plan, cid: int, company_sites: dict[int, list[DemoSite]]) -> DemoContact:
    rng = writer.rng
    name = f"{rng.choice(writer.names.first)} {rng.choice(writer.names.last)}"
    city = rng.choice(v.CITIES)
    company = plan.company
    at = plan.created_at
    writer.contact(cid=cid, name=name, at=at, organization_id=company.id if company else None,
                   domain=company.domain if company else None, time_zone=city[5])  # fmt: skip
    contact = DemoContact(id=cid, name=name, organization_id=company.id if company else None, created_at=at)
    later = at + dt.timedelta(minutes=rng.randint(2, 40))
    if company is not None:
        sites = company_sites.setdefault(company.id, [])
        if len(sites) < rng.randint(1, 4):  # the company's first few contacts bring its locations
            label = f"{company.name} {company.place}"
            site = writer.site(sid=writer.ids[Site].one(), at=later, city=city, name=label, organization_id=company.id)
            for kind in rng.sample(v.COMMERCIAL_KINDS, rng.randint(1, 3)):
                writer.asset(aid=writer.ids[Asset].one(), kind=kind, site=site, site_label=label, at=later)
            writer.relate(site=site, site_label=label, contact=contact, role=SiteRole.MANAGER, start=later.date(),
                          at=later, ended=[])  # fmt: skip
            sites.append(site)
            contact.site = site
        else:
            contact.site = rng.choice(sites)
        return contact
    if plan.buys_from is not None and plan.buys_from.contact is not None:
        seller = plan.buys_from.contact
        home = seller.site
        assert home is not None and home.sold_on is not None
        writer.relate(site=home, site_label=f"{home.street}, {home.city}", contact=contact, role=SiteRole.OWNER,
                      start=home.sold_on, at=later, ended=[seller.id])  # fmt: skip
        contact.site = home
        contact.is_new_owner = True
        return contact
    if not plan.has_home:  # a customer without a site on file (buys parts, asks about billing)
        return contact
    home = writer.site(sid=writer.ids[Site].one(), at=later, city=city)
    label = f"{home.street}, {home.city}"
    moved_in = (at - dt.timedelta(days=rng.randint(30, 15 * 365))).date()
    writer.relate(site=home, site_label=label, contact=contact, role=SiteRole.OWNER, start=moved_in, at=later,
                  ended=[], valid_to=plan.sells_on)  # fmt: skip
    home.owner_id = cid
    home.sold_on = plan.sells_on
    kinds = [k for k in v.RESIDENTIAL_KINDS if rng.random() < _HOME_SHARE[k.key]] or [v.RESIDENTIAL_KINDS[0]]
    for kind in kinds:
        writer.asset(aid=writer.ids[Asset].one(), kind=kind, site=home, site_label=label, at=later)
    contact.site = home
    return contact


# how many homes have each kind of equipment on file with us
_HOME_SHARE = {"garage_door": 0.55, "furnace": 0.5, "water_heater": 0.45, "dishwasher": 0.25, "router": 0.35,
               "air_conditioner": 0.3, "washer": 0.15}  # fmt: skip


def _write_orders(writer: CustomerWriter, contact: DemoContact) -> None:
    rng = writer.rng
    first = max(contact.created_at, writer.start)
    span = (writer.now - first).total_seconds()
    count = rng.choice((0, 1, 1, 1, 2, 3))
    if span <= 0 or not count:
        return
    times = sorted(first + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(count))
    for at, oid in zip(times, writer.ids[Order].take(count), strict=True):
        contact.order_refs.append(writer.order(oid=oid, contact=contact, at=at))


def write_portal_customer(writer: CustomerWriter, sink: Sink, *, user_id: int) -> DemoContact:
    """Carla, who signs in to the portal: a home with a garage door and a furnace, and some orders."""
    at = writer.start - dt.timedelta(days=500)
    cid = writer.ids[Contact].one()
    writer.contact(cid=cid, name=v.CUSTOMER_NAME, at=at, organization_id=None, domain=None,
                   time_zone="America/Los_Angeles", email=v.CUSTOMER_EMAIL, phone=v.CUSTOMER_PHONE,
                   user_id=user_id)  # fmt: skip
    contact = DemoContact(id=cid, name=v.CUSTOMER_NAME, organization_id=None, created_at=at)
    home = writer.site(sid=writer.ids[Site].one(), at=at, city=v.CITIES[0])
    label = f"{home.street}, {home.city}"
    writer.relate(site=home, site_label=label, contact=contact, role=SiteRole.OWNER,
                  start=dt.date(at.year - 6, 5, 1), at=at, ended=[])  # fmt: skip
    home.owner_id = cid
    for kind in v.ASSET_KINDS[:2]:
        writer.asset(aid=writer.ids[Asset].one(), kind=kind, site=home, site_label=label, at=at)
    contact.site = home
    _write_orders(writer, contact)
    sink.write(writer.drain())
    return contact


def scale(cases: int) -> tuple[int, int]:
    """(contacts, organizations) for a number of cases: about four cases per contact a year."""
    return max(12, cases // 4), max(3, cases // 150)
