"""Every write to customers, sites, assets and orders.

Each action validates and authorises, changes the rows, and records the
happening on the timeline and the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.forms.models import model_to_dict

from caseloop.core import clock
from caseloop.core.errors import Invalid, PermissionDenied
from caseloop.core.events import publish
from caseloop.core.fastdb import insert, values_by
from caseloop.core.money import Money
from caseloop.customers.choices import IdentityKind, OrganizationKind, SiteRole
from caseloop.customers.errors import CustomerError, CustomerErrorCode
from caseloop.customers.identities import normalise_identity
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
from caseloop.customers.selectors import contact_of, contact_references, find_contact_by_identity, surviving_contact
from caseloop.identity.models import User
from caseloop.identity.selectors import require_staff
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S


@dataclass(frozen=True, slots=True)
class IdentityInput:
    kind: IdentityKind
    value: str
    is_primary: bool = False


def _snapshot(obj: models.Model, fields: Sequence[str]) -> dict[str, Any]:
    return dict(model_to_dict(obj, fields=fields))


def _apply_changes(obj: models.Model, changes: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    """Set the given fields; return {field: (before, after)} for those that changed."""
    changed: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in allowed:
            raise Invalid(f"{name!r} cannot be changed here.", field=name)
        before = getattr(obj, name)
        if before != value:
            setattr(obj, name, value)
            changed[name] = (before, value)
    return changed


# --- organizations -------------------------------------------------------------
ORGANIZATION_FIELDS = ("name", "kind", "tier", "domain", "notes", "shares_cases")


@transaction.atomic
def create_organization(
    *,
    actor: User | None,
    name: str,
    kind: OrganizationKind = OrganizationKind.CUSTOMER,
    tier: str = "standard",
    domain: str = "",
    notes: str = "",
    shares_cases: bool = False,
) -> Organization:
    require_staff(actor)
    if not name.strip():
        raise Invalid("An organization needs a name.", field="name")
    org = Organization.objects.create(
        name=name.strip(), kind=kind, tier=tier, domain=domain.strip().lower(), notes=notes,
        shares_cases=shares_cases,
    )  # fmt: skip
    record_event(kind="organization.created", subjects=[(S.ORGANIZATION, org.pk)], actor=actor,
                 summary=f"Organization {org.name} created")  # fmt: skip
    record_audit(action="organization.create", object_type="organization", object_id=org.pk, actor=actor,
                 after=_snapshot(org, ORGANIZATION_FIELDS))  # fmt: skip
    return org


@transaction.atomic
def update_organization(*, actor: User | None, organization: Organization, changes: Mapping[str, Any]) -> Organization:
    require_staff(actor)
    if "name" in changes and not str(changes["name"]).strip():
        raise Invalid("An organization needs a name.", field="name")
    changed = _apply_changes(organization, changes, ORGANIZATION_FIELDS)
    if changed:
        organization.save(update_fields=[*changed, "updated_at"])
        _record_update(actor, "organization", organization.pk, S.ORGANIZATION, changed)
    return organization


def _record_update(actor: User | None, object_type: str, object_id: int, subject: S, changed: dict[str, Any]) -> None:
    names = ", ".join(sorted(changed))
    record_event(kind=f"{object_type}.updated", subjects=[(subject, object_id)], actor=actor,
                 summary=f"Changed {names}", data={"fields": sorted(changed)})  # fmt: skip
    record_audit(
        action=f"{object_type}.update", object_type=object_type, object_id=object_id, actor=actor,
        before={k: v[0] for k, v in changed.items()}, after={k: v[1] for k, v in changed.items()},
    )  # fmt: skip


# --- contacts --------------------------------------------------------------------
CONTACT_FIELDS = ("name", "organization", "tier", "language", "time_zone", "notes")

# A BCP 47 language tag as a contact's language is written: a language (two or three letters), then
# optionally a script (four letters) and a region (two letters or three digits): en, es-419, pt-BR, zh-Hant-TW.
# Extensions and private-use tags do not fit the column's ten characters and mean nothing to a support team.
_LANGUAGE_TAG = re.compile(r"(?P<language>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|[0-9]{3}))?",
                           re.IGNORECASE | re.ASCII)  # fmt: skip


@functools.cache
def _time_zones() -> frozenset[str]:
    # the IANA names of the installed time zone database; zoneinfo alone would also open "posix/…", "right/…"
    # and the host's own "localtime", which name no place
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def check_time_zone(name: str) -> str:
    """An IANA time zone name (Europe/Berlin, America/Los_Angeles, UTC), or a refusal naming `time_zone`."""
    if name not in _time_zones():
        raise Invalid(f"{name!r} is not a time zone (an IANA name such as Europe/Berlin or UTC).", field="time_zone")
    return name


def check_language(tag: str) -> str:
    """A language tag in its usual casing (en, pt-BR, zh-Hant-TW), or a refusal naming `language`."""
    match = _LANGUAGE_TAG.fullmatch(tag.strip())
    if match is None:
        raise Invalid(f"{tag!r} is not a language tag (en, es, pt-BR, zh-Hant …).", field="language")
    language, script, region = match["language"].lower(), match["script"], match["region"]
    return "-".join([language, *([script.title()] if script else []), *([region.upper()] if region else [])])


def _check_primaries(identities: Sequence[IdentityInput]) -> None:
    twice = sorted(kind for kind, count in Counter(i.kind for i in identities if i.is_primary).items() if count > 1)
    if twice:
        raise CustomerError(CustomerErrorCode.IDENTITY_INVALID,
                            f"Only one identity of a kind can be primary; more than one {', '.join(twice)} is.",
                            field="identities")  # fmt: skip


def _make_primary(contact: Contact, kind: IdentityKind, value: str) -> bool:
    """Make the contact's identity `value` its primary one of `kind`, the previous primary no longer; changed?"""
    demoted = ContactIdentity.objects.filter(contact=contact, kind=kind, is_primary=True).exclude(value=value)
    changed = demoted.update(is_primary=False)
    changed += ContactIdentity.objects.filter(contact=contact, kind=kind, value=value, is_primary=False).update(
        is_primary=True)  # fmt: skip
    return changed > 0


