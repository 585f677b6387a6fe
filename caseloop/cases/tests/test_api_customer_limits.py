"""What customers and partners may not choose: a case's priority and channel, a message's channel."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import MessageInput, add_message, create_case
from caseloop.cases.choices import Channel, Direction, Priority
from caseloop.cases.models import Case, Message
from caseloop.core.errors import CommonErrorCode, DomainError
from caseloop.customers.actions import create_organization
from caseloop.customers.choices import OrganizationKind
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, int, int]:
    return Case.objects.count(), Message.objects.count(), AuditEntry.objects.count()


def _partner_on_a_case(agent: User) -> tuple[User, int]:
    installer = create_organization(actor=agent, name="Quick Installs", kind=OrganizationKind.PARTNER)
    partner_user = create_user(username="installer", role=Role.PARTNER)
    person = make_contact(name="Pat Partner", organization=installer)
    person.user = partner_user
    person.save()
    case = make_case(subject="Install", partner=installer)
    return partner_user, case.pk


# --- opening a case ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra",
    [
        {"priority": "urgent"},
        {"priority": "low"},
        {"channel": "phone"},
        {"channel": "internal"},
        {"channel": "api"},  # the default, but chosen: a customer chooses no channel
        {"priority": "urgent", "channel": "phone"},
    ],
)
def test_customer_cannot_choose_priority_or_channel_of_a_new_case(customer, extra):
    before = _snapshot()
    response = ApiClient(customer).post("/cases", {
        "subject": "c1", "requester": {"id": customer.contact.pk}, "message": {"body_text": "hello"}, **extra,
    })  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), response.content
    assert _snapshot() == before


def test_customer_case_gets_the_defaults_and_may_name_the_default_priority(customer):
    api = ApiClient(customer)
    plain = api.post("/cases", {"subject": "c1", "requester": {"id": customer.contact.pk},
                                "message": {"body_text": "hello"}})  # fmt: skip
    normal = api.post("/cases", {"subject": "c2", "requester": {"id": customer.contact.pk},
                                 "message": {"body_text": "hello"}, "priority": "normal"})  # fmt: skip
    assert (plain.status_code, normal.status_code) == (201, 201)
    assert [(b.json()["priority"], b.json()["channel"]) for b in (plain, normal)] == [("normal", "api")] * 2


def test_staff_still_choose_priority_and_channel(agent):
    contact = make_contact()
    response = ApiClient(agent).post("/cases", {"subject": "s", "requester": {"id": contact.pk},
                                                "priority": "urgent", "channel": "phone"})  # fmt: skip
    assert response.status_code == 201
    assert (response.json()["priority"], response.json()["channel"]) == ("urgent", "phone")


def test_the_action_refuses_a_customer_set_priority_or_channel_and_keeps_the_portals_own(customer):
    with pytest.raises(DomainError) as urgent:
        create_case(actor=customer, requester=customer.contact, subject="s", body=None, priority=Priority.URGENT)
    with pytest.raises(DomainError) as internal:
        create_case(actor=customer, requester=customer.contact, subject="s", body=None, channel=Channel.INTERNAL)
    assert urgent.value.code == internal.value.code == CommonErrorCode.PERMISSION_DENIED
    assert Case.objects.count() == 0
    # the customer portal opens a customer's case on its own channel
    portal = create_case(actor=customer, requester=customer.contact, subject="s", body=None, channel=Channel.PORTAL)
    assert (portal.case.channel, portal.case.priority) == (Channel.PORTAL, Priority.NORMAL)


# --- messages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("channel", ["internal", "phone", "email", "api"])
def test_customer_cannot_choose_the_channel_of_a_message(customer, channel):
    case = make_case(requester=customer.contact)
    before = _snapshot()
    response = ApiClient(customer).post(f"/cases/{case.pk}/messages",
                                        {"direction": "inbound", "body_text": "x", "channel": channel})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert _snapshot() == before


def test_customer_message_without_a_channel_arrives_on_the_api(customer):
    case = make_case(requester=customer.contact)
    response = ApiClient(customer).post(f"/cases/{case.pk}/messages", {"direction": "inbound", "body_text": "x"})
    assert response.status_code == 201 and response.json()["channel"] == "api"


def test_staff_still_choose_the_channel_of_a_message(agent):
    case = make_case()
    response = ApiClient(agent).post(f"/cases/{case.pk}/messages",
                                     {"direction": "outbound", "body_text": "x", "channel": "email"})  # fmt: skip
    assert response.status_code == 201 and response.json()["channel"] == "email"


def test_the_action_refuses_a_customer_set_message_channel_and_keeps_the_portals_own(customer):
    case = make_case(requester=customer.contact)
    with pytest.raises(DomainError) as excinfo:
        add_message(actor=customer, case=case, direction=Direction.INBOUND, body=MessageInput(body_text="x"),
                    channel=Channel.PHONE)  # fmt: skip
    assert excinfo.value.code == CommonErrorCode.PERMISSION_DENIED
    added = add_message(actor=customer, case=case, direction=Direction.INBOUND, body=MessageInput(body_text="x"),
                        channel=Channel.PORTAL)  # fmt: skip
    assert added.message.channel == Channel.PORTAL


def test_partner_posts_updates_but_neither_notes_nor_replies_and_is_told_so(agent):
    partner_user, case_id = _partner_on_a_case(agent)
    api = ApiClient(partner_user)
    update = api.post(f"/cases/{case_id}/messages", {"direction": "inbound", "body_text": "Installed."})
    assert update.status_code == 201
    before = _snapshot()
    for direction in ("note", "outbound"):
        refused = api.post(f"/cases/{case_id}/messages", {"direction": direction, "body_text": "x"})
        assert (refused.status_code, refused.json()["code"]) == (403, "note_not_allowed")
        assert "Customers" not in refused.json()["detail"]
        assert "partner" in refused.json()["detail"].lower()
    channel = api.post(f"/cases/{case_id}/messages", {"direction": "inbound", "body_text": "x", "channel": "phone"})
    assert (channel.status_code, channel.json()["code"]) == (403, "permission_denied")
    assert _snapshot() == before
