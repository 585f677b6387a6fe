"""`caseloop fetchmail` against a real Dovecot IMAP server over TLS on loopback."""

from __future__ import annotations

import imaplib
import ssl
import threading
import time

import pytest

from caseloop.cases.models import Case
from caseloop.channels.email import fetchmail
from caseloop.channels.email.actions import create_mailbox
from caseloop.channels.email.choices import InboundSource, InboundState
from caseloop.channels.email.models import InboundEmail, Mailbox
from caseloop.channels.email.tests import imap_server
from caseloop.channels.email.tests.mail import raw_email

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(imap_server.missing_reason() is not None, reason=str(imap_server.missing_reason())),
]


@pytest.fixture(scope="session")
def dovecot():
    server = imap_server.start()
    yield server
    imap_server.stop(server)


def client(server) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context()
    context.load_verify_locations(server.ca_file)
    conn = imaplib.IMAP4_SSL(server.host, server.port, ssl_context=context, timeout=10)
    conn.login(server.username, server.password)
    return conn


@pytest.fixture
def imap(dovecot, settings):
    """A logged-in client for putting mail in; every folder starts empty."""
    settings.CASELOOP_EMAIL_IMAP_CA_FILE = dovecot.ca_file
    conn = client(dovecot)
    for folder in ("INBOX", "Archive"):
        _, count = conn.select(folder)
        if count and count[0] != b"0":
            conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()
    yield conn
    conn.logout()


@pytest.fixture
def mailbox(dovecot):
    return create_mailbox(actor=None, address="support@example.com", imap_host=dovecot.host, imap_port=dovecot.port,
                          imap_username=dovecot.username, imap_password=dovecot.password)  # fmt: skip


def append(conn, raw: bytes, flags: str | None = None, folder: str = "INBOX") -> None:
    status, _ = conn.append(folder, flags, None, raw)
    assert status == "OK"


def flags_in(conn, folder: str = "INBOX") -> list[bytes]:
    conn.select(folder)
    _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
    return [item for item in data if item]


def test_new_mail_is_stored_then_flagged_seen_and_not_fetched_twice(imap, mailbox):
    append(imap, raw_email(subject="First", message_id="<f1@customer.test>"))
    append(imap, raw_email(subject="Already read", sender="b@customer.test"), flags=r"(\Seen)")
    result = fetchmail.fetch_mailbox(mailbox)
    assert (result.fetched, result.stored) == (2, 2)
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["Already read", "First"]
    assert set(InboundEmail.objects.values_list("source", "state")) == {(InboundSource.IMAP, InboundState.PROCESSED)}
    assert all(rb"\Seen" in f for f in flags_in(imap))
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 2 and mailbox.imap_uidvalidity and mailbox.imap_last_error == ""
    again = fetchmail.fetch_mailbox(mailbox)
    assert (again.fetched, again.stored) == (0, 0) and Case.objects.count() == 2


def test_fetched_mail_is_moved_to_the_archive_folder(imap, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_archive_folder="Archive")
    mailbox.refresh_from_db()
    append(imap, raw_email(subject="Move me"))
    result = fetchmail.fetch_mailbox(mailbox)
    assert result.stored == 1
    assert flags_in(imap, "INBOX") == [] and len(flags_in(imap, "Archive")) == 1


def test_a_message_that_could_not_be_stored_stays_unflagged_and_is_fetched_next_time(imap, mailbox, monkeypatch):
    append(imap, raw_email(subject="Try again"))

    def broken(**_):
        raise OSError("database is gone")

    monkeypatch.setattr(fetchmail, "ingest_email", broken)
    with pytest.raises(OSError, match="database is gone"):
        fetchmail.fetch_mailbox(mailbox)
    assert all(rb"\Seen" not in f for f in flags_in(imap))
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 0
    monkeypatch.undo()
    assert fetchmail.fetch_mailbox(mailbox).stored == 1


def test_changed_uidvalidity_rereads_the_folder_without_duplicates(imap, mailbox):
    append(imap, raw_email(subject="Once"))
    fetchmail.fetch_mailbox(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=1)  # as after the server rebuilt the folder
    mailbox.refresh_from_db()
    result = fetchmail.fetch_mailbox(mailbox)
    assert (result.fetched, result.stored) == (1, 0)
    assert InboundEmail.objects.count() == 1 and Case.objects.count() == 1


def test_untrusted_certificate_is_refused_and_recorded(imap, mailbox, settings):
    settings.CASELOOP_EMAIL_IMAP_CA_FILE = ""
    append(imap, raw_email())
    assert fetchmail.run_once() == []
    mailbox.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in mailbox.imap_last_error
    assert InboundEmail.objects.count() == 0


def test_run_once_fetches_every_configured_mailbox(imap, mailbox):
    append(imap, raw_email(subject="Via run_once"))
    [result] = fetchmail.run_once()
    assert (result.mailbox, result.fetched, result.stored) == ("support@example.com", 1, 1)


def test_a_password_no_key_opens_is_recorded_and_nothing_is_fetched(imap, mailbox, settings):
    append(imap, raw_email())
    settings.CASELOOP_SECRETS_KEY = "a-key-that-did-not-seal-it-" + "z" * 20  # the key changed, the old one is gone
    assert fetchmail.run_once() == []
    mailbox.refresh_from_db()
    assert "cannot be decrypted with the configured keys" in mailbox.imap_last_error
    assert InboundEmail.objects.count() == 0


def test_polling_fetches_a_mailbox_again_only_when_its_interval_has_passed(imap, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(poll_seconds=600)
    append(imap, raw_email(subject="First poll"))
    assert [r.stored for r in fetchmail.run_once(due_only=True)] == [1]  # never polled: due
    append(imap, raw_email(subject="Not yet"))
    assert fetchmail.run_once(due_only=True) == []  # polled just now; due in 10 minutes
    assert [r.stored for r in fetchmail.run_once()] == [1]  # --once fetches every mailbox regardless


def test_idle_wakes_up_when_mail_arrives_and_times_out_when_none_does(dovecot, imap, mailbox):
    conn = fetchmail.connect(mailbox)
    try:
        conn.select("INBOX")
        started = time.monotonic()
        assert fetchmail.wait_for_mail(conn, timeout=1.0) is False
        assert time.monotonic() - started >= 1.0

        def deliver() -> None:
            time.sleep(0.3)
            other = client(dovecot)
            append(other, raw_email(subject="Wake up"))
            other.logout()

        thread = threading.Thread(target=deliver)
        thread.start()
        started = time.monotonic()
        assert fetchmail.wait_for_mail(conn, timeout=20) is True
        assert time.monotonic() - started < 10
        thread.join()
        assert fetchmail.fetch_mailbox(mailbox, conn=conn).stored == 1  # the connection is usable after IDLE
    finally:
        conn.logout()


def test_fetchmail_command_once_prints_what_it_fetched(imap, mailbox, capsys):
    from django.core.management import call_command

    append(imap, raw_email(subject="Via the command"))
    call_command("fetchmail", "--once")
    assert capsys.readouterr().out == "support@example.com: 1 fetched, 1 new\n"
    assert Case.objects.get().subject == "Via the command"