def _add_identities(
    contact: Contact, identities: Sequence[IdentityInput], *, new_contact: bool = False
) -> tuple[list[ContactIdentity], list[ContactIdentity]]:
    """Add the identities the contact lacks; (those added, those it had and that became primary).

    A contact has at most one primary identity of each kind: a new primary one demotes the one before
    (as a help desk's "make primary" does), and two primaries of a kind in one request are refused.
    """
    _check_primaries(identities)
    added = []
    promoted = []
    for item in identities:
        value = normalise_identity(item.kind, item.value)
        # prepared statements (core.fastdb): every email from a new address creates a contact
        found = values_by(ContactIdentity, ["contact_id"], kind=str(item.kind), value=value)
        owner = found[0] if found is not None else None
        if owner is not None and owner != contact.pk:
            raise CustomerError(
                CustomerErrorCode.IDENTITY_TAKEN,
                f"{value} already belongs to contact {owner}; merge the contacts instead.",
                status=409, field="identities",
            )  # fmt: skip
        if owner == contact.pk:
            if item.is_primary and _make_primary(contact, item.kind, value):
                promoted.append(ContactIdentity.objects.get(contact=contact, kind=item.kind, value=value))
            continue
        if item.is_primary and not new_contact:
            ContactIdentity.objects.filter(contact=contact, kind=item.kind, is_primary=True).update(is_primary=False)
        try:
            with transaction.atomic():
                added.append(insert(ContactIdentity(
                    contact=contact, kind=item.kind, value=value, is_primary=item.is_primary)))  # fmt: skip
        except IntegrityError as exc:  # a concurrent writer took it between check and insert
            raise CustomerError(CustomerErrorCode.IDENTITY_TAKEN, f"{value} is already taken.", status=409) from exc
    return added, promoted


