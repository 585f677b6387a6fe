"""The demo loader writes what the actions write.

Each test makes the same things twice, once with the loader's bulk writers
and once through the domains' actions (with the clock frozen at the story's
times), and compares every row both leave behind, ids replaced by names.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import OrderedDict
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from caseloop.cases.actions import MessageInput, add_message, change_status, create_case
from caseloop.cases.choices import CaseStatus, Channel, Direction, Priority
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.customers.actions import (
    IdentityInput,
    OrderLineInput,
    create_asset,
    create_contact,
    create_order,
    create_organization,
    create_site,
    relate_contact_to_site,
)
from caseloop.customers.choices import IdentityKind, OrganizationKind, SiteRole
from caseloop.customers.models import Asset, Contact, Order, Organization, Site, SiteRelation
from caseloop.demo import vocabulary as v
from caseloop.demo.cases import CaseWriter, IllegalStory, Step, StepKind, Story
from caseloop.demo.customers import CustomerWriter, DemoContact
from caseloop.demo.sink import InlineSink
from caseloop.testing.factories import make_agent, make_team
from caseloop.timeline.models import AuditEntry, TimelineEvent

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 15, 30, 120000, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


# --- comparing -------------------------------------------------------------------------
class Names:
    """Replaces ids by stable names so rows of two runs can be compared."""

    def __init__(self) -> None:
        self.by_kind: dict[str, dict[int, str]] = {}

    def name(self, kind: str, ident: int, label: str) -> None:
        self.by_kind.setdefault(kind, {})[ident] = label

    def of(self, kind: str, ident: Any) -> Any:
        return self.by_kind.get(kind, {}).get(ident, ident) if isinstance(ident, int) else ident

    def text(self, value: str) -> str:
        for ident, label in self.by_kind.get("case", {}).items():
            value = value.replace(f"{settings.CASELOOP_CASE_NUMBER_PREFIX}-{ident}", label)
        return value

    def data(self, value: Any, key: str = "") -> Any:
        kinds = {"message": "message", "contact": "contact", "ended": "contact", "order": "order", "site": "site",
                 "organization": "organization", "requester": "contact", "asset": "asset"}  # fmt: skip
        if isinstance(value, dict):
            return {k: self.data(item, k) for k, item in value.items()}
        if isinstance(value, list):
            return [self.data(item, key) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return self.of(kinds[key], value) if key in kinds else value


def history(names: Names, events: Any, audits: Any) -> tuple[list[Any], list[Any]]:
    grouped: OrderedDict[Any, list[TimelineEvent]] = OrderedDict()
    for event in events.order_by("id"):
        grouped.setdefault(event.event_id, []).append(event)
    happenings = []
    for rows in grouped.values():
        first = rows[0]
        assert all((r.kind, r.summary, r.data, r.occurred_at) == (first.kind, first.summary, first.data,
                                                                   first.occurred_at) for r in rows)  # fmt: skip
        happenings.append((
            first.kind, sorted((r.subject_kind, names.of(r.subject_kind, r.subject_id)) for r in rows),
            names.text(first.summary), names.data(first.data), first.actor_id, names.of("case", first.case_id),
            first.occurred_at,
        ))  # fmt: skip
    entries = [(a.action, a.object_type, names.of(a.object_type, a.object_id), a.actor_id, names.data(a.before),
                names.data(a.after), a.at) for a in audits.order_by("id")]  # fmt: skip
    return happenings, entries


def case_snapshot(case_id: int) -> dict[str, Any]:
    names = Names()
    names.name("case", case_id, "CASE")
    case = Case.objects.get(pk=case_id)
    messages = list(case.messages.order_by("id"))
    for index, message in enumerate(messages):
        names.name("message", message.pk, f"M{index}")
    fields = ("subject", "status", "priority", "channel", "requester_id", "organization_id", "site_id", "asset_id",
              "assignee_id", "team_id", "partner_id", "custom_fields", "created_at", "updated_at",
              "first_response_at", "solved_at", "closed_at", "last_message_at", "message_count")  # fmt: skip
    happenings, entries = history(names, TimelineEvent.objects.filter(case_id=case_id),
                                  AuditEntry.objects.filter(object_type="case", object_id=case_id))  # fmt: skip
    return {
        "case": {f: getattr(case, f) for f in fields},
        "tags": sorted(case.tags.values_list("name", flat=True)),
        "messages": [_message_row(m) for m in messages],
        "events": happenings,
        "audit": entries,
    }


def _message_row(m: Any) -> tuple[Any, ...]:
    return (m.direction, m.channel, m.author_user_id, m.author_contact_id, m.body_text, m.body_html, m.created_at,
            m.external_id is not None)  # fmt: skip


# --- cases -----------------------------------------------------------------------------
@pytest.fixture
def world():
    agent = make_agent(username="ann", display_name="Ann Agent")
    other = make_agent(username="ben", display_name="Ben Second")
    team = make_team("Field service")
    org = create_organization(actor=None, name="Acme Bakery")
    partner = create_organization(actor=None, name="Swift Freight", kind=OrganizationKind.PARTNER)
    contact = create_contact(actor=None, name="Rita Requester", organization=org)
    site = create_site(actor=None, address_line1="1 Main St", city="Boise", organization=org)
    asset = create_asset(actor=None, name="Furnace", site=site, organization=org, serial_number="AT2612345")
    requester = DemoContact(id=contact.pk, name=contact.name, organization_id=org.pk, created_at=at(-9000))
    return {"agent": agent, "other": other, "team": team, "partner": partner, "contact": contact, "site": site,
            "asset": asset, "requester": requester}  # fmt: skip


def through_loader(story: Story) -> int:
    writer = CaseWriter(tag_ids=_tag_ids(story.tags), block=5)
    (case_id,) = writer.add([story])
    InlineSink().write(writer.drain())
    writer.release_ids()
    return case_id


def _tag_ids(names: list[str]) -> dict[str, int]:
    from caseloop.cases.models import Tag

    return {name: Tag.objects.get_or_create(name=name)[0].pk for name in names}


def through_actions(story: Story, world: dict[str, Any]) -> int:
    with clock.frozen_at(story.opened_at):
        case = create_case(
            actor=story.opener, requester=world["contact"], subject=story.subject,
            body=MessageInput(body_text=story.body,
                              external_id="<replayed@mail.example>" if story.channel == Channel.EMAIL else None),
            channel=Channel(story.channel), priority=Priority(story.priority), team=story.team,
            assignee=story.assignee, site=world["site"] if story.site_id else None,
            asset=world["asset"] if story.asset_id else None,
            partner=world["partner"] if story.partner_id else None, tags=story.tags, opened_at=story.opened_at,
        ).case  # fmt: skip
    for number, step in enumerate(story.steps):
        with clock.frozen_at(step.at):
            if step.kind == StepKind.STATUS:
                change_status(actor=step.actor, case=case, status=CaseStatus(step.status))
                continue
            direction = {StepKind.REPLY: Direction.OUTBOUND, StepKind.NOTE: Direction.NOTE,
                         StepKind.INBOUND: Direction.INBOUND}[step.kind]  # fmt: skip
            channel = Channel.INTERNAL if step.kind == StepKind.NOTE else Channel(story.channel)
            external = f"<replayed-{number}@mail.example>" if (
                channel == Channel.EMAIL and direction == Direction.INBOUND) else None  # fmt: skip
            add_message(actor=step.actor, case=case, direction=direction, channel=channel,
                        body=MessageInput(body_text=step.text, external_id=external), occurred_at=step.at)  # fmt: skip
    return case.pk


def test_an_email_case_with_every_kind_of_step_matches_the_actions(world):
    agent = world["agent"]
    story = Story(
        opened_at=at(0), subject="Furnace not igniting", body="Hi,\n\nNo heat since last night.\n\nRita",
        channel=Channel.EMAIL, priority=Priority.URGENT, requester=world["requester"], team=world["team"],
        assignee=agent, site_id=world["site"].pk, asset_id=world["asset"].pk, partner_id=world["partner"].pk,
        tags=["repair", "urgent"],
        steps=[
            Step(StepKind.INBOUND, at(5), None, "Adding: it is getting worse."),
            Step(StepKind.REPLY, at(20), agent, "Tom is booked for Monday, 8-10am."),
            Step(StepKind.NOTE, at(21), agent, "Filter size on record: 16x25x1."),
            Step(StepKind.STATUS, at(22), agent, status="pending"),
            Step(StepKind.INBOUND, at(90), None, "Monday works."),  # pending -> open
            Step(StepKind.REPLY, at(95), world["other"], "Confirmed."),
            Step(StepKind.STATUS, at(96), agent, status="solved"),
            Step(StepKind.INBOUND, at(3000), None, "It stopped again."),  # solved -> open
            Step(StepKind.REPLY, at(3010), agent, "Sorry! Tom comes back tomorrow."),
            Step(StepKind.STATUS, at(3011), agent, status="solved"),
            Step(StepKind.STATUS, at(9000), None, status="closed"),
        ],
    )  # fmt: skip

    loaded = case_snapshot(through_loader(story))
    replayed = case_snapshot(through_actions(story, world))

    assert loaded == replayed
    assert loaded["case"]["status"] == CaseStatus.CLOSED and loaded["case"]["message_count"] == 8
    assert [e[0] for e in loaded["events"]].count("case.status_changed") == 7


def test_a_phone_case_reopened_by_status_matches_the_actions(world):
    agent = world["agent"]
    story = Story(
        opened_at=at(0), subject="Invoice INV-20417 looks wrong", body="Customer called about the service line.",
        channel=Channel.PHONE, priority=Priority.LOW, requester=world["requester"], opener=agent,
        steps=[
            Step(StepKind.STATUS, at(1), agent, status="on_hold"),
            Step(StepKind.STATUS, at(60), agent, status="open"),
            Step(StepKind.STATUS, at(61), agent, status="solved"),
            Step(StepKind.STATUS, at(62), agent, status="open"),  # case.reopened
            Step(StepKind.REPLY, at(63), agent, "Corrected invoice attached."),
            Step(StepKind.STATUS, at(64), agent, status="solved"),
        ],
    )  # fmt: skip

    loaded = case_snapshot(through_loader(story))
    replayed = case_snapshot(through_actions(story, world))

    assert loaded == replayed
    assert "case.reopened" in [e[0] for e in loaded["events"]]


def test_a_story_the_actions_would_refuse_is_an_error_not_data(world):
    story = Story(opened_at=at(0), subject="x", body="y", channel=Channel.EMAIL, priority=Priority.NORMAL,
                  requester=world["requester"],
                  steps=[Step(StepKind.STATUS, at(1), world["agent"], status="closed")])  # fmt: skip
    with pytest.raises(IllegalStory):
        CaseWriter(tag_ids={}, block=5).add([story])
    assert not Case.objects.exists()


# --- customers -------------------------------------------------------------------------
def customer_snapshot(ids: dict[str, int]) -> dict[str, Any]:
    names = Names()
    kinds = {"org": "organization", "owner": "contact", "buyer": "contact", "site": "site", "asset": "asset",
             "order": "order"}  # fmt: skip
    for label, ident in ids.items():
        names.name(kinds[label], ident, label.upper())
    happenings, entries = history(names, TimelineEvent.objects.all(), AuditEntry.objects.all())
    relations = [(names.of("site", r.site_id), names.of("contact", r.contact_id), r.role, r.valid_from, r.valid_to)
                 for r in SiteRelation.objects.order_by("valid_from")]  # fmt: skip
    contacts = [(c.name, names.of("organization", c.organization_id), c.tier, c.language, c.time_zone, c.notes,
                 [(i.kind, i.value, i.is_primary) for i in c.identities.order_by("id")])
                for c in Contact.objects.order_by("id")]  # fmt: skip
    order = Order.objects.get()
    return {
        "events": happenings, "audit": entries, "relations": relations, "contacts": contacts,
        "site": Site.objects.filter(pk=ids["site"]).values("name", "address_line1", "city", "region", "postal_code",
                                                            "country", "latitude", "longitude", "access_notes").get(),
        "asset": Asset.objects.filter(pk=ids["asset"]).values("name", "manufacturer", "model", "serial_number",
                                                              "installed_on", "warranty_until", "status",
                                                              "attributes").get(),
        "order": (order.reference, names.of("contact", order.contact_id), order.ordered_at, order.status, order.total,
                  order.currency, order.is_renewal,
                  [(ln.sku, ln.description, ln.quantity, ln.unit_price) for ln in order.lines.order_by("id")]),
    }  # fmt: skip


def test_customer_rows_match_the_customer_actions():
    sale_day = dt.date(2026, 5, 20)
    with transaction.atomic():  # rolled back below, so the actions can make the same things again
        writer = CustomerWriter(rng=random.Random(4), seed=4, now=at(60 * 24 * 120), start=at(-60 * 24 * 245),
                                block=3)  # fmt: skip
        (company,) = writer.companies(1)
        owner = DemoContact(id=writer.ids[Contact].one(), name="Olga Owner", organization_id=company.id,
                            created_at=at(0))  # fmt: skip
        writer.contact(cid=owner.id, name=owner.name, at=at(0), organization_id=company.id, domain=company.domain,
                       time_zone="America/Denver")  # fmt: skip
        home = writer.site(sid=writer.ids[Site].one(), at=at(1), city=v.CITIES[8], organization_id=company.id)
        label = f"{home.street}, {home.city}"
        writer.relate(site=home, site_label=label, contact=owner, role=SiteRole.OWNER, start=dt.date(2019, 4, 1),
                      at=at(2), ended=[], valid_to=sale_day)  # fmt: skip
        writer.asset(aid=writer.ids[Asset].one(), kind=v.ASSET_KINDS[0], site=home, site_label=label, at=at(3))
        buyer = DemoContact(id=writer.ids[Contact].one(), name="Bruno Buyer", organization_id=None, created_at=at(4))
        writer.contact(cid=buyer.id, name=buyer.name, at=at(4), organization_id=None, domain=None,
                       time_zone="America/Denver", phone="+12085550187")  # fmt: skip
        writer.relate(site=home, site_label=label, contact=buyer, role=SiteRole.OWNER, start=sale_day, at=at(5),
                      ended=[owner.id])  # fmt: skip
        writer.order(oid=writer.ids[Order].one(), contact=owner, at=at(6))
        InlineSink().write(writer.drain())
        ids = {"org": company.id, "owner": owner.id, "buyer": buyer.id, "site": home.id,
               "asset": home.assets[0].id, "order": Order.objects.get().pk}  # fmt: skip
        loaded = customer_snapshot(ids)
        rows = _rows_for_replay(ids)
        transaction.set_rollback(True)

    replayed = customer_snapshot(_replay_customers(rows, sale_day))

    assert loaded == replayed
    assert loaded["relations"][0][4] == sale_day and loaded["relations"][1][4] is None


def _rows_for_replay(ids: dict[str, int]) -> dict[str, Any]:
    def identities(contact_id: int) -> list[IdentityInput]:
        return [IdentityInput(IdentityKind(i.kind), i.value, i.is_primary)
                for i in Contact.objects.get(pk=contact_id).identities.order_by("id")]  # fmt: skip

    org = Organization.objects.get(pk=ids["org"])
    return {
        "org": {f: getattr(org, f) for f in ("name", "kind", "tier", "domain", "notes", "shares_cases")},
        "org_at": TimelineEvent.objects.get(kind="organization.created").occurred_at,
        "owner": Contact.objects.filter(pk=ids["owner"]).values("name", "tier", "language", "time_zone").get(),
        "owner_ids": identities(ids["owner"]),
        "buyer": Contact.objects.filter(pk=ids["buyer"]).values("name", "tier", "language", "time_zone").get(),
        "buyer_ids": identities(ids["buyer"]),
        "site": Site.objects.filter(pk=ids["site"]).values("name", "address_line1", "city", "region", "postal_code",
                                                            "country", "latitude", "longitude", "access_notes").get(),
        "owner_from": SiteRelation.objects.get(contact_id=ids["owner"]).valid_from,
        "asset": Asset.objects.filter(pk=ids["asset"]).values("name", "manufacturer", "model", "serial_number",
                                                              "installed_on", "warranty_until", "status",
                                                              "attributes").get(),
        "order": Order.objects.get(pk=ids["order"]),
        "lines": [OrderLineInput(description=line.description, unit_price=line.unit_price, quantity=line.quantity,
                                 sku=line.sku) for line in Order.objects.get(pk=ids["order"]).lines.order_by("id")],
    }  # fmt: skip


def _replay_customers(rows: dict[str, Any], sale_day: dt.date) -> dict[str, int]:
    with clock.frozen_at(rows["org_at"]):
        org = create_organization(actor=None, **rows["org"])
    with clock.frozen_at(at(0)):
        owner = create_contact(actor=None, organization=org, identities=rows["owner_ids"], **rows["owner"])
    with clock.frozen_at(at(1)):
        fields = dict(rows["site"])
        site = create_site(actor=None, address_line1=fields.pop("address_line1"), city=fields.pop("city"),
                           organization=org, **fields)  # fmt: skip
    with clock.frozen_at(at(2)):
        relate_contact_to_site(actor=None, site=site, contact=owner, role=SiteRole.OWNER, valid_from=rows["owner_from"])
    with clock.frozen_at(at(3)):
        fields = dict(rows["asset"])
        asset = create_asset(actor=None, name=fields.pop("name"), site=site, organization=org, **fields)
    with clock.frozen_at(at(4)):
        buyer = create_contact(actor=None, identities=rows["buyer_ids"], **rows["buyer"])
    with clock.frozen_at(at(5)):
        relate_contact_to_site(actor=None, site=site, contact=buyer, role=SiteRole.OWNER, valid_from=sale_day)
    order = rows["order"]
    with clock.frozen_at(at(6)):
        made = create_order(actor=None, reference=order.reference, contact=owner, ordered_at=order.ordered_at,
                            currency=order.currency, lines=rows["lines"], is_renewal=order.is_renewal)  # fmt: skip
    # the loader writes an order's status as it stands by the end of the demo year; no action changes it yet
    Order.objects.filter(pk=made.pk).update(status=order.status)
    assert made.total == order.total == sum((line.unit_price * line.quantity for line in rows["lines"]), Decimal(0))
    return {"org": org.pk, "owner": owner.pk, "buyer": buyer.pk, "site": site.pk, "asset": asset.pk, "order": made.pk}
