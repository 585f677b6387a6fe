"""Who is tied to a site is staff's to read; outside the company one reads only oneself.

1 Elm Road was Sam's until 2024; Carla owns it now and Olive lives there. Fast
Installs (Pat) is fitting a door there, so the site is one Pat may see. Oscar
lives at 9 Oak Lane. Staff read every tie of 1 Elm Road; Carla reads only her
own; Pat is refused (403) and reads nothing of 9 Oak Lane (404). Filtering
`/sites` by a contact other than oneself matches nothing, for anyone outside
the company, exactly as a contact that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from caseloop.customers.actions import create_organization, create_site, relate_contact_to_site
from caseloop.customers.choices import OrganizationKind, SiteRole
from caseloop.customers.models import Contact, Site
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact

pytestmark = pytest.mark.django_db


@dataclass
class Street:
    elm: Site
    oak: Site
    sam: Contact  # 1 Elm Road's owner until 2024
    olive: Contact  # lives at 1 Elm Road with Carla
    pat: User  # Fast Installs, working at 1 Elm Road


@pytest.fixture
def street(agent, customer, other_customer) -> Street:
    elm = create_site(actor=agent, address_line1="1 Elm Road", city="Springfield")
    oak = create_site(actor=agent, address_line1="9 Oak Lane", city="Springfield")
    sam = make_contact(name="Sam Seller")
    olive = make_contact(name="Olive Occupant")
    relate_contact_to_site(actor=agent, site=elm, contact=sam, role=SiteRole.OWNER, valid_from=dt.date(2015, 1, 1))
    relate_contact_to_site(actor=agent, site=elm, contact=customer.contact, role=SiteRole.OWNER,
                           valid_from=dt.date(2024, 6, 1))  # fmt: skip
    relate_contact_to_site(actor=agent, site=elm, contact=olive, role=SiteRole.OCCUPANT, valid_from=dt.date(2024, 6, 1))
    relate_contact_to_site(actor=agent, site=oak, contact=other_customer.contact, role=SiteRole.OWNER)
    fast = create_organization(actor=agent, name="Fast Installs", kind=OrganizationKind.PARTNER)
    pat = create_user(username="installer", email="pat@installs.example", role=Role.PARTNER)
    person = make_contact(name="Pat Partner", organization=fast)
    person.user = pat
    person.save(update_fields=["user"])
    make_case(requester=customer.contact, subject="Fit a new door", site=elm, partner=fast)
    return Street(elm=elm, oak=oak, sam=sam, olive=olive, pat=pat)


def _ties(user: User, site: Site) -> list[tuple[int, str, str | None]]:
    response = ApiClient(user).get(f"/sites/{site.pk}/relations")
    assert response.status_code == 200, response.content
    return [(r["contact_id"], r["role"], r["valid_to"]) for r in response.json()["items"]]


def _site_ids(user: User, contact_id: int) -> list[int]:
    response = ApiClient(user).get("/sites", {"contact": contact_id})
    assert response.status_code == 200, response.content
    return [s["id"] for s in response.json()["items"]]


def test_staff_read_everyone_tied_to_a_site_past_and_present(agent, customer, street):
    assert _ties(agent, street.elm) == [
        (street.olive.pk, "occupant", None),
        (customer.contact.pk, "owner", None),
        (street.sam.pk, "owner", "2024-06-01"),
    ]


def test_a_customer_reads_only_their_own_ties_to_their_site(customer, street):
    assert _ties(customer, street.elm) == [(customer.contact.pk, "owner", None)]


def test_a_customer_reads_nothing_of_a_site_not_theirs(customer, street):
    response = ApiClient(customer).get(f"/sites/{street.oak.pk}/relations")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_partner_is_refused_the_ties_of_a_site_it_works_at_and_cannot_find_another(street):
    api = ApiClient(street.pat)
    assert api.get(f"/sites/{street.elm.pk}").status_code == 200  # the place of its work
    refused = api.get(f"/sites/{street.elm.pk}/relations")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    hidden = api.get(f"/sites/{street.oak.pk}/relations")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")


def test_staff_filter_sites_by_anyone(agent, other_customer, street):
    assert _site_ids(agent, street.olive.pk) == [street.elm.pk]
    assert _site_ids(agent, other_customer.contact.pk) == [street.oak.pk]
    assert _site_ids(agent, street.sam.pk) == []  # tied no more


def test_a_customer_filters_sites_by_themselves_only(customer, other_customer, street):
    assert _site_ids(customer, customer.contact.pk) == [street.elm.pk]
    # Olive lives at Carla's site: asking about her answers as a stranger or a made-up id does
    for someone in (street.olive.pk, other_customer.contact.pk, street.sam.pk, 999_999):
        assert _site_ids(customer, someone) == [], someone


def test_a_partner_cannot_probe_who_is_tied_to_the_site_it_works_at(customer, street):
    for someone in (street.olive.pk, customer.contact.pk, 999_999):
        assert _site_ids(street.pat, someone) == [], someone