@transaction.atomic
def create_contact(
    *,
    actor: User | None,
    name: str,
    identities: Sequence[IdentityInput] = (),
    organization: Organization | None = None,
    tier: str = "standard",
    language: str = "en",
    time_zone: str = "UTC",
    notes: str = "",
) -> Contact:
    require_staff(actor)
    if not name.strip():
        raise Invalid("A contact needs a name.", field="name")
    contact = insert(Contact(
        name=name.strip(), organization=organization, tier=tier, language=check_language(language),
        time_zone=check_time_zone(time_zone), notes=notes,
    ))  # fmt: skip
    added, _ = _add_identities(contact, identities, new_contact=True)
    record_event(kind="contact.created", subjects=[(S.CONTACT, contact.pk), (S.ORGANIZATION, contact.organization_id)],
                 actor=actor, summary=f"Contact {contact.name} created")  # fmt: skip
    # a new contact has exactly the identities just added: no need to read them back
    record_audit(action="contact.create", object_type="contact", object_id=contact.pk, actor=actor,
                 after={**_snapshot(contact, CONTACT_FIELDS),
                        "identities": [f"{i.kind}:{i.value}" for i in added]})  # fmt: skip
    return contact


@transaction.atomic
def update_contact(*, actor: User | None, contact: Contact, changes: Mapping[str, Any]) -> Contact:
    require_staff(actor)
    _refuse_merged(contact)
    if "name" in changes and not str(changes["name"]).strip():
        raise Invalid("A contact needs a name.", field="name")
    changes = dict(changes)
    if "language" in changes:
        changes["language"] = check_language(str(changes["language"]))
    if "time_zone" in changes:
        changes["time_zone"] = check_time_zone(str(changes["time_zone"]))
    changed = _apply_changes(contact, changes, CONTACT_FIELDS)
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
        if "organization" in changed:
            changed["organization"] = tuple(o.pk if o else None for o in changed["organization"])
        _record_update(actor, "contact", contact.pk, S.CONTACT, changed)
    return contact


@transaction.atomic
def add_identity(*, actor: User | None, contact: Contact, identity: IdentityInput) -> ContactIdentity | None:
    require_staff(actor)
    _refuse_merged(contact)
    if identity.is_primary:  # one primary of a kind: two requests making one each must not both keep theirs
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
    added, promoted = _add_identities(contact, [identity])
    if added:
        record_event(kind="contact.identity_added", subjects=[(S.CONTACT, contact.pk)], actor=actor,
                     summary=f"Added {added[0].kind} {added[0].value}")  # fmt: skip
        record_audit(action="contact.add_identity", object_type="contact", object_id=contact.pk, actor=actor,
                     after={"identity": f"{added[0].kind}:{added[0].value}",
                            "is_primary": added[0].is_primary})  # fmt: skip
        return added[0]
    if promoted:
        record_event(kind="contact.identity_made_primary", subjects=[(S.CONTACT, contact.pk)], actor=actor,
                     summary=f"Made {promoted[0].kind} {promoted[0].value} primary")  # fmt: skip
        record_audit(action="contact.make_identity_primary", object_type="contact", object_id=contact.pk,
                     actor=actor, after={"identity": f"{promoted[0].kind}:{promoted[0].value}"})  # fmt: skip
    return None


def _refuse_merged(contact: Contact) -> None:
    if contact.merged_into_id is not None:
        raise CustomerError(
            CustomerErrorCode.CONTACT_MERGED,
            f"Contact {contact.pk} was merged into {contact.merged_into_id}; change that one.",
            status=409,
        )


