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


# --- the case page and the navigation --------------------------------------------------------
def _email_case(agent):
    """A case with a customer's email (a reply quoting us), and four email replies in each delivery state."""
    from caseloop.cases.actions import MessageInput
    from caseloop.channels.email.actions import reply_by_email
    from caseloop.channels.email.choices import OutboundState
    from caseloop.channels.email.models import OutboundEmail
    from caseloop.channels.email.tests.mail import case_of

    text = ("The door is still stuck.\n\n"
            "On Mon, 2 Mar 2026 at 09:00, Support <support@example.com> wrote:\n> Try the remote.")  # fmt: skip
    inbound = ingest_email(raw=raw_email(text=text), source=InboundSource.SMTP, inline=True).inbound
    case = case_of(inbound)
    outcomes = [
        (OutboundState.QUEUED, ""),
        (OutboundState.SENT, ""),
        (OutboundState.FAILED, "550 5.1.1 mailbox unavailable"),
        (OutboundState.BOUNCED, "bounced: ann@x"),
    ]
    for state, error in outcomes:  # fmt: skip
        outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text=f"Reply ({state})"))
        OutboundEmail.objects.filter(pk=outbound.pk).update(state=state, last_error=error)
    return case


def test_case_page_shows_trimmed_email_and_only_the_cut_part_behind_the_toggle(client, agent):
    case = _email_case(agent)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    trimmed = page.split('<div class="message-body">')[1].split("</div>")[0]
    assert "The door is still stuck." in trimmed and "Try the remote" not in trimmed
    toggle = page.split('<details class="full-message"><summary>Show the rest of the email</summary>')[1]
    cut = toggle.split("</details>")[0]
    # opened, it reads on from where the short text stopped: the quote, not the customer's words again
    assert cut == ('<div class="message-body message-rest">On Mon, 2 Mar 2026 at 09:00, Support '
                   "&lt;support@example.com&gt; wrote:<br>&gt; Try the remote.</div>")  # fmt: skip
    assert page.count("The door is still stuck.") == 1


def test_case_page_swaps_in_the_whole_email_when_the_short_text_is_not_its_start(client, agent):
    from caseloop.channels.email.models import DisplayBody

    case = _email_case(agent)
    DisplayBody.objects.filter(message__case=case).update(text="A summary that is not the email's start.")
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert '<div class="message-body message-short">A summary that is not the email&#x27;s start.</div>' in page
    whole = page.split('<details class="full-message full-swap"><summary>Show the whole email</summary>')[1]
    assert "The door is still stuck." in whole.split("</details>")[0]
    assert "Show the rest of the email" not in page


def test_the_cut_part_of_an_email_is_what_follows_the_shown_text():
    from caseloop.channels.email.parsing import trim_reply, trimmed_away

    full = "Thanks, that worked.\r\n\r\n-- \r\nAnn Smith\r\nAcme\r\n"
    assert trimmed_away(full, trim_reply(full)) == "-- \nAnn Smith\nAcme"
    assert trimmed_away("All of it.", trim_reply("All of it.")) == ""  # nothing cut, nothing to open
    assert trimmed_away("Hello there", "Something else") == ""  # not a prefix: the caller shows it whole


def test_case_page_shows_each_email_reply_delivery_state_in_words_with_the_error_on_hover(client, agent):
    case = _email_case(agent)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert '<span class="badge delivery delivery-queued" title="Waiting to be sent">Email queued</span>' in page
    assert 'class="badge delivery delivery-sent" title="Accepted by the mail server for ann@customer.test">' in page
    assert ('<span class="badge delivery delivery-failed" title="550 5.1.1 mailbox unavailable">Email failed</span>'
            in page)  # fmt: skip
    assert '<span class="badge delivery delivery-bounced" title="bounced: ann@x">Email bounced</span>' in page


def test_case_page_queries_do_not_grow_with_email_messages(client, agent, django_assert_max_num_queries):
    from caseloop.cases.actions import MessageInput
    from caseloop.channels.email.actions import reply_by_email

    case = _email_case(agent)
    client.force_login(agent)
    with django_assert_max_num_queries(20) as first:
        assert client.get(f"/cases/{case.pk}/").status_code == 200
    for n in range(6):
        ingest_email(raw=raw_email(subject=f"Re: [{case.number}] more", text=f"More {n}\n\n-- \nAnn"),
                     source=InboundSource.SMTP, inline=True)  # fmt: skip
        reply_by_email(actor=agent, case=case, body=MessageInput(body_text=f"Answer {n}"))
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = client.get(f"/cases/{case.pk}/").content.decode()
    assert page.count("Show the rest of the email") == 7 and page.count("Email queued") == 7


def test_the_navigation_shows_admins_the_quarantine_count_and_agents_nothing(client, admin_user, agent):
    for _ in range(3):
        ingest_email(raw=NO_SENDER + b"\r\n" + str(_).encode(), source=InboundSource.SMTP, inline=True)
    client.force_login(admin_user)
    page = client.get("/inbox/").content.decode()
    assert 'href="/admin/email/mailboxes/"' in page
    badge = '<span class="badge count">3<span class="visually-hidden"> waiting</span></span>'
    assert f'<a href="/admin/email/">Quarantine {badge}</a>' in page
    client.force_login(agent)
    page = client.get("/inbox/").content.decode()
    assert "/admin/email/" not in page and "Quarantine" not in page
