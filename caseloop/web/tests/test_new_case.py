"""The "New case" page: a rep opens a case for a customer, found or new, in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from caseloop.cases.choices import Channel, Direction, Priority
from caseloop.cases.models import Case, Message
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.testing.factories import make_customer_user
from caseloop.web.tests.scenario import Scenario

pytestmark = pytest.mark.django_db


def _form(s: Scenario, **changes: Any) -> dict[str, Any]:
    return {"requester": str(s.contact.pk), "subject": "Remote lost its pairing", "kind": "inbound",
            "body": "Called: the remote stopped after the power cut.", "channel": "phone", "priority": "high",
            "team": str(s.team.pk), "assignee": str(s.agent.pk), "tags": "remotes, callback", **changes}  # fmt: skip


def test_the_form_shows_the_choices_and_assigns_to_me(staff: Client, s: Scenario) -> None:
    html = staff.get("/cases/new/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<option value="phone" selected>' in html and '<option value="portal"' not in html
    assert f'<option value="{s.agent.pk}" selected>Dana Reyes (me)</option>' in html
    assert f'<option value="{s.team.pk}">Doors and openers</option>' in html


def test_a_case_for_an_existing_contact_with_site_asset_team_and_tags(staff: Client, s: Scenario) -> None:
    before = Contact.objects.count()
    response = staff.post("/cases/new/", _form(s, site=str(s.site.pk), asset=str(s.door.pk)))
    case = Case.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert (case.requester_id, case.subject, case.channel, case.priority) == (
        s.contact.pk, "Remote lost its pairing", Channel.PHONE, Priority.HIGH)  # fmt: skip
    assert (case.team_id, case.assignee_id, case.site_id, case.asset_id) == (s.team.pk, s.agent.pk, s.site.pk,
                                                                              s.door.pk)  # fmt: skip
    assert sorted(t.name for t in case.tags.all()) == ["callback", "remotes"]
    message = Message.objects.get(case=case)
    assert (message.direction, message.channel, message.author_contact_id) == ("inbound", "phone", s.contact.pk)
    assert Contact.objects.count() == before
    page = staff.get(response["Location"]).content.decode()
    assert f"{case.number} opened for Ann Smith." in page


def test_a_new_person_is_made_with_the_case_with_email_and_phone(staff: Client, s: Scenario) -> None:
    response = staff.post("/cases/new/", _form(s, requester="new", new_name="Walt Walker",
                                               new_email="Walt@Walker.test", new_phone="+1 415 555 0199"))  # fmt: skip
    assert response.status_code == 302
    case = Case.objects.latest("pk")
    assert case.requester.name == "Walt Walker"
    assert sorted(ContactIdentity.objects.filter(contact=case.requester).values_list("kind", "value", "is_primary")) \
        == [("email", "walt@walker.test", True), ("phone", "+14155550199", True)]  # fmt: skip


@pytest.mark.parametrize(("kind", "direction", "channel"), [("reply", Direction.OUTBOUND, Channel.EMAIL),
                                                             ("note", Direction.NOTE, Channel.INTERNAL)])  # fmt: skip
def test_the_first_message_may_be_our_reply_or_a_note(staff: Client, s: Scenario, kind: str, direction: str,
                                                       channel: str) -> None:  # fmt: skip
    response = staff.post("/cases/new/", _form(s, kind=kind, channel="email", body="We booked a visit for Monday."))
    assert response.status_code == 302
    case = Case.objects.latest("pk")
    message = Message.objects.get(case=case)
    assert (message.direction, message.channel, message.author_user_id) == (direction, channel, s.agent.pk)
    assert case.channel == Channel.EMAIL


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"subject": "  "}, "nc-subject", "A case needs a subject."),
    ({"body": ""}, "nc-body", "A message needs some text"),
    ({"tags": "ok " + "x" * 60}, "nc-tags", "is not a tag"),
    ({"requester": ""}, "nc-requester", "Choose someone"),
    ({"requester": "new", "new_name": "Ann again", "new_email": "ANN@example.com"}, "nc-new-email",
     "ANN@example.com is Ann Smith&#x27;s: choose them in the list above."),
    ({"requester": "new", "new_email": "not-an-address"}, "nc-new-email", "is not an email address"),
    ({"kind": "reply", "channel": "internal"}, "nc-channel", "A reply goes to the customer"),
    ({"kind": "note", "body": " "}, "nc-body", "A message needs some text"),
])  # fmt: skip
def test_a_refusal_keeps_every_input_and_shows_the_error_by_its_field(
    staff: Client, s: Scenario, changes: dict[str, str], field: str, text: str
) -> None:
    cases, contacts = Case.objects.count(), Contact.objects.count()
    response = staff.post("/cases/new/", _form(s, q="ann", **changes))
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="{field}-error"' in html and text in html
    assert (Case.objects.count(), Contact.objects.count()) == (cases, contacts)  # nothing half-made
    sent = _form(s, **changes)
    for name in ("subject", "body", "new_name", "new_email", "tags"):
        if sent.get(name, "").strip():
            assert sent[name] in html
    assert '<option value="high" selected>' in html
    assert f'<option value="{s.team.pk}" selected>' in html
    if changes.get("requester") != "new":
        assert f'name="requester" value="{s.contact.pk}"' in html  # the person found stays found
    if "new_email" in changes:
        assert f'name="requester" value="{s.contact.pk}"' in html  # the address's owner is offered
        assert 'value="new" checked' in html


def test_find_without_htmx_lists_people_and_keeps_the_form(staff: Client, s: Scenario) -> None:
    response = staff.post("/cases/new/", {"op": "find", "q": "smith", "subject": "Keep me", "kind": "note"})
    html = response.content.decode()
    assert response.status_code == 200 and not Case.objects.filter(subject="Keep me").exists()
    assert f'name="requester" value="{s.contact.pk}"' in html and 'value="Keep me"' in html
    assert 'value="note" checked' in html


def test_live_lookup_and_the_requesters_sites_and_assets(staff: Client, s: Scenario) -> None:
    hx = {"HX-Request": "true"}
    html = staff.get("/contacts/lookup/", {"field": "requester", "q": "ann@example.com"}, headers=hx).content.decode()
    assert "<html" not in html and f'name="requester" value="{s.contact.pk}"' in html and "Ann Smith" in html
    kept = {"field": "requester", "q": "nobody-like-this", "requester": str(s.previous_owner.pk)}
    html = staff.get("/contacts/lookup/", kept, headers=hx).content.decode()
    assert f'value="{s.previous_owner.pk}" checked' in html  # the choice survives a new search
    assert staff.get("/contacts/lookup/", {"field": "nope"}).status_code == 422
    html = staff.get("/cases/new/requester/", {"requester": str(s.contact.pk)}, headers=hx).content.decode()
    assert f'<option value="{s.site.pk}">12 Maple Street' in html and "GD-2040-117" in html
    assert "<select" not in staff.get("/cases/new/requester/", {"requester": "new"}, headers=hx).content.decode()


def test_a_site_not_the_requesters_is_refused(staff: Client, s: Scenario) -> None:
    response = staff.post("/cases/new/", _form(s, requester=str(s.previous_owner.pk), site=str(s.site.pk)))
    assert response.status_code == 422 and 'id="nc-site-error"' in response.content.decode()


def test_customers_and_visitors_cannot_open_the_page(client: Client, s: Scenario) -> None:
    assert client.get("/cases/new/")["Location"] == "/login/?next=/cases/new/"
    customer = make_customer_user("Carla Customer", "carla@customer.test")
    client.force_login(customer)
    cases = Case.objects.count()
    assert client.get("/cases/new/").status_code == 403
    assert client.post("/cases/new/", _form(s)).status_code == 403
    assert client.get("/contacts/lookup/", {"field": "requester", "q": "ann"}).status_code == 403
    assert Case.objects.count() == cases


def test_posting_without_a_csrf_token_is_refused(s: Scenario) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(s.agent)
    assert client.post("/cases/new/", _form(s)).status_code == 403
