"""The cases API over HTTP: shapes, filters, pages, permissions and refusals that change nothing."""

from __future__ import annotations

import base64

import pytest

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Direction
from caseloop.cases.models import Case, CustomFieldDefinition, Message
from caseloop.customers.actions import create_organization
from caseloop.customers.choices import OrganizationKind
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.identity.actions import add_member, create_user
from caseloop.identity.choices import Role
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_agent, make_case, make_contact, make_team
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, int, int, list[tuple[int, str, str, str]]]:
    """Everything a refused write must leave as it was."""
    cases = list(Case.objects.order_by("id").values_list("id", "status", "priority", "subject"))
    return Case.objects.count(), Message.objects.count(), AuditEntry.objects.count(), cases


# --- creating ------------------------------------------------------------------------------
def test_create_case_by_requester_id_answers_201_with_the_whole_case(agent):
    team = make_team("Doors")
    contact = make_contact(name="Ann Smith", email="ann@example.com")
    api = ApiClient(agent)
    response = api.post("/cases", {
        "subject": "Spring broke", "requester": {"id": contact.pk},
        "message": {"body_text": "The spring snapped"}, "priority": "high", "channel": "email",
        "team": team.pk, "assignee": agent.pk, "tags": ["Spring", "urgent"],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get()
    message = Message.objects.get()
    assert response["Location"] == f"/api/v1/cases/{case.pk}"
    assert body == {
        "id": case.pk, "number": f"CL-{case.pk}", "subject": "Spring broke", "status": "new", "priority": "high",
        "channel": "email", "requester": {"id": contact.pk, "name": "Ann Smith"}, "organization_id": None,
        "site_id": None, "asset_id": None, "partner_id": None, "team": {"id": team.pk, "name": "Doors"},
        "assignee": {"id": agent.pk, "name": agent.name}, "tags": ["spring", "urgent"], "custom_fields": {},
        "created_at": body["created_at"], "updated_at": body["updated_at"], "first_response_at": None,
        "solved_at": None, "closed_at": None, "last_message_at": body["created_at"], "message_count": 1,
        "first_message_id": message.pk,
    }  # fmt: skip
    assert message.body_text == "The spring snapped" and message.direction == Direction.INBOUND


def test_create_case_by_new_email_creates_the_contact_once(agent):
    api = ApiClient(agent)
    first = api.post("/cases", {"subject": "A", "requester": {"email": "New.Person@Example.com", "name": "Nia"},
                                "message": {"body_text": "hi"}})  # fmt: skip
    second = api.post("/cases", {"subject": "B", "requester": {"email": "new.person@example.com"}})
    assert first.status_code == second.status_code == 201
    contact = Contact.objects.get()
    assert contact.name == "Nia"
    assert first.json()["requester"] == second.json()["requester"] == {"id": contact.pk, "name": "Nia"}
    assert list(ContactIdentity.objects.values_list("kind", "value")) == [("email", "new.person@example.com")]


@pytest.mark.django_db(transaction=True)
def test_a_new_address_is_one_transaction_with_its_case_and_refused_with_it(agent):
    from unittest import mock

    from django.db import connection

    from caseloop.timeline.models import TimelineEvent

    api = ApiClient(agent)
    api.get("/cases?limit=1")  # the token's once-a-minute last-used write is not the create's
    with mock.patch.object(connection, "commit", wraps=connection.commit) as commits:
        response = api.post("/cases", {"subject": "Gate", "requester": {"email": "gate@example.com", "name": "Gus"},
                                       "message": {"body_text": "It squeaks"}})  # fmt: skip
    assert response.status_code == 201 and commits.call_count == 1
    contact = Contact.objects.get()
    case = Case.objects.get()
    assert (case.requester_id, Message.objects.get().author_contact_id) == (contact.pk, contact.pk)
    assert set(TimelineEvent.objects.filter(subject_kind="contact", subject_id=contact.pk)
               .values_list("kind", flat=True)) == {"contact.created", "case.opened"}  # fmt: skip
    assert AuditEntry.objects.get(action="contact.create").after["identities"] == ["email:gate@example.com"]
    # a case refused after the contact was drafted leaves no contact behind
    before = _snapshot()
    refused = api.post("/cases", {"subject": "x", "requester": {"email": "other@example.com"},
                                  "custom_fields": {"nope": 1}})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_custom_field"
    assert _snapshot() == before and Contact.objects.count() == 1


def test_a_new_address_taken_meanwhile_files_the_case_under_the_first_contact(agent):
    from caseloop.cases.actions import create_case
    from caseloop.customers.actions import draft_contact
    from caseloop.customers.choices import IdentityKind

    draft = draft_contact(actor=agent, kind=IdentityKind.EMAIL, value="Race@Example.com", name="Late")
    winner = make_contact(name="Early", email="race@example.com")  # another request saved it first
    created = create_case(actor=agent, requester=draft, subject="Who am I",
                          body=MessageInput(body_text="hello"))  # fmt: skip
    assert created.case.requester_id == winner.pk
    assert Message.objects.get().author_contact_id == winner.pk
    assert list(Contact.objects.values_list("name", flat=True)) == ["Early"]


def test_create_case_by_phone(agent):
    response = ApiClient(agent).post("/cases", {"subject": "Call me", "requester": {"phone": "(415) 555-0100"}})
    assert response.status_code == 201
    assert ContactIdentity.objects.get().value == "+14155550100"
    assert response.json()["first_message_id"] is None and response.json()["message_count"] == 0


def test_repeat_with_same_external_id_answers_200_with_the_first_case(agent):
    api = ApiClient(agent)
    payload = {"subject": "Dup", "requester": {"email": "d@example.com"}, "message": {"body_text": "x"},
               "external_id": "shop-991"}  # fmt: skip
    first = api.post("/cases", payload)
    again = api.post("/cases", payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1 and Message.objects.count() == 1


def test_external_id_of_someone_elses_case_is_a_conflict_that_shows_nothing(customer, other_customer):
    ApiClient(other_customer).post("/cases", {"subject": "Mine", "requester": {"id": other_customer.contact.pk},
                                              "message": {"body_text": "x"}, "external_id": "e-1"})  # fmt: skip
    before = _snapshot()
    response = ApiClient(customer).post("/cases", {"subject": "Probe", "requester": {"id": customer.contact.pk},
                                                   "message": {"body_text": "x"}, "external_id": "e-1"})  # fmt: skip
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert "Mine" not in response.content.decode()
    assert _snapshot() == before


def test_external_id_without_a_message_is_refused(agent):
    response = ApiClient(agent).post("/cases", {"subject": "x", "requester": {"email": "a@example.com"},
                                                "external_id": "e"})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "external_id", "code": "invalid", "message": response.json()[
        "detail"]}]  # fmt: skip
    assert Case.objects.count() == 0


def test_attachments_are_stored_from_base64(agent):
    content = b"%PDF-1.4 invoice"
    response = ApiClient(agent).post("/cases", {
        "subject": "Invoice", "requester": {"email": "a@example.com"},
        "message": {"body_text": "see attached", "attachments": [
            {"filename": "invoice.pdf", "content_type": "application/pdf",
             "content_base64": base64.b64encode(content).decode()}]},
    })  # fmt: skip
    assert response.status_code == 201
    messages = ApiClient(agent).get(f"/cases/{response.json()['id']}/messages").json()["items"]
    [attachment] = messages[0]["attachments"]
    assert attachment["filename"] == "invoice.pdf" and attachment["size"] == len(content)
    assert attachment["content_type"] == "application/pdf"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"requester": {"email": "a@example.com"}}, "subject"),
        ({"subject": "x", "requester": {}}, "requester"),
        ({"subject": "x", "requester": {"id": 1, "email": "a@example.com"}}, "requester"),
        ({"subject": "x", "requester": {"id": 1, "name": "n"}}, "requester"),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "priority": "whenever"}, "priority"),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "colour": "red"}, "colour"),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "team": "one"}, "team"),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "team": 2**70}, "team"),
        ({"subject": "x" * 301, "requester": {"email": "a@example.com"}}, "subject"),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "message": {"body_text": "y", "attachments": [
            {"filename": "a", "content_base64": "not base64!"}]}}, "message.attachments.0"),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "message": {"body": "y"}}, "message.body"),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "tags": "a,b"}, "tags"),
    ],
)  # fmt: skip
def test_malformed_case_bodies_are_422_with_the_field_named(agent, payload, field):
    response = ApiClient(agent).post("/cases", payload)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"requester": {"email": "not-an-email"}}, 422, "identity_invalid"),
        ({"message": {"body_text": " "}}, 422, "empty_message"),
        ({"team": 999999}, 404, "not_found"),
        ({"assignee": 999999}, 404, "not_found"),
        ({"tags": ["two words"]}, 422, "bad_tag"),
        ({"custom_fields": {"nope": 1}}, 422, "unknown_custom_field"),
    ],
)
def test_refused_case_creates_answer_a_code_and_write_nothing(agent, extra, status, code):
    payload = {"subject": "x", "requester": {"email": "a@example.com"}, **extra}
    before = _snapshot()
    response = ApiClient(agent).post("/cases", payload)
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert _snapshot() == before


