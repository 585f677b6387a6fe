"""Merging two contacts from the contact page: find the survivor, review what moves, confirm."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.cases.models import Case
from caseloop.customers.actions import IdentityInput, add_identity, merge_contacts
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.testing.factories import make_case, make_contact, make_customer_user
from caseloop.web.tests.scenario import Scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicate(s: Scenario) -> Contact:
    """Ann again, under another address and phone, with a case of her own; both have a primary phone."""
    add_identity(actor=None, contact=s.contact, identity=IdentityInput(IdentityKind.PHONE, "+1 415 555 0100", True))
    ann = make_contact(name="Ann S.", email="ann.smith@work.test")
    add_identity(actor=None, contact=ann, identity=IdentityInput(IdentityKind.PHONE, "+1 415 555 0111", True))
    make_case(requester=ann, subject="Second remote needed")
    return ann


def test_the_contact_page_offers_the_merge(staff: Client, s: Scenario) -> None:
    html = staff.get(f"/contacts/{s.contact.pk}/").content.decode()
    assert f'href="/contacts/{s.contact.pk}/merge/"' in html and "Merge into another contact…" in html
    assert f'href="/cases/new/?requester={s.contact.pk}"' in html  # and a new case for them, requester chosen
    form = staff.get(f"/cases/new/?requester={s.contact.pk}").content.decode()
    assert s.contact.name in form


def test_pick_lists_who_matches_but_never_the_contact_itself(staff: Client, s: Scenario, duplicate: Contact) -> None:
    html = staff.get(f"/contacts/{duplicate.pk}/merge/", {"q": "ann"}).content.decode()
    assert f'name="into" value="{s.contact.pk}"' in html and f'value="{duplicate.pk}"' not in html
    fragment = staff.get("/contacts/lookup/", {"field": "into", "q": "ann", "exclude": str(duplicate.pk)},
                         headers={"HX-Request": "true"}).content.decode()  # fmt: skip
    assert f'name="into" value="{s.contact.pk}"' in fragment and f'value="{duplicate.pk}"' not in fragment


def test_review_shows_both_and_what_moves_and_changes_nothing(staff: Client, s: Scenario, duplicate: Contact) -> None:
    response = staff.get(f"/contacts/{duplicate.pk}/merge/", {"into": str(s.contact.pk)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Merge Ann S. into Ann Smith?" in html
    assert "ann.smith@work.test" in html and "ann@example.com" in html
    assert '+14155550111 <span class="muted small">(primary; becomes secondary)' in html  # Ann keeps hers
    assert "<strong>1</strong> case they asked for" in html and "<strong>2</strong> email addresses" in html
    assert "12 Maple Street" in html and 'name="csrfmiddlewaretoken"' in html
    assert Contact.objects.get(pk=duplicate.pk).merged_into_id is None


def test_confirm_merges_moves_the_cases_and_lands_on_the_survivor(staff: Client, s: Scenario,
                                                                   duplicate: Contact) -> None:  # fmt: skip
    theirs = list(Case.objects.filter(requester=duplicate).values_list("pk", flat=True))
    response = staff.post(f"/contacts/{duplicate.pk}/merge/", {"into": str(s.contact.pk)})
    assert response.status_code == 302 and response["Location"] == f"/contacts/{s.contact.pk}/"
    assert Contact.objects.get(pk=duplicate.pk).merged_into_id == s.contact.pk
    assert set(Case.objects.filter(pk__in=theirs).values_list("requester_id", flat=True)) == {s.contact.pk}
    assert ContactIdentity.objects.get(value="ann.smith@work.test").contact_id == s.contact.pk
    html = staff.get(response["Location"]).content.decode()
    assert f"Ann S. (#{duplicate.pk}) was merged into Ann Smith" in html and "Second remote needed" in html


def test_self_merge_is_refused_in_place_and_changes_nothing(staff: Client, s: Scenario) -> None:
    response = staff.post(f"/contacts/{s.contact.pk}/merge/", {"into": str(s.contact.pk)})
    assert response.status_code == 422
    assert "A contact cannot be merged into itself." in response.content.decode()
    assert Contact.objects.get(pk=s.contact.pk).merged_into_id is None
    picked = staff.get(f"/contacts/{s.contact.pk}/merge/", {"into": str(s.contact.pk)})
    assert picked.status_code == 422 and "a contact is not merged into itself" in picked.content.decode()


def test_an_already_merged_contact_is_refused_with_the_reason(staff: Client, s: Scenario, duplicate: Contact) -> None:
    other = make_contact(name="Ann Third", email="ann3@example.test")
    merge_contacts(actor=s.agent, source=duplicate, target=s.contact)
    response = staff.post(f"/contacts/{other.pk}/merge/", {"into": str(duplicate.pk)})
    assert response.status_code == 409
    assert f"Contact {duplicate.pk} was merged into {s.contact.pk}" in response.content.decode()
    assert Contact.objects.get(pk=other.pk).merged_into_id is None


def test_unknown_survivor_is_a_refusal_beside_the_list(staff: Client, s: Scenario) -> None:
    response = staff.get(f"/contacts/{s.contact.pk}/merge/", {"into": "99999999999999999999"})
    assert response.status_code == 422 and "Choose someone" in response.content.decode()


def test_customers_cannot_merge(client: Client, s: Scenario, duplicate: Contact) -> None:
    client.force_login(make_customer_user("Carla Customer", "carla@customer.test"))
    assert client.get(f"/contacts/{duplicate.pk}/merge/").status_code == 403
    assert client.post(f"/contacts/{duplicate.pk}/merge/", {"into": str(s.contact.pk)}).status_code == 403
    assert Contact.objects.get(pk=duplicate.pk).merged_into_id is None


def test_merging_needs_the_csrf_token(s: Scenario, duplicate: Contact) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(s.agent)
    assert client.post(f"/contacts/{duplicate.pk}/merge/", {"into": str(s.contact.pk)}).status_code == 403
    assert Contact.objects.get(pk=duplicate.pk).merged_into_id is None
