"""`GET /timeline?subject=kind:id`: newest first, cursor-paged, only for subjects the caller may see."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import Direction
from caseloop.customers.actions import create_asset, create_organization, create_site, merge_contacts
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact

pytestmark = pytest.mark.django_db


def _kinds(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [event["kind"] for event in response.json()["items"]]


def test_case_timeline_newest_first_with_actor_and_subject(agent):
    case = make_case(subject="Stuck door")
    add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="On my way"))
    response = ApiClient(agent).get("/timeline", {"subject": f"case:{case.pk}"})
    assert _kinds(response) == ["case.status_changed", "message.sent", "case.opened"]
    newest = response.json()["items"][0]
    assert newest["subject"] == {"kind": "case", "id": case.pk}
    assert newest["actor"] == {"id": agent.pk, "name": agent.name} and newest["case_id"] == case.pk


def test_merged_contacts_history_is_read_with_the_survivor(agent):
    old = make_contact(name="Ann Old")
    keeper = make_contact(name="Ann Keeper")
    old_case = make_case(requester=old, subject="Before the merge")
    merge_contacts(actor=agent, source=old, target=keeper)
    events = ApiClient(agent).get("/timeline", {"subject": f"contact:{keeper.pk}"}).json()["items"]
    assert [(e["kind"], e["subject"]["id"]) for e in events] == [
        ("contact.merged", old.pk), ("contact.merged", keeper.pk), ("case.opened", old.pk),
        ("contact.created", keeper.pk), ("contact.created", old.pk),
    ]  # fmt: skip
    assert events[2]["case_id"] == old_case.pk


def test_site_asset_and_organization_timelines(agent):
    org = create_organization(actor=agent, name="Acme")
    site = create_site(actor=agent, address_line1="1 Road", city="Town", organization=org)
    asset = create_asset(actor=agent, name="Door", site=site)
    api = ApiClient(agent)
    assert _kinds(api.get("/timeline", {"subject": f"asset:{asset.pk}"})) == ["asset.installed"]
    assert _kinds(api.get("/timeline", {"subject": f"site:{site.pk}"})) == ["asset.installed", "site.created"]
    assert _kinds(api.get("/timeline", {"subject": f"organization:{org.pk}"})) == [
        "site.created", "organization.created"]  # fmt: skip


def test_timeline_pages_with_a_cursor(agent):
    case = make_case()
    for n in range(4):
        add_message(actor=agent, case=case, direction=Direction.NOTE, body=MessageInput(body_text=f"n{n}"))
    api = ApiClient(agent)
    first = api.get("/timeline", {"subject": f"case:{case.pk}", "limit": 3}).json()
    second = api.get("/timeline", {"subject": f"case:{case.pk}", "limit": 3, "cursor": first["next_cursor"]}).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True) and second["next_cursor"] is None


def test_a_customer_reads_only_their_own_subjects_and_never_notes(agent, customer, other_customer):
    mine = make_case(requester=customer.contact)
    theirs = make_case(requester=other_customer.contact)
    add_message(actor=agent, case=mine, direction=Direction.NOTE, body=MessageInput(body_text="internal"))
    api = ApiClient(customer)
    assert "note.added" not in _kinds(api.get("/timeline", {"subject": f"case:{mine.pk}"}))
    assert "note.added" in _kinds(ApiClient(agent).get("/timeline", {"subject": f"case:{mine.pk}"}))
    assert _kinds(api.get("/timeline", {"subject": f"contact:{customer.contact.pk}"}))[0] == "case.opened"
    for subject in (f"case:{theirs.pk}", f"contact:{other_customer.contact.pk}", "case:999999"):
        response = api.get("/timeline", {"subject": subject})
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), subject


@pytest.mark.parametrize("subject", ["case", "case:", "ticket:1", "case:abc", "case:-1", "case:0", "case:" + "9" * 30])
def test_a_malformed_subject_is_a_400(agent, subject):
    response = ApiClient(agent).get("/timeline", {"subject": subject})
    assert (response.status_code, response.json()["code"]) == (400, "bad_subject")


def test_timeline_query_count_does_not_grow(agent, django_assert_max_num_queries):
    case = make_case()
    for n in range(20):
        add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text=f"r{n}"))
    api = ApiClient(agent)
    api.get("/me")
    with django_assert_max_num_queries(4):  # token and its user, the case (permission), the events with their actors
        assert len(api.get("/timeline", {"subject": f"case:{case.pk}", "limit": 50}).json()["items"]) == 22
