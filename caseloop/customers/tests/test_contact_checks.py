"""A contact's time zone and language are real ones; a contact has one primary identity of each kind."""

from __future__ import annotations

import pytest

from caseloop.core.errors import DomainError
from caseloop.customers.actions import (
    IdentityInput,
    add_identity,
    check_language,
    check_time_zone,
    create_contact,
    merge_contacts,
    update_contact,
)
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.demo import vocabulary
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

EMAIL, PHONE = IdentityKind.EMAIL, IdentityKind.PHONE


def _primaries(contact: Contact) -> list[tuple[str, str]]:
    return sorted(contact.identities.filter(is_primary=True).values_list("kind", "value"))


# --- time zone and language -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "europe/berlin"}, "time_zone"),
        ({"time_zone": "posix/UTC"}, "time_zone"),
        ({"time_zone": "../UTC"}, "time_zone"),
        ({"language": "english"}, "language"),
        ({"language": "en_US"}, "language"),
        ({"language": "12"}, "language"),
    ],
)
def test_a_contact_with_an_unknown_time_zone_or_language_is_refused_naming_the_field(agent, body, field):
    before = (Contact.objects.count(), AuditEntry.objects.count())
    response = ApiClient(agent).post("/contacts", {"name": "tz", **body})
    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (Contact.objects.count(), AuditEntry.objects.count()) == before


def test_a_patch_with_an_unknown_time_zone_or_language_changes_nothing(agent):
    contact = make_contact(time_zone="Europe/Berlin", language="de")
    api = ApiClient(agent)
    for body, field in (({"time_zone": "Mars/Olympus"}, "time_zone"), ({"language": "deutsch"}, "language")):
        response = api.patch(f"/contacts/{contact.pk}", body)
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field)
    contact.refresh_from_db()
    assert (contact.time_zone, contact.language) == ("Europe/Berlin", "de")
    assert api.patch(f"/contacts/{contact.pk}", {"time_zone": "America/Los_Angeles"}).json()["time_zone"] == (
        "America/Los_Angeles")  # fmt: skip


def test_a_language_tag_is_kept_in_its_usual_casing(agent):
    response = ApiClient(agent).post("/contacts", {"name": "Ana", "language": "PT-br"})
    assert (response.status_code, response.json()["language"]) == (201, "pt-BR")
    contact = update_contact(actor=agent, contact=Contact.objects.get(pk=response.json()["id"]),
                             changes={"language": "zh-hant-tw"})  # fmt: skip
    assert contact.language == "zh-Hant-TW"
    assert [check_language(t) for t in ("en", "es-419", "ES")] == ["en", "es-419", "es"]


def test_what_the_demo_generator_writes_is_accepted():
    assert {check_time_zone(city[5]) for city in vocabulary.CITIES} == {city[5] for city in vocabulary.CITIES}
    assert [check_language(t) for t in ("en", "es")] == ["en", "es"]
    assert check_time_zone("UTC") == "UTC"


# --- one primary identity of a kind ----------------------------------------------------------------
def test_two_primaries_of_a_kind_in_one_request_are_refused_and_nothing_is_written(agent):
    before = (Contact.objects.count(), ContactIdentity.objects.count())
    response = ApiClient(agent).post("/contacts", {"name": "Ann", "identities": [
        {"kind": "email", "value": "ann@example.com", "is_primary": True},
        {"kind": "email", "value": "ann@work.example", "is_primary": True},
        {"kind": "phone", "value": "+14155550100", "is_primary": True}]})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (422, "identity_invalid")
    assert response.json()["errors"][0]["field"] == "identities" and "email" in response.json()["detail"]
    assert (Contact.objects.count(), ContactIdentity.objects.count()) == before


def test_one_primary_of_each_kind_is_fine(agent):
    contact = create_contact(actor=agent, name="Ann", identities=[
        IdentityInput(EMAIL, "ann@example.com", is_primary=True), IdentityInput(EMAIL, "ann@work.example"),
        IdentityInput(PHONE, "+14155550100", is_primary=True)])  # fmt: skip
    assert _primaries(contact) == [("email", "ann@example.com"), ("phone", "+14155550100")]


def test_adding_a_primary_identity_demotes_the_previous_primary_of_its_kind(agent):
    contact = create_contact(actor=agent, name="Ann", identities=[
        IdentityInput(EMAIL, "ann@example.com", True), IdentityInput(PHONE, "+14155550100", True)])  # fmt: skip
    response = ApiClient(agent).post(f"/contacts/{contact.pk}/identities",
                                     {"kind": "email", "value": "ann@new.example", "is_primary": True})  # fmt: skip
    assert response.status_code == 201
    assert _primaries(contact) == [("email", "ann@new.example"), ("phone", "+14155550100")]
    assert ContactIdentity.objects.get(value="ann@example.com").is_primary is False  # kept, as a secondary one


def test_asking_for_an_identity_the_contact_has_as_primary_makes_it_primary(agent):
    contact = create_contact(actor=agent, name="Ann", identities=[
        IdentityInput(EMAIL, "ann@example.com", True), IdentityInput(EMAIL, "ann@work.example")])  # fmt: skip
    before = AuditEntry.objects.count()
    assert add_identity(actor=agent, contact=contact, identity=IdentityInput(EMAIL, "ANN@work.example", True)) is None
    assert _primaries(contact) == [("email", "ann@work.example")]
    assert AuditEntry.objects.filter(action="contact.make_identity_primary").count() == 1
    assert AuditEntry.objects.count() == before + 1
    # asking again changes nothing and records nothing
    add_identity(actor=agent, contact=contact, identity=IdentityInput(EMAIL, "ann@work.example", True))
    assert AuditEntry.objects.count() == before + 1


def test_a_merge_keeps_the_survivors_primary_of_each_kind(agent):
    target = create_contact(actor=agent, name="Ann", identities=[IdentityInput(EMAIL, "ann@example.com", True)])
    source = create_contact(actor=agent, name="Ann S", identities=[
        IdentityInput(EMAIL, "ann.s@example.com", True), IdentityInput(PHONE, "+14155550100", True)])  # fmt: skip
    merge_contacts(actor=agent, source=source, target=target)
    assert _primaries(target) == [("email", "ann@example.com"), ("phone", "+14155550100")]
    assert target.identities.count() == 3


def test_a_refused_identity_leaves_the_old_primary_in_place(agent):
    make_contact(email="taken@example.com")
    contact = create_contact(actor=agent, name="Ann", identities=[IdentityInput(EMAIL, "ann@example.com", True)])
    with pytest.raises(DomainError) as excinfo:
        add_identity(actor=agent, contact=contact, identity=IdentityInput(EMAIL, "taken@example.com", True))
    assert excinfo.value.code == "identity_taken"
    assert _primaries(contact) == [("email", "ann@example.com")]
