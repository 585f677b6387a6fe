"""The quarantine page for administrators."""

from __future__ import annotations

import pytest

from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundSource, InboundState
from caseloop.channels.email.models import InboundEmail
from caseloop.channels.email.tests.mail import raw_email

pytestmark = pytest.mark.django_db

NO_SENDER = b"To: support@example.com\r\nSubject: Nobody wrote this\r\n\r\nNo From header.\r\n"


def quarantined() -> InboundEmail:
    return ingest_email(raw=NO_SENDER, source=InboundSource.SMTP, inline=True).inbound


def test_admin_sees_quarantined_mail_with_its_reason(client, admin_user):
    inbound = quarantined()
    ingest_email(raw=raw_email(subject="Filed fine"), source=InboundSource.SMTP, inline=True)
    client.force_login(admin_user)
    response = client.get("/admin/email/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nobody wrote this" in page and "no_sender" in page and f"/admin/email/{inbound.pk}/" in page
    assert "Filed fine" not in page  # processed mail is not in the quarantine list


def test_agent_is_refused_the_quarantine(client, agent):
    quarantined()
    client.force_login(agent)
    response = client.get("/admin/email/")
    assert response.status_code == 403 and "Nobody wrote this" not in response.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/email/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_admin_downloads_the_raw_message(client, admin_user):
    inbound = quarantined()
    client.force_login(admin_user)
    detail = client.get(f"/admin/email/{inbound.pk}/")
    assert detail.status_code == 200
    assert "Subject: Nobody wrote this" in detail.content.decode() and "Process again" in detail.content.decode()
    response = client.get(f"/admin/email/{inbound.pk}/?raw=1")
    assert response.status_code == 200 and response["Content-Type"] == "message/rfc822"
    assert response.content == NO_SENDER


def test_admin_reprocesses_from_the_page(client, admin_user):
    inbound = quarantined()
    InboundEmail.objects.filter(pk=inbound.pk).update(envelope_from="found@customer.test")  # the missing sender
    client.force_login(admin_user)
    response = client.post(f"/admin/email/{inbound.pk}/reprocess/")
    assert response.status_code == 302 and response["Location"] == f"/admin/email/{inbound.pk}/"
    assert InboundEmail.objects.get(pk=inbound.pk).state == InboundState.PROCESSED


def test_agent_cannot_reprocess_and_nothing_changes(client, agent):
    inbound = quarantined()
    client.force_login(agent)
    response = client.post(f"/admin/email/{inbound.pk}/reprocess/")
    assert response.status_code == 403
    assert InboundEmail.objects.get(pk=inbound.pk).state == InboundState.QUARANTINED