def test_assigning_a_customer_is_refused(agent, customer):
    response = ApiClient(agent).post("/cases", {"subject": "x", "requester": {"email": "a@example.com"},
                                                "assignee": customer.pk})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (422, "assignee_not_staff")
    assert Case.objects.count() == 0


# --- customers and partners ---------------------------------------------------------------
def test_customer_opens_a_case_only_for_themselves(customer, other_customer):
    api = ApiClient(customer)
    own = api.post("/cases", {"subject": "Mine", "requester": {"email": "carla@example.com"},
                              "message": {"body_text": "help"}})  # fmt: skip
    assert own.status_code == 201 and own.json()["requester"]["id"] == customer.contact.pk
    before = _snapshot()
    by_id = api.post("/cases", {"subject": "x", "requester": {"id": other_customer.contact.pk}})
    by_email = api.post("/cases", {"subject": "x", "requester": {"email": "oscar@example.com"}})
    unknown_email = api.post("/cases", {"subject": "x", "requester": {"email": "nobody@example.com"}})
    internal = api.post("/cases", {"subject": "x", "requester": {"id": customer.contact.pk}, "tags": ["vip"]})
    assert by_id.status_code == 404  # someone else's contact is not found, not forbidden
    assert (by_email.status_code, by_email.json()["code"]) == (403, "permission_denied")
    # an unknown address answers exactly like a known one: the answer tells nobody who is a customer
    assert unknown_email.json() == by_email.json()
    assert (internal.status_code, internal.json()["code"]) == (403, "permission_denied")
    assert _snapshot() == before and Contact.objects.count() == 2