@transaction.atomic
def merge_contacts(*, actor: User | None, source: Contact, target: Contact) -> Contact:
    """Move everything of `source` onto `target` and leave a redirect.

    Every foreign key to Contact in every installed domain is moved, so a
    domain added later loses nothing on merge without registering anything.
    The source's own timeline stays where it is and is read with the target's.
    """
    require_staff(actor)
    if source.pk == target.pk:
        raise CustomerError(CustomerErrorCode.MERGE_SAME_CONTACT, "A contact cannot be merged into itself.")
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[source.pk, target.pk])}
    source, target = locked[source.pk], locked[target.pk]
    _refuse_merged(source)
    _refuse_merged(target)
    # the survivor keeps its primary identity of each kind; the source's of those kinds move as secondary
    kept = ContactIdentity.objects.filter(contact=target, is_primary=True).values("kind")
    ContactIdentity.objects.filter(contact=source, is_primary=True, kind__in=kept).update(is_primary=False)
    # both tied to one site in one role: the survivor's tie stays open, the duplicate's is closed today and moves
    # as history (one open tie of a role per person and site, which the database holds)
    theirs = SiteRelation.objects.filter(contact=target, valid_to__isnull=True)
    for tie in SiteRelation.objects.filter(contact=source, valid_to__isnull=True):
        if theirs.filter(site_id=tie.site_id, role=tie.role).exists():
            tie.valid_to = max(clock.now().date(), tie.valid_from)
            tie.save(update_fields=["valid_to"])
    moved: dict[str, int] = {}
    for key, field in contact_references():
        count = field.model._default_manager.filter(**{field.name: source}).update(**{field.name: target})
        if count:
            moved[key] = count
    if target.organization_id is None and source.organization_id is not None:
        target.organization_id = source.organization_id
        target.save(update_fields=["organization", "updated_at"])
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    summary = f"Contact {source.name} (#{source.pk}) merged into {target.name} (#{target.pk})"
    record_event(kind="contact.merged", subjects=[(S.CONTACT, target.pk), (S.CONTACT, source.pk)], actor=actor,
                 summary=summary, data={"source": source.pk, "target": target.pk, "moved": moved})  # fmt: skip
    record_audit(action="contact.merge", object_type="contact", object_id=target.pk, actor=actor,
                 before={"source": source.pk}, after={"target": target.pk, "moved": moved})  # fmt: skip
    publish("contact.merged", source_id=source.pk, target_id=target.pk)
    return target


# --- sites ----------------------------------------------------------------------
SITE_FIELDS = ("name", "address_line1", "address_line2", "city", "region", "postal_code", "country",
               "latitude", "longitude", "organization", "access_notes")  # fmt: skip

