"""A contact holds one tie of a role at a site at a time, and a tie's dates are plausible ones."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.customers.actions import create_site, end_site_relation, relate_contact_to_site
from caseloop.customers.choices import SiteRole
from caseloop.customers.models import SiteRelation
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
OWNER, OCCUPANT = SiteRole.OWNER, SiteRole.OCCUPANT


@pytest.fixture
def site(agent):
    return create_site(actor=agent, address_line1="1 Elm St", city="Springfield")


def _ties(site) -> list[tuple[int, str, str, str | None]]:
    return [(r.contact_id, r.role, r.valid_from.isoformat(), r.valid_to.isoformat() if r.valid_to else None)
            for r in SiteRelation.objects.filter(site=site).order_by("valid_from", "id")]  # fmt: skip


def test_the_qa_sequence_leaves_one_owner_tie(agent, site):
    contact = make_contact()
    api = ApiClient(agent)
    with clock.frozen_at(TODAY):
        far = api.post(f"/sites/{site.pk}/relations", {"contact_id": contact.pk, "role": "owner",
                                                        "valid_from": "9999-12-31"})  # fmt: skip
        assert (far.status_code, far.json()["code"], far.json()["errors"][0]["field"]) == (
            422, "bad_date_range", "valid_from")  # fmt: skip
        early = api.post(f"/sites/{site.pk}/relations", {"contact_id": contact.pk, "role": "owner",
                                                          "valid_from": "0001-01-01"})  # fmt: skip
        assert (early.status_code, early.json()["code"]) == (422, "bad_date_range")
        assert api.post(f"/sites/{site.pk}/relations", {"contact_id": contact.pk, "role": "owner",
                                                        "valid_from": "2026-03-01"}).status_code == 201  # fmt: skip
        again = api.post(f"/sites/{site.pk}/relations", {"contact_id": contact.pk, "role": "owner",
                                                          "valid_from": "2020-01-01"})  # fmt: skip
    assert (again.status_code, again.json()["code"], again.json()["errors"][0]["field"]) == (
        409, "relation_exists", "contact_id")  # fmt: skip
    assert "from 2026-03-01 with no end" in again.json()["detail"]
    assert _ties(site) == [(contact.pk, "owner", "2026-03-01", None)]


@pytest.mark.parametrize("ends_previous", [True, False])
def test_a_second_overlapping_tie_of_one_role_is_refused_and_changes_nothing(agent, site, ends_previous):
    contact, other = make_contact(), make_contact()
    with clock.frozen_at(TODAY):
        relate_contact_to_site(actor=agent, site=site, contact=other, role=OWNER, valid_from=dt.date(2010, 1, 1))
        relate_contact_to_site(actor=agent, site=site, contact=contact, role=OWNER, valid_from=dt.date(2020, 1, 1))
        before = (_ties(site), AuditEntry.objects.count())
        for start in (dt.date(2020, 1, 1), dt.date(2025, 1, 1), dt.date(2019, 1, 1)):
            with pytest.raises(DomainError) as excinfo:
                relate_contact_to_site(actor=agent, site=site, contact=contact, role=OWNER, valid_from=start,
                                       ends_previous=ends_previous)  # fmt: skip
            assert (excinfo.value.code, excinfo.value.status) == ("relation_exists", 409)
    assert (_ties(site), AuditEntry.objects.count()) == before  # the other owner's tie was not ended twice


def test_another_role_or_a_tie_after_the_first_ended_is_fine(agent, site):
    contact = make_contact()
    with clock.frozen_at(TODAY):
        first = relate_contact_to_site(actor=agent, site=site, contact=contact, role=OWNER,
                                       valid_from=dt.date(2015, 1, 1))  # fmt: skip
        relate_contact_to_site(actor=agent, site=site, contact=contact, role=OCCUPANT, valid_from=dt.date(2015, 1, 1))
        end_site_relation(actor=agent, relation=first, valid_to=dt.date(2018, 1, 1))
        with pytest.raises(DomainError):  # the ended tie still runs past this start
            relate_contact_to_site(actor=agent, site=site, contact=contact, role=OWNER, valid_from=dt.date(2017, 1, 1))
        relate_contact_to_site(actor=agent, site=site, contact=contact, role=OWNER, valid_from=dt.date(2018, 1, 1))
    assert _ties(site) == [(contact.pk, "owner", "2015-01-01", "2018-01-01"),
                           (contact.pk, "occupant", "2015-01-01", None),
                           (contact.pk, "owner", "2018-01-01", None)]  # fmt: skip


def test_a_tie_starts_between_1900_and_a_year_ahead(agent, site):
    contact = make_contact()
    with clock.frozen_at(TODAY):
        for start in (dt.date(1899, 12, 31), dt.date(2027, 6, 3), dt.date(9999, 12, 31), dt.date(1, 1, 1)):
            with pytest.raises(DomainError) as excinfo:
                relate_contact_to_site(actor=agent, site=site, contact=contact, role=OWNER, valid_from=start)
            assert (excinfo.value.code, excinfo.value.field) == ("bad_date_range", "valid_from")
        assert SiteRelation.objects.count() == 0
        relate_contact_to_site(actor=agent, site=site, contact=contact, role=OWNER, valid_from=dt.date(1900, 1, 1))
        relate_contact_to_site(
            actor=agent, site=site, contact=make_contact(), role=OCCUPANT, valid_from=dt.date(2027, 6, 2)
        )  # today + 366 days: the last day allowed
    assert SiteRelation.objects.count() == 2


def test_a_tie_ends_after_it_starts_and_within_a_year_ahead(agent, site):
    with clock.frozen_at(TODAY):
        tie = relate_contact_to_site(actor=agent, site=site, contact=make_contact(), role=OWNER,
                                     valid_from=dt.date(2020, 1, 1))  # fmt: skip
        for end in (dt.date(2019, 12, 31), dt.date(9999, 12, 31)):
            with pytest.raises(DomainError) as excinfo:
                end_site_relation(actor=agent, relation=tie, valid_to=end)
            assert (excinfo.value.code, excinfo.value.field) == ("bad_date_range", "valid_to")
        tie.refresh_from_db()
        assert tie.valid_to is None
        end_site_relation(actor=agent, relation=tie, valid_to=dt.date(2026, 12, 31))
    tie.refresh_from_db()
    assert tie.valid_to == dt.date(2026, 12, 31)


def test_a_merge_of_two_owners_of_one_site_keeps_one_open_tie(agent):
    from caseloop.customers.actions import merge_contacts
    from caseloop.customers.models import SiteRelation
    from caseloop.testing.factories import make_contact

    site = create_site(actor=agent, address_line1="1 Elm St", city="Springfield")
    kept, duplicate = make_contact(name="Ann Lee"), make_contact(name="Ann Lee (dup)")
    for who in (kept, duplicate):  # co-owners: the same person twice, as it turns out
        relate_contact_to_site(actor=agent, site=site, contact=who, role=SiteRole.OWNER, ends_previous=False)
    merge_contacts(actor=agent, source=duplicate, target=kept)
    ties = SiteRelation.objects.filter(site=site, contact=kept)
    assert ties.count() == 2 and ties.filter(valid_to__isnull=True).count() == 1  # the duplicate's kept as history


def test_the_database_holds_one_primary_per_kind_and_one_open_tie_per_role(agent):
    from django.db import IntegrityError, transaction

    from caseloop.customers.models import ContactIdentity, SiteRelation
    from caseloop.testing.factories import make_contact

    person = make_contact(name="Bo", email="bo@example.com")
    ContactIdentity.objects.filter(contact=person).update(is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactIdentity.objects.create(contact=person, kind="email", value="bo2@example.com", is_primary=True)
    site = create_site(actor=agent, address_line1="2 Elm St", city="Springfield")
    relate_contact_to_site(actor=agent, site=site, contact=person, role=SiteRole.OWNER)
    with pytest.raises(IntegrityError), transaction.atomic():
        SiteRelation.objects.create(site=site, contact=person, role=SiteRole.OWNER, valid_from=dt.date(2020, 1, 1))