def test_customer_sees_only_their_cases_and_404_for_others(customer, other_customer):
    mine = make_case(requester=customer.contact, subject="Mine")
    theirs = make_case(requester=other_customer.contact, subject="Theirs")
    api = ApiClient(customer)
    assert [c["id"] for c in api.get("/cases").json()["items"]] == [mine.pk]
    assert api.get(f"/cases/{mine.number}").status_code == 200
    for path in (f"/cases/{theirs.pk}", f"/cases/{theirs.number}", f"/cases/{theirs.pk}/messages"):
        response = api.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert api.get("/cases/999999").json() == api.get(f"/cases/{theirs.pk}").json() | {
        "detail": "Case 999999 was not found."}  # fmt: skip


def test_customer_never_sees_internal_notes_nor_counts_them(agent, customer):
    case = make_case(requester=customer.contact, body="Door stuck")
    add_message(actor=agent, case=case, direction=Direction.NOTE, body=MessageInput(body_text="VIP, be nice"))
    add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="On it"))
    api = ApiClient(customer)
    texts = [m["body_text"] for m in api.get(f"/cases/{case.pk}/messages").json()["items"]]
    assert texts == ["On it", "Door stuck"]
    assert api.get(f"/cases/{case.pk}").json()["message_count"] == 2
    assert ApiClient(agent).get(f"/cases/{case.pk}").json()["message_count"] == 3
    assert [h["message_id"] for h in api.get("/search", {"q": "nice"}).json()["items"]] == []
    events = api.get("/timeline", {"subject": f"case:{case.pk}"}).json()["items"]
    assert "note.added" not in [e["kind"] for e in events]


