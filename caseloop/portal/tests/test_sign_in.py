"""One-time sign-in links: issued only to customers' known addresses, signed, hashed, single use, expiring."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks import task_backends
from django_tasks.backends.dummy import DummyBackend

from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.customers.actions import create_organization
from caseloop.customers.choices import OrganizationKind
from caseloop.customers.models import Contact
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.portal.actions import request_sign_in_link, sign_in_with_link
from caseloop.portal.errors import PortalErrorCode
from caseloop.portal.models import SignInLink
from caseloop.portal.tasks import send_sign_in_link
from caseloop.portal.tokens import new_token
from caseloop.testing.factories import make_contact, make_customer_user
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
IP = "203.0.113.7"


def ask(email: str, *, at: dt.datetime = START, ip: str = IP, capture=None) -> SignInLink | None:
    """Ask for a link; with `capture`, run what the request queued (the test backend runs tasks at once)
    and return the link the worker made, if any."""
    before = list(SignInLink.objects.values_list("pk", flat=True))
    with clock.frozen_at(at):
        if capture is None:
            request_sign_in_link(email=email, ip_address=ip)
        else:
            with capture(execute=True):
                request_sign_in_link(email=email, ip_address=ip)
    return SignInLink.objects.exclude(pk__in=before).first()


def token_from_mail(index: int = -1) -> str:
    found = re.search(r"https://help\.example\.com/portal/sign-in/([^/\s]+)/", str(mail.outbox[index].body))
    assert found is not None
    return found.group(1)


def use(token: str, *, at: dt.datetime = START + dt.timedelta(minutes=5)) -> User:
    with clock.frozen_at(at):
        return sign_in_with_link(token=token, ip_address="198.51.100.2")


def test_a_known_address_gets_a_link_whose_token_is_stored_only_as_a_hash(django_capture_on_commit_callbacks):
    contact = make_contact(name="Ann Smith", email="ann@example.com")
    link = ask("  ANN@example.com ", capture=django_capture_on_commit_callbacks)
    assert link is not None and link.identity.contact_id == contact.pk
    assert (link.created_at, link.expires_at, link.used_at, link.requested_ip) == (
        START, START + dt.timedelta(minutes=30), None, IP)  # fmt: skip
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert (sent.to, sent.subject) == (["ann@example.com"], "Your sign-in link for Maple Doors service")
    assert "works once, for 30 minutes" in sent.body and sent.extra_headers["Auto-Submitted"] == "auto-generated"
    token = token_from_mail()
    stored = SignInLink.objects.get()
    assert token not in (stored.token_hash, str(stored.pk)) and len(stored.token_hash) == 64


def test_the_first_sign_in_creates_a_customer_user_for_the_contact(django_capture_on_commit_callbacks):
    contact = make_contact(name="Ann Smith", email="ann@example.com")
    ask("ann@example.com", capture=django_capture_on_commit_callbacks)
    user = use(token_from_mail())
    contact.refresh_from_db()
    assert contact.user_id == user.pk
    assert (user.role, user.display_name, user.email, user.has_usable_password(), user.is_active) == (
        Role.CUSTOMER, "Ann Smith", "", False, True)  # fmt: skip
    link = SignInLink.objects.get()
    assert (link.used_at, link.used_ip) == (START + dt.timedelta(minutes=5), "198.51.100.2")
    audit = AuditEntry.objects.get(action="portal.sign_in")
    assert (audit.object_id, audit.actor_id, audit.after["new_user"]) == (contact.pk, user.pk, True)


def test_a_customer_with_a_user_signs_in_as_that_user(customer, django_capture_on_commit_callbacks):
    ask("carla@example.com", capture=django_capture_on_commit_callbacks)
    assert use(token_from_mail()) == customer
    assert User.objects.filter(role=Role.CUSTOMER).count() == 1


def test_a_link_works_once(django_capture_on_commit_callbacks):
    make_contact(email="ann@example.com")
    ask("ann@example.com", capture=django_capture_on_commit_callbacks)
    token = token_from_mail()
    first = use(token)
    with pytest.raises(DomainError) as again:
        use(token, at=START + dt.timedelta(minutes=6))
    assert (again.value.code, again.value.status) == (PortalErrorCode.LINK_USED, 410)
    # a second link of the same person signs in the same user
    ask("ann@example.com", at=START + dt.timedelta(minutes=7), capture=django_capture_on_commit_callbacks)
    assert use(token_from_mail(), at=START + dt.timedelta(minutes=8)) == first
    assert User.objects.count() == 1


def test_a_link_expires(django_capture_on_commit_callbacks):
    make_contact(email="ann@example.com")
    ask("ann@example.com", capture=django_capture_on_commit_callbacks)
    with pytest.raises(DomainError) as late:
        use(token_from_mail(), at=START + dt.timedelta(minutes=30))
    assert (late.value.code, late.value.status) == (PortalErrorCode.LINK_EXPIRED, 410)
    assert SignInLink.objects.get().used_at is None and User.objects.count() == 0


def test_an_altered_or_unknown_token_is_refused_alike(django_capture_on_commit_callbacks):
    make_contact(email="ann@example.com")
    ask("ann@example.com", capture=django_capture_on_commit_callbacks)
    token = token_from_mail()
    secret, _, signature = token.partition(":")
    flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
    signed_but_never_issued, _ = new_token()
    for bad in (f"{flipped}:{signature}", f"{secret}:{signature[:-2]}", secret, "", signed_but_never_issued):
        with pytest.raises(DomainError) as refused:
            use(bad)
        assert (refused.value.code, refused.value.status) == (PortalErrorCode.LINK_INVALID, 404)
    assert SignInLink.objects.get().used_at is None and User.objects.count() == 0
    assert use(token).role == Role.CUSTOMER  # the real one still works


def test_an_unknown_address_gets_no_link_and_no_email(django_capture_on_commit_callbacks):
    make_contact(email="ann@example.com")
    assert ask("nobody@example.com", capture=django_capture_on_commit_callbacks) is None
    assert SignInLink.objects.count() == 0 and mail.outbox == []


def test_staff_partners_and_disabled_customers_get_no_link(agent, django_capture_on_commit_callbacks):
    staff_contact = make_contact(email="dana@example.com")
    Contact.objects.filter(pk=staff_contact.pk).update(user=agent)
    partners = create_organization(actor=None, name="Fast Installs", kind=OrganizationKind.PARTNER)
    make_contact(email="pat@installs.test", organization=partners)
    gone = make_customer_user(name="Gone Away", email="gone@example.com")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    for address in ("dana@example.com", "pat@installs.test", "gone@example.com"):
        assert ask(address, capture=django_capture_on_commit_callbacks) is None
    assert SignInLink.objects.count() == 0 and mail.outbox == []


def test_links_are_limited_per_address_known_or_not_and_per_ip(settings, django_capture_on_commit_callbacks):
    make_contact(email="ann@example.com")
    for address in ("ann@example.com", "nobody@example.com"):
        for minute in range(3):
            ask(address, at=START + dt.timedelta(minutes=minute), capture=django_capture_on_commit_callbacks)
        with pytest.raises(DomainError) as limited:
            ask(address, at=START + dt.timedelta(minutes=3), ip="198.51.100.50")
        assert (limited.value.code, limited.value.status) == (PortalErrorCode.RATE_LIMITED, 429)
        assert "ask again in 12 minutes" in limited.value.message
    assert SignInLink.objects.count() == 3
    assert ask("ann@example.com", at=START + dt.timedelta(minutes=15), capture=django_capture_on_commit_callbacks)
    settings.CASELOOP_PORTAL_LINKS_PER_IP = 2
    ask("a@example.com", ip="192.0.2.1"), ask("b@example.com", ip="192.0.2.1")
    with pytest.raises(DomainError) as per_ip:
        ask("c@example.com", ip="192.0.2.1")
    assert per_ip.value.code == PortalErrorCode.RATE_LIMITED


def test_an_address_that_is_not_one_is_refused_before_counting():
    with pytest.raises(DomainError) as refused:
        ask("not an address")
    assert refused.value.field == "email"


# --- the answer is the same, known address or not (ADR 0076) ----------------------------------------------
QUEUED = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def queued_links() -> list[list[object]]:
    backend = task_backends["default"]
    assert isinstance(backend, DummyBackend)
    return [list(result.args) for result in backend.results if result.task.name == "send_sign_in_link"]


@override_settings(TASKS=QUEUED)
def test_asking_does_the_same_for_a_known_and_an_unknown_address_and_sends_nothing_itself(
    django_capture_on_commit_callbacks,
):
    """Before, a known address's link was written and mailed before the answer, so it answered
    more slowly than an unknown one; now both only count the limits and queue the same task."""
    make_contact(name="Ann Smith", email="ann@example.com")
    statements = []
    asks = [("ann@example.com", "203.0.113.7"), ("nobody@example.com", "203.0.113.8")]  # each a first ask
    for address, ip in asks:
        capture = django_capture_on_commit_callbacks(execute=True)
        with clock.frozen_at(START), capture, CaptureQueriesContext(connection) as queries:
            request_sign_in_link(email=address, ip_address=ip)
        # none reads the contacts or writes a link: only the limits are counted
        assert not any("customers_" in q["sql"] or "portal_" in q["sql"] for q in queries.captured_queries)
        statements.append(len(queries.captured_queries))
    assert statements[0] == statements[1]
    assert queued_links() == [list(a) for a in asks]
    assert mail.outbox == [] and SignInLink.objects.count() == 0
    # the worker makes and mails the link for the known address only
    backend = task_backends["default"]
    assert isinstance(backend, DummyBackend)
    backend.clear()
    for address in ("ann@example.com", "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(START):
            send_sign_in_link.call(address, IP)
    assert [m.to for m in mail.outbox] == [["ann@example.com"]] and SignInLink.objects.count() == 1


@override_settings(TASKS=QUEUED)
def test_the_page_answers_a_known_and_an_unknown_address_alike(client, django_capture_on_commit_callbacks):
    make_contact(name="Ann Smith", email="ann@example.com")
    answers = []
    for address in ("ann@example.com", "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/portal/sign-in/", {"email": address})
        html = re.sub(r'value="[^"]*"', "", response.content.decode()).replace(address, "ADDRESS")
        answers.append((response.status_code, html))
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert mail.outbox == [] and len(queued_links()) == 2
