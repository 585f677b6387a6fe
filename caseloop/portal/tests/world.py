"""Two customers side by side, built through the actions, for the portal's isolation tests.

Ann and her colleague Cleo work for Maple Street Homes; Oscar is another
customer. Ann owns 12 Maple Street, where the garage door was repaired for
the previous owner, Tom, before she bought the house. Each has cases; Ann's
case carries an internal note with a file and a public reply with a file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from caseloop.cases.actions import MessageInput, add_message, update_case
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, MessageAttachment
from caseloop.customers.actions import create_asset, create_organization, create_site, relate_contact_to_site
from caseloop.customers.choices import OrganizationKind, SiteRole
from caseloop.customers.models import Asset, Contact, Organization, Site
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.testing.factories import make_agent, make_case, make_contact, make_customer_user

NOTE_TEXT = "Internal: customer was rude on the phone, offer no discount."
NOTE_FILE = b"%PDF-1.4 internal price list"
PUBLIC_FILE = b"%PDF-1.4 the quote"


@dataclass
class World:
    agent: User
    ann: User
    cleo: User
    oscar: User
    partner: User
    org: Organization
    site: Site
    door: Asset
    oscar_site: Site
    oscar_asset: Asset
    ann_case: Case
    cleo_case: Case
    oscar_case: Case
    tom_case: Case
    partner_case: Case
    note_file: MessageAttachment
    public_file: MessageAttachment


def contact_of(user: User) -> Contact:
    return Contact.objects.get(user=user)


def build_world() -> World:
    agent = make_agent(username="dana", display_name="Dana Reyes")
    org = create_organization(actor=None, name="Maple Street Homes")
    ann = make_customer_user(name="Ann Smith", email="ann@example.com", organization=org)
    cleo = make_customer_user(name="Cleo Park", email="cleo@example.com", organization=org)
    oscar = make_customer_user(name="Oscar Other", email="oscar@example.com")
    partner_org = create_organization(actor=None, name="Fast Installs", kind=OrganizationKind.PARTNER)
    partner = make_customer_user(name="Pat Partner", email="pat@installs.test", organization=partner_org)
    partner.role = Role.PARTNER
    partner.save(update_fields=["role"])
    tom = make_contact(name="Tom Older", email="tom@older.test")
    site = create_site(actor=None, name="12 Maple Street", address_line1="12 Maple Street", city="Springfield",
                       access_notes="Key under the blue pot")  # fmt: skip
    relate_contact_to_site(actor=None, site=site, contact=tom, role=SiteRole.OWNER, valid_from=dt.date(2015, 3, 1))
    relate_contact_to_site(actor=None, site=site, contact=contact_of(ann), role=SiteRole.OWNER,
                           valid_from=dt.date(2024, 6, 1))  # fmt: skip
    door = create_asset(actor=None, name="Garage door", serial_number="GD-2040-117", site=site,
                        attributes={"spring_size": "2x 0.243 x 32in"})  # fmt: skip
    oscar_site = create_site(actor=None, name="9 Elm Road", address_line1="9 Elm Road", city="Springfield")
    relate_contact_to_site(actor=None, site=oscar_site, contact=contact_of(oscar), role=SiteRole.OWNER,
                           valid_from=dt.date(2020, 1, 1))  # fmt: skip
    oscar_asset = create_asset(actor=None, name="Boiler", serial_number="BX-1", site=oscar_site)
    tom_case = make_case(requester=tom, subject="Spring snapped (Tom's)", asset=door,
                         body="Loud bang.", opened_at=dt.datetime(2019, 11, 5, 9, tzinfo=dt.UTC))  # fmt: skip
    ann_case = make_case(requester=contact_of(ann), subject="Door grinding", asset=door, channel=Channel.EMAIL,
                         body="The opener grinds.")  # fmt: skip
    note = add_message(actor=agent, case=ann_case, direction=Direction.NOTE, channel=Channel.INTERNAL,
                       body=MessageInput(body_text=NOTE_TEXT,
                                         attachments=[AttachmentInput("prices.pdf", NOTE_FILE)])).message  # fmt: skip
    reply = add_message(actor=agent, case=ann_case, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                        body=MessageInput(body_text="Here is our quote.",
                                          attachments=[AttachmentInput("quote.pdf", PUBLIC_FILE)])).message  # fmt: skip
    update_case(actor=agent, case=ann_case, assignee=agent, add_tags=["angry"])
    cleo_case = make_case(requester=contact_of(cleo), subject="Invoice for the office door", body="Where is it?")
    oscar_case = make_case(requester=contact_of(oscar), subject="Boiler leaks", asset=oscar_asset, body="Water!")
    partner_case = make_case(requester=contact_of(oscar), subject="Install a boiler", partner=partner_org,
                             body="Please install.")  # fmt: skip
    return World(
        agent=agent, ann=ann, cleo=cleo, oscar=oscar, partner=partner, org=org, site=site, door=door,
        oscar_site=oscar_site, oscar_asset=oscar_asset, ann_case=ann_case, cleo_case=cleo_case,
        oscar_case=oscar_case, tom_case=tom_case, partner_case=partner_case,
        note_file=MessageAttachment.objects.get(message=note), public_file=MessageAttachment.objects.get(message=reply),
    )  # fmt: skip