def test_customer_posts_only_inbound_messages_to_own_cases(customer, other_customer):
    mine = make_case(requester=customer.contact)
    theirs = make_case(requester=other_customer.contact)
    api = ApiClient(customer)
    ok = api.post(f"/cases/{mine.pk}/messages", {"direction": "inbound", "body_text": "Any news?"})
    assert ok.status_code == 201
    assert ok.json()["author"] == {"kind": "contact", "id": customer.contact.pk, "name": "Carla Customer"}
    before = _snapshot()
    note = api.post(f"/cases/{mine.pk}/messages", {"direction": "note", "body_text": "x"})
    outbound = api.post(f"/cases/{mine.pk}/messages", {"direction": "outbound", "body_text": "x"})
    other = api.post(f"/cases/{theirs.pk}/messages", {"direction": "inbound", "body_text": "x"})
    assert (note.status_code, note.json()["code"]) == (403, "note_not_allowed")
    assert (outbound.status_code, outbound.json()["code"]) == (403, "note_not_allowed")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert _snapshot() == before


def test_customer_cannot_patch_even_their_own_case(customer):
    case = make_case(requester=customer.contact)
    before = _snapshot()
    response = ApiClient(customer).patch(f"/cases/{case.pk}", {"priority": "urgent"})
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert _snapshot() == before


def test_partner_sees_only_cases_attributed_to_its_organization(agent):
    installer = create_organization(actor=agent, name="Quick Installs", kind=OrganizationKind.PARTNER)
    partner_user = create_user(username="installer", role=Role.PARTNER)
    person = make_contact(name="Pat Partner", organization=installer)
    person.user = partner_user
    person.save()
    attributed = ApiClient(agent).post("/cases", {"subject": "Install", "requester": {"email": "c@example.com"},
                                                  "partner": installer.pk}).json()  # fmt: skip
    other = make_case(subject="Not theirs")
    api = ApiClient(partner_user)
    assert [c["id"] for c in api.get("/cases").json()["items"]] == [attributed["id"]]
    assert attributed["partner_id"] == installer.pk
    assert api.get(f"/cases/{other.pk}").status_code == 404


# --- reading ----------------------------------------------------------------------------------
def test_case_list_filters(agent):
    team = make_team("Field")
    other_agent = make_agent()
    requester = make_contact()
    a = make_case(requester=requester, subject="a")
    b = make_case(subject="b", team=team, assignee=agent, tags=["door"])
    c = make_case(subject="c", assignee=other_agent)
    change_status(actor=agent, case=c, status=CaseStatus.SOLVED)
    api = ApiClient(agent)

    def ids(**params):
        response = api.get("/cases", params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [c.pk, b.pk, a.pk]
    assert ids(status=["new"]) == [b.pk, a.pk]
    assert ids(status=["solved", "new"]) == [c.pk, b.pk, a.pk]
    assert ids(open="true") == [b.pk, a.pk]
    assert ids(assignee="me") == [b.pk]
    assert ids(assignee=str(other_agent.pk)) == [c.pk]
    assert ids(unassigned="true") == [a.pk]
    assert ids(team=team.pk) == [b.pk]
    assert ids(tag="door") == [b.pk]
    assert ids(requester=requester.pk) == [a.pk]
    assert ids(sort="oldest") == [a.pk, b.pk, c.pk]
    bad = api.get("/cases", {"assignee": "someone"})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "assignee")
    assert api.get("/cases", {"status": "sleeping"}).status_code == 422


def test_case_list_cursor_pages_are_stable_and_complete(agent):
    cases = [make_case(subject=f"case {n}") for n in range(5)]
    api = ApiClient(agent)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/cases", params).json()
        if pages == 0:
            make_case(subject="written meanwhile")  # newer than the first page: never shifts later pages
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c.pk for c in reversed(cases)] and pages == 3


@pytest.mark.parametrize("cursor", ["garbage", "eyJiZWZvcmUiOjF9", "", "%00"])
def test_bad_cursor_is_a_400(agent, cursor):
    make_case()
    response = ApiClient(agent).get("/cases", {"cursor": cursor})
    if cursor == "":
        assert response.status_code == 200  # an empty cursor is the first page
        return
    assert (response.status_code, response.json()["code"]) == (400, "bad_cursor")


