"""A small, realistic service record for the workspace tests, built through the actions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from caseloop.cases.actions import MessageInput, add_message, create_macro, update_case
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import CaseStatus, Channel, Direction, Priority
from caseloop.cases.models import Case
from caseloop.customers.actions import (
    OrderLineInput,
    create_asset,
    create_order,
    create_organization,
    create_site,
    relate_contact_to_site,
)
from caseloop.customers.choices import SiteRole
from caseloop.customers.models import Asset, Contact, Site
from caseloop.identity.actions import add_member, create_team
from caseloop.identity.models import Team, User
from caseloop.testing.factories import make_agent, make_case, make_contact

PASSWORD = "correct-horse-battery-1"


@dataclass
class Scenario:
    agent: User
    colleague: User
    team: Team
    contact: Contact
    previous_owner: Contact
    site: Site
    door: Asset
    case: Case
    old_case: Case


def build_scenario() -> Scenario:
    agent = make_agent(username="dana", display_name="Dana Reyes", email="dana@support.test", password=PASSWORD)
    colleague = make_agent(username="eli", display_name="Eli Brooks", password=PASSWORD)
    team = create_team(name="Doors and openers")
    add_member(team=team, user=agent)
    add_member(team=team, user=colleague)
    org = create_organization(actor=None, name="Maple Street Homes")
    previous_owner = make_contact(name="Tom Older", email="tom@older.test")
    contact = make_contact(name="Ann Smith", email="ann@example.com", organization=org)
    site = create_site(actor=None, name="12 Maple Street", address_line1="12 Maple Street", city="Springfield")
    relate_contact_to_site(actor=None, site=site, contact=previous_owner, role=SiteRole.OWNER,
                           valid_from=dt.date(2015, 3, 1))  # fmt: skip
    relate_contact_to_site(actor=None, site=site, contact=contact, role=SiteRole.OWNER, valid_from=dt.date(2024, 6, 1))
    door = create_asset(actor=None, name="Garage door", serial_number="GD-2040-117", site=site,
                        attributes={"spring_size": "2x 0.243 x 32in"})  # fmt: skip
    long_ago = dt.datetime(2019, 11, 5, 9, tzinfo=dt.UTC)
    old_case = make_case(requester=previous_owner, subject="Spring snapped on the garage door", asset=door,
                         body="Loud bang, the door will not lift.", opened_at=long_ago)  # fmt: skip
    case = make_case(requester=contact, subject="Garage door opener grinding", asset=door, team=team,
                     body="The opener makes a grinding noise since Monday.", channel=Channel.EMAIL,
                     priority=Priority.HIGH, tags=["doors"])  # fmt: skip
    add_message(actor=agent, case=case, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                body=MessageInput(body_text="Thanks Ann, could you send a short video of the noise?"))  # fmt: skip
    add_message(actor=None, case=case, direction=Direction.INBOUND, channel=Channel.EMAIL,
                body=MessageInput(body_html="<p>Here it is. <b>It is loud</b>.</p><script>alert(1)</script>",
                                  attachments=[AttachmentInput(filename="noise.txt", content=b"grrr")]))  # fmt: skip
    add_message(actor=agent, case=case, direction=Direction.NOTE, channel=Channel.INTERNAL,
                body=MessageInput(body_text="Spring size on file; likely the drive gear."))  # fmt: skip
    update_case(actor=agent, case=case, assignee=agent)
    create_order(actor=None, reference="SO-88121", contact=contact, ordered_at=dt.datetime(2025, 2, 3, tzinfo=dt.UTC),
                 currency="USD", lines=[OrderLineInput("Opener model 800", Decimal("349.00"))])  # fmt: skip
    photo = "Hi {{ customer.first_name }}, could you send a photo? Regards, {{ agent.name }} ({{ case.number }})"
    create_macro(actor=agent, name="Ask for photo", body=photo)
    case.refresh_from_db()
    return Scenario(agent=agent, colleague=colleague, team=team, contact=contact, previous_owner=previous_owner,
                    site=site, door=door, case=case, old_case=old_case)  # fmt: skip


def add_inbox_cases(s: Scenario) -> list[Case]:
    """A dozen more cases of different customers, states and priorities, for a lived-in inbox."""
    from caseloop.cases.actions import change_status

    rows = [
        ("Refund for double charge on order SO-88004", "Priya Natarajan", Channel.EMAIL, Priority.URGENT, "billing"),
        ("Remote stopped working after battery change", "Marco Bianchi", Channel.CHAT, Priority.NORMAL, "remotes"),
        ("Technician arrived outside the window", "Grace Okafor", Channel.PHONE, Priority.HIGH, "visits"),
        ("Door reverses before closing", "Lena Fischer", Channel.WEB, Priority.NORMAL, "doors"),
        ("Quote for a second opener", "Hiro Tanaka", Channel.EMAIL, Priority.LOW, "sales"),
        ("Warranty question about the torsion spring", "Sofia Alvarez", Channel.EMAIL, Priority.NORMAL, "warranty"),
        ("Keypad code reset", "Noah Williams", Channel.SMS, Priority.NORMAL, "remotes"),
        ("Invoice needs our company VAT number", "Maple Street Homes", Channel.EMAIL, Priority.LOW, "billing"),
        ("Opener light flickers", "Amara Diallo", Channel.PORTAL, Priority.NORMAL, "doors"),
        ("Cable came off the drum", "Jonas Berg", Channel.PHONE, Priority.URGENT, "doors"),
    ]
    made = []
    for i, (subject, name, channel, priority, tag) in enumerate(rows):
        contact = make_contact(name=name)
        case = make_case(requester=contact, subject=subject, channel=channel, priority=priority, tags=[tag],
                         team=s.team if i % 3 else None, body=f"{subject}. Please help.")  # fmt: skip
        if i % 4 == 1:
            update_case(actor=s.agent, case=case, assignee=s.agent)
        elif i % 4 == 2:
            update_case(actor=s.agent, case=case, assignee=s.colleague)
        if i in (2, 6):
            change_status(actor=s.agent, case=case, status=CaseStatus.PENDING)
        elif i == 4:
            change_status(actor=s.agent, case=case, status=CaseStatus.ON_HOLD)
        elif i in (1, 7):
            change_status(actor=s.agent, case=case, status=CaseStatus.OPEN)
        made.append(case)
    return made