# ISO 3166-1 alpha-2: the 249 officially assigned codes (no list of them is installed: babel, pycountry)
_COUNTRIES_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
"""
COUNTRIES = frozenset(_COUNTRIES_TEXT.split())


def check_country(code: str) -> str:
    """An ISO 3166-1 alpha-2 country code in upper case ("us" is US), or a refusal naming `country`."""
    country = code.strip().upper()
    if country not in COUNTRIES:
        raise Invalid(f"{code!r} is not an ISO 3166-1 country code (US, DE, GB …).", field="country")
    return country


def _check_coordinates(latitude: Decimal | None, longitude: Decimal | None) -> None:
    if (latitude is None) != (longitude is None):
        raise CustomerError(CustomerErrorCode.BAD_COORDINATES, "Give both latitude and longitude, or neither.")
    if latitude is not None and not Decimal(-90) <= latitude <= Decimal(90):
        raise CustomerError(CustomerErrorCode.BAD_COORDINATES, "Latitude must be between -90 and 90.",
                            field="latitude")  # fmt: skip
    if longitude is not None and not Decimal(-180) <= longitude <= Decimal(180):
        raise CustomerError(CustomerErrorCode.BAD_COORDINATES, "Longitude must be between -180 and 180.",
                            field="longitude")  # fmt: skip


@transaction.atomic
def create_site(*, actor: User | None, address_line1: str, city: str, **fields: Any) -> Site:
    require_staff(actor)
    if not address_line1.strip() or not city.strip():
        raise Invalid("A site needs an address and a city.", field="address_line1")
    unknown = set(fields) - set(SITE_FIELDS)
    if unknown:
        raise Invalid(f"Unknown site fields: {', '.join(sorted(unknown))}.")
    _check_coordinates(fields.get("latitude"), fields.get("longitude"))
    if "country" in fields:
        fields["country"] = check_country(str(fields["country"]))
    site = Site.objects.create(address_line1=address_line1.strip(), city=city.strip(), **fields)
    record_event(kind="site.created", subjects=[(S.SITE, site.pk), (S.ORGANIZATION, site.organization_id)],
                 actor=actor, summary=f"Site {site} created")  # fmt: skip
    record_audit(action="site.create", object_type="site", object_id=site.pk, actor=actor,
                 after=_snapshot(site, SITE_FIELDS))  # fmt: skip
    return site


@transaction.atomic
def update_site(*, actor: User | None, site: Site, changes: Mapping[str, Any]) -> Site:
    require_staff(actor)
    if "country" in changes:
        changes = {**changes, "country": check_country(str(changes["country"]))}
    changed = _apply_changes(site, changes, SITE_FIELDS)
    _check_coordinates(site.latitude, site.longitude)
    if changed:
        site.save(update_fields=[*changed, "updated_at"])
        if "organization" in changed:
            changed["organization"] = tuple(o.pk if o else None for o in changed["organization"])
        _record_update(actor, "site", site.pk, S.SITE, changed)
    return site


# A tie's dates: none before 1900 (no house record, and a typo's "0001-01-01" is caught) and none more than a
# year ahead (a sale agreed for next spring, not "9999-12-31").
EARLIEST_TIE = dt.date(1900, 1, 1)
TIE_LEAD = dt.timedelta(days=366)


def _check_tie_date(day: dt.date, *, field: str) -> None:
    latest = clock.now().date() + TIE_LEAD
    if not EARLIEST_TIE <= day <= latest:
        raise CustomerError(CustomerErrorCode.BAD_DATE_RANGE,
                            f"{field} {day.isoformat()} is not between {EARLIEST_TIE.isoformat()} and "
                            f"{latest.isoformat()} (a year from today).", field=field)  # fmt: skip


@transaction.atomic
def relate_contact_to_site(
    *,
    actor: User | None,
    site: Site,
    contact: Contact,
    role: SiteRole,
    valid_from: dt.date | None = None,
    ends_previous: bool = True,
) -> SiteRelation:
    """Tie a person to a site from a date; a new owner ends the previous owner's tie.

    The site's assets and history stay with the site: the next owner's
    technician sees every earlier visit. A contact holds one tie of a role
    at a site at a time: a second one that would overlap it (the first still
    open, or ending after the second starts) is refused, not merged: end the
    first one (`end_site_relation`) before starting another.
    """
    require_staff(actor)
    _refuse_merged(contact)
    start = valid_from or clock.now().date()
    _check_tie_date(start, field="valid_from")
    # the site's row is the lock: two requests tying people to one site take turns, so neither misses the other's
    Site.objects.select_for_update().filter(pk=site.pk).first()
    still_tied = models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=start)
    overlapping = SiteRelation.objects.filter(still_tied, site=site, contact=contact, role=role).first()
    if overlapping is not None:
        until = f"until {overlapping.valid_to.isoformat()}" if overlapping.valid_to else "with no end"
        raise CustomerError(CustomerErrorCode.RELATION_EXISTS,
                            f"{contact.name} is {SiteRole(role).label.lower()} of {site} from "
                            f"{overlapping.valid_from.isoformat()} {until}; end that tie before starting another.",
                            status=409, field="contact_id")  # fmt: skip
    ended: list[int] = []
    if ends_previous and role == SiteRole.OWNER:
        previous = SiteRelation.objects.select_for_update().filter(site=site, role=role, valid_to__isnull=True)
        for relation in previous.exclude(contact=contact):
            if relation.valid_from > start:
                raise CustomerError(CustomerErrorCode.BAD_DATE_RANGE,
                                    "The new owner's start is before the current owner's start.",
                                    field="valid_from")  # fmt: skip
            relation.valid_to = start
            relation.save(update_fields=["valid_to"])
            ended.append(relation.contact_id)
    relation = SiteRelation.objects.create(site=site, contact=contact, role=role, valid_from=start)
    record_event(
        kind="site.relation_started", actor=actor,
        subjects=[(S.SITE, site.pk), (S.CONTACT, contact.pk), *[(S.CONTACT, c) for c in ended]],
        summary=f"{contact.name} became {SiteRole(role).label.lower()} of {site} from {start.isoformat()}",
        data={"contact": contact.pk, "role": role, "valid_from": start, "ended": ended},
    )  # fmt: skip
    record_audit(action="site.relate", object_type="site", object_id=site.pk, actor=actor,
                 after={"contact": contact.pk, "role": role, "valid_from": start, "ended": ended})  # fmt: skip
    return relation


@transaction.atomic
def end_site_relation(*, actor: User | None, relation: SiteRelation, valid_to: dt.date) -> SiteRelation:
    require_staff(actor)
    if valid_to < relation.valid_from:
        raise CustomerError(CustomerErrorCode.BAD_DATE_RANGE, "A relation cannot end before it starts.",
                            field="valid_to")  # fmt: skip
    _check_tie_date(valid_to, field="valid_to")
    relation.valid_to = valid_to
    relation.save(update_fields=["valid_to"])
    record_event(kind="site.relation_ended", actor=actor,
                 subjects=[(S.SITE, relation.site_id), (S.CONTACT, relation.contact_id)],
                 summary=f"{relation.contact.name}: {relation.role} until {valid_to.isoformat()}")  # fmt: skip
    return relation


# --- assets ---------------------------------------------------------------------
ASSET_FIELDS = ("site", "organization", "name", "manufacturer", "model", "serial_number", "installed_on",
                "warranty_until", "status", "attributes")  # fmt: skip


def _check_attributes(attributes: Any) -> None:
    if not isinstance(attributes, dict) or not all(isinstance(k, str) for k in attributes):
        raise CustomerError(CustomerErrorCode.BAD_ATTRIBUTES, "Asset attributes must be an object of named values.",
                            field="attributes")  # fmt: skip
    for key, value in attributes.items():
        if not isinstance(value, str | int | float | bool) and value is not None:
            raise CustomerError(CustomerErrorCode.BAD_ATTRIBUTES,
                                f"Attribute {key!r} must be text, a number or yes/no.", field="attributes")  # fmt: skip


@transaction.atomic
def create_asset(*, actor: User | None, name: str, **fields: Any) -> Asset:
    require_staff(actor)
    if not name.strip():
        raise Invalid("An asset needs a name.", field="name")
    unknown = set(fields) - set(ASSET_FIELDS)
    if unknown:
        raise Invalid(f"Unknown asset fields: {', '.join(sorted(unknown))}.")
    _check_attributes(fields.get("attributes", {}))
    asset = Asset.objects.create(name=name.strip(), **fields)
    record_event(kind="asset.installed", actor=actor,
                 subjects=[(S.ASSET, asset.pk), (S.SITE, asset.site_id), (S.ORGANIZATION, asset.organization_id)],
                 summary=f"{asset} recorded" + (f" at {asset.site}" if asset.site_id else ""))  # fmt: skip
    record_audit(action="asset.create", object_type="asset", object_id=asset.pk, actor=actor,
                 after=_snapshot(asset, ASSET_FIELDS))  # fmt: skip
    return asset


@transaction.atomic
def update_asset(*, actor: User | None, asset: Asset, changes: Mapping[str, Any]) -> Asset:
    require_staff(actor)
    if "attributes" in changes:
        _check_attributes(changes["attributes"])
    previous_site = asset.site_id
    changed = _apply_changes(asset, changes, ASSET_FIELDS)
    if changed:
        asset.save(update_fields=[*changed, "updated_at"])
        for fk in ("site", "organization"):
            if fk in changed:
                changed[fk] = tuple(o.pk if o else None for o in changed[fk])
        _record_update(actor, "asset", asset.pk, S.ASSET, changed)
        if "site" in changed:
            record_event(kind="asset.moved", actor=actor,
                         subjects=[(S.ASSET, asset.pk), (S.SITE, previous_site), (S.SITE, asset.site_id)],
                         summary=f"{asset} moved", data={"from": previous_site, "to": asset.site_id})  # fmt: skip
    return asset


# --- orders ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderLineInput:
    description: str
    unit_price: Decimal
    quantity: int = 1
    sku: str = ""


def check_ordered_at(ordered_at: dt.datetime) -> None:
    """Refuse an order's moment without a zone or outside the range a tie's dates keep (1900 to a year ahead).

    Compared as aware datetimes, never converted: `9999-12-31T23:59:59-14:00` has no UTC form to convert to,
    and storing it would fail in the database after the rows before it were written.
    """
    if ordered_at.tzinfo is None or ordered_at.utcoffset() is None:
        raise Invalid("ordered_at needs a time zone.", field="ordered_at")
    latest = clock.now().date() + TIE_LEAD
    earliest_moment = dt.datetime.combine(EARLIEST_TIE, dt.time(), tzinfo=dt.UTC)
    after_latest = dt.datetime.combine(latest + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)  # all of its day
    if not earliest_moment <= ordered_at < after_latest:
        raise CustomerError(CustomerErrorCode.BAD_DATE_RANGE,
                            f"ordered_at {ordered_at.isoformat()} is not between {EARLIEST_TIE.isoformat()} and "
                            f"{latest.isoformat()} (a year from today).", field="ordered_at")  # fmt: skip


def _exact_money(amount: Decimal | int, currency: str, *, field: str) -> Money:
    """An order's amount as given, never rounded; a refusal names the order's field rather than Money's `amount`."""
    try:
        return Money.parse(amount, currency, exact=True)
    except Invalid as refused:
        if refused.field != "amount":
            raise
        raise Invalid(refused.message, field=field) from refused