@pytest.mark.parametrize("limit", [0, 201, "many"])
def test_limit_outside_1_to_200_is_refused(agent, limit):
    response = ApiClient(agent).get("/cases", {"limit": limit})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "limit")


def test_unknown_case_reference_is_404(agent):
    api = ApiClient(agent)
    for ref in ("CL-abc", "999999", "CL-" + "9" * 40, "-1"):
        response = api.get(f"/cases/{ref}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), ref


# --- changing ------------------------------------------------------------------------------------
def test_patch_changes_fields_and_status_together(agent):
    team = make_team("Doors")
    case = make_case(tags=["old"])
    response = ApiClient(agent).patch(f"/cases/{case.number}", {
        "status": "pending", "priority": "urgent", "team": team.pk, "assignee": agent.pk, "tags": ["new", "Two"],
        "subject": "Renamed",
    })  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["subject"]) == ("pending", "urgent", "Renamed")
    assert body["team"] == {"id": team.pk, "name": "Doors"} and body["tags"] == ["new", "two"]
    cleared = ApiClient(agent).patch(f"/cases/{case.pk}", {"team": None, "add_tags": ["x"], "remove_tags": ["new"]})
    assert cleared.json()["team"] is None and cleared.json()["tags"] == ["two", "x"]


def test_patch_with_a_refused_status_changes_nothing_else(agent):
    case = make_case(subject="Before")
    before = _snapshot()
    response = ApiClient(agent).patch(f"/cases/{case.pk}", {"subject": "After", "priority": "urgent",
                                                           "status": "closed"})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")
    assert _snapshot() == before


def test_patch_refusals(agent):
    case = make_case()
    api = ApiClient(agent)
    before = _snapshot()
    assert api.patch(f"/cases/{case.pk}", {"subject": None}).json()["code"] == "invalid"
    assert api.patch(f"/cases/{case.pk}", {"status": "sleeping"}).status_code == 422
    assert api.patch(f"/cases/{case.pk}", {"site": 424242}).status_code == 404
    assert api.patch(f"/cases/{case.pk}", {"nope": 1}).json()["errors"][0]["field"] == "nope"
    assert api.patch("/cases/999999", {"priority": "low"}).status_code == 404
    assert _snapshot() == before


