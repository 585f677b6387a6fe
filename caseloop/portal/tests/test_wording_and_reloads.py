"""How the portal reads to a partner, and what a reload of a form's address shows."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.identity.models import User
from caseloop.portal.tests.world import World, build_world

pytestmark = pytest.mark.django_db

CRUMB = "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}"  # the breadcrumb's separator


@pytest.fixture
def world() -> World:
    return build_world()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pending(world: World, case: Case) -> None:
    change_status(actor=world.agent, case=case, status=CaseStatus.PENDING)


def test_a_partner_reads_its_home_in_the_breadcrumb_and_a_pending_case_as_waiting_for_the_customer(world):
    case = world.partner_case
    _pending(world, case)
    partner = signed_in(world.partner)
    page = partner.get(f"/portal/cases/{case.pk}/").content.decode()
    assert f'<a href="/portal/">Work for us</a> {CRUMB} <span class="case-number">{case.number}' in page
    assert '<span class="badge status-pending">Waiting for the customer</span>' in page
    assert "My requests" not in page and "Waiting for your answer" not in page
    listing = partner.get("/portal/").content.decode()
    assert "Waiting for the customer" in listing and "Waiting for your answer" not in listing


def test_the_customer_still_reads_the_case_as_waiting_for_their_answer(world):
    case = world.partner_case  # Oscar asked; the partner works it
    _pending(world, case)
    page = signed_in(world.oscar).get(f"/portal/cases/{case.pk}/").content.decode()
    assert f'<a href="/portal/">My requests</a> {CRUMB} <span class="case-number">{case.number}' in page
    assert '<span class="badge status-pending">Waiting for your answer</span>' in page


def test_a_reload_of_the_reply_address_opens_the_case(world):
    case = world.ann_case
    response = signed_in(world.ann).get(f"/portal/cases/{case.pk}/reply/")
    assert response.status_code == 302 and response["Location"] == f"/portal/cases/{case.pk}/"


def test_the_reply_address_of_someone_elses_case_leads_to_the_same_not_found(world):
    ann = signed_in(world.ann)
    response = ann.get(f"/portal/cases/{world.oscar_case.pk}/reply/", follow=True)
    assert response.status_code == 404 and "Boiler leaks" not in response.content.decode()


def test_a_visitor_on_the_reply_address_is_asked_to_sign_in(world):
    response = Client().get(f"/portal/cases/{world.ann_case.pk}/reply/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/sign-in/?next=")


def test_the_sign_out_address_asks_first_and_signs_out_only_by_its_button(world):
    ann = signed_in(world.ann)
    response = ann.get("/portal/sign-out/")
    page = response.content.decode()
    assert response.status_code == 200 and "<h1>Sign out?</h1>" in page
    assert '<form method="post" action="/portal/sign-out/">' in page
    assert "_auth_user_id" in ann.session  # still signed in
    assert ann.post("/portal/sign-out/")["Location"] == "/portal/sign-in/"
    assert "_auth_user_id" not in ann.session
    response = ann.get("/portal/sign-out/")  # signed out already
    assert response.status_code == 302 and response["Location"] == "/portal/sign-in/"