@transaction.atomic
def create_order(
    *,
    actor: User | None,
    reference: str,
    contact: Contact | None,
    ordered_at: dt.datetime,
    currency: str,
    lines: Sequence[OrderLineInput] = (),
    total: Decimal | None = None,
    organization: Organization | None = None,
    is_renewal: bool = False,
) -> Order:
    """Record a purchase; the total is the sum of the lines when lines are given."""
    require_staff(actor)
    if not reference.strip():
        raise Invalid("An order needs a reference.", field="reference")
    if contact is None and organization is None:
        raise Invalid("An order belongs to a contact or an organization.", field="contact")
    if contact is not None:
        _refuse_merged(contact)
    # an order of a contact is its organization's; a contact of none may order for one (a buyer not yet linked)
    if (contact is not None and organization is not None and contact.organization_id is not None
            and contact.organization_id != organization.pk):  # fmt: skip
        raise CustomerError(CustomerErrorCode.CONTACT_NOT_IN_ORGANIZATION,
                            f"Contact {contact.pk} is in organization {contact.organization_id}, not in "
                            f"{organization.pk}.", field="organization_id")  # fmt: skip
    check_ordered_at(ordered_at)
    sum_of_lines = Money.parse(0, currency)
    for line in lines:
        if line.quantity <= 0:
            raise CustomerError(CustomerErrorCode.BAD_AMOUNT, "A line's quantity must be positive.", field="lines")
        if line.unit_price < 0:
            raise CustomerError(CustomerErrorCode.BAD_AMOUNT, "A line's price cannot be negative.", field="lines")
        sum_of_lines = sum_of_lines + _exact_money(line.unit_price * line.quantity, currency, field="lines")
    amount = sum_of_lines if lines else _exact_money(total if total is not None else 0, currency, field="total")
    if total is not None and lines and _exact_money(total, currency, field="total") != amount:
        raise CustomerError(CustomerErrorCode.BAD_AMOUNT, f"The total {total} differs from the lines' sum {amount}.",
                            field="total")  # fmt: skip
    if amount.amount < 0:
        raise CustomerError(CustomerErrorCode.BAD_AMOUNT, "An order total cannot be negative.", field="total")
    if Order.objects.filter(reference=reference.strip()).exists():
        raise CustomerError(CustomerErrorCode.ORDER_REF_TAKEN, f"Order {reference} exists already.", status=409,
                            field="reference")  # fmt: skip
    org = organization or (contact.organization if contact else None)
    order = Order.objects.create(reference=reference.strip(), contact=contact, organization=org,
                                 ordered_at=ordered_at, total=amount.amount, currency=amount.currency,
                                 is_renewal=is_renewal)  # fmt: skip
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=line.sku, description=line.description, quantity=line.quantity,
                  unit_price=line.unit_price) for line in lines
    )  # fmt: skip
    record_event(kind="order.placed", actor=actor, occurred_at=ordered_at,
                 subjects=[(S.CONTACT, contact.pk if contact else None), (S.ORGANIZATION, org.pk if org else None)],
                 summary=f"Order {order.reference}: {amount}", data={"order": order.pk, "total": amount.amount,
                                                                     "currency": amount.currency})  # fmt: skip
    record_audit(action="order.create", object_type="order", object_id=order.pk, actor=actor,
                 after={"reference": order.reference, "total": order.total, "currency": order.currency})  # fmt: skip
    return order