# --- messages ---------------------------------------------------------------------------------------
def test_staff_posts_reply_and_note(agent):
    case = make_case(body="Help")
    api = ApiClient(agent)
    html = "<p>We come <script>x</script>tomorrow</p>"
    reply = api.post(
        f"/cases/{case.pk}/messages", {"direction": "outbound", "body_text": "Tomorrow", "body_html": html}
    )
    note = api.post(f"/cases/{case.pk}/messages", {"direction": "note", "body_text": "Bring springs"})
    assert reply.status_code == note.status_code == 201
    assert reply.json()["author"] == {"kind": "user", "id": agent.pk, "name": agent.name}
    assert "<script>" not in reply.json()["body_html"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    items = api.get(f"/cases/{case.pk}/messages").json()["items"]
    assert [m["direction"] for m in items] == ["note", "outbound", "inbound"]


def test_repeated_message_external_id_answers_200(agent):
    case = make_case()
    api = ApiClient(agent)
    payload = {"direction": "inbound", "body_text": "again", "channel": "email", "external_id": "<m1@x>"}
    first = api.post(f"/cases/{case.pk}/messages", payload)
    second = api.post(f"/cases/{case.pk}/messages", payload)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and case.messages.count() == 2


def test_message_on_closed_case_is_refused(agent):
    case = make_case()
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    before = _snapshot()
    response = ApiClient(agent).post(f"/cases/{case.pk}/messages", {"direction": "outbound", "body_text": "x"})
    assert (response.status_code, response.json()["code"]) == (409, "already_closed")
    assert _snapshot() == before


# --- search -----------------------------------------------------------------------------------------
def test_search_answers_ranked_highlighted_hits_with_number_and_subject(agent, customer):
    mine = make_case(requester=customer.contact, subject="Garage door spring", body="The torsion spring broke")
    make_case(subject="Other spring", body="spring again")
    staff_hits = ApiClient(agent).get("/search", {"q": "spring"}).json()["items"]
    assert len(staff_hits) == 4
    customer_hits = ApiClient(customer).get("/search", {"q": "spring"}).json()["items"]
    assert {h["case_id"] for h in customer_hits} == {mine.pk}
    subject_hit = next(h for h in customer_hits if h["message_id"] is None)
    assert subject_hit["number"] == mine.number and subject_hit["subject"] == "Garage door spring"
    assert "<mark>" in subject_hit["snippet_html"]
    empty = ApiClient(agent).get("/search", {"q": "!!!"})
    assert (empty.status_code, empty.json()["code"]) == (400, "bad_query")
    assert ApiClient(agent).get("/search").status_code == 422


# --- custom fields ----------------------------------------------------------------------------------
def test_custom_fields_admin_creates_staff_reads(agent, admin_user, customer):
    payload = {"key": "door_model", "label": "Door model", "field_type": "choice", "choices": ["8000", "9100"]}
    refused = ApiClient(agent).post("/custom-fields", payload)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert CustomFieldDefinition.objects.count() == 0
    created = ApiClient(admin_user).post("/custom-fields", payload)
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "key": "door_model", "label": "Door model",
                              "field_type": "choice", "choices": ["8000", "9100"], "required": False,
                              "help_text": ""}  # fmt: skip
    again = ApiClient(admin_user).post("/custom-fields", payload)
    assert (again.status_code, again.json()["code"]) == (409, "custom_field_exists")
    assert [f["key"] for f in ApiClient(agent).get("/custom-fields").json()["items"]] == ["door_model"]
    assert ApiClient(customer).get("/custom-fields").status_code == 403
    case = ApiClient(agent).post("/cases", {"subject": "x", "requester": {"email": "a@example.com"},
                                            "custom_fields": {"door_model": "9100"}})  # fmt: skip
    assert case.json()["custom_fields"] == {"door_model": "9100"}


# --- cost: queries per request do not grow with the rows shown ------------------------------------------
def test_case_list_queries_do_not_grow_with_rows(agent, django_assert_max_num_queries):
    team = make_team()
    for n in range(30):
        make_case(subject=f"c{n}", team=team, assignee=agent, tags=["a", "b"])
    api = ApiClient(agent)
    api.get("/me")  # the token's first use writes last_used_at; within a minute it is only read
    api.get("/me")  # and kept per process after that change (identity.actions)
    # the token's stamps, cases (with requester, team, assignee), tags, first messages
    with django_assert_max_num_queries(5):
        response = api.get("/cases", {"limit": 30})
    assert len(response.json()["items"]) == 30


def test_one_case_and_its_messages_take_few_queries(agent, django_assert_max_num_queries):
    case = make_case()
    for n in range(10):
        add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text=f"r{n}"))
    api = ApiClient(agent)
    api.get("/me")
    with django_assert_max_num_queries(5):  # token and its user, case, tags, first message
        assert api.get(f"/cases/{case.pk}").status_code == 200
    with django_assert_max_num_queries(5):  # token and its user, case, messages (with authors), attachments
        assert len(api.get(f"/cases/{case.pk}/messages").json()["items"]) == 11


def test_create_case_query_budget(agent, django_assert_max_num_queries):
    contact = make_contact()
    api = ApiClient(agent)
    api.get("/me")
    # token; begin, requester, begin (the action's), custom field definitions, case, message, timeline, audit,
    # commit, commit (the inner pair are savepoints)
    with django_assert_max_num_queries(11):
        response = api.post("/cases", {"subject": "x", "requester": {"id": contact.pk},
                                       "message": {"body_text": "y"}})  # fmt: skip
    assert response.status_code == 201


def test_team_member_assignment_is_visible_in_case_list(agent):
    team = make_team("Billing")
    add_member(team=team, user=agent)
    case = make_case(team=team)
    assert [c["team"] for c in ApiClient(agent).get("/cases", {"team": team.pk}).json()["items"]] == [
        {"id": team.pk, "name": "Billing"}]  # fmt: skip
    assert case.team_id == team.pk
