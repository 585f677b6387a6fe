"""`GET /timeline` outside the company: an allow-list of kinds on every subject, only of visible cases.

Carla's case "Gate jammed" gathers what staff write for staff as well as the
conversation: a note, an assignment, changed tags and custom fields, a partner
attributed, a guideline overridden with a reason, an approval asked for, an
internal ("untold") promise, and a kind nobody has classified yet. Carla, and
the partner the case is attributed to, read the case opening, the messages in
and out and the status changes; staff read everything. The filter is in the
query, so pages stay full and the cursor walks the same events.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from caseloop.cases.actions import MessageInput, add_message, create_custom_field, update_case
from caseloop.cases.choices import CustomFieldType, Direction
from caseloop.cases.models import Case
from caseloop.customers.actions import create_organization, create_site, relate_contact_to_site
from caseloop.customers.choices import OrganizationKind, SiteRole
from caseloop.customers.models import Organization
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact
from caseloop.timeline.actions import record_event
from caseloop.timeline.choices import SubjectKind as S

pytestmark = pytest.mark.django_db

OVERRIDE_REASON = "Waived the call-out fee: the customer's brother-in-law is our CFO."
UNTOLD = "Thank-you call to Carla next week (internal)"
# events other domains write on a case and its requester (policies, promises) and a kind added later
INTERNAL_KINDS = ("policy.overridden", "approval.requested", "promise.made", "survey.sent", "brand.new_kind")
# what the case's customer, and its partner, read of it, newest first
OUTSIDE_CASE_KINDS = ["message.received", "case.status_changed", "message.sent", "case.opened"]


@dataclass
class Story:
    case: Case
    partner: User
    fast: Organization


def _partner_user(organization: Organization) -> User:
    user = create_user(username="installer", email="pat@installs.example", role=Role.PARTNER)
    person = make_contact(name="Pat Partner", organization=organization)
    person.user = user
    person.save(update_fields=["user"])
    return user


@pytest.fixture
def story(agent, admin_user, customer) -> Story:
    create_custom_field(actor=admin_user, key="margin", label="Margin", field_type=CustomFieldType.TEXT)
    fast = create_organization(actor=agent, name="Fast Installs", kind=OrganizationKind.PARTNER)
    partner = _partner_user(fast)
    case = make_case(requester=customer.contact, subject="Gate jammed")
    add_message(actor=agent, case=case, direction=Direction.NOTE, body=MessageInput(body_text="VIP, be nice"))
    add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="On my way"))
    update_case(actor=agent, case=case, assignee=agent, partner=fast, add_tags=["vip"],
                custom_fields={"margin": "low"})  # fmt: skip
    for kind in INTERNAL_KINDS:
        record_event(kind=kind, subjects=[(S.CASE, case.pk), (S.CONTACT, customer.contact.pk)], actor=agent,
                     case_id=case.pk, summary=OVERRIDE_REASON if kind == "policy.overridden" else UNTOLD,
                     data={"reason": OVERRIDE_REASON, "description": UNTOLD})  # fmt: skip
    add_message(actor=None, case=case, direction=Direction.INBOUND, author_contact=customer.contact,
                body=MessageInput(body_text="Thanks!"))  # fmt: skip
    return Story(case=case, partner=partner, fast=fast)


def _events(user: User, subject: str, **params: object) -> list[dict[str, object]]:
    response = ApiClient(user).get("/timeline", {"subject": subject, **params})
    assert response.status_code == 200, response.content
    items: list[dict[str, object]] = response.json()["items"]
    return items


def _kinds(user: User, subject: str) -> list[object]:
    return [event["kind"] for event in _events(user, subject)]


def test_staff_read_every_kind_on_a_case(agent, story):
    kinds = _kinds(agent, f"case:{story.case.pk}")
    for kind in ("note.added", "case.assigned", "case.updated", *INTERNAL_KINDS, *OUTSIDE_CASE_KINDS):
        assert kind in kinds, kind


def test_the_customer_reads_only_the_conversation_and_service_kinds_of_their_case(customer, story):
    events = _events(customer, f"case:{story.case.pk}")
    assert [e["kind"] for e in events] == OUTSIDE_CASE_KINDS
    assert OVERRIDE_REASON not in str(events) and UNTOLD not in str(events) and "margin" not in str(events)


def test_the_customer_reads_only_the_allow_list_on_their_contact(customer, story):
    # contact.created is about the record, not the service: staff's
    assert _kinds(customer, f"contact:{customer.contact.pk}") == ["message.received", "message.sent", "case.opened"]


def test_the_attributed_partner_reads_what_the_customer_reads_of_the_case(story):
    assert _kinds(story.partner, f"case:{story.case.pk}") == OUTSIDE_CASE_KINDS


def test_on_a_contact_a_partner_reads_nothing_of_cases_not_attributed_to_it(agent, story):
    # the partner's own contact asks a case of its own (not attributed to its organization)
    pat = story.partner.contact
    own = make_case(requester=pat, subject="Our own office door")
    add_message(actor=agent, case=own, direction=Direction.OUTBOUND, body=MessageInput(body_text="Hello Pat"))
    assert _kinds(story.partner, f"contact:{pat.pk}") == []
    assert "message.sent" in _kinds(agent, f"contact:{pat.pk}")


def test_an_outsiders_pages_are_full_and_the_cursor_walks_the_allowed_kinds(customer, story):
    api = ApiClient(customer)
    subject = f"case:{story.case.pk}"
    first = api.get("/timeline", {"subject": subject, "limit": 2}).json()
    second = api.get("/timeline", {"subject": subject, "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["kind"] for e in first["items"] + second["items"]] == OUTSIDE_CASE_KINDS
    assert first["next_cursor"] is not None and second["next_cursor"] is None


def test_a_site_keeps_the_service_kinds_only(agent, customer):
    site = create_site(actor=agent, address_line1="1 Gate Road", city="Town")
    relate_contact_to_site(actor=agent, site=site, contact=customer.contact, role=SiteRole.OWNER)
    case = make_case(requester=customer.contact, subject="Gate at the site", site=site)
    add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="Coming"))
    assert _kinds(agent, f"site:{site.pk}") == ["message.sent", "case.opened", "site.relation_started", "site.created"]
    assert _kinds(customer, f"site:{site.pk}") == ["case.opened"]