ORDER_FIELDS = ("status", "is_renewal")


@transaction.atomic
def update_order(*, actor: User | None, order: Order, changes: Mapping[str, Any]) -> Order:
    """Change an order's status (fulfilled, cancelled, refunded …) or renewal flag; amounts never change."""
    require_staff(actor)
    changed = _apply_changes(order, changes, ORDER_FIELDS)
    if changed:
        order.save(update_fields=list(changed))
        record_event(kind="order.updated", actor=actor,
                     subjects=[(S.CONTACT, order.contact_id), (S.ORGANIZATION, order.organization_id)],
                     summary=f"Order {order.reference}: changed {', '.join(sorted(changed))}",
                     data={"order": order.pk, **{k: v[1] for k, v in changed.items()}})  # fmt: skip
        record_audit(action="order.update", object_type="order", object_id=order.pk, actor=actor,
                     before={k: v[0] for k, v in changed.items()},
                     after={k: v[1] for k, v in changed.items()})  # fmt: skip
    return order


# --- finding the person a message or request comes from ---------------------------------
@dataclass(slots=True)
class ContactDraft:
    """A contact for a new address, built before the write transaction that saves it (`write`).

    A new case from an address nobody has yet makes its contact in the case's
    own transaction (refused together, kept together); building it first keeps
    SQLite's write lock for the writes alone.
    """

    contact: Contact
    kind: IdentityKind
    value: str  # normalised

    def write(self, *, actor: User | None) -> Contact:
        """Save the contact and its identity in the caller's transaction.

        When another request took the address since it was found free, that
        request's contact is returned and nothing is written: one contact per
        address, whoever asked first.
        """
        try:
            # a savepoint: on PostgreSQL a lost race must not abort the caller's whole transaction
            with transaction.atomic():
                insert(self.contact)
                insert(ContactIdentity(contact=self.contact, kind=self.kind, value=self.value, is_primary=True))
        except IntegrityError:
            winner = find_contact_by_identity(self.kind, self.value)
            if winner is None:
                raise
            return winner
        contact = self.contact
        record_event(kind="contact.created", subjects=[(S.CONTACT, contact.pk)], actor=actor,
                     summary=f"Contact {contact.name} created")  # fmt: skip
        record_audit(action="contact.create", object_type="contact", object_id=contact.pk, actor=actor,
                     after={**_snapshot(contact, CONTACT_FIELDS),
                            "identities": [f"{self.kind}:{self.value}"]})  # fmt: skip
        return contact


