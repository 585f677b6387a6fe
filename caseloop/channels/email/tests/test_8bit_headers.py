"""Names, subjects and senders sent as raw 8-bit bytes (no RFC 2047 or RFC 2231) read as the sender meant."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse

from caseloop.cases.models import MessageAttachment
from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundSource, InboundState
from caseloop.channels.email.parsing import parse_email
from caseloop.channels.email.tests.mail import case_of, message_of
from caseloop.testing.api import ApiClient


def _with_attachment(part_headers: bytes, *, subject: bytes = b"files", sender: bytes = b"f@customer.test") -> bytes:
    """A message whose attachment part has the given header lines, byte for byte as a mailer sent them."""
    return (
        b"From: " + sender + b"\r\nTo: support@example.com\r\nMessage-ID: <names@customer.test>\r\n"
        b"Subject: " + subject + b'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee files\r\n"
        b"--B\r\n" + part_headers + b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--B--\r\n"
    )


@pytest.mark.parametrize(
    ("part_headers", "stored"),
    [
        ('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="Rechnung März.pdf"\r\n'
         .encode(), "Rechnung März.pdf"),
        ("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=Grüße.pdf\r\n".encode(),
         "Grüße.pdf"),
        ('Content-Type: application/pdf; name="Übersicht 日本語 €.pdf"\r\n'.encode(), "Übersicht 日本語 €.pdf"),
        ('Content-Type: application/pdf; name="Rechnung März.pdf"\r\nContent-Disposition: attachment\r\n'
         .encode(), "Rechnung März.pdf"),
        ('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="Rechnung März.pdf"\r\n'
         .encode("latin-1"), "Rechnung März.pdf"),
        ('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="Preis €.pdf"\r\n'
         .encode("cp1252"), "Preis €.pdf"),
        (b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="a\x81\x8d.pdf"\r\n',
         "a\ufffd\ufffd.pdf"),
        (b"Content-Type: application/pdf\r\nContent-Disposition: attachment; "
         b"filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\n", "Rechnung März.pdf"),
        (b"Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
         b" filename*0*=UTF-8''Rechnung%20M;\r\n filename*1*=%C3%A4rz.pdf\r\n", "Rechnung März.pdf"),
        (b'Content-Type: application/pdf\r\nContent-Disposition: attachment; '
         b'filename="=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="\r\n', "Rechnung März.pdf"),
        (b'Content-Type: application/pdf; name="=?UTF-8?B?UmVjaG51bmcgTcOkcnoucGRm?="\r\n', "Rechnung März.pdf"),
        ('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="../\u202efdp.exe"\r\n'
         .encode(), ".._fdp.exe"),
        ('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="a\u009b\u200fb.pdf"\r\n'
         .encode(), "ab.pdf"),
    ],
    ids=["utf8-filename", "utf8-unquoted", "utf8-name-only", "utf8-name-with-bare-disposition", "latin1-filename",
         "cp1252-filename", "neither-utf8-nor-cp1252", "rfc2231", "rfc2231-continued", "rfc2047-q", "rfc2047-b-name",
         "utf8-path-and-bidi", "utf8-c1-control-and-mark"],
)  # fmt: skip
def test_attachment_names_in_raw_8bit_bytes_read_as_sent(part_headers, stored):
    [attachment] = parse_email(_with_attachment(part_headers)).attachments
    assert attachment.filename == stored
    assert not any("\udc80" <= ch <= "\udcff" for ch in attachment.filename)  # never a surrogate escape


@pytest.mark.parametrize(
    ("subject", "sender", "expected"),
    [
        ("Rechnung März \u2013 Frage".encode(), "Jörg Müller <jm@customer.test>".encode(),
         ("Rechnung März \u2013 Frage", "Jörg Müller", "jm@customer.test")),
        ("Rechnung März".encode("latin-1"), '"Jörg Müller" <JM@Customer.test>'.encode("latin-1"),
         ("Rechnung März", "Jörg Müller", "jm@customer.test")),
        ("Preis 10 €".encode("cp1252"), "Zoë <zoe@customer.test>".encode("cp1252"),
         ("Preis 10 €", "Zoë", "zoe@customer.test")),
        ('"Müller, Jörg" schreibt'.encode(), '"Müller, Jörg" <jm@customer.test>'.encode(),
         ('"Müller, Jörg" schreibt', "Müller, Jörg", "jm@customer.test")),
    ],
    ids=["utf8", "latin1", "cp1252", "utf8-quoted-comma"],
)  # fmt: skip
def test_subject_and_sender_name_in_raw_8bit_bytes_read_as_sent(subject, sender, expected):
    parsed = parse_email(_with_attachment(b"Content-Type: application/pdf\r\n", subject=subject, sender=sender))
    assert (parsed.subject, parsed.from_name, parsed.from_address) == expected


@pytest.mark.django_db
def test_a_raw_utf8_name_is_stored_and_shown_by_the_api_and_the_download(agent, client, settings, tmp_path):
    settings.ATTACHMENTS_DIR = tmp_path
    raw = _with_attachment(
        'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="Rechnung März.pdf"\r\n'.encode(),
        subject="Rechnung März".encode(),
    )
    inbound = ingest_email(raw=raw, source=InboundSource.SMTP, envelope_to=["support@example.com"], inline=True).inbound
    assert inbound.state == InboundState.PROCESSED
    assert case_of(inbound).subject == "Rechnung März"
    link = MessageAttachment.objects.get(message=message_of(inbound))
    assert link.filename == "Rechnung März.pdf"

    messages = ApiClient(agent).get(f"/cases/{inbound.case_id}/messages").json()["items"]
    assert [a["filename"] for a in messages[0]["attachments"]] == ["Rechnung März.pdf"]

    client.force_login(agent)
    response = client.get(reverse("web:attachment", args=[link.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('Rechnung März.pdf')}"
    assert b"".join(response.streaming_content) == b"%PDF"
