"""A customer reading their case through the API sees no tags, custom fields or team: those are staff's."""

from __future__ import annotations

import pytest

from caseloop.cases.models import Case
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_customer_user, make_team

pytestmark = pytest.mark.django_db


def _tagged_case(customer_email: str) -> Case:
    customer_contact = make_customer_user("Carla", customer_email).contact
    case = make_case(requester=customer_contact, tags=["refund-risk", "vip"], team=make_team("Escalations"))
    Case.objects.filter(pk=case.pk).update(custom_fields={"internal_score": 3})
    return case


def test_a_customer_reads_their_case_without_staff_routing(agent):
    case = _tagged_case("carla@example.com")
    customer = ApiClient(case.requester.user)
    for body in (customer.get(f"/cases/{case.pk}").json(), customer.get("/cases").json()["items"][0]):
        assert (body["tags"], body["custom_fields"], body["team"]) == ([], {}, None)
        assert body["subject"] == case.subject and body["requester"]["id"] == case.requester_id
    staff = ApiClient(agent).get(f"/cases/{case.pk}").json()
    assert staff["tags"] == ["refund-risk", "vip"] and staff["custom_fields"] == {"internal_score": 3}
    assert staff["team"]["name"] == "Escalations"


def test_a_case_a_customer_opens_answers_without_staff_fields(agent):
    customer = make_customer_user("Cy", "cy@example.com")
    answer = ApiClient(customer).post("/cases", {"subject": "Squeaky door", "requester": {"id": customer.contact.pk},
                                                 "message": {"body_text": "It squeaks."}})  # fmt: skip
    assert answer.status_code == 201
    assert (answer.json()["tags"], answer.json()["custom_fields"], answer.json()["team"]) == ([], {}, None)


@pytest.mark.parametrize("channel", ["portal", "api", "phone"])
def test_a_customer_names_no_channel_through_the_api_not_even_the_portals(channel):
    # the actions take the portal's channel from a customer, for the portal's pages; the API takes none
    customer = make_customer_user("Di", "di@example.com")
    api = ApiClient(customer)
    opened = api.post("/cases", {"subject": "Gate", "requester": {"id": customer.contact.pk}, "channel": channel,
                                 "message": {"body_text": "It sticks."}})  # fmt: skip
    assert (opened.status_code, opened.json()["code"]) == (403, "permission_denied")
    case = make_case(requester=customer.contact)
    reply = api.post(f"/cases/{case.pk}/messages", {"direction": "inbound", "body_text": "Still", "channel": channel})
    assert (reply.status_code, reply.json()["code"]) == (403, "permission_denied")
    assert Case.objects.count() == 1 and case.messages.count() == 1