def draft_contact(*, actor: User | None, kind: IdentityKind, value: str, name: str = "") -> ContactDraft:
    """A new contact for an address found free (staff only), to save with `ContactDraft.write`."""
    require_staff(actor)
    normalised = normalise_identity(kind, value)
    display = name.strip() or value.strip()
    return ContactDraft(contact=Contact(name=display[:200]), kind=kind, value=normalised)


def find_or_create_contact(*, actor: User | None, kind: IdentityKind, value: str, name: str = "") -> Contact:
    """The contact an email address or phone number belongs to, created if nobody has it yet.

    A customer may only name themselves: any other address is refused alike,
    whether or not someone has it, so the answer does not tell who is a
    customer. A merged contact's survivor is returned. Two concurrent first
    requests from one new address end with one contact: the loser of the
    unique identity finds the winner's.
    """
    found = find_contact_by_identity(kind, value)
    if actor is not None and not actor.is_staff_member:
        own = contact_of(actor)
        if found is None or own is None or surviving_contact(own).pk != found.pk:
            raise PermissionDenied("You can only name yourself.")
        return found
    if found is not None:
        return found
    display = name.strip() or value.strip()
    try:
        with transaction.atomic():
            return create_contact(actor=actor, name=display, identities=[IdentityInput(kind, value, is_primary=True)])
    except CustomerError as exc:
        if exc.code != CustomerErrorCode.IDENTITY_TAKEN:
            raise
        winner = find_contact_by_identity(kind, value)
        if winner is None:
            raise
        return winner
