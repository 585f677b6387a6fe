"""Who may open the email admin pages: the same refusals as every other staff page."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.channels.email.actions import create_mailbox
from caseloop.channels.email.models import Mailbox
from caseloop.core.errors import PermissionDenied
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role
from caseloop.testing.factories import make_customer_user

pytestmark = pytest.mark.django_db

EVERY_PAGE = ["/admin/email/", "/admin/email/mailboxes/", "/admin/email/mailboxes/new/"]


def _partner() -> User:
    partner = make_customer_user(name="Pat Partner", email="pat@installs.test")
    partner.role = Role.PARTNER
    partner.save(update_fields=["role"])
    return partner


@pytest.mark.parametrize("who", ["customer", "partner"])
def test_customers_and_partners_get_the_polite_not_for_you_page_without_the_staff_navigation(
    client: Client, customer: User, who: str
) -> None:
    client.force_login(customer if who == "customer" else _partner())
    for url in EVERY_PAGE:
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 403, url
        assert "This workspace is for our staff" in page, url
        assert 'href="/inbox/"' not in page and "Follow-ups" not in page, url  # no workspace navigation


def test_a_customer_cannot_change_a_mailbox_and_nothing_changes(client: Client, customer: User, admin_user) -> None:
    mailbox = create_mailbox(actor=admin_user, address="help@example.com", name="Help")
    client.force_login(customer)
    response = client.post(f"/admin/email/mailboxes/{mailbox.pk}/active/", {"active": "0"})
    assert response.status_code == 403 and "This workspace is for our staff" in response.content.decode()
    assert Mailbox.objects.get(pk=mailbox.pk).active


def test_an_agent_is_told_the_pages_are_for_administrators(client: Client, agent: User) -> None:
    client.force_login(agent)
    for url in EVERY_PAGE:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Only administrators set up channels." in response.content.decode(), url


def test_a_visitor_is_sent_to_sign_in_from_every_page(client: Client) -> None:
    for url in EVERY_PAGE:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={url}", url


def test_a_missing_mailbox_is_not_found_in_the_workspace_look(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.get("/admin/email/mailboxes/999999/")
    assert response.status_code == 404 and 'href="/inbox/"' in response.content.decode()


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ((Role.ADMIN,), "Only an administrator can do that."),
        ((Role.MANAGER, Role.ADMIN), "Only service managers and administrators can do that."),
        ((Role.AGENT, Role.MANAGER, Role.ADMIN), "Only agents, service managers and administrators can do that."),
        ((Role.TECHNICIAN,), "Only a field technician can do that."),
    ],
)
def test_a_refused_role_reads_as_a_sentence(agent: User, roles: tuple[Role, ...], message: str) -> None:
    customer = make_customer_user(name="Cy Customer", email="cy@example.com")
    with pytest.raises(PermissionDenied) as refused:
        require_role(customer, *roles)
    assert refused.value.message == message


def test_a_reprocess_that_quarantines_again_says_not_done(client: Client, admin_user: User) -> None:
    from caseloop.channels.email.tests.test_views import quarantined

    inbound = quarantined()  # still no sender: it goes back to the quarantine
    client.force_login(admin_user)
    page = client.post(f"/admin/email/{inbound.pk}/reprocess/", follow=True).content.decode()
    assert f"<strong>Not done.</strong> Inbound email {inbound.pk} is quarantined again" in page
    assert "Partly done." not in page
